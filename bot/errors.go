package bot

import (
	"errors"

	"github.com/leadtriage/leadtriage/triage"
)

// errorText says what went wrong in words fit for people, as mrkdwn.
// Unknown (internal) errors get a generic sentence so that no detail
// leaks; the caller logs those (triage.IsInternal). A field error may
// quote what the user typed, so it is escaped.
func (w words) errorText(err error) string {
	var fe *triage.FieldError
	var ce *triage.ClaimedError
	switch {
	case err == nil:
		return ""
	case errors.As(err, &fe):
		return esc(fe.Error())
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
