package triage_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/leadtriage/leadtriage/triage"
)

// TestIsInternal: the domain's known errors, however wrapped, are the
// user's business; anything else is the operator's (bot words the former,
// logs the latter).
func TestIsInternal(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		err      error
		internal bool
	}{
		{"nil", nil, false},
		{"ErrNotFound", triage.ErrNotFound, false},
		{"ErrLeadClosed", triage.ErrLeadClosed, false},
		{"ErrNotAllowed", triage.ErrNotAllowed, false},
		{"ErrIdempotencyKey", triage.ErrIdempotencyKey, false},
		{"ErrInvalid", triage.ErrInvalid, false},
		{"FieldError", &triage.FieldError{Field: "email", Problem: "not an e-mail address"}, false},
		{"ClaimedError", &triage.ClaimedError{Lead: 42, Owner: "U2"}, false},
		{"ErrAlreadyClaimed", triage.ErrAlreadyClaimed, false},
		{"ErrUnknownCriteria", triage.ErrUnknownCriteria, false},
		{"ErrStoreFull is internal", triage.ErrStoreFull, true},
		{"wrapped ErrNotFound", fmt.Errorf("voting on L-1: %w", triage.ErrNotFound), false},
		{"twice wrapped ErrLeadClosed", fmt.Errorf("slack: %w", fmt.Errorf("voting on L-1: %w", triage.ErrLeadClosed)), false},
		{"wrapped FieldError", fmt.Errorf("submitting: %w", &triage.FieldError{Field: "website", Problem: "a port is not accepted"}), false},
		{"wrapped ClaimedError", fmt.Errorf("claiming L-7: %w", &triage.ClaimedError{Lead: 7, Owner: "U9"}), false},
		{"joined with an internal error", errors.Join(errors.New("disk on fire"), triage.ErrNotFound), false},
		{"unknown error", errors.New("open /var/lib/leadtriage.db: permission denied xoxb-CANARY"), true},
		{"wrapped unknown error", fmt.Errorf("storing lead: %w", errors.New("bolt: database not open")), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := triage.IsInternal(tt.err); got != tt.internal {
				t.Errorf("IsInternal(%v) = %v, want %v", tt.err, got, tt.internal)
			}
		})
	}
}

func TestFieldError(t *testing.T) {
	t.Parallel()
	err := error(&triage.FieldError{Field: "founded", Problem: "1799 is not a plausible founding year"})
	if got, want := err.Error(), "founded: 1799 is not a plausible founding year"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if !errors.Is(err, triage.ErrInvalid) {
		t.Error("FieldError does not wrap ErrInvalid")
	}
	if errors.Is(err, triage.ErrNotFound) {
		t.Error("FieldError matches ErrNotFound")
	}
}

func TestClaimedError(t *testing.T) {
	t.Parallel()
	err := fmt.Errorf("claiming: %w", &triage.ClaimedError{Lead: 42, Owner: "U2"})
	if !errors.Is(err, triage.ErrAlreadyClaimed) {
		t.Error("ClaimedError does not wrap ErrAlreadyClaimed")
	}
	if got, want := err.Error(), "claiming: L-42 is already claimed by U2"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}
