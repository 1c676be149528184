package main

// End-to-end test of outcomes (issue 15) through the real wiring, slackfake
// and an injected clock: a lead is decided, the reminder check (called as
// cron would) turns on the outcome buttons after outcomes.ask_after, a click
// records the outcome, and the API shows it.

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/leadtriage/leadtriage/slackfake"
	"github.com/leadtriage/leadtriage/triage/triagetest"
)

func TestOutcome_AskClickAPI(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	clk := triagetest.NewClock(start)
	fake := slackfake.New(t)
	app := runAt(t, clk, appOptions{fake: fake, quorum: 1, extra: noReminders + utcDigest + "[outcomes]\nask_after = \"240h\"\n"})

	id, ts := app.postCard(t, "Outcome BV")
	app.clickAt(t, "UANNA", ts, "lead.vote.qualify", id)
	app.waitFor(t, id+" qualified", func() bool { return app.apiLead(t, id)["status"] == "qualified" })
	app.settled(t)
	cardText := func() string {
		m, ok := fake.Message(testChannel, ts)
		if !ok {
			t.Fatal("the card is gone")
		}
		return blockText(t, m.Blocks)
	}
	if strings.Contains(cardText(), "lead.outcome.") {
		t.Fatal("a freshly decided card asks for its outcome")
	}

	// Not yet: a day before ask_after.
	clk.Set(start.Add(9 * 24 * time.Hour))
	if err := app.RunReminders(t.Context()); err != nil {
		t.Fatal(err)
	}
	app.settled(t)
	if strings.Contains(cardText(), "lead.outcome.") {
		t.Fatal("the card asks before ask_after")
	}
	// Past ask_after the check turns the buttons on, once.
	clk.Set(start.Add(11 * 24 * time.Hour))
	if err := app.RunReminders(t.Context()); err != nil {
		t.Fatal(err)
	}
	app.waitFor(t, "the outcome buttons", func() bool { return strings.Contains(cardText(), "lead.outcome.won\n") })
	if lead := app.apiLead(t, id); lead["reminder"].(map[string]any)["outcome_asked_at"] == nil {
		t.Errorf("reminder.outcome_asked_at not set: %v", lead["reminder"])
	}

	// The digest asks too.
	clk.Set(time.Date(2026, 3, 14, 9, 5, 0, 0, time.UTC))
	app.tickDigest(t, true)
	msgs := digestMessages(t, fake)
	if txt := blockText(t, msgs[len(msgs)-1].Blocks); !strings.Contains(txt, "What became of these? (1)") || !strings.Contains(txt, "*"+id+"*") {
		t.Errorf("the digest does not ask about %s:\n%s", id, txt)
	}

	// A click on Won records it, by the clicker, and confirms privately.
	app.clickAt(t, "UBEN", ts, "lead.outcome.won", id)
	app.waitFor(t, "the outcome", func() bool { return app.apiLead(t, id)["outcome"] != nil })
	o := app.apiLead(t, id)["outcome"].(map[string]any)
	if o["outcome"] != "won" || o["by"] != "UBEN" {
		t.Errorf("outcome = %v", o)
	}
	app.waitFor(t, "the confirmation", func() bool {
		for _, e := range fake.Ephemerals() {
			if e.User == "UBEN" && strings.Contains(e.Text, "Recorded for *"+id+"*: *Won*") {
				return true
			}
		}
		return false
	})
	app.waitFor(t, "the card without buttons", func() bool {
		txt := cardText()
		return strings.Contains(txt, "Won") && !strings.Contains(txt, "lead.outcome.")
	})

	// The admin API corrects it with a value.
	body, _ := json.Marshal(map[string]any{"outcome": "won", "value": 12000, "note": "two-year contract"})
	req, _ := http.NewRequest(http.MethodPost, app.Base+"/api/leads/"+id+"/outcome", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+testAPIToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST outcome: %d %v", resp.StatusCode, got)
	}
	if o := got["outcome"].(map[string]any); o["value"] != float64(12000) || o["by"] != "api" || o["note"] != "two-year contract" {
		t.Errorf("API answer outcome = %v", o)
	}
	app.waitFor(t, "the card with the value", func() bool { return strings.Contains(cardText(), "value 12,000") })
}

// A lead from a domain the team declined comes back: it is linked to the
// earlier decision, its card says so and links the earlier card.
func TestOutcome_ReturningLead(t *testing.T) {
	t.Parallel()
	clk := triagetest.NewClock(time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC))
	fake := slackfake.New(t)
	app := runAt(t, clk, appOptions{fake: fake, quorum: 1, extra: noReminders})

	status, body := app.postLead(t, map[string]any{"company": "Back Again BV", "email": "jan@back-again.example"})
	if status != http.StatusCreated {
		t.Fatalf("POST /leads = %d %v", status, body)
	}
	first := body["id"]
	var firstTS string
	app.waitFor(t, "the first card", func() bool { firstTS = leadTS(app.apiLead(t, first)); return firstTS != "" })
	app.clickAt(t, "UANNA", firstTS, "lead.vote.disqualify", first)
	app.waitFor(t, first+" disqualified", func() bool { return app.apiLead(t, first)["status"] == "disqualified" })

	clk.Advance(30 * 24 * time.Hour)
	status, body = app.postLead(t, map[string]any{"company": "Back Again", "email": "piet@back-again.example"})
	if status != http.StatusCreated {
		t.Fatalf("POST /leads = %d %v", status, body)
	}
	second := body["id"]
	lead := app.apiLead(t, second)
	r, _ := lead["returning"].(map[string]any)
	if r == nil || r["lead"] != first || r["outcome"] != "disqualified" {
		t.Fatalf("returning = %v", lead["returning"])
	}
	var ts string
	app.waitFor(t, "the second card", func() bool { ts = leadTS(app.apiLead(t, second)); return ts != "" })
	m, _ := fake.Message(testChannel, ts)
	txt := blockText(t, m.Blocks)
	if !strings.Contains(txt, "Came back: *"+first+"* was disqualified") || !strings.Contains(txt, strings.Replace(firstTS, ".", "", 1)+"|See the card>") {
		t.Errorf("the card does not link the earlier decision:\n%s", txt)
	}
}
