package bot_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/leadtriage/leadtriage/bot"
	"github.com/leadtriage/leadtriage/triage"
	"github.com/leadtriage/leadtriage/triage/triagetest"
)

// decideLead qualifies the harness's lead by hand and delivers what that
// queued, so its card is up and decided.
func decideLead(t *testing.T, h *harness, clk *triagetest.Clock) {
	t.Helper()
	ctx := context.Background()
	if _, err := h.bot.DeliverDue(ctx, clk.Now()); err != nil { // the card
		t.Fatal(err)
	}
	if _, err := h.svc.DecideByHand(ctx, h.lead.ID, "ULEAD", triage.DecisionInput{Outcome: triage.StatusQualified, Owner: "UBOB"}); err != nil {
		t.Fatal(err)
	}
	deliverAll(t, h, clk)
}

// deliverAll runs the outbox worker on the injected clock until the outbox
// is empty, moving time on for the channel's pace.
func deliverAll(t *testing.T, h *harness, clk *triagetest.Clock) {
	t.Helper()
	for range 50 {
		if _, err := h.bot.DeliverDue(context.Background(), clk.Now()); err != nil {
			t.Fatal(err)
		}
		if len(h.outbox(t)) == 0 {
			return
		}
		clk.Advance(500 * time.Millisecond)
	}
	t.Fatalf("outbox not empty: %+v", h.outbox(t))
}

func TestBot_QualifyOutcome(t *testing.T) {
	t.Parallel()
	clk := triagetest.NewClock(now)
	h := newHarness(t, withClock(clk), func(cfg *bot.Config, svc *triage.Service) {
		svc.Policy.TeamLead, cfg.Policy.TeamLead = "ULEAD", "ULEAD"
	})
	id := h.lead.ID.String()

	// A pending lead has no outcome yet.
	r, _ := qualify(t, h, "UBOB", id+" won 12k")
	if !strings.Contains(r.Text, "not decided yet") {
		t.Errorf("pending lead: %q", r.Text)
	}
	decideLead(t, h, clk)

	// An ambiguous value is refused with the problem named, and changes nothing.
	r, _ = qualify(t, h, "UBOB", id+" won 12,50")
	if !strings.Contains(r.Text, "`12,50` can be read two ways") {
		t.Errorf("ambiguous value: %q", r.Text)
	}
	if o := h.stored(t).Outcome; o != nil {
		t.Fatalf("a refused command stored %+v", o)
	}

	r, _ = qualify(t, h, "UBOB", id+" won € 12.000 signed <!channel>")
	if want := "Recorded for *" + id + "*: *Won*, value 12,000. Thanks!"; r.Text != want {
		t.Errorf("reply = %q, want %q", r.Text, want)
	}
	o := h.stored(t).Outcome
	if o == nil || o.Kind != triage.OutcomeWon || o.Value != 12000 || o.Note != "signed <!channel>" || o.By != "UBOB" {
		t.Fatalf("stored outcome = %+v", o)
	}
	// The thread hears of it and the card shows it, escaped (at the
	// channel's pace).
	deliverAll(t, h, clk)
	var thread, card bool
	for _, c := range h.slack.Calls("chat.postMessage", "chat.update") {
		blocks := jsonUnescaper.Replace(c.Params.Get("blocks"))
		switch {
		case c.Method == "chat.postMessage" && strings.Contains(c.Params.Get("text"), "<@UBOB> recorded what became of *"+id+"*"):
			thread = true
		case c.Method == "chat.update" && strings.Contains(blocks, "signed &lt;!channel&gt;"):
			card = true
		}
		if strings.Contains(blocks, "<!channel>") {
			t.Errorf("%s carries the note unescaped", c.Method)
		}
	}
	if !thread || !card {
		t.Errorf("thread notice %v, card update %v", thread, card)
	}
}

// TestBot_OutcomeButton clicks "Lost" on the card of a decided lead whose
// outcome was asked. The click is a signed block_actions payload in Slack's
// shape (slackfake.Server.BlockActionForm, modelled on slackapi/bolt-python
// tests/scenario_tests/test_block_actions.py) built from the card as the
// fake Slack holds it, through the real HTTP handler.
func TestBot_OutcomeButton(t *testing.T) {
	t.Parallel()
	clk := triagetest.NewClock(now)
	h := newHarness(t, withClock(clk), func(cfg *bot.Config, svc *triage.Service) {
		svc.Policy.TeamLead, cfg.Policy.TeamLead = "ULEAD", "ULEAD"
	})
	ctx := context.Background()
	decideLead(t, h, clk)
	clk.Advance(720 * time.Hour)
	if asked, err := h.svc.AskOutcomes(ctx, 720*time.Hour, clk.Now()); err != nil || len(asked) != 1 {
		t.Fatalf("AskOutcomes = %v, %v", asked, err)
	}
	deliverAll(t, h, clk)
	card := h.stored(t).Slack
	click := func(user, action string) {
		t.Helper()
		body := []byte(h.slack.BlockActionForm(user, card.Channel, card.TS, action, h.lead.ID.String()).Encode())
		if rec := h.serve(signedAt("/slack/interactions", secretOld, formType, body, clk.Now())); rec.Code != 200 {
			t.Fatalf("click: status %d", rec.Code)
		}
		h.drain(t)
		deliverAll(t, h, clk)
	}
	click("UCAROL", "lead.outcome.lost")
	l := h.stored(t)
	if l.Outcome == nil || l.Outcome.Kind != triage.OutcomeLost || l.Outcome.By != "UCAROL" {
		t.Fatalf("outcome after the click = %+v", l.Outcome)
	}
	confirmed := false
	for _, e := range h.slack.Ephemerals() {
		if e.User == "UCAROL" && strings.Contains(e.Text, "Recorded for *"+l.ID.String()+"*: *Lost*") {
			confirmed = true
		}
	}
	if !confirmed {
		t.Error("the clicker got no private confirmation")
	}
	// The card no longer asks: its buttons are gone.
	for _, c := range h.slack.Calls("chat.update") {
		last := c.Params.Get("blocks")
		if c.Params.Get("ts") == card.TS && strings.Contains(last, "Outcome:") && strings.Contains(last, "lead.outcome.") {
			t.Error("the card shows the outcome and still asks for it")
		}
	}
}
