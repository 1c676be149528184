package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/leadtriage/leadtriage/playground"
	"github.com/leadtriage/leadtriage/slackfake"
)

func mustStartPlayground(t *testing.T) *playgroundApp {
	t.Helper()
	logs := &syncBuffer{}
	app, err := startPlayground(t.Context(), playgroundOptions{ConfigPath: "config.toml", Listen: "127.0.0.1:0", Dir: t.TempDir(), Log: logs})
	if err != nil {
		t.Fatalf("starting the playground: %v", err)
	}
	t.Cleanup(func() {
		if err := app.Close(); err != nil {
			t.Errorf("closing: %v", err)
		}
		if t.Failed() {
			t.Logf("logs:\n%s", logs.String())
		}
	})
	return app
}

// TestPlayground_SampleLeads loads the sample leads through POST /leads and
// checks that the loopback research fakes give each hot-air case its flag
// and the sound leads none, offline.
func TestPlayground_SampleLeads(t *testing.T) {
	t.Parallel()
	app := mustStartPlayground(t)
	n, err := app.Playground.LoadSamples(t.Context())
	if err != nil || n != 12 {
		t.Fatalf("LoadSamples = %d, %v; want 12 leads", n, err)
	}
	fake := app.Playground.Slack
	want := map[string][]string{ // card header -> flags it must show; nil = no red flag
		"L-1 ":  nil,
		"L-2 ":  nil,
		"L-3 ":  {"domain_young", "claim_mismatch"},
		"L-4 ":  {"free_email"},
		"L-5 ":  {"duplicate"},
		"L-6 ":  {"disposable_email", "domain_young", "claim_mismatch"},
		"L-7 ":  nil,
		"L-8 ":  nil,
		"L-9 ":  nil,
		"L-10 ": {"website_unreachable"},
		"L-11 ": nil,
		"L-12 ": {"invalid_email_domain"},
	}
	texts := map[string]string{}
	fake.WaitUntil(t, 30*time.Second, "twelve researched cards", func() bool {
		for _, m := range fake.Messages(playground.TriageChannel) {
			if m.ThreadTS != "" && m.ThreadTS != m.TS {
				continue
			}
			text := blockText(t, m.Blocks)
			for id := range want {
				if strings.Contains(text, id+"·") && !strings.Contains(text, "Research pending") {
					texts[id] = text
				}
			}
		}
		return len(texts) == len(want)
	})
	codes := []string{"free_email", "disposable_email", "invalid_email_domain", "website_unreachable", "domain_young", "claim_mismatch", "duplicate"}
	for id, flags := range want {
		text := texts[id]
		for _, f := range flags {
			if !strings.Contains(text, f) {
				t.Errorf("%s lacks %s:\n%s", id, f, text)
			}
		}
		if flags == nil {
			for _, c := range codes {
				if strings.Contains(text, c) {
					t.Errorf("%s, a sound lead, is flagged %s:\n%s", id, c, text)
				}
			}
		}
	}
}

