package bot_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/leadtriage/leadtriage/bot"
	"github.com/leadtriage/leadtriage/slackfake"
	"github.com/leadtriage/leadtriage/triage"
	"github.com/leadtriage/leadtriage/triage/triagetest"
)

// homeTexts returns the text of each block of a published Home, a
// section's fields joined to its text.
func homeTexts(t *testing.T, raw json.RawMessage) []string {
	t.Helper()
	var v struct {
		Type   string `json:"type"`
		Blocks []struct {
			Type string `json:"type"`
			Text *struct {
				Text string `json:"text"`
			} `json:"text"`
			Fields []struct {
				Text string `json:"text"`
			} `json:"fields"`
			Elements []struct {
				Text string `json:"text"`
			} `json:"elements"`
		} `json:"blocks"`
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("home %s: %v", raw, err)
	}
	if v.Type != "home" {
		t.Errorf("view type %q, want home", v.Type)
	}
	var out []string
	for _, b := range v.Blocks {
		var parts []string
		if b.Text != nil {
			parts = append(parts, b.Text.Text)
		}
		for _, f := range b.Fields {
			parts = append(parts, f.Text)
		}
		for _, e := range b.Elements {
			parts = append(parts, e.Text)
		}
		out = append(out, strings.Join(parts, "\n"))
	}
	return out
}

// homeSection returns the block whose text starts with "*title*".
func homeSection(texts []string, title string) string {
	for _, s := range texts {
		if strings.HasPrefix(s, "*"+title+"*") {
			return s
		}
	}
	return ""
}

// homeFixture gives the harness (lead L-1, Acme Widgets, created now-72h)
// three more leads: L-2 UME voted on, L-3 UME claimed, L-4 disqualified a
// day after it came in. The bot has met Slack (auth.test), so it knows the
// workspace URL for links.
func homeFixture(t *testing.T, opts ...harnessOpt) *harness {
	t.Helper()
	c := triagetest.NewClock(now.Add(-72 * time.Hour))
	h := newHarness(t, append([]harnessOpt{withDeliberation, func(_ *bot.Config, svc *triage.Service) { svc.Now = c.Now }}, opts...)...)
	ctx := context.Background()
	if err := h.bot.Start(ctx); err != nil {
		t.Fatal(err)
	}
	h.postCard(t)
	add := func(company string) triage.Lead {
		t.Helper()
		l, _, err := h.svc.Submit(ctx, triage.LeadInput{Company: company}, triage.Submission{Via: "webhook"})
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	c.Set(now.Add(-48 * time.Hour))
	voted := add("Voted <!channel> Corp")
	if _, err := h.svc.Vote(ctx, voted.ID, "UME", triage.ChoiceQualify); err != nil {
		t.Fatal(err)
	}
	c.Set(now.Add(-3 * time.Hour))
	owned := add("Mine & Co")
	if _, err := h.svc.Claim(ctx, owned.ID, "UME"); err != nil {
		t.Fatal(err)
	}
	c.Set(now.Add(-48 * time.Hour))
	dq := add("Nope Ltd")
	c.Set(now.Add(-24 * time.Hour))
	if _, err := h.svc.DecideByHand(ctx, dq.ID, "ULEAD", triage.DecisionInput{Outcome: triage.StatusDisqualified, Reason: "No budget"}); err != nil {
		t.Fatal(err)
	}
	c.Set(now)
	return h
}

// checkHome asserts the Home published for UME by homeFixture.
func checkHome(t *testing.T, raw json.RawMessage) {
	t.Helper()
	if problems := slackfake.ValidateView(raw); len(problems) > 0 {
		t.Errorf("the Home breaks Block Kit limits: %v", problems)
	}
	texts := homeTexts(t, raw)
	card := "<" + slackfake.WorkspaceURL + "archives/" + channel + "/p" + strings.Replace(cardTS, ".", "", 1) + "|L-1>"

	waiting := homeSection(texts, "Waiting for your vote")
	for _, want := range []string{"(2)", card + "* Acme Widgets · 3 d ago", "*L-3* Mine &amp; Co · 3 h ago"} {
		if !strings.Contains(waiting, want) {
			t.Errorf("waiting for your vote %q lacks %q", waiting, want)
		}
	}
	if strings.Contains(waiting, "L-2") || strings.Contains(waiting, "L-4") {
		t.Errorf("waiting for your vote %q lists a lead UME voted on, or a decided one", waiting)
	}
	mine := homeSection(texts, "Your leads")
	if !strings.Contains(mine, "(1)") || !strings.Contains(mine, "*L-3* Mine &amp; Co · pending · 3 h ago") {
		t.Errorf("your leads %q", mine)
	}
	pending := homeSection(texts, "Pending in the team")
	i1, i2, i3 := strings.Index(pending, "L-1"), strings.Index(pending, "*L-2* Voted &lt;!channel&gt; Corp · 2 d ago · 1 vote"), strings.Index(pending, "L-3")
	if !strings.Contains(pending, "(3)") || i1 < 0 || i2 < 0 || i3 < 0 || i1 > i2 || i2 > i3 || strings.Contains(pending, "L-4") {
		t.Errorf("pending in the team %q, want L-1, L-2, L-3 oldest first", pending)
	}
	stats := homeSection(texts, "Last 30 days")
	for _, want := range []string{"*Received*\n4", "*Qualified*\n0", "*Disqualified*\n1", "*Referred*\n0", "*Median time to decision*\n24.0 h"} {
		if !strings.Contains(stats, want) {
			t.Errorf("stats %q lack %q", stats, want)
		}
	}
	if !strings.Contains(strings.Join(texts, "\n"), "Qualify this message") {
		t.Errorf("no help line in %q", texts)
	}
}

func TestBot_AppHome_HTTP(t *testing.T) {
	t.Parallel()
	h := homeFixture(t)
	body := slackfake.EventCallbackJSON("EvHOME1", slackfake.AppHomeOpenedEvent("UME"))
	rec := h.serve(signedAt("/slack/events", secretOld, "application/json", body, now))
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d", rec.Code)
	}
	h.drain(t)
	raw, ok := h.slack.HomeView("UME")
	if !ok {
		t.Fatalf("no Home published for UME; calls %+v", h.slack.Calls())
	}
	checkHome(t, raw)

	// The Messages tab publishes nothing.
	ev := slackfake.AppHomeOpenedEvent("UOTHER")
	ev["tab"] = "messages"
	h.serve(signedAt("/slack/events", secretOld, "application/json", slackfake.EventCallbackJSON("EvHOME2", ev), now))
	h.drain(t)
	if _, ok := h.slack.HomeView("UOTHER"); ok {
		t.Error("a Home was published for the messages tab")
	}
}

