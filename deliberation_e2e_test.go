package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/leadtriage/leadtriage/slackfake"
)

// Issue 4 end to end: the real program in HTTP mode, every Slack request
// signed as Slack signs it, every Slack call recorded by slackfake. Research
// is off, so no lead has a red flag.

// deliberationConfig is the team's own criteria, reasons and a partner;
// reactions keep their defaults (+1, -1, thinking_face) and are switched on
// explicitly, since with voting.blind they are off by default.
const deliberationConfig = `
[reactions]
enabled = true

[[criteria]]
id = "need"
question = "Do they have a need we solve?"
kind = "yesno"
must = true
weight = 3

[[criteria]]
id = "budget"
question = "Is there budget this year?"
kind = "yesno"
weight = 2
help = "Ask for a range, not a number."

[[criteria]]
id = "fit"
question = "How well do they fit our ideal customer?"
kind = "scale"
must = true
weight = 2

[[criteria]]
id = "timing"
question = "When do they want to start?"
kind = "choice"
options = ["this quarter", "this year", "later"]

[[criteria]]
id = "notes"
question = "Anything else worth knowing?"
kind = "text"

[disqualify]
reasons = ["No budget", "Not our market", "Too small for us"]

[[partners]]
name = "Partner & Co"
fits = "small companies that start out"
contact = "hello@partner.example"
`

var criterionIDs = []string{"need", "budget", "fit", "timing", "notes"}

// evilCompany carries a broadcast mention that must never reach Slack as one.
const evilCompany = "Acme <!channel> BV"

// deliberation is one running app with one lead whose card and checklist
// are posted.
type deliberation struct {
	*testApp
	id          string // "L-1"
	cardTS      string
	checklistTS string
	eventN      atomic.Int64
}

func startDeliberation(t *testing.T, company string) *deliberation {
	t.Helper()
	app := MustRunMain(t, appOptions{extra: deliberationConfig})
	status, body := app.postLead(t, map[string]any{
		"company": company, "name": "Jan Jansen", "email": "jan@acme.example", "website": "acme.example",
		"message": "We would like a demo.",
	})
	if status != http.StatusCreated {
		t.Fatalf("POST /leads = %d %v", status, body)
	}
	d := &deliberation{testApp: app, id: body["id"]}
	waitFor(t, "the card and the checklist on the lead", 10*time.Second, func() bool {
		s, _ := app.apiLead(t, d.id)["slack"].(map[string]any)
		d.cardTS, _ = s["ts"].(string)
		d.checklistTS, _ = s["checklist_ts"].(string)
		return d.cardTS != "" && d.checklistTS != ""
	})
	return d
}

// settle waits until every acknowledged Slack request has been handled and
// everything it queued has reached the fake: only then can a test say that
// something did not happen.
func (d *deliberation) settle(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := d.Bot.Drain(ctx); err != nil {
		t.Fatalf("waiting for the handlers: %v", err)
	}
	waitFor(t, "the outbox to empty", 10*time.Second, func() bool {
		due, err := d.DB.DueOutbox(ctx, time.Now().Add(365*24*time.Hour), 0)
		return err == nil && len(due) == 0
	})
}

func (d *deliberation) lead(t *testing.T) map[string]any {
	t.Helper()
	return d.apiLead(t, d.id)
}

func (d *deliberation) nextEventID() string {
	return fmt.Sprintf("Ev%06d", d.eventN.Add(1))
}

// reply posts a human's reply in the card's thread (so the fake has it, as
// Slack would) and sends the message event for it.
func (d *deliberation) reply(t *testing.T, user, text string) string {
	t.Helper()
	ts := d.Fake.PostAsUser(testChannel, user, text, d.cardTS)
	d.event(t, d.nextEventID(), slackfake.MessageEvent(testChannel, user, text, ts, d.cardTS))
	return ts
}

