package intake

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/leadtriage/leadtriage/triage"
)

// MaxImport is the largest CSV accepted by POST /api/import: a spreadsheet
// of tens of thousands of leads, not a way to fill the disk.
const MaxImport = 32 << 20

// adminTimeout bounds an import or a forget, which can take longer than
// the server's timeouts for ordinary requests.
const adminTimeout = 10 * time.Minute

// Backupper streams a consistent snapshot of the database (storage.DB).
type Backupper interface {
	Backup(w io.Writer) (int64, error)
}

// importHeaders maps a CSV header, lowercased with spaces, dashes and
// underscores removed, to a lead field: the Dutch and English names a
// spreadsheet or CRM export uses.
var importHeaders = map[string]string{
	"company": "company", "bedrijf": "company", "bedrijfsnaam": "company", "organisatie": "company",
	"organization": "company", "organisation": "company", "companyname": "company", "firma": "company",
	"name": "name", "naam": "name", "contact": "name", "contactpersoon": "name", "fullname": "name", "volledigenaam": "name",
	"email": "email", "emailadres": "email", "emailaddress": "email", "mail": "email",
	"phone": "phone", "telefoon": "phone", "telefoonnummer": "phone", "tel": "phone", "mobiel": "phone", "phonenumber": "phone",
	"website": "website", "url": "website", "site": "website", "web": "website", "domein": "website", "domain": "website",
	"message": "message", "bericht": "message", "opmerking": "message", "opmerkingen": "message", "notes": "message", "vraag": "message",
	"source": "source", "bron": "source",
	"founded": "founded", "opgericht": "founded", "oprichtingsjaar": "founded",
	"employees": "employees", "medewerkers": "employees", "werknemers": "employees", "aantalmedewerkers": "employees",
}

func headerKey(h string) string {
	h = strings.ToLower(strings.TrimSpace(h))
	return strings.NewReplacer(" ", "", "-", "", "_", "", ".", "").Replace(h)
}

type importError struct {
	Line  int    `json:"line"`
	Field string `json:"field"`
	Error string `json:"error"`
}

type importResult struct {
	Created int           `json:"created"`
	Repeats int           `json:"repeats"`
	DryRun  bool          `json:"dry_run"`
	Errors  []importError `json:"errors"`
}

// importRow is one data row of the CSV and the line it starts on.
type importRow struct {
	line int
	in   triage.LeadInput
}

// NewCSVReader reads an import file as POST /api/import does: UTF-8 with or
// without a BOM, comma or semicolon (whichever the first line has more of),
// quoted fields with newlines, rows of any length (a short or long row is
// that row's error, not the file's). The CLI splits a file with it, so its
// line numbers are the server's.
func NewCSVReader(body []byte) *csv.Reader {
	body = bytes.TrimPrefix(body, []byte("\xef\xbb\xbf"))
	first, _, _ := bytes.Cut(body, []byte("\n"))
	r := csv.NewReader(bytes.NewReader(body))
	if bytes.Count(first, []byte(";")) > bytes.Count(first, []byte(",")) {
		r.Comma = ';'
	}
	r.FieldsPerRecord = -1
	return r
}

