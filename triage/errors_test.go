package triage_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/leadtriage/leadtriage/triage"
)

const generic = "Something went wrong, the team has been notified."

func TestMessage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		err      error
		want     string // "" = any sentence other than the generic one
		internal bool
	}{
		{name: "nil", err: nil, want: "", internal: false},
		{name: "ErrNotFound", err: triage.ErrNotFound, want: "That lead does not exist (any more)."},
		{name: "ErrLeadClosed", err: triage.ErrLeadClosed, want: "This lead has already been decided; votes no longer change it."},
		{name: "ErrNotAllowed", err: triage.ErrNotAllowed, want: "You are not allowed to do that."},
		{name: "ErrIdempotencyKey", err: triage.ErrIdempotencyKey, want: "This Idempotency-Key was already used for a different lead."},
		{name: "ErrInvalid", err: triage.ErrInvalid, want: "That input is not valid."},
		{name: "FieldError", err: &triage.FieldError{Field: "email", Problem: "not an e-mail address"}, want: "email: not an e-mail address"},
		{name: "ClaimedError", err: &triage.ClaimedError{Lead: 42, Owner: "U2"}, want: "L-42 is already claimed by <@U2>."},
		{name: "ErrAlreadyClaimed", err: triage.ErrAlreadyClaimed, want: "Someone has already claimed this lead."},
		{name: "ErrUnknownCriteria", err: triage.ErrUnknownCriteria, want: "There is no such criterion; /qualify help lists them."},
		{name: "ErrStoreFull is internal", err: triage.ErrStoreFull, want: generic, internal: true},
		{name: "wrapped ErrNotFound", err: fmt.Errorf("voting on L-1: %w", triage.ErrNotFound), want: "That lead does not exist (any more)."},
		{name: "twice wrapped ErrLeadClosed", err: fmt.Errorf("slack: %w", fmt.Errorf("voting on L-1: %w", triage.ErrLeadClosed)),
			want: "This lead has already been decided; votes no longer change it."},
		{name: "wrapped FieldError", err: fmt.Errorf("submitting: %w", &triage.FieldError{Field: "website", Problem: "a port is not accepted"}),
			want: "website: a port is not accepted"},
		{name: "wrapped ClaimedError", err: fmt.Errorf("claiming L-7: %w", &triage.ClaimedError{Lead: 7, Owner: "U9"}),
			want: "L-7 is already claimed by <@U9>."},
		{name: "joined with an internal error", err: errors.Join(errors.New("disk on fire"), triage.ErrNotFound),
			want: "That lead does not exist (any more)."},
		{name: "unknown error", err: errors.New("open /var/lib/leadtriage.db: permission denied xoxb-CANARY"), want: generic, internal: true},
		{name: "wrapped unknown error", err: fmt.Errorf("storing lead: %w", errors.New("bolt: database not open")), want: generic, internal: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := triage.Message(tt.err)
			switch {
			case tt.want != "" && got != tt.want:
				t.Errorf("Message(%v) = %q, want %q", tt.err, got, tt.want)
			case tt.want == "" && tt.err != nil && (got == "" || got == generic):
				t.Errorf("Message(%v) = %q, want a sentence of its own", tt.err, got)
			case tt.err == nil && got != "":
				t.Errorf("Message(nil) = %q, want \"\"", got)
			}
			if tt.internal && tt.err != nil && strings.Contains(got, tt.err.Error()) {
				t.Errorf("Message leaks the internal error: %q", got)
			}
			if gotInternal := triage.IsInternal(tt.err); gotInternal != tt.internal {
				t.Errorf("IsInternal(%v) = %v, want %v", tt.err, gotInternal, tt.internal)
			}
		})
	}
}

// TestMessage_GenericIffInternal holds every sentinel to one rule: a person
// sees the generic sentence exactly when the error is logged as internal.
func TestMessage_GenericIffInternal(t *testing.T) {
	t.Parallel()
	sentinels := map[string]error{
		"ErrNotFound": triage.ErrNotFound, "ErrLeadClosed": triage.ErrLeadClosed, "ErrInvalid": triage.ErrInvalid,
		"ErrAlreadyClaimed": triage.ErrAlreadyClaimed, "ErrIdempotencyKey": triage.ErrIdempotencyKey,
		"ErrStoreFull": triage.ErrStoreFull, "ErrNotAllowed": triage.ErrNotAllowed, "ErrUnknownCriteria": triage.ErrUnknownCriteria,
	}
	for name, err := range sentinels {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			wrapped := fmt.Errorf("doing something: %w", err)
			if isGeneric := triage.Message(wrapped) == generic; isGeneric != triage.IsInternal(wrapped) {
				t.Errorf("Message(%v) generic = %v, IsInternal = %v", wrapped, isGeneric, triage.IsInternal(wrapped))
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
