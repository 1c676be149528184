package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/leadtriage/leadtriage/slackfake"
	"github.com/leadtriage/leadtriage/storage"
	"github.com/leadtriage/leadtriage/triage"
	"github.com/leadtriage/leadtriage/triage/triagetest"
	"github.com/slack-go/slack"
)

const (
	testChannel       = "C0TRIAGE"
	testTeamLead      = "ULEAD"
	testSigningSecret = "test-signing-secret-0123456789"
	testIntakeSecret  = "intake-secret-0123456789abcdef"
	testAPIToken      = "api-token-0123456789abcdef0123"
	canaryEmail       = "jan.jansen+CANARY@voorbeeld.nl"
)

// TestMain lets the test binary play the leadtriage process for the kill -9
// test: with LEADTRIAGE_CHILD set it runs the real command line instead.
func TestMain(m *testing.M) {
	if os.Getenv("LEADTRIAGE_CHILD") == "1" {
		os.Exit(runWithSignals(strings.Fields(os.Getenv("LEADTRIAGE_CHILD_ARGS"))))
	}
	os.Exit(m.Run())
}

// syncBuffer collects logs written from many goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// testApp is a running Main against a fake Slack and a temp database.
type testApp struct {
	*Main
	Fake   *slackfake.Server
	Logs   *syncBuffer
	Base   string // http://127.0.0.1:port
	Config string // the config file
	env    map[string]string
}

type appOptions struct {
	mode     string // "http" (default) or "socket"
	quorum   int
	dbPath   string
	fake     *slackfake.Server
	research string            // the [research] section; "" = research off
	extra    string            // appended to config.toml verbatim ([[criteria]], [disqualify], …)
	now      func() time.Time  // injected clock (Main.Now); nil = the real one
	env      map[string]string // extra environment (optional secrets such as CREDITSAFE_USERNAME)
}

func writeTestConfig(tb testing.TB, dir string, o appOptions, apiURL string) string {
	tb.Helper()
	cfg := fmt.Sprintf(`[slack]
mode = %q
channel = %q
team_lead = %q
api_url = %q

[http]
listen = "127.0.0.1:0"

[storage]
path = %q

[voting]
quorum = %d
blind = true
decide = "auto"

%s
%s
`, o.mode, testChannel, testTeamLead, apiURL, o.dbPath, o.quorum, researchSection(o.research), o.extra)
	path := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		tb.Fatal(err)
	}
	return path
}

// researchSection keeps tests off the network unless they bring their own
// loopback RDAP and DNS servers.
func researchSection(s string) string {
	if s == "" {
		return "[research]\nenabled = false\n"
	}
	return s
}

func testEnv(mode string) map[string]string {
	env := map[string]string{
		"SLACK_BOT_TOKEN":          slackfake.BotToken,
		"LEADTRIAGE_INTAKE_SECRET": testIntakeSecret,
		"LEADTRIAGE_API_TOKEN":     testAPIToken,
	}
	if mode == "socket" {
		env["SLACK_APP_TOKEN"] = slackfake.AppToken
	} else {
		env["SLACK_SIGNING_SECRET"] = testSigningSecret
	}
	return env
}

// MustRunMain starts the real wiring; Close runs at cleanup (a second Close
// is harmless, so tests may close early to test a restart).
func MustRunMain(tb testing.TB, o appOptions) *testApp {
	tb.Helper()
	if o.mode == "" {
		o.mode = "http"
	}
	if o.quorum == 0 {
		o.quorum = 3
	}
	dir := tb.TempDir()
	if o.dbPath == "" {
		o.dbPath = filepath.Join(dir, "leadtriage.db")
	}
	if o.fake == nil {
		o.fake = slackfake.New(tb)
	}
	app := &testApp{Fake: o.fake, Logs: &syncBuffer{}, env: testEnv(o.mode)}
	for k, v := range o.env {
		app.env[k] = v
	}
	app.Config = writeTestConfig(tb, dir, o, o.fake.APIURL())
	m := NewMain()
	m.ConfigPath = app.Config
	m.Getenv = func(k string) string { return app.env[k] }
	m.Stderr = app.Logs
	m.Now = o.now
	if err := m.Run(tb.Context()); err != nil {
		_ = m.Close()
		tb.Fatalf("starting leadtriage: %v\nlogs:\n%s", err, app.Logs.String())
	}
	tb.Cleanup(func() {
		if err := m.Close(); err != nil {
			tb.Errorf("closing: %v", err)
		}
	})
	app.Main = m
	app.Base = "http://" + m.Addr()
	return app
}

