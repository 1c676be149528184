package bot_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/leadtriage/leadtriage/bot"
	"github.com/leadtriage/leadtriage/slackfake"
	"github.com/leadtriage/leadtriage/triage"
)

// Thread answers as Slack delivers them (issue 9, items 1–4), each through
// the signed events endpoint into the real store.
//
// Shapes:
//   - file_share: bolt-python tests/scenario_tests/test_message_file_share.py
//     (a message with "subtype": "file_share", "files": […], "upload": false,
//     "display_as_bot": false and the words in a rich_text block) and Slack's
//     docs for the file_share message subtype;
//   - rich text: Slack's rich_text block and rich_text_list element reference
//     (docs.slack.dev/reference/block-kit/blocks/rich-text-block): list items
//     are rich_text_section objects without their numbering;
//   - message_changed: Slack's docs for the subtype and
//     java-slack-sdk json-logs/samples/events/MessageChangedPayload.json
//     ("hidden": true, the new message under "message", the old one under
//     "previous_message"; an unfurl adds "attachments" and no "edited").

// withNaturalCriteria: the criteria of the examples.
func withNaturalCriteria(c *bot.Config, svc *triage.Service) {
	p := svc.Policy
	p.Criteria = []triage.Criterion{
		{ID: "need", Question: "Do they have a clear need?", Kind: triage.KindYesNo, Must: true},
		{ID: "budget", Question: "Is there budget for it this year?", Kind: triage.KindYesNo, Must: true},
		{ID: "authority", Question: "Is the contact the one who decides?", Kind: triage.KindYesNo},
		{ID: "fit", Question: "How well do they fit?", Kind: triage.KindScale},
		{ID: "timing", Question: "When do they want to start?", Kind: triage.KindChoice, Options: []string{"this month", "this quarter", "this year", "later"}},
	}
	svc.Policy, c.Policy = p, p
}

func ansRichText(elements ...any) []any {
	return []any{map[string]any{"type": "rich_text", "block_id": "ba4", "elements": elements}}
}

func ansSection(els ...any) map[string]any {
	return map[string]any{"type": "rich_text_section", "elements": els}
}

func ansText(s string) map[string]any { return map[string]any{"type": "text", "text": s} }

// ansReply is a person's message in the card's thread, as the composer sends
// it: text plus the same words as rich text.
func ansReply(user, ts, txt string, blocks []any) map[string]any {
	ev := slackfake.MessageEvent(channel, user, txt, ts, cardTS)
	ev["client_msg_id"] = "5b8f2b52-0a8e-4a4d-9d07-" + strings.ReplaceAll(ts, ".", "")[:12]
	ev["parent_user_id"] = slackfake.BotUserID
	if blocks != nil {
		ev["blocks"] = blocks
	}
	return ev
}

// ansChanged wraps msg (a reply as ansReply builds it) in a message_changed
// event, with prev as the message before the change.
func ansChanged(msg, prev map[string]any, eventTS string) map[string]any {
	strip := func(m map[string]any) map[string]any {
		out := map[string]any{}
		for k, v := range m {
			switch k {
			case "channel", "event_ts", "channel_type":
				continue
			}
			out[k] = v
		}
		return out
	}
	return map[string]any{
		"type": "message", "subtype": "message_changed", "hidden": true,
		"channel": channel, "channel_type": "channel", "ts": eventTS, "event_ts": eventTS,
		"message": strip(msg), "previous_message": strip(prev),
	}
}

// ansUnfurled is msg after Slack added a link preview: same words, an
// attachment more.
func ansUnfurled(msg map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range msg {
		out[k] = v
	}
	out["attachments"] = []any{map[string]any{
		"id": 1, "from_url": "https://acme.example/pricing", "original_url": "https://acme.example/pricing",
		"service_name": "Acme", "title": "Pricing", "title_link": "https://acme.example/pricing",
		"fallback": "Acme: Pricing", "text": "Plans for every team",
	}}
	return out
}

// ansEvent posts inner as a signed event callback and waits for its handling.
func (h *harness) ansEvent(t *testing.T, id string, inner any) {
	t.Helper()
	req := signedAt("/slack/events", secretNew, "application/json", slackfake.EventCallbackJSON(id, inner), now)
	if rec := h.serve(req); rec.Code != http.StatusOK {
		t.Fatalf("event %s: status %d", id, rec.Code)
	}
	h.drain(t)
}

func (h *harness) ansHints(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, it := range h.outbox(t) {
		if it.Kind == triage.OutboxThreadReply && it.Lead == h.lead.ID && strings.Contains(it.Text, "could not read") {
			out = append(out, it.Text)
		}
	}
	return out
}

func ansAnswer(l triage.Lead, id string) triage.Answer {
	a := l.Answers[id]
	a.At = now // the clock is fixed; compare what was said and by whom
	return a
}

