package triage

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ErrNotDecided says an outcome was given for a lead nobody decided yet:
// what became of a lead is asked only after the team said yes or no.
var ErrNotDecided = errors.New("lead not decided yet")

// Outcome bounds: a value above MaxOutcomeValue (a trillion) is a typo, not
// a deal; a note is a line or two, not a report.
const (
	MaxOutcomeValue = 1_000_000_000_000
	MaxOutcomeNote  = 500
)

// Valid reports whether k is one of the three outcome kinds.
func (k OutcomeKind) Valid() bool {
	switch k {
	case OutcomeWon, OutcomeLost, OutcomeNoDeal:
		return true
	}
	return false
}

// OutcomeInput is what someone says became of a lead.
type OutcomeInput struct {
	Kind  OutcomeKind
	Value int64  // whole currency units; 0 = not given
	Note  string // optional
	By    string // a Slack user id, or "api"
	// Confirm queues a private confirmation to By in the card's channel
	// (a click on the card's buttons; a command or the API answers itself).
	Confirm bool
}

// OutcomeResult says what RecordOutcome did.
type OutcomeResult struct {
	Lead      Lead
	Changed   bool // false: the same outcome again, nothing changed
	Corrected bool // an earlier, different outcome was replaced
}

// ValidateOutcome checks in and returns it cleaned; the error names the
// field.
func ValidateOutcome(in OutcomeInput) (OutcomeInput, error) {
	in.Note = cleanText(in.Note)
	switch {
	case !in.Kind.Valid():
		return in, &FieldError{Field: "outcome", Problem: fmt.Sprintf("%q is not an outcome (won, lost or no_deal)", in.Kind)}
	case in.Value < 0:
		return in, &FieldError{Field: "value", Problem: "must not be negative"}
	case in.Value > MaxOutcomeValue:
		return in, &FieldError{Field: "value", Problem: fmt.Sprintf("%d is more than %d", in.Value, int64(MaxOutcomeValue))}
	case in.Kind == OutcomeNoDeal && in.Value != 0:
		return in, &FieldError{Field: "value", Problem: "no deal has no value"}
	case len([]rune(in.Note)) > MaxOutcomeNote:
		return in, &FieldError{Field: "note", Problem: fmt.Sprintf("too long (%d characters, at most %d)", len([]rune(in.Note)), MaxOutcomeNote)}
	case in.By == "":
		return in, &FieldError{Field: "by", Problem: "say who records the outcome"}
	}
	return in, nil
}

// RecordOutcome records what became of decided lead id, in one transaction
// with the card update and a short notice in the card's thread. The same
// outcome again changes nothing; a different one corrects the earlier, and
// the audit trail keeps both. A pending lead gets ErrNotDecided.
func (s *Service) RecordOutcome(ctx context.Context, id LeadID, in OutcomeInput) (OutcomeResult, error) {
	in, err := ValidateOutcome(in)
	if err != nil {
		return OutcomeResult{}, err
	}
	now := s.now()
	var res OutcomeResult
	lead, err := s.updateLead(ctx, id, func(l *Lead) ([]OutboxItem, error) {
		res = OutcomeResult{}
		if l.Status == StatusPending || l.Decision == nil {
			return nil, ErrNotDecided
		}
		prev := l.Outcome
		if prev != nil && prev.Kind == in.Kind && prev.Value == in.Value && prev.Note == in.Note {
			return nil, nil
		}
		res.Changed, res.Corrected = true, prev != nil
		l.Outcome = &Outcome{Kind: in.Kind, Value: in.Value, Note: in.Note, By: in.By, At: now}
		detail := outcomeDetail(*l.Outcome)
		args := []string{EvResult, string(in.Kind), EvValue, valueArg(in.Value), EvNote, in.Note}
		if prev != nil {
			detail += " (was " + outcomeDetail(*prev) + ")"
			args = append(args, EvWas, string(prev.Kind), EvWasValue, valueArg(prev.Value), EvWasNote, prev.Note)
		}
		l.addEvent(now, EventOutcome, in.By, detail, args...)
		o := *l.Outcome
		out := []OutboxItem{
			s.cardUpdate(l, now),
			s.threadReply(l, now, Notice{Kind: NoticeOutcome, User: in.By, Outcome: &o, Corrected: res.Corrected}),
		}
		if in.Confirm {
			out = append(out, s.ephemeral(l, in.By, now, Notice{Kind: NoticeOutcomeRecorded, User: in.By, Outcome: &o, Corrected: res.Corrected}))
		}
		return out, nil
	})
	if err != nil {
		return OutcomeResult{}, fmt.Errorf("recording the outcome of %s: %w", id, err)
	}
	res.Lead = lead
	if !res.Changed && in.Confirm && lead.Outcome != nil {
		o := *lead.Outcome
		if err := s.Store.Enqueue(ctx, s.ephemeral(&lead, in.By, now, Notice{Kind: NoticeOutcomeRecorded, User: in.By, Outcome: &o, Repeat: true})); err != nil {
			return res, fmt.Errorf("queueing a reply to %s: %w", in.By, err)
		}
	}
	if res.Changed || in.Confirm {
		s.wake()
	}
	return res, nil
}

