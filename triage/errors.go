package triage

import (
	"errors"
	"fmt"
)

// Sentinel errors. Adapters compare with errors.Is and show Message(err) to people.
var (
	ErrNotFound        = errors.New("not found")
	ErrLeadClosed      = errors.New("lead already decided")
	ErrInvalid         = errors.New("invalid input")
	ErrAlreadyClaimed  = errors.New("lead already claimed")
	ErrIdempotencyKey  = errors.New("idempotency key reused with a different request")
	ErrStoreFull       = errors.New("store cannot accept writes")
	ErrNotAllowed      = errors.New("not allowed")
	ErrUnknownCriteria = errors.New("unknown criterion")
)

// FieldError names the input field that is wrong and why. It wraps ErrInvalid.
type FieldError struct {
	Field   string
	Problem string
}

func (e *FieldError) Error() string { return fmt.Sprintf("%s: %s", e.Field, e.Problem) }

// Unwrap makes errors.Is(err, ErrInvalid) true.
func (e *FieldError) Unwrap() error { return ErrInvalid }

// ClaimedError says who already owns a lead.
type ClaimedError struct {
	Lead  LeadID
	Owner string
}

func (e *ClaimedError) Error() string {
	return fmt.Sprintf("%s is already claimed by %s", e.Lead, e.Owner)
}

// Unwrap makes errors.Is(err, ErrAlreadyClaimed) true.
func (e *ClaimedError) Unwrap() error { return ErrAlreadyClaimed }

// Message turns an error into a sentence fit to show a person in Slack or in
// an HTTP answer. Unknown (internal) errors get a generic sentence so that no
// detail leaks; the caller logs those.
func Message(err error) string {
	var fe *FieldError
	var ce *ClaimedError
	switch {
	case err == nil:
		return ""
	case errors.As(err, &fe):
		return fe.Error()
	case errors.As(err, &ce):
		return fmt.Sprintf("%s is already claimed by <@%s>.", ce.Lead, ce.Owner)
	case errors.Is(err, ErrAlreadyClaimed):
		return "Someone has already claimed this lead."
	case errors.Is(err, ErrUnknownCriteria):
		return "There is no such criterion; /qualify help lists them."
	case errors.Is(err, ErrNotFound):
		return "That lead does not exist (any more)."
	case errors.Is(err, ErrLeadClosed):
		return "This lead has already been decided; votes no longer change it."
	case errors.Is(err, ErrNotAllowed):
		return "You are not allowed to do that."
	case errors.Is(err, ErrIdempotencyKey):
		return "This Idempotency-Key was already used for a different lead."
	case errors.Is(err, ErrInvalid):
		return "That input is not valid."
	default:
		return "Something went wrong, the team has been notified."
	}
}

// IsInternal reports whether err is not one of the domain's known errors, so
// the caller should log it at error level.
func IsInternal(err error) bool {
	if err == nil {
		return false
	}
	for _, known := range []error{ErrNotFound, ErrLeadClosed, ErrInvalid, ErrAlreadyClaimed, ErrIdempotencyKey, ErrNotAllowed, ErrUnknownCriteria} {
		if errors.Is(err, known) {
			return false
		}
	}
	return true
}