func TestBot_HTTPHandler_FileShareReply(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withNaturalCriteria)
	h.postCard(t)
	ev := ansReply("UHUMAN", "1700000001.000200", "budget: yes, the CFO signed off",
		ansRichText(ansSection(ansText("budget: yes, the CFO signed off"))))
	ev["subtype"] = "file_share"
	ev["upload"] = false
	ev["display_as_bot"] = false
	ev["files"] = []any{map[string]any{
		"id": "F111", "created": 1700000001, "timestamp": 1700000001, "name": "screenshot.png", "title": "screenshot.png",
		"mimetype": "image/png", "filetype": "png", "pretty_type": "PNG", "user": "UHUMAN", "editable": false, "size": 92582,
		"mode": "hosted", "is_external": false, "external_type": "", "is_public": true, "public_url_shared": false,
		"display_as_bot": false, "username": "",
		"url_private":          "https://files.slack.com/files-pri/T111-F111/screenshot.png",
		"url_private_download": "https://files.slack.com/files-pri/T111-F111/download/screenshot.png",
		"permalink":            "https://fake.slack.com/files/UHUMAN/F111/screenshot.png",
		"has_rich_preview":     false,
	}}
	h.ansEvent(t, "EvFile1", ev)
	want := triage.Answer{Value: triage.AnswerYes, Note: "the CFO signed off", By: "UHUMAN", At: now}
	if diff := cmp.Diff(want, ansAnswer(h.stored(t), "budget")); diff != "" {
		t.Errorf("budget (-want +got):\n%s", diff)
	}
	if hints := h.ansHints(t); len(hints) != 0 {
		t.Errorf("hints %q for a readable reply", hints)
	}
}

func TestBot_HTTPHandler_ListReply(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withNaturalCriteria)
	h.postCard(t)
	// "1. need: ja!" / "2. fit: 4 — great fit" / "3. authority: yes 👍 …"
	// typed as a numbered list; Slack's text says "1." but the list does not.
	blocks := ansRichText(
		ansSection(ansText("After the call:\n")),
		map[string]any{"type": "rich_text_list", "style": "ordered", "indent": 0, "border": 0, "elements": []any{
			ansSection(ansText("need: ja!")),
			ansSection(ansText("fit: 4 — great fit")),
			ansSection(ansText("authority: yes "), map[string]any{"type": "emoji", "name": "+1", "unicode": "1f44d"},
				ansText(", "), map[string]any{"type": "user", "user_id": "U0BOSS"}, ansText(" signs")),
			ansSection(ansText("timing: this quarter (see "), map[string]any{"type": "link", "url": "https://acme.example/roadmap", "text": "roadmap"}, ansText(")")),
		}},
	)
	txt := "After the call:\n1. need: ja!\n2. fit: 4 — great fit\n3. authority: yes :+1:, <@U0BOSS> signs\n4. timing: this quarter (see <https://acme.example/roadmap|roadmap>)"
	h.ansEvent(t, "EvList1", ansReply("UHUMAN", "1700000001.000200", txt, blocks))
	l := h.stored(t)
	got := map[string]triage.Answer{}
	for id := range l.Answers {
		got[id] = ansAnswer(l, id)
	}
	want := map[string]triage.Answer{
		"need":      {Value: "yes", By: "UHUMAN", At: now},
		"fit":       {Value: "4", Note: "great fit", By: "UHUMAN", At: now},
		"authority": {Value: "yes", Note: ":+1:, <@U0BOSS> signs", By: "UHUMAN", At: now},
		"timing":    {Value: "this quarter", Note: "see roadmap (https://acme.example/roadmap)", By: "UHUMAN", At: now},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("answers (-want +got):\n%s", diff)
	}
	var checklist int
	for _, it := range h.outbox(t) {
		if it.Kind == triage.OutboxPostChecklist || it.Kind == triage.OutboxUpdateChecklist {
			checklist++
		}
	}
	if checklist == 0 {
		t.Error("no checklist update queued for the answers")
	}
}