// outcomeDetail is an outcome in the audit trail's plain words.
func outcomeDetail(o Outcome) string {
	d := string(o.Kind)
	if o.Value > 0 {
		d += " " + strconv.FormatInt(o.Value, 10)
	}
	if o.Note != "" {
		d += ": " + o.Note
	}
	return d
}

// valueArg is an outcome's value as an event argument; "" when not given.
func valueArg(v int64) string {
	if v <= 0 {
		return ""
	}
	return strconv.FormatInt(v, 10)
}

// How far back before the ask_after threshold the outcome check reads
// decisions, through the decided-time index: OutcomeAskWindow on each check
// once this process has checked, so a check every minute costs the leads
// decided in two weeks, not every decided lead ever stored; and, on the
// first check after a start (or after a failed check), back to where the
// last good check read, at most OutcomeAskCatchUp: a bot stopped for up to
// that long still asks once on those cards. Older ones only the digest lists
// (OutcomeDigestWindow).
const (
	OutcomeAskWindow  = 14 * 24 * time.Hour
	OutcomeAskCatchUp = 90 * 24 * time.Hour
)

// outcomeCheck remembers, in this process, up to which threshold the
// outcome check has read every decision.
type outcomeCheck struct {
	mu      sync.Mutex
	through time.Time
}

// AskOutcomes turns on the outcome buttons on the cards of the decided leads
// whose decision is askAfter old (0 = never) and that have no outcome: once
// per decision, remembered on the lead (Reminder.OutcomeAsked) in the
// transaction that queues the card update. It reads the decisions of
// OutcomeAskWindow before the threshold, or further back to the last good
// check's threshold, at most OutcomeAskCatchUp (see there): through
// OutcomeIndex, only those not asked about yet, where the Store has it.
func (s *Service) AskOutcomes(ctx context.Context, askAfter time.Duration, now time.Time) ([]LeadID, error) {
	if askAfter <= 0 {
		return nil, nil
	}
	cutoff := now.Add(-askAfter).Add(time.Nanosecond) // decided at or before now − askAfter
	from := cutoff.Add(-OutcomeAskWindow)
	s.outcomes.mu.Lock()
	if through := s.outcomes.through; through.Before(from) {
		from = cutoff.Add(-OutcomeAskCatchUp)
		if through.After(from) {
			from = through // it read [.., through)
		}
	}
	s.outcomes.mu.Unlock()
	var leads []Lead
	var err error
	if ix, ok := s.Store.(OutcomeIndex); ok {
		leads, err = ix.LeadsToAsk(ctx, from, cutoff)
	} else {
		leads, err = s.decidedBetween(ctx, from, cutoff)
	}
	if err != nil {
		return nil, fmt.Errorf("listing decided leads to ask about: %w", err)
	}
	var asked []LeadID
	var errs []error
	for _, l := range leads {
		if !outcomeAskDue(l, askAfter, now) {
			continue
		}
		if err := ctx.Err(); err != nil {
			errs = append(errs, err)
			break
		}
		did := false
		_, err := s.updateLead(ctx, l.ID, func(l *Lead) ([]OutboxItem, error) {
			did = false
			if !outcomeAskDue(*l, askAfter, now) {
				return nil, nil
			}
			did = true
			l.Reminder.OutcomeAsked = now
			return []OutboxItem{s.cardUpdate(l, now)}, nil
		})
		switch {
		case errors.Is(err, ErrNotFound):
			continue // erased meanwhile
		case err != nil:
			errs = append(errs, fmt.Errorf("asking the outcome of %s: %w", l.ID, err))
			continue
		}
		if did {
			asked = append(asked, l.ID)
		}
	}
	if len(asked) > 0 {
		s.wake()
	}
	if len(errs) == 0 {
		s.outcomes.mu.Lock()
		if cutoff.After(s.outcomes.through) {
			s.outcomes.through = cutoff
		}
		s.outcomes.mu.Unlock()
	}
	return asked, errors.Join(errs...)
}

// outcomeAskDue: the outcome is due and this decision was not asked about
// yet (a lead reopened and decided again is asked again).
func outcomeAskDue(l Lead, askAfter time.Duration, now time.Time) bool {
	return OutcomeDue(l, askAfter, now) && l.Reminder.OutcomeAsked.Before(l.Decision.At)
}