// parseImport reads a CSV with a header row: UTF-8 with or without a BOM,
// comma or semicolon (whichever the header line has more of), quoted
// fields with newlines. mapping overrides headers (column → field; field
// "-" drops the column). Unknown columns become extras. Rows that cannot be
// read are reported and skipped; a header that maps to no lead field is an
// error for the whole file.
func parseImport(body []byte, mapping map[string]string) ([]importRow, []importError, error) {
	r := NewCSVReader(body)
	header, err := r.Read()
	if err != nil {
		return nil, nil, fmt.Errorf("reading the header row: %w", err)
	}
	fields := make([]string, len(header))
	known := false
	seen := map[string]bool{}
	for i, h := range header {
		f, ok := mapping[strings.ToLower(strings.TrimSpace(h))]
		if !ok {
			f = importHeaders[headerKey(h)]
		}
		switch {
		case f == "-":
			f = ""
		case f == "":
			f = "extra:" + strings.TrimSpace(h)
		case !strings.HasPrefix(f, "extra:"):
			if !validField(f) {
				return nil, nil, fmt.Errorf("column %q maps to %q, which is not a lead field", h, f)
			}
			if seen[f] {
				return nil, nil, fmt.Errorf("column %q maps to %s, which an earlier column has", h, f)
			}
			seen[f], known = true, true
		}
		fields[i] = f
	}
	if !known {
		return nil, nil, fmt.Errorf("no column of the header row names a lead field (company, name, email, phone, website, …)")
	}
	var rows []importRow
	var errs []importError
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			// A broken quote swallows what follows it; nothing after it can be trusted.
			errs = append(errs, importError{Line: pe.StartLine, Error: pe.Err.Error()})
			break
		}
		if err != nil {
			return nil, nil, fmt.Errorf("reading the CSV: %w", err)
		}
		line, _ := r.FieldPos(0)
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue // a blank line
		}
		if len(rec) != len(header) {
			errs = append(errs, importError{Line: line, Error: fmt.Sprintf("%d fields, the header has %d", len(rec), len(header))})
			continue
		}
		in := triage.LeadInput{}
		for i, v := range rec {
			v = strings.TrimSpace(v)
			f := fields[i]
			if f == "" || v == "" {
				continue
			}
			if k, ok := strings.CutPrefix(f, "extra:"); ok {
				if in.Extra == nil {
					in.Extra = map[string]string{}
				}
				in.Extra[k] = v
				continue
			}
			if dst := fieldOf(&in, f); dst != nil {
				*dst = v
			}
		}
		rows = append(rows, importRow{line: line, in: in})
	}
	return rows, errs, nil
}

func validField(f string) bool {
	for _, g := range triage.Fields {
		if f == g {
			return true
		}
	}
	return false
}

// parseMapping reads "column=field,…" (the CLI's --map).
func parseMapping(s string) (map[string]string, error) {
	m := map[string]string{}
	if s == "" {
		return m, nil
	}
	for _, pair := range strings.Split(s, ",") {
		col, f, ok := strings.Cut(pair, "=")
		col, f = strings.ToLower(strings.TrimSpace(col)), strings.TrimSpace(f)
		if !ok || col == "" || f == "" {
			return nil, fmt.Errorf("%q is not column=field", pair)
		}
		if f != "-" && !strings.HasPrefix(f, "extra:") && !validField(f) {
			return nil, fmt.Errorf("%q is not a lead field (%s, extra:<name> or -)", f, strings.Join(triage.Fields, ", "))
		}
		m[col] = f
	}
	return m, nil
}