// postLead posts a JSON lead with the intake secret and returns status and body.
func (a *testApp) postLead(tb testing.TB, lead map[string]any, header ...string) (int, map[string]string) {
	tb.Helper()
	body, _ := json.Marshal(lead)
	req, _ := http.NewRequest(http.MethodPost, a.Base+"/leads", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+testIntakeSecret)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatalf("POST /leads: %v", err)
	}
	defer resp.Body.Close()
	var out map[string]string
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// apiLead reads one lead through the read API.
func (a *testApp) apiLead(tb testing.TB, id string) map[string]any {
	tb.Helper()
	req, _ := http.NewRequest(http.MethodGet, a.Base+"/api/leads/"+id, nil)
	req.Header.Set("Authorization", "Bearer "+testAPIToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatalf("GET lead: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		tb.Fatalf("GET /api/leads/%s: %d %s", id, resp.StatusCode, b)
	}
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		tb.Fatal(err)
	}
	return out
}

// waitFor polls cond until it holds or the deadline passes: the outbox
// worker delivers asynchronously.
func waitFor(tb testing.TB, what string, timeout time.Duration, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// event posts a signed Events API callback and expects Slack's 200.
func (a *testApp) event(tb testing.TB, eventID string, inner any) {
	tb.Helper()
	body := slackfake.EventCallbackJSON(eventID, inner)
	req := slackfake.NewSignedRequest(tb, a.Base+"/slack/events", testSigningSecret, "application/json", body)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatalf("POST /slack/events: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		tb.Fatalf("event %s: status %d", eventID, resp.StatusCode)
	}
}

// click sends a signed block_actions request as Slack does.
func (a *testApp) click(tb testing.TB, user, ts, actionID, value string) {
	tb.Helper()
	form := slackfake.BlockActionForm(user, testChannel, ts, actionID, value)
	req := slackfake.NewSignedRequest(tb, a.Base+"/slack/interactions", testSigningSecret, "application/x-www-form-urlencoded", []byte(form.Encode()))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatalf("click: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		tb.Fatalf("click %s by %s: status %d", actionID, user, resp.StatusCode)
	}
}

// cards are the top-level messages in the triage channel.
func cards(f *slackfake.Server) []slackfake.Message {
	var out []slackfake.Message
	for _, m := range f.Messages(testChannel) {
		if m.ThreadTS == "" || m.ThreadTS == m.TS {
			out = append(out, m)
		}
	}
	return out
}

// blockText is every string in a Block Kit JSON document, decoded: the JSON
// encoder writes < as \u003c, so raw bytes would hide an unescaped mention.
func blockText(tb testing.TB, raw []byte) string {
	tb.Helper()
	if len(raw) == 0 {
		return ""
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		tb.Fatalf("blocks are not JSON: %v", err)
	}
	var b strings.Builder
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case string:
			b.WriteString(x)
			b.WriteByte('\n')
		case []any:
			for _, e := range x {
				walk(e)
			}
		case map[string]any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(v)
	return b.String()
}

func leadTS(lead map[string]any) string {
	s, _ := lead["slack"].(map[string]any)
	ts, _ := s["ts"].(string)
	return ts
}

func TestEndToEnd_LeadToDecisionAndRestart(t *testing.T) {
	t.Parallel()
	fake := slackfake.New(t)
	dbPath := filepath.Join(t.TempDir(), "leadtriage.db")
	app := MustRunMain(t, appOptions{fake: fake, dbPath: dbPath})

	status, body := app.postLead(t, map[string]any{
		"company": "Acme BV", "name": "Jan Jansen", "email": canaryEmail,
		"website": "acme.example", "message": "We want to outsource sales", "founded": 2023, "employees": "12",
		"utm_campaign": "autumn",
	})
	if status != http.StatusCreated || body["id"] != "L-1" || body["status"] != "pending" {
		t.Fatalf("POST /leads = %d %v", status, body)
	}

	fake.WaitCalls(t, "chat.postMessage", 1, 10*time.Second)
	var ts string
	waitFor(t, "the card's ts on the lead", 10*time.Second, func() bool {
		ts = leadTS(app.apiLead(t, "L-1"))
		return ts != ""
	})
	card, ok := fake.Message(testChannel, ts)
	if !ok || !strings.Contains(blockText(t, card.Blocks), "Acme BV") {
		t.Fatalf("card at %s: %v %s", ts, ok, card.Blocks)
	}
	for _, id := range []string{"lead.vote.qualify", "lead.vote.disqualify", "lead.vote.unsure", "lead.claim"} {
		if !strings.Contains(blockText(t, card.Blocks), id+"\n") {
			t.Errorf("card has no %s button", id)
		}
	}

	// Two blind votes: the card counts them but does not say who.
	app.click(t, "UANNA", ts, "lead.vote.qualify", "L-1")
	app.click(t, "UBEN", ts, "lead.vote.qualify", "L-1")
	waitFor(t, "the card to show two votes", 10*time.Second, func() bool {
		m, _ := fake.Message(testChannel, ts)
		return strings.Contains(blockText(t, m.Blocks), "2 of 3")
	})
	if m, _ := fake.Message(testChannel, ts); strings.Contains(blockText(t, m.Blocks), "UANNA") {
		t.Errorf("blind card reveals a voter before the quorum: %s", m.Blocks)
	}
	waitFor(t, "the voters' confirmations", 10*time.Second, func() bool {
		n := 0
		for _, e := range fake.Ephemerals() {
			if e.User == "UANNA" || e.User == "UBEN" {
				n++
			}
		}
		return n == 2
	})

	// The third vote reaches the quorum: 2 qualify, 1 disqualify qualifies.
	app.click(t, "UCAS", ts, "lead.vote.disqualify", "L-1")
	waitFor(t, "the automatic decision", 10*time.Second, func() bool {
		return app.apiLead(t, "L-1")["status"] == "qualified"
	})
	lead := app.apiLead(t, "L-1")
	if d, _ := lead["decision"].(map[string]any); d["by"] != "auto" || d["outcome"] != "qualified" {
		t.Errorf("decision = %v", lead["decision"])
	}
	waitFor(t, "the card to show the outcome and the voters", 10*time.Second, func() bool {
		m, _ := fake.Message(testChannel, ts)
		b := blockText(t, m.Blocks)
		return strings.Contains(strings.ToLower(b), "qualified") && strings.Contains(b, "<@UANNA>") && strings.Contains(b, "<@UCAS>")
	})

	// A late vote changes nothing and tells the voter why.
	app.click(t, "UDIRK", ts, "lead.vote.disqualify", "L-1")
	waitFor(t, "the 'already decided' reply", 10*time.Second, func() bool {
		for _, e := range fake.Ephemerals() {
			if e.User == "UDIRK" && strings.Contains(e.Text, "already been decided") {
				return true
			}
		}
		return false
	})
	app.click(t, "UANNA", ts, "lead.claim", "L-1")
	waitFor(t, "the owner", 10*time.Second, func() bool { return app.apiLead(t, "L-1")["owner"] == "UANNA" })
	waitFor(t, "the card to show the owner", 10*time.Second, func() bool {
		m, _ := fake.Message(testChannel, ts)
		return strings.Contains(blockText(t, m.Blocks), "*Owner:* <@UANNA>")
	})
	before := app.apiLead(t, "L-1")
	if votes := before["votes"].(map[string]any); len(votes) != 3 || votes["UDIRK"] != nil {
		t.Errorf("votes = %v, want the three before the decision", votes)
	}

	// SIGTERM-style shutdown, then a restart on the same file.
	if err := app.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	app2 := MustRunMain(t, appOptions{fake: fake, dbPath: dbPath})
	after := app2.apiLead(t, "L-1")
	for _, k := range []string{"status", "owner", "votes", "decision", "slack", "company", "email", "extra"} {
		if fmt.Sprint(after[k]) != fmt.Sprint(before[k]) {
			t.Errorf("after restart %s = %v, want %v", k, after[k], before[k])
		}
	}
	// Give the restarted worker a moment's work to prove it posts nothing new.
	status, body = app2.postLead(t, map[string]any{"company": "Second BV"})
	if status != http.StatusCreated || body["id"] != "L-2" {
		t.Fatalf("second lead = %d %v", status, body)
	}
	waitFor(t, "the second card", 10*time.Second, func() bool { return len(cards(fake)) == 2 })
	if n := len(cards(fake)); n != 2 {
		t.Errorf("%d cards in the channel, want 2 (no duplicate of L-1)", n)
	}

	logs := app.Logs.String() + app2.Logs.String()
	for _, secret := range []string{canaryEmail, "CANARY", slackfake.BotToken, testSigningSecret, testIntakeSecret, testAPIToken} {
		if strings.Contains(logs, secret) {
			t.Errorf("the logs contain %q", secret)
		}
	}
}

func TestEndToEnd_SlackOutage(t *testing.T) {
	t.Parallel()
	fake := slackfake.New(t)
	app := MustRunMain(t, appOptions{fake: fake})
	fake.SetDown(true)
	status, _ := app.postLead(t, map[string]any{"company": "Outage BV"})
	if status != http.StatusCreated {
		t.Fatalf("POST during outage = %d, want 201", status)
	}
	waitFor(t, "failed delivery attempts", 15*time.Second, func() bool {
		return len(fake.Calls("chat.postMessage", "conversations.history")) >= 2
	})
	if resp, err := http.Get(app.Base + "/healthz"); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("healthz during the outage: %v %v", resp, err)
	}
	// Slack comes back, rate limited and flaky at first. (A 429 without
	// Retry-After waits a minute; the outbox tests cover it with a fake clock.)
	fake.SetDown(false)
	fake.Fail("chat.postMessage", slackfake.Fault{Status: 429, RetryAfter: "1"})
	fake.Fail("chat.postMessage", slackfake.Fault{Status: 500})
	waitFor(t, "the card after the outage", 90*time.Second, func() bool { return len(cards(fake)) >= 1 })
	if n := len(cards(fake)); n != 1 {
		t.Errorf("%d cards, want exactly 1", n)
	}
}