func TestBot_AppHome_Socket(t *testing.T) {
	t.Parallel()
	h := homeFixture(t)
	runSocket(t, h)
	h.slack.SendEnvelope(t, slackfake.Envelope{Type: "events_api", Payload: json.RawMessage(slackfake.EventCallbackJSON("EvHOMES", slackfake.AppHomeOpenedEvent("UME")))})
	h.slack.WaitCalls(t, "views.publish", 1, 5*time.Second)
	raw, ok := h.slack.HomeView("UME")
	if !ok {
		t.Fatal("no Home published for UME")
	}
	checkHome(t, raw)
}

func TestBot_AppHome_Empty(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.serve(signedAt("/slack/events", secretOld, "application/json", slackfake.EventCallbackJSON("EvHOME3", slackfake.AppHomeOpenedEvent("UNEW")), now))
	h.drain(t)
	raw, ok := h.slack.HomeView("UNEW")
	if !ok {
		t.Fatal("no Home published")
	}
	texts := homeTexts(t, raw)
	if s := homeSection(texts, "Your leads"); !strings.Contains(s, "You own no open leads.") {
		t.Errorf("your leads %q, want the empty text", s)
	}
	if s := homeSection(texts, "Last 30 days"); !strings.Contains(s, "*Median time to decision*\n—") {
		t.Errorf("stats %q, want — for the median", s)
	}
	// Without auth.test the card links fall back to opening the channel;
	// this lead has no card yet, so it is not linked at all.
	if s := homeSection(texts, "Waiting for your vote"); !strings.Contains(s, "*L-1* Acme Widgets") {
		t.Errorf("waiting %q", s)
	}
}