// edit sends the message_changed event of an edited thread reply.
func (d *deliberation) edit(t *testing.T, user, ts, oldText, newText string) {
	t.Helper()
	editTS := fmt.Sprintf("%d.000001", time.Now().Unix())
	d.event(t, d.nextEventID(), map[string]any{
		"type": "message", "subtype": "message_changed", "hidden": true,
		"channel": testChannel, "channel_type": "channel", "ts": editTS, "event_ts": editTS,
		"message": map[string]any{
			"type": "message", "user": user, "text": newText, "ts": ts, "thread_ts": d.cardTS,
			"edited": map[string]any{"user": user, "ts": editTS},
		},
		"previous_message": map[string]any{"type": "message", "user": user, "text": oldText, "ts": ts, "thread_ts": d.cardTS},
	})
}

func (d *deliberation) react(t *testing.T, added bool, user, reaction string) {
	t.Helper()
	d.event(t, d.nextEventID(), slackfake.ReactionEvent(added, user, reaction, testChannel, d.cardTS, slackfake.BotUserID))
}

// clickLive clicks a button as Slack does, with a live trigger_id and the
// block_id the button really has in the stored message.
func (d *deliberation) clickLive(t *testing.T, user, ts, actionID, value string) {
	t.Helper()
	form := d.Fake.BlockActionForm(user, testChannel, ts, actionID, value)
	req := slackfake.NewSignedRequest(t, d.Base+"/slack/interactions", testSigningSecret, "application/x-www-form-urlencoded", []byte(form.Encode()))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("click: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("click %s by %s: status %d", actionID, user, resp.StatusCode)
	}
}

// submit sends the decide dialog's view_submission and returns the decoded
// answer (nil for an empty body, which closes the dialog too).
func (d *deliberation) submit(t *testing.T, user string, values map[string]map[string]slack.BlockAction) map[string]any {
	t.Helper()
	form := slackfake.ViewSubmissionForm(user, "lead.decide", d.id, values)
	req := slackfake.NewSignedRequest(t, d.Base+"/slack/interactions", testSigningSecret, "application/x-www-form-urlencoded", []byte(form.Encode()))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("view_submission: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("view_submission: status %d %s", resp.StatusCode, body)
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		return nil
	}
	var out map[string]any
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatalf("view_submission answer is not JSON: %v: %s", err, body)
	}
	return out
}

// closes reports whether a view_submission answer closes the dialog.
func closes(answer map[string]any) bool {
	return answer == nil || answer["response_action"] == "clear"
}

// botReplies are the bot's messages in the card's thread, checklist excluded,
// as text (the message text and every string in its blocks).
func (d *deliberation) botReplies(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, m := range d.Fake.Messages(testChannel) {
		if m.ThreadTS != d.cardTS || m.TS == d.cardTS || m.TS == d.checklistTS || m.Deleted {
			continue
		}
		if m.BotID == "" && m.User != slackfake.BotUserID {
			continue // a human
		}
		out = append(out, m.Text+"\n"+blockText(t, m.Blocks))
	}
	return out
}

func containing(texts []string, subs ...string) []string {
	var out []string
	for _, s := range texts {
		all := true
		for _, sub := range subs {
			all = all && strings.Contains(s, sub)
		}
		if all {
			out = append(out, s)
		}
	}
	return out
}

func (d *deliberation) messageText(t *testing.T, ts string) string {
	t.Helper()
	m, ok := d.Fake.Message(testChannel, ts)
	if !ok {
		t.Fatalf("no message at %s", ts)
	}
	return m.Text + "\n" + blockText(t, m.Blocks)
}

// answer reads answers[criterion] and answers_by[criterion][user] of a lead.
func answerOf(lead map[string]any, criterion string) (value, by string) {
	a, _ := lead["answers"].(map[string]any)
	x, _ := a[criterion].(map[string]any)
	value, _ = x["value"].(string)
	by, _ = x["by"].(string)
	return value, by
}

