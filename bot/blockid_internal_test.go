package bot

import (
	"strings"
	"testing"
	"time"

	"github.com/leadtriage/leadtriage/triage"
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
