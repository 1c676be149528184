package bot

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/leadtriage/leadtriage/triage"
	"github.com/slack-go/slack"
)

func TestBlockNamesCriterion(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		block, id string
		want      bool
	}{
		{"crit.budget", "budget", true},          // checklists rendered before answers
		{"crit.budget.1a2b3c4d", "budget", true}, // with the answer's hash
		{"crit.budget.x", "budget", true},        // any suffix after a dot
		{"crit.budgets", "budget", false},
		{"crit.budget", "budgets", false},
		{"crit.need.1a2b3c4d", "budget", false},
		{"crit.a.b", "a.b", true}, // an id with a dot is never mistaken for a suffix
		{"crit.a.b.1a2b3c4d", "a.b", true},
		{"crit.a", "a.b", false},
		{"budget", "budget", false},
		{"", "budget", false},
	} {
		if got := blockNamesCriterion(tt.block, tt.id); got != tt.want {
			t.Errorf("blockNamesCriterion(%q, %q) = %v, want %v", tt.block, tt.id, got, tt.want)
		}
	}
}

func TestCriterionBlockID(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	yes := triage.Answer{Value: triage.AnswerYes, By: "UALICE", At: at}
	if got := criterionBlockID("budget", triage.Answer{}, false); got != "crit.budget" {
		t.Errorf("unanswered: %q, want the bare crit.budget", got)
	}
	a := criterionBlockID("budget", yes, true)
	if !answerHash.MatchString(a) || !blockNamesCriterion(a, "budget") {
		t.Errorf("answered: %q, want crit.budget.<8 hex>", a)
	}
	if b := criterionBlockID("budget", yes, true); b != a {
		t.Errorf("same answer rendered twice: %q then %q; want a stable id", a, b)
	}
	// Who answered does not change what the element shows.
	if b := criterionBlockID("budget", triage.Answer{Value: yes.Value, By: "UBOB", At: at}, true); b != a {
		t.Errorf("same value and time by someone else: %q, want %q", b, a)
	}
	for name, other := range map[string]triage.Answer{
		"OtherValue": {Value: triage.AnswerNo, At: at},
		"LaterAgain": {Value: triage.AnswerYes, At: at.Add(time.Second)}, // yes, no, yes
	} {
		if b := criterionBlockID("budget", other, true); b == a {
			t.Errorf("%s: block_id %q unchanged", name, b)
		}
	}
	long := strings.Repeat("x", maxInteractiveID)
	if got := criterionBlockID(long, triage.Answer{Value: strings.Repeat("v", 5000), At: at}, true); len(got) > 255 || strings.Contains(got, "vvv") {
		t.Errorf("block_id of %d bytes, or with the answer in it: %q", len(got), got)
	}
}

// TestUpdatedMessages_StatefulBlocksChangeID: in every message the bot
// updates with chat.update (card, checklist, digest), a block whose element
// shows a current value (initial_option and the like) has a block_id that
// changes with that value: Slack clients would otherwise keep showing what
// someone picked before the update.
func TestUpdatedMessages_StatefulBlocksChangeID(t *testing.T) {
	t.Parallel()
	l := freshLead()
	answer(&l, "fit", "UALICE", "Great", received)
	answer(&l, "need", "UBOB", triage.AnswerYes, received)
	decided := l
	decided.Status = triage.StatusQualified
	decided.Decision = &triage.Decision{Outcome: triage.StatusQualified, By: "ULEAD", At: received}
	msgs := map[string][]slack.Block{}
	for _, lead := range []triage.Lead{l, decided} {
		_, msgs["card/"+string(lead.Status)] = renderCard(lead, ckPol, cardNow)
		_, msgs["checklist/"+string(lead.Status)] = renderChecklist(lead, ckPol)
	}
	_, msgs["digest"] = renderDigestPart(triage.DigestPart{Part: 1, Parts: 1, Title: "Digest"}, testPermalink, time.UTC, digestNow)

	stateful := 0
	for name, blocks := range msgs {
		var bs []map[string]any
		if err := json.Unmarshal(blocksJSON(t, blocks), &bs); err != nil {
			t.Fatal(err)
		}
		for _, b := range bs {
			id, _ := b["block_id"].(string)
			for _, key := range []string{"initial_option", "initial_options", "initial_value", "initial_date", "initial_user", "initial_users", "initial_conversation", "initial_channel"} {
				if !hasKey(b, key) {
					continue
				}
				stateful++
				if !answerHash.MatchString(id) {
					t.Errorf("%s: block %q has an element with %s but a block_id that does not follow the value", name, id, key)
				}
			}
		}
	}
	if stateful == 0 {
		t.Fatal("no element shows a current value: the test checks nothing")
	}
}

// hasKey reports whether key occurs anywhere in x.
func hasKey(x any, key string) bool {
	switch v := x.(type) {
	case map[string]any:
		for k, e := range v {
			if k == key || hasKey(e, key) {
				return true
			}
		}
	case []any:
		for _, e := range v {
			if hasKey(e, key) {
				return true
			}
		}
	}
	return false
}