func answerBy(lead map[string]any, criterion, user string) string {
	a, _ := lead["answers_by"].(map[string]any)
	c, _ := a[criterion].(map[string]any)
	x, _ := c[user].(map[string]any)
	v, _ := x["value"].(string)
	return v
}

// events returns the audit trail's events of kind, failing when any event
// lacks at, kind, by or detail.
func events(t *testing.T, lead map[string]any, kind string) []map[string]any {
	t.Helper()
	list, _ := lead["events"].([]any)
	var out []map[string]any
	for _, e := range list {
		ev, _ := e.(map[string]any)
		for _, k := range []string{"at", "kind", "by", "detail"} {
			if _, ok := ev[k]; !ok {
				t.Errorf("event %v has no %q", ev, k)
			}
		}
		if ev["kind"] == kind {
			out = append(out, ev)
		}
	}
	return out
}

func votesOf(lead map[string]any) map[string]any {
	v, _ := lead["votes"].(map[string]any)
	return v
}

// viewBlock finds an input block of a view by block_id.
func viewBlock(t *testing.T, view json.RawMessage, blockID string) map[string]any {
	t.Helper()
	var v struct {
		Blocks []map[string]any `json:"blocks"`
	}
	if err := json.Unmarshal(view, &v); err != nil {
		t.Fatalf("view is not JSON: %v", err)
	}
	for _, b := range v.Blocks {
		if b["block_id"] == blockID {
			return b
		}
	}
	return nil
}

// optionValue returns the value of the option shown as text in an input
// block's element, so that tests do not depend on how the bot encodes it.
func optionValue(t *testing.T, block map[string]any, text string) string {
	t.Helper()
	el, _ := block["element"].(map[string]any)
	opts, _ := el["options"].([]any)
	var seen []string
	for _, o := range opts {
		om, _ := o.(map[string]any)
		tx, _ := om["text"].(map[string]any)
		s, _ := tx["text"].(string)
		seen = append(seen, s)
		if s == text {
			v, _ := om["value"].(string)
			return v
		}
	}
	t.Fatalf("block %v has no option %q (has %q)", block["block_id"], text, seen)
	return ""
}

func optionValues(block map[string]any) []string {
	el, _ := block["element"].(map[string]any)
	opts, _ := el["options"].([]any)
	var out []string
	for _, o := range opts {
		om, _ := o.(map[string]any)
		v, _ := om["value"].(string)
		out = append(out, v)
	}
	return out
}

// openDecide clicks Decide as user and returns the opened view; views.open
// must be the first Slack call the click causes (the trigger lives 3 s).
func (d *deliberation) openDecide(t *testing.T, user string) json.RawMessage {
	t.Helper()
	d.settle(t)
	before, opened := len(d.Fake.Calls()), len(d.Fake.Views())
	d.clickLive(t, user, d.cardTS, "lead.decide", d.id)
	d.Fake.WaitCalls(t, "views.open", opened+1, 10*time.Second)
	calls := d.Fake.Calls()[before:]
	if len(calls) == 0 || calls[0].Method != "views.open" {
		var methods []string
		for _, c := range calls {
			methods = append(methods, c.Method)
		}
		t.Fatalf("Slack calls after the Decide click = %v; views.open must come first", methods)
	}
	views := d.Fake.Views()
	v := views[len(views)-1]
	var head struct {
		CallbackID      string `json:"callback_id"`
		PrivateMetadata string `json:"private_metadata"`
		Title           struct {
			Text string `json:"text"`
		} `json:"title"`
		Submit struct {
			Text string `json:"text"`
		} `json:"submit"`
	}
	if err := json.Unmarshal(v.JSON, &head); err != nil {
		t.Fatal(err)
	}
	if head.CallbackID != "lead.decide" || head.PrivateMetadata != d.id || head.Title.Text != "Decide "+d.id || head.Submit.Text != "Decide" {
		t.Errorf("decide view = %+v; want callback lead.decide, metadata %s, title \"Decide %s\", submit Decide", head, d.id, d.id)
	}
	return v.JSON
}