// TestPlayground_PageAndSlackEndpoints: GET / is the page, with the user
// switcher; the bot's own endpoints still answer behind it, and Slack's
// still demand a signature.
func TestPlayground_PageAndSlackEndpoints(t *testing.T) {
	t.Parallel()
	app := mustStartPlayground(t)
	base := "http://" + app.Main.Addr()
	get := func(path string) (int, string) {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		_, _ = b.ReadFrom(resp.Body)
		return resp.StatusCode, b.String()
	}
	status, body := get("/")
	for _, want := range []string{`<select name="user"`, `value="ULEAD"`, `data-forward=`, `id="new-lead"`, `/playground/static/app.js`} {
		if status != http.StatusOK || !strings.Contains(body, want) {
			t.Errorf("GET / = %d, lacks %s", status, want)
		}
	}
	if status, _ := get("/?user=UNOBODY"); status != http.StatusBadRequest {
		t.Errorf("GET /?user=UNOBODY = %d, want 400", status)
	}
	if status, _ := get("/healthz"); status != http.StatusOK {
		t.Errorf("GET /healthz = %d, want 200", status)
	}
	resp, err := http.Post(base+"/slack/commands", "application/x-www-form-urlencoded", strings.NewReader("command=/qualify"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("unsigned /slack/commands = %d, want 401", resp.StatusCode)
	}
	// Bad input is refused, says why, and changes nothing.
	for _, tc := range []struct {
		path, ctype, body string
		want              int
	}{
		{"/playground/forward", "application/json", `{"duration":"-1h"}`, http.StatusUnprocessableEntity},
		{"/playground/forward", "text/plain", `{"duration":"1h"}`, http.StatusUnsupportedMediaType},
		{"/playground/message", "application/json", `{"user":"UNOBODY","channel":"CTRIAGE","text":"hi"}`, http.StatusBadRequest},
		{"/playground/message", "application/json", `{"user":"UANNA","channel":"CTRIAGE","text":"/frobnicate"}`, http.StatusUnprocessableEntity},
		{"/playground/submit", "application/json", `{"user":"UANNA","view_id":"VNONE"}`, http.StatusUnprocessableEntity},
	} {
		resp, err := http.Post(base+tc.path, tc.ctype, strings.NewReader(tc.body))
		if err != nil {
			t.Fatal(err)
		}
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		resp.Body.Close()
		if resp.StatusCode != tc.want || out["error"] == nil {
			t.Errorf("POST %s %s = %d %v, want %d with an error", tc.path, tc.body, resp.StatusCode, out, tc.want)
		}
	}
	if off := app.Playground.Clock().Offset(); off != 0 {
		t.Errorf("refused fast-forwards moved the clock by %v", off)
	}
	if msgs := app.Playground.Slack.Messages(playground.TriageChannel); len(msgs) != 0 {
		t.Errorf("refused messages reached the channel: %+v", msgs)
	}
	resp, err = http.Post(base+"/playground/react", "application/json", strings.NewReader(`{"user":"UANNA","channel":"CTRIAGE","ts":"1.000000","name":"+1"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("a reaction on no message = %d, want 422", resp.StatusCode)
	}
}

// TestRun_NoArgumentsNoTokenIsThePlayground: a fresh clone's `go run .`
// says first that it is the playground and how to connect a real workspace.
func TestRun_NoArgumentsNoTokenIsThePlayground(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	cancel() // start, print, stop at once (the port may be taken: the banner comes first anyway)
	var out, errOut bytes.Buffer
	run(ctx, nil, func(string) string { return "" }, &out, &errOut)
	first, _ := bufio.NewReader(&out).ReadString('\n')
	if !strings.HasPrefix(first, "leadtriage playground:") || !strings.Contains(first, "SLACK_BOT_TOKEN") || !strings.Contains(first, "real workspace") {
		t.Errorf("first line = %q", first)
	}
}

// TestPlayground_ChecklistSelect answers a choice criterion with the
// checklist's select, as the page does: a block_actions payload with
// selected_option, signed, through /slack/interactions.
func TestPlayground_ChecklistSelect(t *testing.T) {
	t.Parallel()
	app := mustStartPlayground(t)
	pg := app.Playground
	if err := pg.PostLead(t.Context(), map[string]string{"company": "Acme BV", "email": "jan@acme-bv.nl"}); err != nil {
		t.Fatal(err)
	}
	var checklist slackfake.Message
	pg.Slack.WaitUntil(t, 15*time.Second, "the checklist", func() bool {
		for _, m := range pg.Slack.Messages(playground.TriageChannel) {
			if strings.Contains(string(m.Blocks), `"lead.answer.choice"`) {
				checklist = m
				return true
			}
		}
		return false
	})
	// The option as the page picks it: the value the bot gave it.
	var blocks slack.Blocks
	if err := json.Unmarshal(checklist.Blocks, &blocks); err != nil {
		t.Fatal(err)
	}
	var picked *slack.OptionBlockObject
	for _, bl := range blocks.BlockSet {
		if sec, ok := bl.(*slack.SectionBlock); ok && sec.Accessory != nil && sec.Accessory.SelectElement != nil {
			for _, o := range sec.Accessory.SelectElement.Options {
				if o.Text.Text == "this quarter" {
					picked = o
				}
			}
		}
		if acts, ok := bl.(*slack.ActionBlock); ok {
			for _, e := range acts.Elements.ElementSet {
				if sel, ok := e.(*slack.SelectBlockElement); ok {
					for _, o := range sel.Options {
						if o.Text.Text == "this quarter" {
							picked = o
						}
					}
				}
			}
		}
	}
	if picked == nil {
		t.Fatalf("no option %q in the checklist: %s", "this quarter", checklist.Blocks)
	}
	err := pg.Click(t.Context(), slackfake.Action{User: "UBRAM", Channel: playground.TriageChannel, MessageTS: checklist.TS,
		ActionID: "lead.answer.choice", Type: "static_select", Selected: picked})
	if err != nil {
		t.Fatal(err)
	}
	pg.Slack.WaitUntil(t, 15*time.Second, "the answer on the checklist", func() bool {
		m, _ := pg.Slack.Message(playground.TriageChannel, checklist.TS)
		text := blockText(t, m.Blocks)
		return strings.Contains(text, "<@UBRAM>") && strings.Contains(text, "this quarter")
	})
}
