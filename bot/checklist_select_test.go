package bot_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/leadtriage/leadtriage/bot"
	"github.com/leadtriage/leadtriage/slackfake"
	"github.com/leadtriage/leadtriage/storage/storagetest"
	"github.com/leadtriage/leadtriage/triage"
	"github.com/leadtriage/leadtriage/triage/triagetest"
)

// selectPolicy has a choice criterion (a static_select on the checklist)
// and a yes/no one (buttons).
var selectPolicy = triage.Policy{Quorum: 3, Blind: true, Auto: true, TeamLead: "ULEAD", Criteria: []triage.Criterion{
	{ID: "plan", Question: "Which plan fits?", Kind: triage.KindChoice, Options: []string{"Starter", "Team & Pro", "Enterprise"}},
	{ID: "need", Question: "Is there a real need?", Kind: triage.KindYesNo},
}}

// newSelectHarness is an obHarness whose bot also serves Slack's signed
// HTTP requests.
func newSelectHarness(t *testing.T) *obHarness {
	t.Helper()
	h := &obHarness{t: t, fake: slackfake.New(t), db: storagetest.MustOpen(t), clock: triagetest.NewClock(obT0), pol: selectPolicy}
	h.svc = &triage.Service{Store: h.db, Policy: h.pol, Channel: obChannel, Now: h.clock.Now}
	h.bot = bot.New(bot.Config{Channel: obChannel, Policy: h.pol, Now: h.clock.Now, SigningSecrets: []string{secretOld}},
		h.fake.Client(), h.svc, h.db, nil)
	h.svc.Wake = h.bot.Wake
	t.Cleanup(func() { // before the database closes
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		if err := h.bot.Drain(ctx); err != nil {
			t.Errorf("draining the bot: %v", err)
		}
	})
	return h
}