// decision builds a decide dialog's state.
func decision(outcome string, fields map[string]string) map[string]map[string]slack.BlockAction {
	return map[string]map[string]slack.BlockAction{
		"outcome": {"outcome": {Type: "radio_buttons", SelectedOption: slack.OptionBlockObject{Value: outcome}}},
		"owner":   {"owner": {Type: "users_select", SelectedUser: fields["owner"]}},
		"reason":  {"reason": {Type: "static_select", SelectedOption: slack.OptionBlockObject{Value: fields["reason"]}}},
		"partner": {"partner": {Type: "static_select", SelectedOption: slack.OptionBlockObject{Value: fields["partner"]}}},
		"note":    {"note": {Type: "plain_text_input", Value: fields["note"]}},
	}
}

func TestDeliberation_Checklist(t *testing.T) {
	t.Parallel()
	d := startDeliberation(t, "Acme BV")

	t.Run("PostedInTheCardsThreadAfterTheCard", func(t *testing.T) {
		m, ok := d.Fake.Message(testChannel, d.checklistTS)
		if !ok || m.ThreadTS != d.cardTS {
			t.Fatalf("checklist at %s: found %v, thread %q; want a reply in the card's thread %s", d.checklistTS, ok, m.ThreadTS, d.cardTS)
		}
		if d.checklistTS <= d.cardTS {
			t.Errorf("checklist ts %s is not after the card's %s", d.checklistTS, d.cardTS)
		}
		var blocks []map[string]any
		if err := json.Unmarshal(m.Blocks, &blocks); err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, b := range blocks {
			if id, _ := b["block_id"].(string); strings.HasPrefix(id, "crit.") && !slices.Contains(ids, id) {
				ids = append(ids, id)
			}
		}
		var want []string
		for _, c := range criterionIDs {
			want = append(want, "crit."+c)
		}
		if !slices.Equal(ids, want) {
			t.Errorf("checklist criteria blocks = %v, want %v in config order", ids, want)
		}
		text := blockText(t, m.Blocks)
		for _, s := range []string{"Do they have a need we solve?", "Ask for a range, not a number.",
			"lead.answer.yes", "lead.answer.no", "lead.answer.unknown", "lead.answer.1", "lead.answer.5", "lead.answer.choice",
			d.id + " budget", "notes: "} {
			if !strings.Contains(text, s) {
				t.Errorf("checklist lacks %q:\n%s", s, text)
			}
		}
	})
	t.Run("CardHasDecide", func(t *testing.T) {
		if text := d.messageText(t, d.cardTS); !strings.Contains(text, "lead.decide\n") {
			t.Errorf("card has no lead.decide button:\n%s", text)
		}
	})
}

func TestDeliberation_ChecklistClick(t *testing.T) {
	t.Parallel()
	d := startDeliberation(t, "Acme BV")
	updates := func() int { m, _ := d.Fake.Message(testChannel, d.checklistTS); return m.Updates }
	before := updates()

	d.clickLive(t, "UANNA", d.checklistTS, "lead.answer.yes", d.id+" budget")
	waitFor(t, "UANNA's budget answer", 10*time.Second, func() bool {
		v, by := answerOf(d.lead(t), "budget")
		return v == "yes" && by == "UANNA"
	})
	d.clickLive(t, "UBEN", d.checklistTS, "lead.answer.no", d.id+" budget")
	d.clickLive(t, "UBEN", d.checklistTS, "lead.answer.4", d.id+" fit")
	waitFor(t, "UBEN's answers", 10*time.Second, func() bool {
		l := d.lead(t)
		v, _ := answerOf(l, "fit")
		return answerBy(l, "budget", "UBEN") == "no" && v == "4"
	})
	d.settle(t)

	l := d.lead(t)
	if got := answerBy(l, "budget", "UANNA"); got != "yes" {
		t.Errorf("answers_by.budget.UANNA = %q, want yes (kept next to UBEN's)", got)
	}
	if v, by := answerOf(l, "budget"); v != "no" || by != "UBEN" {
		t.Errorf("answers.budget = %q by %q, want the latest: no by UBEN", v, by)
	}
	if n := len(events(t, l, "answered")); n != 3 {
		t.Errorf("%d answered events, want 3", n)
	}
	if updates() <= before {
		t.Errorf("the checklist was not updated with chat.update (updates %d)", updates())
	}
	text := d.messageText(t, d.checklistTS)
	for _, s := range []string{"<@UANNA>", "<@UBEN>", "1 yes", "1 no"} {
		if !strings.Contains(text, s) {
			t.Errorf("updated checklist lacks %q (who answered what, disagreement):\n%s", s, text)
		}
	}
}