func TestEndToEnd_SocketMode(t *testing.T) {
	t.Parallel()
	fake := slackfake.New(t)
	app := MustRunMain(t, appOptions{fake: fake, mode: "socket", quorum: 1})
	if status, _ := app.postLead(t, map[string]any{"company": "Socket BV", "email": "info@socket.example"}); status != http.StatusCreated {
		t.Fatalf("POST = %d", status)
	}
	var ts string
	waitFor(t, "the card", 10*time.Second, func() bool {
		ts = leadTS(app.apiLead(t, "L-1"))
		return ts != ""
	})
	var payload json.RawMessage = []byte(slackfake.BlockActionForm("UANNA", testChannel, ts, "lead.vote.disqualify", "L-1").Get("payload"))
	id := fake.SendEnvelope(t, slackfake.Envelope{Type: "interactive", Payload: payload})
	fake.WaitAck(t, id, 5*time.Second)
	waitFor(t, "the vote over Socket Mode", 10*time.Second, func() bool {
		return app.apiLead(t, "L-1")["status"] == "disqualified"
	})
	// Slack endpoints are not served in Socket Mode.
	resp, err := http.Post(app.Base+"/slack/interactions", "application/x-www-form-urlencoded", strings.NewReader("payload={}"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("/slack/interactions in socket mode = %d, want 404", resp.StatusCode)
	}
}

// TestEndToEnd_Injection sends mentions and disguised links in every text
// field: none may reach Slack as markup.
func TestEndToEnd_Injection(t *testing.T) {
	t.Parallel()
	fake := slackfake.New(t)
	app := MustRunMain(t, appOptions{fake: fake})
	evil := "<!channel> <!here> <!everyone> <!subteam^S1> <@U123> <#C1> <https://evil.example|bank> &"
	status, body := app.postLead(t, map[string]any{
		"company": evil, "name": evil, "message": evil, "source": evil, "phone": "+31 20 123 4567",
		"email": "x@evil.example", "website": "evil.example/<!channel>", "custom": evil,
	})
	if status != http.StatusCreated {
		t.Fatalf("POST = %d %v", status, body)
	}
	fake.WaitCalls(t, "chat.postMessage", 1, 10*time.Second)
	calls := fake.Calls("chat.postMessage")
	if len(calls) == 0 {
		t.Fatal("no card posted")
	}
	for i, c := range calls {
		for _, p := range []string{"text", "blocks"} {
			v := c.Params.Get(p)
			if p == "blocks" {
				// plain_text (the card's header, posted first) shows the
				// company as typed, which Slack never reads as a mention;
				// mrkdwn must escape it.
				if _, plain := textsByType(t, []byte(v)); i == 0 && (len(plain) == 0 || !strings.HasPrefix(plain[0], "L-1 · <!channel> <!here>")) {
					t.Errorf("the card's header does not show the company as typed: %q", plain)
				}
				v = markupText(t, []byte(v))
				if !strings.Contains(v, "&lt;!channel&gt;") {
					t.Errorf("the card does not show the escaped company at all: %s", v)
				}
			}
			for _, bad := range []string{"<!channel>", "<!here>", "<!everyone>", "<!subteam", "<@U123>", "<#C1>", "<https://evil.example|bank>"} {
				if strings.Contains(v, bad) {
					t.Errorf("%s of the card contains %q unescaped", p, bad)
				}
			}
		}
	}
}

// TestEndToEnd_KillDuringIntake kills the real process with SIGKILL while
// leads pour in: every lead that got a 201 is there after a restart.
func TestEndToEnd_KillDuringIntake(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("starts child processes")
	}
	fake := slackfake.New(t)
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "leadtriage.db")
	cfg := writeTestConfig(t, dir, appOptions{mode: "http", quorum: 3, dbPath: dbPath}, fake.APIURL())

	var acked []string
	for cycle := 0; cycle < 4; cycle++ {
		base, cmd := startChild(t, cfg)
		var mu sync.Mutex
		var wg sync.WaitGroup
		stop := make(chan struct{})
		for w := range 4 {
			wg.Go(func() {
				pourLeads(base, fmt.Sprintf("Kill %d-%d", cycle, w), 0, stop, func(id string) {
					mu.Lock()
					acked = append(acked, id)
					mu.Unlock()
				})
			})
		}
		// Kill once this cycle has had some leads acknowledged.
		start := len(acked)
		waitFor(t, "leads acknowledged", 20*time.Second, func() bool {
			mu.Lock()
			defer mu.Unlock()
			return len(acked) >= start+10+cycle*7
		})
		killChild(t, cmd)
		close(stop)
		wg.Wait()
	}

	db, err := storage.Open(dbPath)
	if err != nil {
		t.Fatalf("reopening after kill -9: %v", err)
	}
	defer db.Close()
	if err := db.Check(); err != nil {
		t.Fatalf("consistency check after kill -9: %v", err)
	}
	for _, s := range acked {
		id, err := triage.ParseLeadID(s)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Lead(t.Context(), id); err != nil {
			t.Errorf("lead %s got a 201 but is gone after kill -9: %v", s, err)
		}
	}
	t.Logf("%d acknowledged leads survived 4 kills", len(acked))
}

