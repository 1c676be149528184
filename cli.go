package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"

	"github.com/leadtriage/leadtriage/intake"
	"github.com/leadtriage/leadtriage/storage"
	"github.com/leadtriage/leadtriage/triage"
)

// dataCommands are the subcommands that are thin clients of the admin API.
var dataCommands = map[string]bool{"import": true, "export": true, "forget": true, "subject": true, "backup": true}

// importChunk is how many rows one POST /api/import carries, so that the
// progress bar moves and no request holds the store for long.
const importChunk = 200

// apiClient sends admin API requests to the running bot (base URL and
// token) or, with --db, to an in-process server over the file.
type apiClient struct {
	base  string
	token string
	h     http.Handler // in-process (--db); nil = over HTTP
	close func() error
}

func (c *apiClient) do(ctx context.Context, method, path, contentType string, body []byte) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("making the request: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if c.h != nil {
		w := httptest.NewRecorder()
		c.h.ServeHTTP(w, req)
		return w.Result(), nil
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("calling %s (is the bot running? else use --db FILE): %w", c.base, err)
	}
	return resp, nil
}

// call does a request and decodes a JSON answer into out (nil: keep the
// body in the response). A non-2xx answer is an error with the API's message.
func (c *apiClient) call(ctx context.Context, method, path, contentType string, body []byte, out any) error {
	resp, err := c.do(ctx, method, path, contentType, body)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("reading the answer: %w", err)
	}
	if resp.StatusCode/100 != 2 {
		var e struct{ Error string }
		if json.Unmarshal(raw, &e) == nil && e.Error != "" {
			return fmt.Errorf("%s %s: %s (HTTP %d)", method, strings.SplitN(path, "?", 2)[0], e.Error, resp.StatusCode)
		}
		return fmt.Errorf("%s %s: HTTP %d", method, strings.SplitN(path, "?", 2)[0], resp.StatusCode)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("decoding the answer: %w", err)
	}
	return nil
}