func TestDeliberation_ThreadReplies(t *testing.T) {
	t.Parallel()
	d := startDeliberation(t, "Acme BV")

	ts := d.reply(t, "UCAS", "budget: ja\nFit: 4")
	waitFor(t, "both answers from one reply", 10*time.Second, func() bool {
		l := d.lead(t)
		return answerBy(l, "budget", "UCAS") == "yes" && answerBy(l, "fit", "UCAS") == "4"
	})

	d.edit(t, "UCAS", ts, "budget: ja\nFit: 4", "budget: nee\nFit: 4")
	waitFor(t, "the edit to change the answer", 10*time.Second, func() bool {
		return answerBy(d.lead(t), "budget", "UCAS") == "no"
	})

	d.reply(t, "UDIRK", "Looks promising, shall we call them tomorrow?")
	// Not in the card's thread: a top-level message and a reply elsewhere.
	top := d.Fake.PostAsUser(testChannel, "UEVE", "budget: yes", "")
	d.event(t, d.nextEventID(), slackfake.MessageEvent(testChannel, "UEVE", "budget: yes", top, ""))
	d.event(t, d.nextEventID(), slackfake.MessageEvent(testChannel, "UEVE", "budget: yes", d.Fake.PostAsUser(testChannel, "UEVE", "budget: yes", top), top))
	d.reply(t, "UDIRK", "fit: lots")
	d.settle(t)

	l := d.lead(t)
	if v := answerBy(l, "fit", "UDIRK"); v != "" {
		t.Errorf("fit: lots was taken as %q", v)
	}
	if v := answerBy(l, "budget", "UEVE"); v != "" {
		t.Errorf("a message outside the card's thread answered budget: %q", v)
	}
	replies := d.botReplies(t)
	if len(replies) != 1 {
		t.Fatalf("bot replies in the thread = %q; want exactly one hint (chatter gets none)", replies)
	}
	if !strings.Contains(replies[0], "fit") || !strings.Contains(replies[0], "<@UDIRK>") {
		t.Errorf("hint = %q; want it to name fit and mention UDIRK", replies[0])
	}
	if n := len(events(t, l, "answered")); n != 3 {
		t.Errorf("%d answered events, want 3 (budget, fit, the edited budget)", n)
	}
}

func TestDeliberation_EventRetriesProcessedOnce(t *testing.T) {
	t.Parallel()
	d := startDeliberation(t, "Acme BV")
	text := "notes: wants a call\nfit: lots"
	ts := d.Fake.PostAsUser(testChannel, "UANNA", text, d.cardTS)
	ev := slackfake.MessageEvent(testChannel, "UANNA", text, ts, d.cardTS)
	for range 4 {
		d.event(t, "Ev0RETRIED", ev)
	}
	d.settle(t)
	l := d.lead(t)
	if n := len(events(t, l, "answered")); n != 1 {
		t.Errorf("%d answered events, want 1", n)
	}
	if v := answerBy(l, "notes", "UANNA"); v == "" {
		t.Error("the notes answer was not taken at all")
	}
	if hints := d.botReplies(t); len(hints) != 1 {
		t.Errorf("bot replies = %q; want one hint for the four deliveries", hints)
	}
}

