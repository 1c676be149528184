package bot

import (
	"errors"
	"strconv"

	"github.com/leadtriage/leadtriage/triage"
)

// errorWords says what went wrong: domain errors and field problems.
type errorWords struct{ words }

// text says what went wrong in words fit for people, as mrkdwn.
// Unknown (internal) errors get a generic sentence so that no detail
// leaks; the caller logs those (triage.IsInternal). A field error may
// quote what the user typed, so it is escaped.
func (w errorWords) text(err error) string {
	var fe *triage.FieldError
	var ce *triage.ClaimedError
	switch {
	case err == nil:
		return ""
	case errors.As(err, &fe):
		return esc(w.fieldError(fe))
	case errors.As(err, &ce):
		return w.t("error.claimed_by", ce.Lead.String(), mention(ce.Owner))
	case errors.Is(err, triage.ErrAlreadyClaimed):
		return w.t("error.claimed")
	case errors.Is(err, triage.ErrUnknownCriteria):
		return w.t("error.unknown_criterion")
	case errors.Is(err, triage.ErrNotFound):
		return w.t("error.not_found")
	case errors.Is(err, triage.ErrLeadClosed):
		return w.t("error.closed")
	case errors.Is(err, triage.ErrNotAllowed):
		return w.t("error.not_allowed")
	case errors.Is(err, triage.ErrIdempotencyKey):
		return w.t("error.idempotency_key")
	case errors.Is(err, triage.ErrInvalid):
		return w.t("error.invalid")
	default:
		return w.t("error.internal")
	}
}

// fieldProblem is what is wrong with a field, in the language and plain
// (the caller escapes or shows it as plain text): worded from the error's
// reason, or its English Problem when it has none (problems only the API
// and config meet).
func (w errorWords) fieldProblem(fe *triage.FieldError) string {
	v := plainCut(fe.Value, 60)
	switch fe.Reason {
	case triage.ReasonTooLong:
		if fe.N > 0 {
			return w.t("field.too_long", fe.N, fe.Max)
		}
		return w.t("field.too_long.max", fe.Max)
	case triage.ReasonRequired:
		return w.t("field.required")
	case triage.ReasonNotEmail:
		return w.t("field.not_email", v)
	case triage.ReasonNotPhone:
		return w.t("field.not_phone", v)
	case triage.ReasonPhoneCharacters:
		return w.t("field.phone_characters", v)
	case triage.ReasonNotWebAddress:
		return w.t("field.not_web_address", v)
	case triage.ReasonScheme:
		return w.t("field.scheme", v)
	case triage.ReasonCredentials:
		return w.t("field.credentials")
	case triage.ReasonPort:
		return w.t("field.port")
	case triage.ReasonNoDomain:
		return w.t("field.no_domain")
	case triage.ReasonIPAddress:
		return w.t("field.ip_address", v)
	case triage.ReasonBadDomain:
		return w.t("field.bad_domain", v)
	case triage.ReasonNotFullDomain:
		return w.t("field.not_full_domain", v)
	case triage.ReasonDomainTooLong:
		return w.t("field.domain_too_long")
	case triage.ReasonNotYear:
		return w.t("field.not_year", v)
	case triage.ReasonYearRange:
		// Years as written, not grouped as numbers (2.031).
		return w.t("field.year_range", strconv.Itoa(fe.N), strconv.Itoa(fe.Max))
	case triage.ReasonNotNumber:
		return w.t("field.not_number", v)
	case triage.ReasonEmployeesRange:
		return w.t("field.employees", fe.N)
	case triage.ReasonTooManyExtra:
		return w.t("field.too_many_extra", fe.N, fe.Max)
	case triage.ReasonExtraName:
		return w.t("field.extra_name", v, fe.Max)
	case triage.ReasonNotLeadID:
		return w.t("field.not_lead_id", v)
	case triage.ReasonPickReason:
		return w.t("field.pick_reason")
	case triage.ReasonUnknownReason:
		return w.t("field.unknown_reason")
	case triage.ReasonPickPartner:
		return w.t("field.pick_partner")
	case triage.ReasonPickOutcome:
		return w.t("field.pick_outcome")
	case triage.ReasonPickOwner:
		return w.t("field.pick_owner")
	}
	return fe.Problem
}

// fieldError is "field: problem" in the language, plain.
func (w errorWords) fieldError(fe *triage.FieldError) string {
	if fe.Field == "" {
		return w.fieldProblem(fe)
	}
	return fe.Field + ": " + w.fieldProblem(fe)
}