// pourLeads posts leads to base, one after another, until stop closes or
// the process is gone, and hands every id that got a 201 to acked.
func pourLeads(base, prefix string, pause time.Duration, stop <-chan struct{}, acked func(id string)) {
	client := &http.Client{Timeout: 5 * time.Second}
	for i := 0; ; i++ {
		select {
		case <-stop:
			return
		default:
		}
		body := fmt.Sprintf(`{"company":"%s-%d BV"}`, prefix, i)
		req, _ := http.NewRequest(http.MethodPost, base+"/leads", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+testIntakeSecret)
		resp, err := client.Do(req)
		if err != nil {
			return // the process is gone
		}
		var out map[string]string
		_ = json.NewDecoder(resp.Body).Decode(&out)
		resp.Body.Close()
		if resp.StatusCode == http.StatusCreated {
			acked(out["id"])
		}
		time.Sleep(pause)
	}
}

// killChild kills the child process with SIGKILL, as a crash would, and
// reaps it.
func killChild(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
}

var listenRE = regexp.MustCompile(`listen=(127\.0\.0\.1:\d+)`)

// startChild runs this test binary as the leadtriage process and returns
// its base URL once it listens; extraEnv ("K=V") adds to its environment.
func startChild(t *testing.T, cfg string, extraEnv ...string) (string, *exec.Cmd) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	env := append([]string{"LEADTRIAGE_CHILD=1", "LEADTRIAGE_CHILD_ARGS=serve -config " + cfg}, extraEnv...)
	for k, v := range testEnv("http") {
		env = append(env, k+"="+v)
	}
	cmd.Env = append(os.Environ(), env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if m := listenRE.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case addr <- m[1]:
				default:
				}
			}
		}
	}()
	select {
	case a := <-addr:
		return "http://" + a, cmd
	case <-time.After(20 * time.Second):
		t.Fatal("the child process did not start listening")
	}
	return "", nil
}