// OutcomeAsked reports whether l's card asks what became of it: asked for
// its current decision, and no outcome yet.
func OutcomeAsked(l Lead) bool {
	return l.Outcome == nil && l.Decision != nil && l.Status != StatusPending &&
		!l.Reminder.OutcomeAsked.IsZero() && !l.Reminder.OutcomeAsked.Before(l.Decision.At)
}

// decidedBetween returns the decided leads whose decision is in [from, to),
// through the time index where the Store has one.
func (s *Service) decidedBetween(ctx context.Context, from, to time.Time) ([]Lead, error) {
	if ix, ok := s.Store.(TimeIndex); ok {
		return ix.LeadsDecided(ctx, from, to)
	}
	var out []Lead
	for _, st := range []Status{StatusQualified, StatusDisqualified, StatusReferred} {
		leads, err := s.Store.Leads(ctx, LeadFilter{Status: st})
		if err != nil {
			return nil, err
		}
		for _, l := range leads {
			if d := l.Decision; d != nil && !d.At.Before(from) && d.At.Before(to) {
				out = append(out, l)
			}
		}
	}
	return out, nil
}

// MaxDigestOutcomes bounds the digest's "what became of these?" list, and
// OutcomeDigestWindow how far back before the ask_after threshold it looks:
// a lead decided longer ago than that without an outcome is left alone.
const (
	MaxDigestOutcomes   = 5
	OutcomeDigestWindow = 90 * 24 * time.Hour
)

// outcomesToAsk returns the oldest decided leads past askAfter without an
// outcome (at most MaxDigestOutcomes) and how many more there are.
// Through OutcomeIndex it decodes only the leads it returns.
func (s *Service) outcomesToAsk(ctx context.Context, askAfter time.Duration, now time.Time) ([]Lead, int, error) {
	if askAfter <= 0 {
		return nil, 0, nil
	}
	cutoff := now.Add(-askAfter).Add(time.Nanosecond)
	if ix, ok := s.Store.(OutcomeIndex); ok {
		leads, total, err := ix.AwaitingOutcome(ctx, cutoff.Add(-OutcomeDigestWindow), cutoff, MaxDigestOutcomes)
		if err != nil {
			return nil, 0, fmt.Errorf("listing decided leads without an outcome for the digest: %w", err)
		}
		return leads, total - len(leads), nil
	}
	leads, err := s.decidedBetween(ctx, cutoff.Add(-OutcomeDigestWindow), cutoff)
	if err != nil {
		return nil, 0, fmt.Errorf("listing decided leads without an outcome for the digest: %w", err)
	}
	var due []Lead
	for _, l := range leads {
		if OutcomeDue(l, askAfter, now) {
			due = append(due, l)
		}
	}
	slices.SortStableFunc(due, func(a, b Lead) int { return a.Decision.At.Compare(b.Decision.At) })
	if len(due) > MaxDigestOutcomes {
		return due[:MaxDigestOutcomes], len(due) - MaxDigestOutcomes, nil
	}
	return due, 0, nil
}

// OutcomeDue reports whether the team should be asked what became of l at
// now: decided at least askAfter ago (0 = never ask) with no outcome yet.
func OutcomeDue(l Lead, askAfter time.Duration, now time.Time) bool {
	return askAfter > 0 && l.Status != StatusPending && l.Decision != nil && l.Outcome == nil &&
		!l.Decision.At.IsZero() && !now.Before(l.Decision.At.Add(askAfter))
}

// returning links a new lead to the latest decision that declined an
// earlier lead with its e-mail or its domain, unless that domain is a
// free-mail one (Service.FreeMail; the research's previously_disqualified
// flag skips those too). This is the link outcomes and statistics follow.
// A failed look-up is logged and leaves the lead unlinked: it must not
// stop the lead being stored.
func (s *Service) returning(ctx context.Context, l Lead) *PriorDecision {
	if l.Email == "" && l.Domain == "" {
		return nil
	}
	others, err := s.similar(ctx, l)
	if err != nil {
		s.log().WarnContext(ctx, "looking for an earlier decision on a new lead", "error", err)
		return nil
	}
	freeMail := s.FreeMail != nil && l.Domain != "" && s.FreeMail(l.Domain)
	var prior *PriorDecision
	for _, o := range others {
		d := o.Decision
		if d == nil || !declined(o.Status) {
			continue
		}
		if freeMail && !(l.Email != "" && strings.EqualFold(o.Email, l.Email)) {
			continue // only the free-mail domain in common: someone else
		}
		if prior == nil || d.At.After(prior.At) {
			prior = &PriorDecision{Lead: o.ID, Outcome: o.Status, Reason: d.Reason, At: d.At, Channel: o.Slack.Channel, TS: o.Slack.TS}
		}
	}
	return prior
}