// TestBot_HTTPHandler_ReplyHintsOnce: an unreadable answer gets one hint,
// and neither a link unfurl nor an edit that is still unreadable adds a
// second; an edit that fixes it is read.
func TestBot_HTTPHandler_ReplyHintsOnce(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withNaturalCriteria)
	h.postCard(t)
	const ts = "1700000001.000200"
	bad := ansReply("UHUMAN", ts, "budget: perhaps, see <https://acme.example/pricing>",
		ansRichText(ansSection(ansText("budget: perhaps, see "), map[string]any{"type": "link", "url": "https://acme.example/pricing"})))
	h.ansEvent(t, "EvHint1", bad)
	hints := h.ansHints(t)
	if len(hints) != 1 || !strings.Contains(hints[0], "<@UHUMAN>") || !strings.Contains(hints[0], "`budget`: yes, no or don't know") {
		t.Fatalf("hints after an unreadable answer: %q, want one saying what is accepted", hints)
	}
	before := len(h.outbox(t))

	h.ansEvent(t, "EvHint2", ansChanged(ansUnfurled(bad), bad, "1700000002.000100")) // Slack's unfurl
	stillBad := ansReply("UHUMAN", ts, "budget: probably", ansRichText(ansSection(ansText("budget: probably"))))
	stillBad["edited"] = map[string]any{"user": "UHUMAN", "ts": "1700000003.000000"}
	h.ansEvent(t, "EvHint3", ansChanged(stillBad, bad, "1700000003.000100"))
	if n := len(h.outbox(t)); n != before {
		t.Errorf("outbox grew from %d to %d items after an unfurl and an unreadable edit", before, n)
	}

	fixed := ansReply("UHUMAN", ts, "budget: yes, probably 40k", ansRichText(ansSection(ansText("budget: yes, probably 40k"))))
	fixed["edited"] = map[string]any{"user": "UHUMAN", "ts": "1700000004.000000"}
	h.ansEvent(t, "EvHint4", ansChanged(fixed, stillBad, "1700000004.000100"))
	if diff := cmp.Diff(triage.Answer{Value: "yes", Note: "probably 40k", By: "UHUMAN", At: now}, ansAnswer(h.stored(t), "budget")); diff != "" {
		t.Errorf("budget after the fixing edit (-want +got):\n%s", diff)
	}
	if hints := h.ansHints(t); len(hints) != 1 {
		t.Errorf("%d hints in all, want 1", len(hints))
	}
}

// TestBot_HTTPHandler_EditsWithoutNewWords: an unfurl, an attachment or a
// reply count changes a message but not what it says: nothing is stored
// and nothing is posted, and an answer given since with the checklist
// stands. A real edit re-reads the answer.
func TestBot_HTTPHandler_EditsWithoutNewWords(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withNaturalCriteria)
	h.postCard(t)
	const ts = "1700000001.000200"
	orig := ansReply("UHUMAN", ts, "fit: 4 — see <https://acme.example/pricing>",
		ansRichText(ansSection(ansText("fit: 4 — see "), map[string]any{"type": "link", "url": "https://acme.example/pricing"})))
	h.ansEvent(t, "EvEdit1", orig)
	// Then the same person changes the answer with the checklist: a re-read
	// of the unchanged reply would undo that.
	click := slackfake.BlockActionForm("UHUMAN", channel, "1700000000.000300", "lead.answer.3", h.lead.ID.String()+" fit")
	if rec := h.serve(signedAt("/slack/interactions", secretNew, formType, []byte(click.Encode()), now)); rec.Code != http.StatusOK {
		t.Fatalf("click: status %d", rec.Code)
	}
	h.drain(t)
	if got := h.stored(t).Answers["fit"].Value; got != "3" {
		t.Fatalf("fit after the click = %q, want 3", got)
	}
	events := len(h.stored(t).Events)
	items := len(h.outbox(t))

	counted := ansUnfurled(orig)
	counted["reply_count"] = 1
	counted["reply_users"] = []any{"UOTHER"}
	counted["latest_reply"] = "1700000005.000100"
	textOnly := map[string]any{} // the same words without blocks, as older clients send them
	for k, v := range orig {
		if k != "blocks" {
			textOnly[k] = v
		}
	}
	for i, ev := range []map[string]any{
		ansChanged(ansUnfurled(orig), orig, "1700000002.000100"),
		ansChanged(counted, ansUnfurled(orig), "1700000005.000200"),
		ansChanged(orig, textOnly, "1700000006.000100"),
	} {
		h.ansEvent(t, "EvEditSame"+string(rune('A'+i)), ev)
	}
	if got := len(h.stored(t).Events); got != events {
		t.Errorf("%d events after changes without new words, want %d", got, events)
	}
	if got := len(h.outbox(t)); got != items {
		t.Errorf("%d outbox items after changes without new words, want %d", got, items)
	}
	if got := h.stored(t).Answers["fit"].Value; got != "3" {
		t.Errorf("fit after changes without new words = %q, want the clicked 3", got)
	}

	edit := ansReply("UHUMAN", ts, "fit: 2 — on second thought", ansRichText(ansSection(ansText("fit: 2 — on second thought"))))
	edit["edited"] = map[string]any{"user": "UHUMAN", "ts": "1700000007.000000"}
	h.ansEvent(t, "EvEdit2", ansChanged(edit, orig, "1700000007.000100"))
	if diff := cmp.Diff(triage.Answer{Value: "2", Note: "on second thought", By: "UHUMAN", At: now}, ansAnswer(h.stored(t), "fit")); diff != "" {
		t.Errorf("fit after the edit (-want +got):\n%s", diff)
	}
}
