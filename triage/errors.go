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
// Problem is English (the API's "error", logs); Reason is the same as a
// code with its data (Value, N, Max), so that bot can say it in the team's
// language. Reason is "" for problems only the API and config meet, which
// bot shows as Problem.
type FieldError struct {
	Field   string
	Problem string
	Reason  string // a Reason* code
	Value   string // what was given, cut short, where the problem quotes it
	N, Max  int    // a count or number and its limit, where the problem has them
}

// Reasons of a FieldError, and the data each carries.
const (
	ReasonTooLong         = "too_long"         // N characters (0 = not said), at most Max
	ReasonRequired        = "required"         // none of company, email or website
	ReasonNotEmail        = "not_email"        // Value
	ReasonNotPhone        = "not_phone"        // Value
	ReasonPhoneCharacters = "phone_characters" // Value: holds more than digits, spaces and + - ( ) . /
	ReasonNotWebAddress   = "not_web_address"  // Value
	ReasonScheme          = "scheme"           // Value: not http or https
	ReasonCredentials     = "credentials"      // a web address with a user name or password
	ReasonPort            = "port"             // a web address with a port
	ReasonNoDomain        = "no_domain"
	ReasonIPAddress       = "ip_address"      // Value
	ReasonBadDomain       = "bad_domain"      // Value
	ReasonNotFullDomain   = "not_full_domain" // Value
	ReasonDomainTooLong   = "domain_too_long"
	ReasonNotYear         = "not_year"       // Value
	ReasonYearRange       = "year_range"     // N, at most Max (from 1800)
	ReasonNotNumber       = "not_number"     // Value
	ReasonEmployeesRange  = "employees"      // N
	ReasonTooManyExtra    = "too_many_extra" // N, at most Max
	ReasonExtraName       = "extra_name"     // Value, at most Max characters
	ReasonNotLeadID       = "not_lead_id"    // Value
	ReasonPickReason      = "pick_reason"    // disqualifying needs a reason
	ReasonUnknownReason   = "unknown_reason" // not one of the configured reasons
	ReasonPickPartner     = "pick_partner"
	ReasonPickOutcome     = "pick_outcome"
	ReasonPickOwner       = "pick_owner"
)

// problem is a validation failure before it knows its field (the
// normalisers are shared by the e-mail and website fields and erasure).
type problem struct {
	msg, reason, value string
	n, max             int
}

func (p *problem) Error() string { return p.msg }

// fieldError puts err on field, keeping its reason when it has one.
func fieldError(field string, err error) *FieldError {
	var p *problem
	if errors.As(err, &p) {
		return &FieldError{Field: field, Problem: p.msg, Reason: p.reason, Value: p.value, N: p.n, Max: p.max}
	}
	return &FieldError{Field: field, Problem: err.Error()}
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
