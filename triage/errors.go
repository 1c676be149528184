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

// IsInternal reports whether err is not one of the domain's known errors, so
// the caller should log it at error level.
func IsInternal(err error) bool {
	if err == nil {
		return false
	}
	for _, known := range []error{ErrNotFound, ErrLeadClosed, ErrInvalid, ErrAlreadyClaimed, ErrIdempotencyKey, ErrNotAllowed, ErrUnknownCriteria, ErrNotDecided} {
		if errors.Is(err, known) {
			return false
		}
	}
	return true
}