// interact POSTs a signed block_actions payload to the bot, waits for its
// handling and delivers what it queued.
func (h *obHarness) interact(payload []byte) {
	h.t.Helper()
	body := []byte(url.Values{"payload": {string(payload)}}.Encode())
	rec := httptest.NewRecorder()
	h.bot.HTTPHandler().ServeHTTP(rec, signedAt("/slack/interactions", secretOld, formType, body, h.clock.Now()))
	if rec.Code != http.StatusOK {
		h.t.Fatalf("interaction: status %d %s", rec.Code, rec.Body)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := h.bot.Drain(ctx); err != nil {
		h.t.Fatalf("draining: %v", err)
	}
	h.drain(10)
}

// selectPayload is the block_actions payload Slack sends when user picks
// the option (text, value) in the static_select actionID of block blockID
// on the message at ts. The envelope (user, container, channel, message,
// trigger) is the fake's, built from Slack's documented shape; the action
// and the state are shaped as Slack documents a static_select's:
// docs.slack.dev/reference/interaction-payloads/block_actions-payload,
// bolt-js StaticSelectAction (src/types/actions/block-action.ts: type,
// action_id, block_id, selected_option {text, value}, placeholder,
// action_ts), and the full state in block_actions payloads
// (api.slack.com/changelog/2020-09-full-state-on-view-submisson-and-block-actions).
func (h *obHarness) selectPayload(user, ts, blockID, actionID, text, value string) []byte {
	h.t.Helper()
	var p map[string]any
	if err := json.Unmarshal(h.fake.BlockActionJSON(user, obChannel, ts, actionID, ""), &p); err != nil {
		h.t.Fatal(err)
	}
	option := map[string]any{"text": map[string]any{"type": "plain_text", "text": text, "emoji": true}, "value": value}
	p["actions"] = []any{map[string]any{
		"type":            "static_select",
		"action_id":       actionID,
		"block_id":        blockID,
		"selected_option": option,
		"placeholder":     map[string]any{"type": "plain_text", "text": "Choose…", "emoji": true},
		"action_ts":       "1772442000.123456",
	}}
	p["state"] = map[string]any{"values": map[string]any{
		blockID: map[string]any{actionID: map[string]any{"type": "static_select", "selected_option": option}},
	}}
	out, err := json.Marshal(p)
	if err != nil {
		h.t.Fatal(err)
	}
	return out
}

// checklistBlock is one block of a posted checklist, as Slack holds it.
type checklistBlock struct {
	Type     string `json:"type"`
	BlockID  string `json:"block_id"`
	Elements []struct {
		Type          string `json:"type"`
		ActionID      string `json:"action_id"`
		InitialOption *struct {
			Value string `json:"value"`
			Text  struct {
				Text string `json:"text"`
			} `json:"text"`
		} `json:"initial_option"`
	} `json:"elements"`
}

// criterionBlock returns the checklist's block holding action actionID.
func (h *obHarness) criterionBlock(ts, actionID string) checklistBlock {
	h.t.Helper()
	m, ok := h.fake.Message(obChannel, ts)
	if !ok {
		h.t.Fatalf("no checklist at %s", ts)
	}
	var blocks []checklistBlock
	if err := json.Unmarshal(m.Blocks, &blocks); err != nil {
		h.t.Fatal(err)
	}
	for _, b := range blocks {
		for _, e := range b.Elements {
			if e.ActionID == actionID {
				return b
			}
		}
	}
	h.t.Fatalf("checklist has no %s element: %s", actionID, m.Blocks)
	return checklistBlock{}
}

var suffixed = regexp.MustCompile(`^crit\.plan\.[0-9a-f]{8}$`)

// TestChecklist_SelectShowsCurrentAnswer: Slack clients keep a select's
// state under its block_id across chat.update, so the checklist's select
// gets a new block_id whenever the answer it shows changes, and a pick on a
// checklist with the old or the new block_id is read all the same.
func TestChecklist_SelectShowsCurrentAnswer(t *testing.T) {
	t.Parallel()
	h := newSelectHarness(t)
	l := h.submit("Acme")
	h.drain(10)
	ts := h.lead(l.ID).Slack.ChecklistTS
	if ts == "" {
		t.Fatal("no checklist posted")
	}
	fresh := h.criterionBlock(ts, "lead.answer.choice")
	if fresh.BlockID != "crit.plan" || fresh.Elements[0].InitialOption != nil {
		t.Fatalf("fresh select: block_id %q, initial option %+v; want the bare crit.plan and none", fresh.BlockID, fresh.Elements[0].InitialOption)
	}

	// UALICE picks "Team & Pro" on the fresh checklist (bare block_id).
	h.interact(h.selectPayload("UALICE", ts, fresh.BlockID, "lead.answer.choice", "Team & Pro", l.ID.String()+" plan 1"))
	if got := h.lead(l.ID).Answers["plan"].Value; got == "" {
		t.Fatalf("no answer after a pick with the bare block_id; ephemerals %+v", h.fake.Ephemerals())
	}
	first := h.criterionBlock(ts, "lead.answer.choice")
	if !suffixed.MatchString(first.BlockID) {
		t.Errorf("block_id after the answer = %q, want crit.plan.<hash>", first.BlockID)
	}
	if o := first.Elements[0].InitialOption; o == nil || o.Text.Text != "Team & Pro" {
		t.Errorf("select shows %+v, want Team & Pro as it is", o)
	}

	// UBOB picks "Enterprise" on the updated checklist (suffixed block_id).
	h.clock.Advance(time.Minute)
	h.interact(h.selectPayload("UBOB", ts, first.BlockID, "lead.answer.choice", "Enterprise", l.ID.String()+" plan 2"))
	second := h.criterionBlock(ts, "lead.answer.choice")
	if o := second.Elements[0].InitialOption; o == nil || o.Text.Text != "Enterprise" {
		t.Errorf("select shows %+v after UBOB's pick, want Enterprise", o)
	}
	if second.BlockID == first.BlockID || !suffixed.MatchString(second.BlockID) {
		t.Errorf("block_id %q after a changed answer, was %q: want a new crit.plan.<hash>", second.BlockID, first.BlockID)
	}

	// UBOB goes back to "Team & Pro": a value shown before, but a new
	// block_id, so no client restores a pick it kept under an old one.
	h.clock.Advance(time.Minute)
	h.interact(h.selectPayload("UBOB", ts, second.BlockID, "lead.answer.choice", "Team & Pro", l.ID.String()+" plan 1"))
	third := h.criterionBlock(ts, "lead.answer.choice")
	if o := third.Elements[0].InitialOption; o == nil || o.Text.Text != "Team & Pro" {
		t.Errorf("select shows %+v after UBOB's second pick, want Team & Pro", o)
	}
	if third.BlockID == first.BlockID || third.BlockID == second.BlockID {
		t.Errorf("block_id %q repeats an earlier one (%q, %q)", third.BlockID, first.BlockID, second.BlockID)
	}

	// A button on the same checklist, as Slack sends it with the block_id
	// the message really has (bare: need is unanswered), then again with
	// the suffixed one it gets after.
	need := h.criterionBlock(ts, "lead.answer.yes")
	if need.BlockID != "crit.need" {
		t.Errorf("unanswered need block_id = %q, want crit.need", need.BlockID)
	}
	h.interact(h.fake.BlockActionJSON("UCAROL", obChannel, ts, "lead.answer.yes", l.ID.String()+" need"))
	need = h.criterionBlock(ts, "lead.answer.no")
	if !strings.HasPrefix(need.BlockID, "crit.need.") {
		t.Errorf("answered need block_id = %q, want crit.need.<hash>", need.BlockID)
	}
	h.clock.Advance(time.Minute)
	h.interact(h.fake.BlockActionJSON("UCAROL", obChannel, ts, "lead.answer.no", l.ID.String()+" need"))
	stored := h.lead(l.ID)
	if got := stored.AnswersBy["need"]["UCAROL"].Value; got != triage.AnswerNo {
		t.Errorf("UCAROL's need answer = %q after clicking No on a suffixed block, want %q", got, triage.AnswerNo)
	}

	// Block ids hold no answer text or lead data, and fit Slack's 255.
	m, _ := h.fake.Message(obChannel, ts)
	var blocks []checklistBlock
	if err := json.Unmarshal(m.Blocks, &blocks); err != nil {
		t.Fatal(err)
	}
	for _, b := range blocks {
		if len(b.BlockID) > 255 || strings.Contains(b.BlockID, "CANARY") || strings.Contains(b.BlockID, "Team") || strings.Contains(b.BlockID, "Acme") {
			t.Errorf("block_id %q: too long or carries text", b.BlockID)
		}
	}
}

// TestChecklist_BlockOfAnotherCriterion: an answer whose block_id names
// another criterion than its value is not ours as rendered; it is refused
// and changes nothing.
func TestChecklist_BlockOfAnotherCriterion(t *testing.T) {
	t.Parallel()
	h := newSelectHarness(t)
	l := h.submit("Acme")
	h.drain(10)
	ts := h.lead(l.ID).Slack.ChecklistTS
	h.interact(h.selectPayload("UALICE", ts, "crit.need.0a1b2c3d", "lead.answer.choice", "Starter", l.ID.String()+" plan 0"))
	if got := h.lead(l.ID).Answers; len(got) != 0 {
		t.Errorf("answers %v after a pick from another criterion's block, want none", got)
	}
	var told []string
	for _, e := range h.fake.Ephemerals() {
		if e.User == "UALICE" {
			told = append(told, e.Text)
		}
	}
	if len(told) != 1 || !strings.Contains(told[0], "out of date") {
		t.Errorf("told UALICE %q, want one 'out of date' note", told)
	}
}
