package main

// End-to-end test of erasure (issue 13): `leadtriage forget` against the
// running bot's admin API erases a lead with every message the bot posted
// about it, through the real wiring, slackfake and an injected clock.

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/leadtriage/leadtriage/slackfake"
	"github.com/leadtriage/leadtriage/triage/triagetest"
)

func TestForget_LeavesNoTrace(t *testing.T) {
	t.Parallel()
	clk := triagetest.NewClock(time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC))
	fake := slackfake.New(t)
	app := runAt(t, clk, appOptions{fake: fake, quorum: 1, extra: noReminders + utcDigest + `
[[criteria]]
id = "need"
question = "Do they have a need we solve?"
kind = "yesno"
`})
	status, body := app.postLead(t, map[string]any{"company": "Canary Erasure BV", "name": "Jan Jansen", "email": canaryEmail, "message": "Call me"})
	if status != http.StatusCreated {
		t.Fatalf("POST /leads = %d %v", status, body)
	}
	id := body["id"]
	keep, _ := app.postLead(t, map[string]any{"company": "Keep BV", "email": "info@keep.example"})
	if keep != http.StatusCreated {
		t.Fatalf("POST /leads (second) = %d", keep)
	}
	var cardTS string
	app.waitFor(t, "the card and the checklist of "+id, func() bool {
		ref, _ := app.apiLead(t, id)["slack"].(map[string]any)
		cardTS, _ = ref["ts"].(string)
		checklist, _ := ref["checklist_ts"].(string)
		return cardTS != "" && checklist != ""
	})
	app.clickAt(t, "UANNA", cardTS, "lead.vote.qualify", id)
	app.waitFor(t, id+" qualified", func() bool { return app.apiLead(t, id)["status"] == "qualified" })
	app.settled(t)
	// The next morning's digest names the lead among the decided, and the
	// other lead as pending.
	clk.Set(time.Date(2026, 3, 5, 9, 5, 0, 0, time.UTC))
	app.tickDigest(t, true)
	digests := digestMessages(t, fake)
	if len(digests) != 1 || !strings.Contains(blockText(t, digests[0].Blocks), "Canary Erasure BV") {
		t.Fatalf("the digest does not name the lead: %+v", digests)
	}

	var out, errb bytes.Buffer
	getenv := func(k string) string {
		if k == "LEADTRIAGE_API_TOKEN" {
			return testAPIToken
		}
		return ""
	}
	if code := run(context.Background(), []string{"forget", "--url", app.Base, "--email", strings.ToUpper(canaryEmail)}, getenv, &out, &errb); code != 0 {
		t.Fatalf("leadtriage forget = %d: %s %s", code, out.String(), errb.String())
	}
	if !strings.Contains(out.String(), "forgotten: "+id) {
		t.Errorf("forget said %q", out.String())
	}
	app.settled(t)

	if s := app.apiStatus(t, id); s != http.StatusNotFound {
		t.Errorf("GET %s after forget = %d, want 404", id, s)
	}
	// Slack: every message about the lead got chat.delete; nothing else did.
	var deleted int
	for _, m := range fake.Messages(testChannel) {
		about := m.TS == cardTS || m.ThreadTS == cardTS || strings.Contains(strings.ToLower(m.Text), "canary")
		if about && !m.Deleted {
			t.Errorf("message %s %q about the erased lead is still in Slack", m.TS, m.Text)
		}
		if !about && m.Deleted {
			t.Errorf("message %s %q of another lead was deleted", m.TS, m.Text)
		}
		if about {
			deleted++
		}
	}
	// The digest stays for the other lead, re-rendered without this one.
	digests = digestMessages(t, fake)
	if len(digests) != 1 || digests[0].Deleted {
		t.Fatalf("digest after forget = %+v, want it kept", digests)
	}
	if txt := blockText(t, digests[0].Blocks); strings.Contains(strings.ToLower(txt), "canary") || strings.Contains(txt, "*"+id+"*") || !strings.Contains(txt, "Keep BV") {
		t.Errorf("the digest after forget:\n%s", txt)
	}
	if deleted < 3 {
		t.Errorf("%d messages of the lead deleted, want the card, the checklist and the decision reply", deleted)
	}
	// The outbox, the logs and the database file hold no trace.
	items, err := app.DB.DueOutbox(context.Background(), clk.Now().Add(1000*time.Hour), 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 0 {
		t.Errorf("outbox holds %d items after forget settled", len(items))
	}
	if strings.Contains(strings.ToLower(app.Logs.String()), "canary") {
		t.Errorf("the logs name the erased person:\n%s", app.Logs.String())
	}
	raw, err := os.ReadFile(app.DB.Path())
	if err != nil {
		t.Fatal(err)
	}
	for _, canary := range []string{"CANARY@", "Canary Erasure", "Jan Jansen"} {
		if bytes.Contains(raw, []byte(canary)) {
			t.Errorf("the database file still holds %q", canary)
		}
	}
	if err := app.DB.Check(); err != nil {
		t.Error(err)
	}
	if leads := app.apiLeads(t, "all"); len(leads) != 1 {
		t.Errorf("%d leads left, want the other one", len(leads))
	}
}