// TestRun_SecondInstanceRefused: a second leadtriage on the same file exits
// non-zero within a few seconds and says the database is locked.
// TestRun_StorageLogs: what storage reports reaches the bot's log, marked
// as storage's (main hands it the logger).
func TestRun_StorageLogs(t *testing.T) {
	t.Parallel()
	app := MustRunMain(t, appOptions{fake: slackfake.New(t)})
	logs := app.Logs.String()
	if !strings.Contains(logs, "created database") || !strings.Contains(logs, "component=storage") {
		t.Errorf("a new database is not logged by storage:\n%s", logs)
	}
}

func TestRun_SecondInstanceRefused(t *testing.T) {
	t.Parallel()
	app := MustRunMain(t, appOptions{})
	var stderr bytes.Buffer
	env := app.env
	start := time.Now()
	code := run(t.Context(), []string{"serve", "-config", app.Config}, func(k string) string { return env[k] }, io.Discard, &stderr)
	if code == 0 {
		t.Fatal("second instance started")
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("second instance took %v to give up", took)
	}
	if !strings.Contains(stderr.String(), "locked") {
		t.Errorf("stderr = %q, want it to say the database is locked", stderr.String())
	}
}

// TestRun_SIGTERM: the real process stops cleanly on SIGTERM (exit 0) and
// the lead it acknowledged is in the file afterwards.
func TestRun_SIGTERM(t *testing.T) {
	t.Parallel()
	fake := slackfake.New(t)
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "leadtriage.db")
	cfg := writeTestConfig(t, dir, appOptions{mode: "http", quorum: 3, dbPath: dbPath}, fake.APIURL())
	base, cmd := startChild(t, cfg)
	req, _ := http.NewRequest(http.MethodPost, base+"/leads", strings.NewReader(`{"company":"Term BV"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+testIntakeSecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST = %d", resp.StatusCode)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v, want status 0", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("no exit within 15 s of SIGTERM")
	}
	db, err := storage.Open(dbPath)
	if err != nil {
		t.Fatalf("reopening: %v", err)
	}
	defer db.Close()
	if _, err := db.Lead(t.Context(), 1); err != nil {
		t.Errorf("L-1 after SIGTERM: %v", err)
	}
}

// TestRun_SlackUnreachableAtStart: an outage is waited out (the bot serves
// and accepts leads), but a wrong token stops the start loudly.
func TestRun_SlackUnreachableAtStart(t *testing.T) {
	t.Parallel()
	t.Run("outage", func(t *testing.T) {
		t.Parallel()
		fake := slackfake.New(t)
		fake.SetDown(true)
		app := MustRunMain(t, appOptions{fake: fake})
		if status, _ := app.postLead(t, map[string]any{"company": "Patient BV"}); status != http.StatusCreated {
			t.Fatalf("POST while Slack is down = %d, want 201", status)
		}
		fake.SetDown(false)
		waitFor(t, "the card once Slack is back", 30*time.Second, func() bool { return len(cards(fake)) == 1 })
	})
	t.Run("revoked token", func(t *testing.T) {
		t.Parallel()
		// The app was uninstalled while the bot was down: it starts anyway,
		// takes leads, says on /healthz what to do, and delivers once the
		// token works again (issue 17).
		fake := slackfake.New(t)
		fake.Fail("auth.test", slackfake.Fault{Error: "token_revoked"})
		clk := triagetest.NewClock(time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC))
		app := runAt(t, clk, appOptions{fake: fake})
		if status, _ := app.postLead(t, map[string]any{"company": "Patient BV"}); status != http.StatusCreated {
			t.Fatalf("POST with a revoked token = %d, want 201", status)
		}
		status, body := app.get(t, "/healthz")
		if status != http.StatusServiceUnavailable || !strings.Contains(body, "token_revoked") || !strings.Contains(body, "SLACK_BOT_TOKEN") {
			t.Errorf("/healthz = %d %q, want 503 naming the cause and the fix", status, body)
		}
		if n := len(cards(fake)); n != 0 {
			t.Fatalf("%d cards posted with a revoked token", n)
		}
		clk.Advance(5 * time.Minute) // the next auth.test passes: the fault was for one call
		app.waitFor(t, "the card once the token works", func() bool { return len(cards(fake)) == 1 })
		// Slack shows the card before the worker has its answer and
		// completes the parked item: wait for that, not for a fixed time.
		app.waitFor(t, "/healthz 200 after recovery", func() bool {
			status, _ := app.get(t, "/healthz")
			return status == http.StatusOK
		})
	})
	t.Run("wrong token", func(t *testing.T) {
		t.Parallel()
		fake := slackfake.New(t)
		fake.Fail("auth.test", slackfake.Fault{Error: "invalid_auth"})
		dir := t.TempDir()
		cfg := writeTestConfig(t, dir, appOptions{mode: "http", quorum: 3, dbPath: filepath.Join(dir, "l.db")}, fake.APIURL())
		env := testEnv("http")
		var stderr bytes.Buffer
		code := run(t.Context(), []string{"-config", cfg}, func(k string) string { return env[k] }, io.Discard, &stderr)
		if code != 1 || !strings.Contains(stderr.String(), "invalid_auth") {
			t.Errorf("exit %d, stderr %q: want 1 and the reason", code, stderr.String())
		}
		if strings.Contains(stderr.String(), slackfake.BotToken) {
			t.Errorf("the error shows the token")
		}
	})
}

// killAtAckCycles is how many times each kind of Slack request is
// acknowledged and then has its process killed (RELIABILITY D11).
const killAtAckCycles = 30

// TestEndToEnd_KillAtAck kills the real process with SIGKILL the instant
// the 200 for a click, a thread reply, a slash command or a dialog
// submission arrives, 30 times each, and finds every one of them applied
// after a restart: the bot wrote each to its inbox before the 200
// (RELIABILITY D11). Each kind has its own database, fake Slack and chain of
// child processes, so the four run side by side. (A command and a
// submission are answered in the response, so their effect is usually done
// by the 200; clicks and replies are acted on after it.)
func TestEndToEnd_KillAtAck(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("starts child processes")
	}
	for _, kind := range []string{"click", "reply", "command", "submission"} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			killAtAck(t, kind)
		})
	}
}

func killAtAck(t *testing.T, kind string) {
	fake := slackfake.New(t)
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "leadtriage.db")
	// Quorum 100: thirty votes never decide the lead, so every vote counts.
	cfg := writeTestConfig(t, dir, appOptions{mode: "http", quorum: 100, dbPath: dbPath,
		extra: "[[criteria]]\nid = \"budget\"\nquestion = \"Is there budget this year?\"\nkind = \"yesno\"\n"}, fake.APIURL())
	client := &http.Client{Timeout: 10 * time.Second}
	kill := func(cmd *exec.Cmd) { killChild(t, cmd) }

	// The first child takes a lead and posts its card, which the clicks
	// and replies are about.
	base, cmd := startChild(t, cfg)
	req, _ := http.NewRequest(http.MethodPost, base+"/leads", strings.NewReader(`{"company":"Kill at ack BV","website":"killatack.example"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+testIntakeSecret)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST /leads: %d", resp.StatusCode)
	}
	waitFor(t, "the card", 10*time.Second, func() bool { return len(cards(fake)) == 1 })
	cardTS := cards(fake)[0].TS
	waitFor(t, "the card's ts recorded", 10*time.Second, func() bool {
		req, _ := http.NewRequest(http.MethodGet, base+"/api/leads/L-1", nil)
		req.Header.Set("Authorization", "Bearer "+testAPIToken)
		resp, err := client.Do(req)
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		var l map[string]any
		return json.NewDecoder(resp.Body).Decode(&l) == nil && leadTS(l) == cardTS
	})

	user := func(i int) string { return fmt.Sprintf("U%s%02d", strings.ToUpper(kind[:1]), i) }
	request := func(base string, i int) *http.Request {
		switch kind {
		case "click":
			form := slackfake.BlockActionForm(user(i), testChannel, cardTS, "lead.vote.qualify", "L-1")
			return slackfake.NewSignedRequest(t, base+"/slack/interactions", testSigningSecret, "application/x-www-form-urlencoded", []byte(form.Encode()))
		case "reply":
			body := slackfake.EventCallbackJSON(fmt.Sprintf("Ev0KILL%02d", i),
				slackfake.MessageEvent(testChannel, user(i), "budget: yes", fmt.Sprintf("1800000000.%06d", i+1), cardTS))
			return slackfake.NewSignedRequest(t, base+"/slack/events", testSigningSecret, "application/json", body)
		case "submission":
			// The add-lead dialog, as addlead_test.go submits it.
			form := slackfake.ViewSubmissionForm(user(i), "lead.add", "", map[string]map[string]slack.BlockAction{
				"company": {"company": {Type: "plain_text_input", Value: fmt.Sprintf("Kill %02d BV", i)}},
				"website": {"website": {Type: "url_text_input", Value: fmt.Sprintf("https://kill-%02d.example", i)}},
			})
			return slackfake.NewSignedRequest(t, base+"/slack/interactions", testSigningSecret, "application/x-www-form-urlencoded", []byte(form.Encode()))
		default:
			form := slackfake.SlashCommandForm(user(i), testChannel, "/qualify", fmt.Sprintf("add kill-%02d.example", i),
				fake.NewResponseURLFor(testChannel, "", user(i)), fake.NewTriggerIDFor(user(i)))
			return slackfake.NewSignedRequest(t, base+"/slack/commands", testSigningSecret, "application/x-www-form-urlencoded", []byte(form.Encode()))
		}
	}
	for i := range killAtAckCycles {
		if i > 0 {
			base, cmd = startChild(t, cfg) // replays what the last kill left, then listens
		}
		resp, err := client.Do(request(base, i))
		if err == nil {
			kill(cmd) // the instant the status line and headers are in
			resp.Body.Close()
		}
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("%s %d: %v (status %v)", kind, i, err, resp)
		}
	}
	// A last start replays what the last kill left; it listens only after.
	_, cmd = startChild(t, cfg)
	kill(cmd)

	db, err := storage.Open(dbPath)
	if err != nil {
		t.Fatalf("reopening after kill -9: %v", err)
	}
	defer db.Close()
	if err := db.Check(); err != nil {
		t.Fatalf("consistency check after kill -9: %v", err)
	}
	if left, err := db.Inbox(t.Context()); err != nil || len(left) != 0 {
		t.Errorf("inbox after the last start: %d entries, %v; want none", len(left), err)
	}
	lead, err := db.Lead(t.Context(), 1)
	if err != nil {
		t.Fatal(err)
	}
	lost := 0
	for i := range killAtAckCycles {
		var applied bool
		switch kind {
		case "click":
			applied = lead.Votes[user(i)] == triage.ChoiceQualify
		case "reply":
			applied = lead.AnswersBy["budget"][user(i)].Value == triage.AnswerYes
		default:
			leads, err := db.LeadsByDomain(t.Context(), fmt.Sprintf("kill-%02d.example", i))
			applied = err == nil && len(leads) == 1
		}
		if !applied {
			lost++
			t.Errorf("%s %d got its 200 but is not applied after the restart", kind, i)
		}
	}
	t.Logf("%s: %d of %d acknowledged requests applied across %d kills", kind, killAtAckCycles-lost, killAtAckCycles, killAtAckCycles+1)
}
