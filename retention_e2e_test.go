package main

// End-to-end test of privacy.retention: a decided lead is purged once its
// decision is retention old, with its Slack messages, through the real
// wiring, slackfake and an injected clock. The job is called directly
// (Main.RunRetention), as cron would.

import (
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/leadtriage/leadtriage/slackfake"
	"github.com/leadtriage/leadtriage/triage"
	"github.com/leadtriage/leadtriage/triage/triagetest"
)

// apiStatus is the status GET /api/leads/{id} answers.
func (a *testApp) apiStatus(tb testing.TB, id string) int {
	tb.Helper()
	req, _ := http.NewRequest(http.MethodGet, a.Base+"/api/leads/"+id, nil)
	req.Header.Set("Authorization", "Bearer "+testAPIToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatalf("GET lead: %v", err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestRetention_PurgesDecidedLeadAndItsMessages(t *testing.T) {
	t.Parallel()
	const retention = 2 * time.Hour
	t0 := time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC)
	clk := triagetest.NewClock(t0)
	fake := slackfake.New(t)
	app := runAt(t, clk, appOptions{fake: fake, quorum: 1, extra: noReminders + `
[[criteria]]
id = "need"
question = "Do they have a need we solve?"
kind = "yesno"

[privacy]
retention = "2h"
`})

	lead := map[string]any{"company": "Acme BV", "name": "Jan Jansen", "email": canaryEmail, "website": "voorbeeld.nl", "message": "Call me"}
	status, body := app.postLead(t, lead, "Idempotency-Key", "form-42")
	if status != http.StatusCreated {
		t.Fatalf("POST /leads = %d %v", status, body)
	}
	id := body["id"]
	var cardTS, checklistTS string
	app.waitFor(t, "the card and the checklist of "+id, func() bool {
		ref, _ := app.apiLead(t, id)["slack"].(map[string]any)
		cardTS, _ = ref["ts"].(string)
		checklistTS, _ = ref["checklist_ts"].(string)
		return cardTS != "" && checklistTS != ""
	})

	app.clickAt(t, "UANNA", cardTS, "lead.vote.qualify", id)
	var decided time.Time
	app.waitFor(t, id+" qualified", func() bool {
		l := app.apiLead(t, id)
		d, _ := l["decision"].(map[string]any)
		at, _ := d["at"].(string)
		decided, _ = time.Parse(time.RFC3339Nano, at)
		return l["status"] == "qualified" && !decided.IsZero()
	})
	app.settled(t)

	// The decision's thread reply is remembered with the card and checklist.
	var replies []string
	ref, _ := app.apiLead(t, id)["slack"].(map[string]any)
	msgs, _ := ref["messages"].([]any)
	for _, m := range msgs {
		m, _ := m.(map[string]any)
		ch, _ := m["channel"].(string)
		ts, _ := m["ts"].(string)
		replies = append(replies, ch+"/"+ts)
	}
	if len(replies) == 0 {
		t.Fatalf("no thread reply remembered on %s: %v", id, ref)
	}

	// A minute before the retention ends, the lead stays.
	clk.Set(decided.Add(retention - time.Minute))
	if err := app.RunRetention(t.Context()); err != nil {
		t.Fatal(err)
	}
	app.settled(t)
	if s := app.apiStatus(t, id); s != http.StatusOK {
		t.Fatalf("GET %s a minute before the retention ends = %d, want 200", id, s)
	}
	if n := len(fake.Calls("chat.delete")); n != 0 {
		t.Fatalf("chat.delete called %d times before the retention ended", n)
	}

	// A minute after, it is gone, and so are its card, checklist and replies.
	clk.Set(decided.Add(retention + time.Minute))
	if err := app.RunRetention(t.Context()); err != nil {
		t.Fatal(err)
	}
	app.settled(t)
	if s := app.apiStatus(t, id); s != http.StatusNotFound {
		t.Errorf("GET %s after the retention = %d, want 404", id, s)
	}
	var deleted []string
	for _, c := range fake.Calls("chat.delete") {
		if c.OK() {
			deleted = append(deleted, c.Params.Get("channel")+"/"+c.Params.Get("ts"))
		}
	}
	if diff := cmp.Diff(append(replies, testChannel+"/"+checklistTS, testChannel+"/"+cardTS), deleted); diff != "" {
		t.Errorf("chat.delete calls (-want +got):\n%s", diff)
	}
	for _, ts := range []string{cardTS, checklistTS} {
		if m, ok := fake.Message(testChannel, ts); !ok || !m.Deleted {
			t.Errorf("message %s not deleted in Slack", ts)
		}
	}
	_, _, audited, err := app.DB.LastJob(t.Context(), triage.PurgedJobPrefix+id)
	if err != nil || !audited {
		t.Errorf("audit entry of %s: %v, %v", id, audited, err)
	}
	if strings.Contains(app.Logs.String(), canaryEmail) || strings.Contains(app.Logs.String(), "Acme BV") {
		t.Errorf("logs hold the purged lead's details:\n%s", app.Logs.String())
	}

	// Running the job again changes nothing.
	if err := app.RunRetention(t.Context()); err != nil {
		t.Fatal(err)
	}
	app.settled(t)
	if n := len(fake.Calls("chat.delete")); n != len(deleted) {
		t.Errorf("chat.delete calls after a second run = %d, want %d", n, len(deleted))
	}

	// The same lead, even under the same Idempotency-Key, is a new lead now.
	status, body = app.postLead(t, lead, "Idempotency-Key", "form-42")
	if status != http.StatusCreated || body["id"] == id {
		t.Errorf("resubmission = %d %v, want a new lead", status, body)
	}
}

// The job runs once at start: a lead whose retention ended while the bot was
// down is purged without waiting for the first tick.
func TestRetention_CatchUpAtStart(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC)
	clk := triagetest.NewClock(t0)
	fake := slackfake.New(t)
	opts := appOptions{fake: fake, quorum: 1, dbPath: filepath.Join(t.TempDir(), "leadtriage.db"), extra: noReminders + `
[privacy]
retention = "24h"
`}
	app := runAt(t, clk, opts)
	id, ts := app.postCard(t, "Gone While Down BV")
	app.clickAt(t, "UANNA", ts, "lead.vote.qualify", id)
	app.waitFor(t, id+" qualified", func() bool { return app.apiLead(t, id)["status"] == "qualified" })
	app.settled(t)
	if err := app.Close(); err != nil {
		t.Fatal(err)
	}

	clk.Set(t0.Add(48 * time.Hour))
	app2 := runAt(t, clk, opts)
	app2.waitFor(t, "the catch-up to purge "+id, func() bool { return app2.apiStatus(t, id) == http.StatusNotFound })
	app2.waitFor(t, "the card's deletion", func() bool {
		m, ok := fake.Message(testChannel, ts)
		return ok && m.Deleted
	})
}