// handleImport is POST /api/import: a CSV of leads. Each row is submitted
// as a lead of its own with an idempotency key made of its content, and a
// row whose e-mail already belongs to a lead of the same company and name
// counts as a repeat too (the key lives a day; a spreadsheet is imported
// again weeks later). Cards are queued in the outbox, which posts them at
// Slack's pace.
func (s *Server) handleImport(w http.ResponseWriter, r *http.Request) {
	if !s.adminAccess(w, r, http.MethodPost) {
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "text/csv") && !strings.HasPrefix(ct, "text/plain") {
		writeError(w, http.StatusUnsupportedMediaType, "send the CSV as text/csv")
		return
	}
	// A large file takes longer than the server's 15 s read and write
	// timeouts (one fsync a row); the CLI sends 200 rows a request.
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Now().Add(adminTimeout))
	_ = rc.SetWriteDeadline(time.Now().Add(adminTimeout))
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxImport))
	if err != nil {
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("the CSV is over %d MiB: split it", MaxImport>>20))
		return
	}
	q := r.URL.Query()
	dry := q.Get("dry_run") == "true" || q.Get("dry_run") == "1"
	mapping, err := parseMapping(q.Get("map"))
	if err != nil {
		writeFieldError(w, http.StatusBadRequest, "map: "+err.Error(), "map")
		return
	}
	rows, errs, err := parseImport(body, mapping)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	source := strings.TrimSpace(q.Get("source"))
	res := importResult{DryRun: dry, Errors: errs}
	ctx := r.Context()
	// First sort the rows into bad ones, repeats and new leads, so that
	// the channel's summary of a big import is queued before the cards.
	var fresh []importRow
	seen := map[string]bool{}
	for _, row := range rows {
		in := row.in
		if in.Source == "" {
			in.Source = source
		}
		row.in = in
		if _, err := triage.NewLead(in, s.cfg.Now()); err != nil {
			var fe *triage.FieldError
			if errors.As(err, &fe) {
				res.Errors = append(res.Errors, importError{Line: row.line, Field: fe.Field, Error: fe.Error()})
				continue
			}
			res.Errors = append(res.Errors, importError{Line: row.line, Error: err.Error()})
			continue
		}
		repeat, err := s.knownLead(ctx, in)
		if err != nil {
			s.apiStoreError(w, "importing leads", err)
			return
		}
		if repeat || seen[in.Fingerprint()] {
			res.Repeats++
			continue
		}
		seen[in.Fingerprint()] = true
		fresh = append(fresh, row)
	}
	created, repeats, rejected := len(fresh), res.Repeats, len(res.Errors)
	switch q.Get("announce") {
	case "", "auto": // this request is the whole import
	case "false": // a later part of an import announced with its first part
		created = 0
	case "totals": // the first part of an import: the sender counted the whole (a dry run)
		var bad string
		if created, repeats, rejected, bad = importTotals(q); bad != "" {
			writeFieldError(w, http.StatusBadRequest, bad+" is not a count (a whole number from 0)", bad)
			return
		}
	default:
		writeFieldError(w, http.StatusBadRequest, "announce is auto, false or totals", "announce")
		return
	}
	if dry {
		res.Created = len(fresh)
		fresh = nil
	} else if err := s.svc.AnnounceImport(ctx, source, created, repeats, rejected); err != nil {
		s.apiStoreError(w, "importing leads", err)
		return
	}
	for _, row := range fresh {
		in := row.in
		_, created, err := s.svc.Submit(ctx, in, triage.Submission{IdempotencyKey: "import:" + in.Fingerprint(), Via: "csv"})
		var fe *triage.FieldError
		switch {
		case errors.As(err, &fe):
			res.Errors = append(res.Errors, importError{Line: row.line, Field: fe.Field, Error: fe.Error()})
		case err != nil:
			s.apiStoreError(w, "importing leads", err)
			return
		case created:
			res.Created++
		default:
			res.Repeats++
		}
	}
	if res.Errors == nil {
		res.Errors = []importError{}
	}
	s.log.Info("csv import", "created", res.Created, "repeats", res.Repeats, "errors", len(res.Errors), "dry_run", dry)
	writeJSON(w, http.StatusOK, res)
}

// importTotals reads the whole import's counts of ?announce=totals
// (created, repeats, rejected); bad names a parameter that is no count.
func importTotals(q url.Values) (created, repeats, rejected int, bad string) {
	counts := []*int{&created, &repeats, &rejected}
	for i, name := range []string{"created", "repeats", "rejected"} {
		n, err := strconv.Atoi(q.Get(name))
		if err != nil || n < 0 {
			return 0, 0, 0, name
		}
		*counts[i] = n
	}
	return created, repeats, rejected, ""
}

// knownLead reports whether a lead with in's e-mail, company and name is
// stored already.
func (s *Server) knownLead(ctx context.Context, in triage.LeadInput) (bool, error) {
	email := strings.ToLower(strings.TrimSpace(in.Email))
	if email == "" {
		return false, nil
	}
	leads, err := s.svc.LeadsOfPerson(ctx, email)
	var fe *triage.FieldError
	if errors.As(err, &fe) {
		return false, nil // NewLead let it through; nothing can match it
	}
	if err != nil {
		return false, err
	}
	for _, l := range leads {
		if strings.EqualFold(l.Company, strings.TrimSpace(in.Company)) && strings.EqualFold(l.Name, strings.TrimSpace(in.Name)) {
			return true, nil
		}
	}
	return false, nil
}

