package triage_test

import (
	"context"
	"testing"

	"github.com/leadtriage/leadtriage/triage"
)

// TestInboxKey_FailureAndDone: which change takes an inbox entry, and when
// the entry stays to be tried again.
func TestInboxKey_FailureAndDone(t *testing.T) {
	t.Parallel()
	type step int
	const (
		stored step = iota // a change under the key was stored (and took the entry)
		failed             // a change could not be stored
	)
	tests := []struct {
		name       string
		steps      []step
		wantKey    string // InboxKey after the steps
		wantFailed bool   // InboxFailed after the steps
	}{
		{"fresh", nil, "7", false},
		{"effect stored", []step{stored}, "", false},
		{"effect failed", []step{failed}, "", true},
		// The error reply after a failed vote is stored without the key: the
		// entry still waits for its effect.
		{"failed, then the reply", []step{failed, stored}, "", true},
		// A confirmation that fails after the vote was stored leaves it done.
		{"stored, then a failure", []step{stored, failed}, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := triage.WithInboxKey(context.Background(), "7")
			for _, s := range tt.steps {
				switch s {
				case stored:
					// As the store does: only a change that carried the key took it.
					if triage.InboxKey(ctx) != "" {
						triage.NoteInboxDone(ctx)
					}
				case failed:
					triage.NoteInboxFailure(ctx)
				}
			}
			if got := triage.InboxKey(ctx); got != tt.wantKey {
				t.Errorf("InboxKey = %q, want %q", got, tt.wantKey)
			}
			if got := triage.InboxFailed(ctx); got != tt.wantFailed {
				t.Errorf("InboxFailed = %v, want %v", got, tt.wantFailed)
			}
		})
	}
	if triage.InboxKey(context.Background()) != "" || triage.InboxFailed(context.Background()) {
		t.Error("a context without an entry has a key or a failure")
	}
}