// dataCommand runs one of dataCommands.
func dataCommand(ctx context.Context, cmd string, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("leadtriage "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", "config.toml", "the configuration file (for the default --url; with --db, the policy, channel and events the bot would use)")
	apiURL := fs.String("url", "", "the running bot's base URL (default: http:// + http.listen)")
	dbPath := fs.String("db", "", "work on this database file instead, while the bot is stopped")
	dryRun := fs.Bool("dry-run", false, "import: check the file, store nothing")
	mapping := fs.String("map", "", "import: column=field,… for headers not recognised")
	source := fs.String("source", "", "import: the source recorded on rows without one")
	format := fs.String("format", "csv", "export: csv or json")
	status := fs.String("status", "all", "export: pending, qualified, disqualified, referred or all")
	email := fs.String("email", "", "forget/subject: the person's e-mail address")
	domain := fs.String("domain", "", "forget: every lead of this domain")
	id := fs.String("id", "", "forget: one lead, L-n")
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return 2
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
	wantPos := map[string]int{"import": 1, "backup": 1}[cmd]
	if len(pos) != wantPos {
		fmt.Fprintf(stderr, "leadtriage %s: want %d file argument(s), got %d\n%s", cmd, wantPos, len(pos), usage)
		return 2
	}
	c, err := newAPIClient(*configPath, *apiURL, *dbPath, getenv)
	if err != nil {
		fmt.Fprintf(stderr, "leadtriage %s: %v\n", cmd, err)
		return 1
	}
	defer func() {
		if c.close != nil {
			if err := c.close(); err != nil {
				fmt.Fprintf(stderr, "leadtriage %s: %v\n", cmd, err)
			}
		}
	}()
	switch cmd {
	case "import":
		err = cliImport(ctx, c, pos[0], *dryRun, *mapping, *source, stdout, stderr)
	case "export":
		q := url.Values{"format": {*format}, "status": {*status}}
		err = cliDownload(ctx, c, "/api/export?"+q.Encode(), stdout)
	case "forget":
		body, _ := json.Marshal(map[string]string{"email": *email, "domain": *domain, "id": *id, "by": "cli"})
		var res struct {
			Forgotten    []string `json:"forgotten"`
			SlackDeleted int      `json:"slack_deleted"`
		}
		if err = c.call(ctx, http.MethodPost, "/api/forget", "application/json", body, &res); err == nil {
			fmt.Fprintf(stdout, "forgotten: %s; Slack messages to delete: %d\n", strings.Join(res.Forgotten, ", "), res.SlackDeleted)
			if c.h != nil && res.SlackDeleted > 0 {
				fmt.Fprintln(stdout, "the deletions are queued: start the bot to send them to Slack")
			}
		}
	case "subject":
		err = cliDownload(ctx, c, "/api/subject?"+url.Values{"email": {*email}}.Encode(), stdout)
	case "backup":
		err = cliBackup(ctx, c, pos[0])
	}
	if err != nil {
		fmt.Fprintf(stderr, "leadtriage %s: %v\n", cmd, err)
		return 1
	}
	return 0
}

// newAPIClient is the client for --db, or for --url (default from the config).
func newAPIClient(configPath, apiURL, dbPath string, getenv func(string) string) (*apiClient, error) {
	if dbPath != "" {
		if apiURL != "" {
			return nil, errors.New("give --url or --db, not both")
		}
		db, err := storage.Open(dbPath)
		if err != nil {
			return nil, err
		}
		tok := make([]byte, 16)
		_, _ = rand.Read(tok)
		token := hex.EncodeToString(tok)
		salt, err := db.AuditSalt(context.Background())
		if err != nil {
			_ = db.Close()
			return nil, err
		}
		svc := &triage.Service{Store: db, FreeMail: freeMail}
		// With the bot's configuration, a lead imported while the bot is
		// stopped is what the bot would have made of it: its policy (the
		// checklist), its channel and its domain events (webhooks, CRM).
		if cfg, problems := LoadConfig(configPath); len(problems) == 0 {
			svc.Policy, svc.Channel, svc.Events = cfg.Policy(), cfg.Slack.Channel, cfg.Events()
		}
		srv := intake.New(intake.Config{APIToken: token, Store: db, AuditSalt: salt, AfterForget: db.Compact}, svc, nil)
		return &apiClient{base: "http://leadtriage.invalid", token: token, h: srv.Handler(), close: db.Close}, nil
	}
	token := strings.TrimSpace(getenv("LEADTRIAGE_API_TOKEN"))
	if token == "" {
		return nil, errors.New("LEADTRIAGE_API_TOKEN is not set (or use --db FILE while the bot is stopped)")
	}
	if apiURL == "" {
		cfg, problems := LoadConfig(configPath)
		if len(problems) > 0 {
			return nil, fmt.Errorf("reading %s for the default --url: %s", configPath, problems[0])
		}
		apiURL = "http://" + cfg.HTTP.Listen
	}
	return &apiClient{base: strings.TrimRight(apiURL, "/"), token: token}, nil
}

func cliDownload(ctx context.Context, c *apiClient, path string, out io.Writer) error {
	resp, err := c.do(ctx, http.MethodGet, path, "", nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		raw, _ := io.ReadAll(resp.Body)
		var e struct{ Error string }
		_ = json.Unmarshal(raw, &e)
		return fmt.Errorf("GET %s: %s (HTTP %d)", strings.SplitN(path, "?", 2)[0], e.Error, resp.StatusCode)
	}
	if _, err := io.Copy(out, resp.Body); err != nil {
		return fmt.Errorf("writing the answer: %w", err)
	}
	return nil
}

// cliBackup writes the snapshot to a temporary file beside path and renames
// it into place, so a failed backup never leaves a truncated file that looks
// like one; then it checks the copy.
func cliBackup(ctx context.Context, c *apiClient, path string) error {
	tmp := path + ".partial"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("creating the backup: %w", err)
	}
	err = cliDownload(ctx, c, "/api/backup", f)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = verifyBackup(tmp)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("moving the backup into place: %w", err)
	}
	return nil
}

func verifyBackup(path string) error {
	db, err := storage.Open(path)
	if err != nil {
		return fmt.Errorf("the backup does not open: %w", err)
	}
	defer db.Close()
	if err := db.Check(); err != nil {
		return fmt.Errorf("the backup fails its check: %w", err)
	}
	return nil
}

type importResponse struct {
	Created int `json:"created"`
	Repeats int `json:"repeats"`
	Errors  []struct {
		Line  int    `json:"line"`
		Field string `json:"field"`
		Error string `json:"error"`
	} `json:"errors"`
}

