package main

import (
	"strings"
	"testing"
	"time"

	"github.com/leadtriage/leadtriage/slackfake"
	"github.com/leadtriage/leadtriage/triage/triagetest"
)

// TestDutch_CoreLoop runs the core loop with ui.language = "nl": a lead
// comes in, the team votes, the vote decides, the digest reports it. The
// card, the thread (checklist, confirmations, the decision) and the digest
// are Dutch; ids, mentions and escaping are as in English.
func TestDutch_CoreLoop(t *testing.T) {
	t.Parallel()
	clk := triagetest.NewClock(time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)) // a Monday
	fake := slackfake.New(t)
	app := runAt(t, clk, appOptions{fake: fake, quorum: 2, extra: deliberationConfig + utcDigest + "[ui]\nlanguage = \"nl\"\n"})

	id, ts := app.postCard(t, "Bakkerij <!channel> & Zn")
	var checklistTS string
	app.waitFor(t, "the checklist of "+id, func() bool {
		s, _ := app.apiLead(t, id)["slack"].(map[string]any)
		checklistTS, _ = s["checklist_ts"].(string)
		return checklistTS != ""
	})
	card, _ := fake.Message(testChannel, ts)
	cardText := card.Text + "\n" + blockText(t, card.Blocks)
	for _, want := range []string{"Bakkerij &lt;!channel&gt; &amp; Zn (open)", "*Stemmen:* 0 van 2", "*Eigenaar:* Nog van niemand",
		"Kwalificeren", "Afwijzen", "Twijfel", "Claimen", "Besluiten", "lead.vote.qualify"} {
		if !strings.Contains(cardText, want) {
			t.Errorf("the card lacks %q:\n%s", want, cardText)
		}
	}
	for _, english := range []string{"Votes", "Owner", "Unclaimed", "Re-run research", "Waiting"} {
		if strings.Contains(cardText, english) {
			t.Errorf("the card says %q in English:\n%s", english, cardText)
		}
	}
	checklist, _ := fake.Message(testChannel, checklistTS)
	if text := blockText(t, checklist.Blocks); !strings.Contains(text, "Kwalificatie-checklist voor *"+id+"*") || !strings.Contains(text, "Nog niet beantwoord") {
		t.Errorf("the checklist is not Dutch:\n%s", text)
	}

	app.clickAt(t, "UANNA", ts, "lead.vote.qualify", id)
	app.clickAt(t, "UBEN", ts, "lead.vote.qualify", id)
	app.waitFor(t, id+" qualified by the vote", func() bool { return app.apiLead(t, id)["status"] == "qualified" })
	app.settled(t)

	var thread []string
	for _, m := range fake.Messages(testChannel) {
		if m.ThreadTS == ts && m.TS != ts && m.TS != checklistTS {
			thread = append(thread, m.Text+"\n"+blockText(t, m.Blocks))
		}
	}
	if len(containing(thread, "*"+id+"* is gekwalificeerd door de stemming van het team: 2 voor, 0 tegen, 0 twijfel.")) != 1 {
		t.Errorf("the thread does not say the vote's decision in Dutch: %q", thread)
	}
	var told []string
	for _, e := range fake.Ephemerals() {
		told = append(told, e.Text)
	}
	if len(containing(told, "Je stem op *"+id+"*: *kwalificeren*.")) != 2 {
		t.Errorf("vote confirmations = %q; want two in Dutch", told)
	}
	card, _ = fake.Message(testChannel, ts)
	if text := blockText(t, card.Blocks); !strings.Contains(text, "*Status:* gekwalificeerd door de stemming van het team") ||
		!strings.Contains(text, "*Reden:* gekwalificeerd door de stemming (2 voor, 0 tegen, 0 twijfel)") {
		t.Errorf("the decided card is not Dutch:\n%s", text)
	}

	clk.Set(time.Date(2026, 3, 3, 9, 5, 0, 0, time.UTC))
	app.tickDigest(t, true)
	msgs := digestMessages(t, fake)
	if len(msgs) != 1 {
		t.Fatalf("%d digest messages, want 1", len(msgs))
	}
	digest := msgs[0].Text + "\n" + blockText(t, msgs[0].Blocks)
	for _, want := range []string{"Leadoverzicht, di 3 mrt 2026", "*Besloten sinds het vorige overzicht (1)*", "*" + id + "*",
		"Bakkerij &lt;!channel&gt; &amp; Zn · gekwalificeerd", "Deze week: 1 lead"} {
		if !strings.Contains(digest, want) {
			t.Errorf("the digest lacks %q:\n%s", want, digest)
		}
	}
}