func TestDeliberation_Reactions(t *testing.T) {
	t.Parallel()
	d := startDeliberation(t, "Acme BV")
	card := func() string { return d.messageText(t, d.cardTS) }

	d.react(t, true, "UANNA", "+1")
	d.react(t, true, "UBEN", "+1")
	waitFor(t, "two votes on the card", 10*time.Second, func() bool { return strings.Contains(card(), "2 of 3") })
	d.settle(t)
	if c := card(); strings.Contains(c, "UANNA") || strings.Contains(c, "UBEN") {
		t.Errorf("blind card names a voter before the quorum:\n%s", c)
	}
	if v := votesOf(d.lead(t)); v["UANNA"] != "qualify" || v["UBEN"] != "qualify" {
		t.Errorf("votes = %v, want UANNA and UBEN qualify", v)
	}

	d.react(t, false, "UBEN", "+1")
	waitFor(t, "the withdrawn vote", 10*time.Second, func() bool { return votesOf(d.lead(t))["UBEN"] == nil })
	waitFor(t, "one vote on the card", 10*time.Second, func() bool { return strings.Contains(card(), "1 of 3") })
	if n := len(events(t, d.lead(t), "unvoted")); n != 1 {
		t.Errorf("%d unvoted events, want 1", n)
	}
	// Removing a reaction that is not your vote changes nothing.
	d.react(t, false, "UANNA", "-1")

	d.react(t, true, "UBEN", "+1")
	waitFor(t, "two votes again", 10*time.Second, func() bool { return strings.Contains(card(), "2 of 3") })
	d.settle(t)
	if c := card(); strings.Contains(c, "UANNA") || strings.Contains(c, "UBEN") {
		t.Errorf("blind card names a voter at 2 of 3:\n%s", c)
	}

	d.react(t, true, "UCAS", "-1")
	waitFor(t, "the decision at the quorum", 10*time.Second, func() bool { return d.lead(t)["status"] == "qualified" })
	waitFor(t, "the card to reveal the voters", 10*time.Second, func() bool {
		c := card()
		return strings.Contains(c, "<@UANNA>") && strings.Contains(c, "<@UBEN>") && strings.Contains(c, "<@UCAS>")
	})
	l := d.lead(t)
	if v := votesOf(l); len(v) != 3 || v["UCAS"] != "disqualify" || v["UANNA"] != "qualify" {
		t.Errorf("votes = %v", v)
	}
	if n := len(events(t, l, "voted")); n != 4 {
		t.Errorf("%d voted events, want 4 (UANNA, UBEN twice, UCAS)", n)
	}
}

func TestDeliberation_MustHaveVeto(t *testing.T) {
	t.Parallel()
	d := startDeliberation(t, "Acme BV")
	d.reply(t, "UANNA", "need: no")
	waitFor(t, "need answered no", 10*time.Second, func() bool { v, _ := answerOf(d.lead(t), "need"); return v == "no" })
	for _, u := range []string{"UANNA", "UBEN", "UCAS"} {
		d.click(t, u, d.cardTS, "lead.vote.qualify", d.id)
	}
	waitFor(t, "the veto notice", 10*time.Second, func() bool {
		return len(containing(d.botReplies(t), "`need`", "<@"+testTeamLead+">")) > 0
	})
	d.settle(t)
	l := d.lead(t)
	if l["status"] != "pending" || l["decision"] != nil {
		t.Errorf("status %v, decision %v; a must-have answered no must block the qualification", l["status"], l["decision"])
	}
	if n := len(containing(d.botReplies(t), "`need`", "<@"+testTeamLead+">")); n != 1 {
		t.Errorf("%d veto notices, want 1", n)
	}
	if n := len(events(t, l, "vetoed")); n != 1 {
		t.Errorf("%d vetoed events, want 1", n)
	}
	if c := d.messageText(t, d.cardTS); !strings.Contains(c, "need") {
		t.Errorf("the card does not say which must-have is answered no:\n%s", c)
	}
}

