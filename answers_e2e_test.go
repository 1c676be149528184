package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/leadtriage/leadtriage/slackfake"
)

// answerNote is the note of user's answer to criterion in the API's lead.
func answerNote(lead map[string]any, criterion, user string) (string, bool) {
	a, _ := lead["answers_by"].(map[string]any)
	c, _ := a[criterion].(map[string]any)
	x, _ := c[user].(map[string]any)
	n, ok := x["note"].(string)
	return n, ok
}

// TestDeliberation_NaturalReplies: a reply written as a Slack list, with a
// remark after each answer, reaches the API with its notes and the
// checklist shows them; a link preview added to the reply posts nothing.
// The event follows Slack's message shape with rich_text blocks (Slack's
// rich_text block reference; bolt-python's scenario test fixtures).
func TestDeliberation_NaturalReplies(t *testing.T) {
	t.Parallel()
	d := startDeliberation(t, "Acme BV")

	text := "1. budget: ja, CFO akkoord\n2. fit: 4 — great fit"
	ts := d.Fake.PostAsUser(testChannel, "UCAS", text, d.cardTS)
	section := func(s string) map[string]any {
		return map[string]any{"type": "rich_text_section", "elements": []any{map[string]any{"type": "text", "text": s}}}
	}
	msg := slackfake.MessageEvent(testChannel, "UCAS", text, ts, d.cardTS)
	msg["blocks"] = []any{map[string]any{"type": "rich_text", "block_id": "Xy1", "elements": []any{
		map[string]any{"type": "rich_text_list", "style": "ordered", "indent": 0, "border": 0,
			"elements": []any{section("budget: ja, CFO akkoord"), section("fit: 4 — great fit")}},
	}}}
	d.event(t, d.nextEventID(), msg)
	waitFor(t, "both answers with their notes", 10*time.Second, func() bool {
		l := d.lead(t)
		b, _ := answerNote(l, "budget", "UCAS")
		f, _ := answerNote(l, "fit", "UCAS")
		return answerBy(l, "budget", "UCAS") == "yes" && b == "CFO akkoord" && answerBy(l, "fit", "UCAS") == "4" && f == "great fit"
	})
	if a, _ := d.lead(t)["answers"].(map[string]any); a["budget"].(map[string]any)["note"] != "CFO akkoord" {
		t.Errorf("answers.budget = %v, want the note", a["budget"])
	}
	if _, ok := answerNote(d.lead(t), "budget", "UCAS"); !ok {
		t.Error("answers_by entries lack the note field")
	}
	d.settle(t)
	var checklist string
	for _, m := range d.Fake.Messages(testChannel) {
		if m.TS == d.checklistTS {
			checklist = blockText(t, m.Blocks)
		}
	}
	if !strings.Contains(checklist, "CFO akkoord") || !strings.Contains(checklist, "great fit") {
		t.Errorf("checklist does not show the notes:\n%s", checklist)
	}

	// Slack unfurls nothing here, but a preview or a reply count arrives
	// as a message_changed with the same words.
	before := len(d.botReplies(t))
	prev := map[string]any{"type": "message", "user": "UCAS", "text": text, "ts": ts, "thread_ts": d.cardTS, "blocks": msg["blocks"]}
	after := map[string]any{"type": "message", "user": "UCAS", "text": text, "ts": ts, "thread_ts": d.cardTS, "blocks": msg["blocks"],
		"attachments": []any{map[string]any{"id": 1, "from_url": "https://acme.example", "original_url": "https://acme.example", "fallback": "Acme", "title": "Acme"}}}
	changeTS := fmt.Sprintf("%d.000002", time.Now().Unix())
	d.event(t, d.nextEventID(), map[string]any{
		"type": "message", "subtype": "message_changed", "hidden": true,
		"channel": testChannel, "channel_type": "channel", "ts": changeTS, "event_ts": changeTS,
		"message": after, "previous_message": prev,
	})
	d.settle(t)
	if got := len(d.botReplies(t)); got != before {
		t.Errorf("%d bot replies after a change without new words, want %d", got, before)
	}
	if n := len(events(t, d.lead(t), "answered")); n != 2 {
		t.Errorf("%d answered events, want 2", n)
	}
}