// exportColumns are the CSV export's fixed columns; answer.<criterion id>
// columns follow, one per criterion any lead has answered.
var exportColumns = []string{
	"id", "status", "company", "name", "email", "phone", "website", "domain", "message", "source",
	"founded", "employees", "created_at", "created_by", "owner",
	"decision", "decision_reason", "decided_by", "decided_at", "decision_note", "partner",
	"votes_qualify", "votes_disqualify", "votes_unsure",
	"research_summary", "research_flags",
	"first_vote_s", "claim_s", "decision_s",
	"slack_channel", "slack_ts",
	"outcome", "outcome_value", "outcome_note", "outcome_by", "outcome_at", "returning_lead",
}

// handleExport is GET /api/export?format=csv|json&status=….
func (s *Server) handleExport(w http.ResponseWriter, r *http.Request) {
	if !s.apiAccess(w, r) {
		return
	}
	q := r.URL.Query()
	format := q.Get("format")
	if format == "" {
		format = "csv"
	}
	if format != "csv" && format != "json" {
		writeFieldError(w, http.StatusBadRequest, fmt.Sprintf("format %q is not csv or json", truncate(format, 20)), "format")
		return
	}
	status := triage.Status(q.Get("status"))
	if status == "all" {
		status = ""
	}
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(adminTimeout))
	ctx, cancel := context.WithTimeout(r.Context(), adminTimeout)
	defer cancel()
	// A CSV's columns need every criterion answered, so it reads the
	// leads twice, page by page: once for the header, once for the rows.
	var (
		crit map[string]bool
		err  error
	)
	if format == "csv" {
		crit = map[string]bool{}
		err = s.eachLead(ctx, status, func(l triage.Lead) error {
			for id := range l.Answers {
				crit[id] = true
			}
			return nil
		})
	} else {
		_, err = s.svc.LeadsPage(ctx, status, 0, 1) // a bad status is said before the 200
	}
	if s.listError(w, "exporting leads", err) {
		return
	}
	if format == "json" {
		s.streamLeadsJSON(ctx, w, status, "")
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="leads.csv"`)
	w.WriteHeader(http.StatusOK)
	ew := newExportCSV(w, crit)
	if err = ew.header(); err == nil {
		err = s.eachLead(ctx, status, ew.row)
	}
	if err == nil {
		err = ew.flush()
	}
	if err != nil {
		s.log.Error("exporting leads", "error", err)
	}
}

// exportPage is how many leads a streamed list reads at a time.
const exportPage = 500

// eachLead calls each for every lead with status, oldest first, a page at
// a time: years of leads cost one page of memory.
func (s *Server) eachLead(ctx context.Context, status triage.Status, each func(triage.Lead) error) error {
	var after triage.LeadID
	for {
		page, err := s.svc.LeadsPage(ctx, status, after, exportPage)
		if err != nil {
			return err
		}
		for _, l := range page.Leads {
			if err := each(l); err != nil {
				return err
			}
		}
		if page.Next == 0 {
			return nil
		}
		after = page.Next
	}
}

// streamLeadsJSON answers 200 with {"leads":[…]<tail>} streamed page by
// page; tail is what follows the list inside the object (e.g.
// `,"next":""`). Call it once the request is known to be good: the 200 is
// out before the leads are read, so a failure meanwhile cuts the body
// short (invalid JSON is how the client learns of it) and is logged.
func (s *Server) streamLeadsJSON(ctx context.Context, w http.ResponseWriter, status triage.Status, tail string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, `{"leads":[`)
	first := true
	err := s.eachLead(ctx, status, func(l triage.Lead) error {
		b, err := json.Marshal(toLeadJSON(l))
		if err != nil {
			return err
		}
		if !first {
			_, _ = io.WriteString(w, ",")
		}
		first = false
		_, err = w.Write(b)
		return err
	})
	if err != nil {
		s.log.Error("streaming leads", "error", err)
		return
	}
	_, _ = io.WriteString(w, "]"+tail+"}\n")
}

// listError answers an error of listing leads: 400 naming the field for
// bad input, the store's answer otherwise. It reports whether there was one.
func (s *Server) listError(w http.ResponseWriter, what string, err error) bool {
	var fe *triage.FieldError
	switch {
	case err == nil:
		return false
	case errors.As(err, &fe):
		writeFieldError(w, http.StatusBadRequest, fe.Error(), fe.Field)
	default:
		s.apiStoreError(w, what, err)
	}
	return true
}

// exportCSV writes the export's CSV one lead at a time: the fixed
// columns, then one answer.<criterion> column per criterion in crit.
type exportCSV struct {
	cw  *csv.Writer
	ids []string
}

func newExportCSV(w io.Writer, crit map[string]bool) *exportCSV {
	ids := make([]string, 0, len(crit))
	for id := range crit {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return &exportCSV{cw: csv.NewWriter(w), ids: ids}
}

func (e *exportCSV) header() error {
	header := append([]string{}, exportColumns...)
	for _, id := range e.ids {
		header = append(header, "answer."+id)
	}
	if err := e.cw.Write(header); err != nil {
		return fmt.Errorf("writing the CSV header: %w", err)
	}
	return nil
}

func (e *exportCSV) flush() error {
	e.cw.Flush()
	return e.cw.Error()
}

func (e *exportCSV) row(l triage.Lead) error {
	num := func(p *int) string {
		if p == nil {
			return ""
		}
		return strconv.Itoa(*p)
	}
	secs := func(p *int64) string {
		if p == nil {
			return ""
		}
		return strconv.FormatInt(*p, 10)
	}
	j := toLeadJSON(l)
	votes := map[string]int{}
	for _, c := range j.Votes {
		votes[c]++
	}
	var d decision
	if j.Decision != nil {
		d = *j.Decision
	}
	flags := make([]string, len(j.Research.Flags))
	for i, f := range j.Research.Flags {
		flags[i] = f.Code
	}
	rec := []string{
		j.ID, j.Status, csvSafe(j.Company), csvSafe(j.Name), csvSafe(j.Email), csvSafe(j.Phone), csvSafe(j.Website), j.Domain, csvSafe(j.Message), csvSafe(j.Source),
		num(j.Founded), num(j.Employees), j.CreatedAt, j.CreatedBy, j.Owner,
		d.Outcome, csvSafe(d.Reason), d.By, d.At, csvSafe(d.Note), csvSafe(d.Partner),
		strconv.Itoa(votes["qualify"]), strconv.Itoa(votes["disqualify"]), strconv.Itoa(votes["unsure"]),
		csvSafe(j.Research.Summary), strings.Join(flags, " "),
		secs(j.Timings.FirstVote), secs(j.Timings.Claim), secs(j.Timings.Decision),
		j.Slack.Channel, j.Slack.TS,
	}
	rec = append(rec, outcomeColumns(j)...)
	for _, id := range e.ids {
		rec = append(rec, csvSafe(j.Answers[id].Value))
	}
	if err := e.cw.Write(rec); err != nil {
		return fmt.Errorf("writing %s: %w", j.ID, err)
	}
	return nil
}

// csvSafe defuses lead text that a spreadsheet would run as a formula
// (CSV injection): a leading =, +, - or @ gets a quote in front.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

type subjectResponse struct {
	Email string     `json:"email"`
	Leads []leadJSON `json:"leads"`
}

// handleSubject is GET /api/subject?email=X: everything held about one
// person (GDPR art. 15): every lead with that address, in full.
func (s *Server) handleSubject(w http.ResponseWriter, r *http.Request) {
	if !s.apiAccess(w, r) {
		return
	}
	email := strings.TrimSpace(r.URL.Query().Get("email"))
	ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
	defer cancel()
	leads, err := s.svc.LeadsOfPerson(ctx, email)
	var fe *triage.FieldError
	if errors.As(err, &fe) {
		writeFieldError(w, http.StatusBadRequest, fe.Error(), fe.Field)
		return
	}
	if err != nil {
		s.apiStoreError(w, "answering an access request", err)
		return
	}
	out := subjectResponse{Email: email, Leads: make([]leadJSON, 0, len(leads))}
	for _, l := range leads {
		out.Leads = append(out.Leads, toLeadJSON(l))
	}
	s.log.Info("access request answered", "leads", len(out.Leads))
	writeJSON(w, http.StatusOK, out)
}

type forgetBody struct {
	Email  string `json:"email"`
	Domain string `json:"domain"`
	ID     string `json:"id"`
	By     string `json:"by"`
}

type forgetResponse struct {
	Forgotten    []string `json:"forgotten"`
	SlackDeleted int      `json:"slack_deleted"`
}

// handleForget is POST /api/forget: erasure (GDPR art. 17). slack_deleted
// counts the chat.delete calls queued in the outbox.
func (s *Server) handleForget(w http.ResponseWriter, r *http.Request) {
	if !s.adminAccess(w, r, http.MethodPost) {
		return
	}
	// Compacting a large file after the erasure can outlast the server's
	// write timeout.
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(adminTimeout))
	var b forgetBody
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, MaxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil {
		writeError(w, http.StatusBadRequest, "body: want {\"email\":…}, {\"domain\":…} or {\"id\":\"L-n\"}: "+err.Error())
		return
	}
	by := strings.TrimSpace(b.By)
	if by == "" {
		by = "api"
	}
	ctx, cancel := context.WithTimeout(r.Context(), adminTimeout)
	defer cancel()
	ids, n, err := s.svc.Forget(ctx, triage.ForgetRequest{Email: b.Email, Domain: b.Domain, ID: b.ID}, truncate(by, 64), s.cfg.AuditSalt)
	var fe *triage.FieldError
	switch {
	case errors.As(err, &fe):
		writeFieldError(w, http.StatusBadRequest, fe.Error(), fe.Field)
		return
	case err != nil:
		s.apiStoreError(w, "forgetting", err)
		return
	}
	out := forgetResponse{Forgotten: make([]string, len(ids)), SlackDeleted: n}
	for i, id := range ids {
		out.Forgotten[i] = id.String()
	}
	if s.cfg.AfterForget != nil && len(ids) > 0 {
		if err := s.cfg.AfterForget(ctx); err != nil {
			s.log.Error("erasing freed pages after forget", "error", err)
		}
	}
	// The ids only: the subject must not reach the log.
	s.log.Info("leads forgotten", "leads", out.Forgotten, "slack_deleted", n)
	writeJSON(w, http.StatusOK, out)
}

// handleBackup is GET /api/backup: one read transaction streamed out, so
// the snapshot is consistent while writes go on.
func (s *Server) handleBackup(w http.ResponseWriter, r *http.Request) {
	if !s.apiAccess(w, r) {
		return
	}
	// The server's 15 s write timeout is for slow clients of small answers;
	// a large database takes longer to stream.
	_ = http.NewResponseController(w).SetWriteDeadline(time.Time{})
	b, ok := s.cfg.Store.(Backupper)
	if !ok {
		writeError(w, http.StatusNotImplemented, "this store cannot be backed up")
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", `attachment; filename="leadtriage.db"`)
	w.Header().Set("Cache-Control", "no-store")
	if n, err := b.Backup(w); err != nil {
		// The status line is gone; a truncated body is what the client sees.
		s.log.Error("streaming a backup", "error", err, "bytes", n)
	}
}