// cliImport reads the CSV here with the server's reader
// (intake.NewCSVReader), sends it in chunks of importChunk rows with the
// header, draws a progress bar on stderr and reports every bad row with its
// line in the original file.
func cliImport(ctx context.Context, c *apiClient, path string, dry bool, mapping, source string, stdout, stderr io.Writer) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("reading %s: %w", path, err)
	}
	r := intake.NewCSVReader(raw)
	header, err := r.Read()
	if err != nil {
		return fmt.Errorf("reading the header row of %s: %w", path, err)
	}
	type row struct {
		line int
		rec  []string
	}
	var rows []row
	var bad []string
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			bad = append(bad, fmt.Sprintf("line %d: %v (the rest of the file is skipped)", pe.StartLine, pe.Err))
			break
		}
		if err != nil {
			return fmt.Errorf("reading %s: %w", path, err)
		}
		line, _ := r.FieldPos(0)
		rows = append(rows, row{line, rec})
	}
	q := url.Values{}
	if dry {
		q.Set("dry_run", "true")
	}
	if mapping != "" {
		q.Set("map", mapping)
	}
	if source != "" {
		q.Set("source", source)
	}
	chunkBody := func(chunk []row) ([]byte, map[int]int) {
		var buf bytes.Buffer
		cw := csv.NewWriter(&buf)
		_ = cw.Write(header)
		cw.Flush()
		lines := map[int]int{} // line in the chunk → line in the file
		for _, rw := range chunk {
			lines[bytes.Count(buf.Bytes(), []byte("\n"))+1] = rw.line
			_ = cw.Write(rw.rec)
			cw.Flush()
		}
		return buf.Bytes(), lines
	}
	steps := len(rows)
	// A file sent in several parts is announced once, in the channel,
	// before its cards: a dry run counts the whole, and the first part
	// carries the totals (announce=totals); the others announce nothing.
	multi := !dry && len(rows) > importChunk
	if multi {
		steps *= 2
	}
	bar := progress{w: stderr, total: steps}
	done := 0
	if multi {
		dq := url.Values{"dry_run": {"true"}}
		for k, v := range q {
			dq[k] = v
		}
		var whole importResponse
		for start := 0; start < len(rows); start += importChunk {
			chunk := rows[start:min(start+importChunk, len(rows))]
			body, _ := chunkBody(chunk)
			var res importResponse
			if err := c.call(ctx, http.MethodPost, "/api/import?"+dq.Encode(), "text/csv", body, &res); err != nil {
				bar.done()
				return err
			}
			whole.Created += res.Created
			whole.Repeats += res.Repeats
			whole.Errors = append(whole.Errors, res.Errors...)
			done += len(chunk)
			bar.set(done)
		}
		q.Set("announce", "totals")
		q.Set("created", strconv.Itoa(whole.Created))
		q.Set("repeats", strconv.Itoa(whole.Repeats))
		q.Set("rejected", strconv.Itoa(len(whole.Errors)+len(bad)))
	}
	var total importResponse
	for start := 0; start < len(rows); start += importChunk {
		chunk := rows[start:min(start+importChunk, len(rows))]
		body, lines := chunkBody(chunk)
		var res importResponse
		if err := c.call(ctx, http.MethodPost, "/api/import?"+q.Encode(), "text/csv", body, &res); err != nil {
			bar.done()
			return err
		}
		if multi {
			q = url.Values{"announce": {"false"}, "map": q["map"], "source": q["source"]}
		}
		total.Created += res.Created
		total.Repeats += res.Repeats
		for _, e := range res.Errors {
			where := fmt.Sprintf("line %d", lines[e.Line])
			if e.Field != "" {
				where += ", " + e.Field
			}
			bad = append(bad, where+": "+e.Error)
		}
		done += len(chunk)
		bar.set(done)
	}
	bar.done()
	for _, b := range bad {
		fmt.Fprintln(stderr, b)
	}
	verb := "imported"
	if dry {
		verb = "would import"
	}
	fmt.Fprintf(stdout, "%s %d, already there %d, skipped %d bad row(s)\n", verb, total.Created, total.Repeats, len(bad))
	return nil
}

// progress draws "[#####-----] n/total" on one line of w.
type progress struct {
	w     io.Writer
	total int
}

func (p *progress) set(n int) {
	if p.total == 0 {
		return
	}
	const width = 30
	k := n * width / p.total
	fmt.Fprintf(p.w, "\r[%s%s] %d/%d rows", strings.Repeat("#", k), strings.Repeat("-", width-k), n, p.total)
}

func (p *progress) done() {
	if p.total > 0 {
		fmt.Fprintln(p.w)
	}
}
