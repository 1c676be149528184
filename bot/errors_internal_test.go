package bot

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/leadtriage/leadtriage/triage"
)

const generic = "Something went wrong, the team has been notified."

func TestErrorText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"nil", nil, ""},
		{"ErrNotFound", triage.ErrNotFound, "That lead does not exist (any more)."},
		{"ErrLeadClosed", triage.ErrLeadClosed, "This lead has already been decided; votes no longer change it."},
		{"ErrNotAllowed", triage.ErrNotAllowed, "You are not allowed to do that."},
		{"ErrIdempotencyKey", triage.ErrIdempotencyKey, "This Idempotency-Key was already used for a different lead."},
		{"ErrInvalid", triage.ErrInvalid, "That input is not valid."},
		{"FieldError", &triage.FieldError{Field: "email", Problem: "not an e-mail address"}, "email: not an e-mail address"},
		{"FieldError quoting input", &triage.FieldError{Field: "email", Problem: `"<!channel>" is not an e-mail address`}, `email: "&lt;!channel&gt;" is not an e-mail address`},
		{"ClaimedError", &triage.ClaimedError{Lead: 42, Owner: "UBOB"}, "L-42 is already claimed by <@UBOB>."},
		{"ErrAlreadyClaimed", triage.ErrAlreadyClaimed, "Someone has already claimed this lead."},
		{"ErrUnknownCriteria", triage.ErrUnknownCriteria, "There is no such criterion; /qualify help lists them."},
		{"ErrStoreFull is internal", triage.ErrStoreFull, generic},
		{"wrapped ErrNotFound", fmt.Errorf("voting on L-1: %w", triage.ErrNotFound), "That lead does not exist (any more)."},
		{"twice wrapped ErrLeadClosed", fmt.Errorf("slack: %w", fmt.Errorf("voting on L-1: %w", triage.ErrLeadClosed)),
			"This lead has already been decided; votes no longer change it."},
		{"wrapped FieldError", fmt.Errorf("submitting: %w", &triage.FieldError{Field: "website", Problem: "a port is not accepted"}),
			"website: a port is not accepted"},
		{"wrapped ClaimedError", fmt.Errorf("claiming L-7: %w", &triage.ClaimedError{Lead: 7, Owner: "U9X"}), "L-7 is already claimed by <@U9X>."},
		{"joined with an internal error", errors.Join(errors.New("disk on fire"), triage.ErrNotFound), "That lead does not exist (any more)."},
		{"unknown error", errors.New("open /var/lib/leadtriage.db: permission denied xoxb-CANARY"), generic},
		{"wrapped unknown error", fmt.Errorf("storing lead: %w", errors.New("bolt: database not open")), generic},
	}
	nl := newWords(LangDutch)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := (errorWords{english}).text(tt.err); got != tt.want {
				t.Errorf("text(%v) = %q, want %q", tt.err, got, tt.want)
			}
			if tt.err != nil && tt.want == generic && strings.Contains((errorWords{english}).text(tt.err), tt.err.Error()) {
				t.Errorf("text leaks the internal error")
			}
			// A person sees the generic sentence exactly when the error is
			// logged as internal, in every language.
			for _, w := range []words{english, nl} {
				if isGeneric := (errorWords{w}).text(tt.err) == w.t("error.internal"); tt.err != nil && isGeneric != triage.IsInternal(tt.err) {
					t.Errorf("%s: text(%v) generic = %v, IsInternal = %v", w.lang, tt.err, isGeneric, triage.IsInternal(tt.err))
				}
			}
		})
	}
}