func TestDeliberation_DecideModal(t *testing.T) {
	t.Parallel()

	t.Run("NotADecider", func(t *testing.T) {
		t.Parallel()
		d := startDeliberation(t, "Acme BV")
		d.clickLive(t, "UANNA", d.cardTS, "lead.decide", d.id)
		waitFor(t, "the ephemeral refusal", 10*time.Second, func() bool {
			for _, e := range d.Fake.Ephemerals() {
				if e.User == "UANNA" && strings.Contains(e.Text, "Only <@"+testTeamLead+">") {
					return true
				}
			}
			return false
		})
		d.settle(t)
		if v := d.Fake.Views(); len(v) != 0 {
			t.Errorf("a non-decider got a dialog: %d views", len(v))
		}
	})

	t.Run("Disqualify", func(t *testing.T) {
		t.Parallel()
		d := startDeliberation(t, evilCompany)
		view := d.openDecide(t, testTeamLead)
		outcome := viewBlock(t, view, "outcome")
		if got := optionValues(outcome); !slices.Equal(got, []string{"qualified", "disqualified", "referred"}) {
			t.Errorf("outcomes of a pending lead = %v", got)
		}
		for _, b := range []string{"owner", "reason", "partner", "note"} {
			if viewBlock(t, view, b) == nil {
				t.Errorf("the dialog has no %q block", b)
			}
		}
		reason := optionValue(t, viewBlock(t, view, "reason"), "Not our market")

		answer := d.submit(t, testTeamLead, decision("disqualified", map[string]string{"note": "Not for us."}))
		errs, _ := answer["errors"].(map[string]any)
		if answer["response_action"] != "errors" || errs["reason"] == nil {
			t.Fatalf("submission without a reason answered %v; want response_action errors on reason", answer)
		}
		if l := d.lead(t); l["status"] != "pending" {
			t.Fatalf("a refused submission changed the lead: %v", l["status"])
		}

		answer = d.submit(t, testTeamLead, decision("disqualified", map[string]string{"reason": reason, "note": "Not for us."}))
		if !closes(answer) {
			t.Fatalf("valid submission answered %v; want the dialog closed", answer)
		}
		l := d.lead(t) // decided in the ack: no waiting
		dec, _ := l["decision"].(map[string]any)
		if l["status"] != "disqualified" || dec["by"] != testTeamLead || dec["reason"] != "Not our market" || dec["note"] != "Not for us." {
			t.Errorf("status %v, decision %v", l["status"], dec)
		}
		d.settle(t)
		drafts := containing(d.botReplies(t), "```")
		if len(drafts) != 1 {
			t.Fatalf("thread has %d drafts in a code block, want 1 decline: %q", len(drafts), d.botReplies(t))
		}
		if !strings.Contains(drafts[0], "&lt;!channel&gt;") {
			t.Errorf("the decline draft does not show the escaped company:\n%s", drafts[0])
		}
		for _, m := range d.Fake.Messages(testChannel) {
			if strings.Contains(m.Text+markupText(t, m.Blocks), "<!channel>") {
				t.Errorf("message %s carries <!channel> unescaped", m.TS)
			}
		}
		if len(containing(d.botReplies(t), "<@"+testTeamLead+">", "disqualified")) == 0 {
			t.Errorf("the thread does not tell the outcome: %q", d.botReplies(t))
		}
	})

	t.Run("Refer", func(t *testing.T) {
		t.Parallel()
		d := startDeliberation(t, "Acme BV")
		view := d.openDecide(t, testTeamLead)
		partner := viewBlock(t, view, "partner")
		if !strings.Contains(blockText(t, mustJSON(t, partner)), "small companies that start out") {
			t.Errorf("the partner option does not say what they fit: %v", partner)
		}
		answer := d.submit(t, testTeamLead, decision("referred", map[string]string{"partner": optionValue(t, partner, "Partner & Co")}))
		if !closes(answer) {
			t.Fatalf("answer %v; want the dialog closed", answer)
		}
		l := d.lead(t)
		dec, _ := l["decision"].(map[string]any)
		if l["status"] != "referred" || dec["partner"] != "Partner & Co" || dec["by"] != testTeamLead {
			t.Errorf("status %v, decision %v", l["status"], dec)
		}
		d.settle(t)
		drafts := containing(d.botReplies(t), "```")
		if len(drafts) != 2 {
			t.Fatalf("thread has %d drafts, want a decline and an introduction: %q", len(drafts), d.botReplies(t))
		}
		for _, dr := range drafts {
			if !strings.Contains(dr, "Partner &amp; Co") {
				t.Errorf("draft does not name the partner (escaped):\n%s", dr)
			}
		}
	})

	t.Run("Reopen", func(t *testing.T) {
		t.Parallel()
		d := startDeliberation(t, "Acme BV")
		for _, u := range []string{"UANNA", "UBEN", "UCAS"} {
			d.click(t, u, d.cardTS, "lead.vote.qualify", d.id)
		}
		waitFor(t, "the automatic decision", 10*time.Second, func() bool { return d.lead(t)["status"] == "qualified" })
		view := d.openDecide(t, testTeamLead)
		if got := optionValues(viewBlock(t, view, "outcome")); !slices.Contains(got, "reopen") {
			t.Errorf("outcomes of a decided lead = %v; want reopen among them", got)
		}
		answer := d.submit(t, testTeamLead, decision("reopen", map[string]string{"note": "They called back."}))
		if !closes(answer) {
			t.Fatalf("answer %v; want the dialog closed", answer)
		}
		l := d.lead(t)
		if l["status"] != "pending" || l["decision"] != nil || len(votesOf(l)) != 0 {
			t.Errorf("after reopen: status %v, decision %v, votes %v; want pending, none, none", l["status"], l["decision"], votesOf(l))
		}
		decided := events(t, l, "decided")
		reopened := events(t, l, "reopened")
		if len(decided) != 1 || decided[0]["by"] != "auto" || len(reopened) != 1 || reopened[0]["by"] != testTeamLead {
			t.Fatalf("events: decided %v, reopened %v", decided, reopened)
		}
		if det, _ := reopened[0]["detail"].(string); !strings.Contains(det, "qualified") || !strings.Contains(det, "They called back.") {
			t.Errorf("reopened detail %q does not keep the old decision and the note", det)
		}
		// The team votes afresh: one vote is blind again.
		d.click(t, "UANNA", d.cardTS, "lead.vote.disqualify", d.id)
		waitFor(t, "a fresh vote", 10*time.Second, func() bool { return votesOf(d.lead(t))["UANNA"] == "disqualify" })
	})
}

func TestDeliberation_DissentPrompt(t *testing.T) {
	t.Parallel()
	d := startDeliberation(t, "Acme BV")
	for _, u := range []string{"UANNA", "UBEN", "UCAS"} {
		d.click(t, u, d.cardTS, "lead.vote.disqualify", d.id)
	}
	waitFor(t, "the dissent prompt", 10*time.Second, func() bool {
		return len(containing(d.botReplies(t), "change your mind")) > 0
	})
	d.click(t, "UDIRK", d.cardTS, "lead.vote.disqualify", d.id)
	d.settle(t)
	if n := len(containing(d.botReplies(t), "change your mind")); n != 1 {
		t.Errorf("%d dissent prompts, want 1", n)
	}
	l := d.lead(t)
	if n := len(events(t, l, "dissent")); n != 1 {
		t.Errorf("%d dissent events, want 1", n)
	}
	if l["status"] != "disqualified" {
		t.Errorf("status %v, want disqualified by the vote", l["status"])
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
