package main

import (
	"fmt"
	"net/http"
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

// TestDutch_ResearchAndErrors: with ui.language = "nl", research flags and
// the summary line on the card, and a validation problem answered to
// /qualify, are Dutch, while the API keeps its English detail (issue 12).
func TestDutch_ResearchAndErrors(t *testing.T) {
	t.Parallel()
	fake := slackfake.New(t)
	dnsAddr := startDNS(t, nil, "gmail.com")
	app := MustRunMain(t, appOptions{fake: fake, extra: "[ui]\nlanguage = \"nl\"\n", research: fmt.Sprintf(`[research]
enabled = true
timeout = "10s"
dns_server = %q
allow_private_addresses = true
web_history = false
`, dnsAddr)})

	// Two leads from one free-mail address: the second is seen before.
	for _, msg := range []string{"Offerte graag", "Nog een vraag over de offerte"} {
		if status, body := app.postLead(t, map[string]any{"email": "jan@gmail.com", "message": msg}); status != http.StatusCreated {
			t.Fatalf("POST = %d %v", status, body)
		}
	}
	var details map[string]string
	waitFor(t, "research on L-2", 15*time.Second, func() bool {
		r, _ := app.apiLead(t, "L-2")["research"].(map[string]any)
		if r == nil || r["at"] == nil {
			return false
		}
		details = map[string]string{}
		for _, f := range r["flags"].([]any) {
			m := f.(map[string]any)
			details[m["code"].(string)] = m["detail"].(string)
		}
		return true
	})
	if got, want := details["duplicate"], "Seen before: L-1 (same e-mail, pending)."; got != want {
		t.Errorf("API detail of duplicate = %q, want %q (the API speaks English)", got, want)
	}
	var text string
	waitFor(t, "the card of L-2 to show the flags", 15*time.Second, func() bool {
		m, ok := fake.Message(testChannel, leadTS(app.apiLead(t, "L-2")))
		text = blockText(t, m.Blocks)
		return ok && strings.Contains(text, "`duplicate`")
	})
	for _, want := range []string{
		"*Onderzoek*\nGeen website · eerder gezien · freemailadres (gmail.com)",
		"`duplicate` Eerder gezien: L-1 (zelfde e-mailadres, open).",
		"`free_email` Freemailadres bij gmail.com: geen bedrijfsdomein erachter.",
		"`no_website` Geen website opgegeven en alleen een freemailadres.",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the card lacks %q:\n%s", want, text)
		}
	}
	for _, english := range []string{"Seen before", "Free-mail", "No website"} {
		if strings.Contains(text, english) {
			t.Errorf("the card says %q in English:\n%s", english, text)
		}
	}

	reply := app.qualify(t, "UANNA", testChannel, "add jan@@acme")
	if want := `Dat kon ik niet toevoegen: email: "jan@@acme" is geen e-mailadres`; !strings.Contains(reply.Text, want) {
		t.Errorf("/qualify add jan@@acme = %q, want it to contain %q", reply.Text, want)
	}
}
