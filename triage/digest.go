package triage

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"
)

// DigestPart is one message of a digest. It travels as JSON in
// OutboxItem.Payload, and the bot renders it: every text in it is raw and
// must be escaped there.
type DigestPart struct {
	Key         string // the run's job key ("digest|…"); "" for a preview
	Part, Parts int    // 1-based: part Part of Parts
	// Title is what parts queued before the bot worded digests were
	// called; the bot titles a part by its Day now. "" in new parts.
	Title string
	// Day is the digest's scheduled time (now for a preview): the bot
	// names the day in its title.
	Day     time.Time
	Pending []DigestLead // still open, oldest first
	Decided []DigestLead // decided since the last digest, in decision order
	Revisit []DigestLead // disqualified a while ago: worth another look
	// Outcomes lists decided leads past outcomes.ask_after with no outcome
	// ("what became of these?"), on the last part, at most MaxDigestOutcomes;
	// OutcomesMore counts the rest.
	Outcomes     []DigestLead
	OutcomesMore int
	Week         *TimingSummary
	// Month is last month's "did we decide well?" on the last part of a
	// month's first digest (the one whose period crosses the month's
	// start in the digest's time zone); nil otherwise.
	Month *DecisionReport
	Empty bool // nothing pending, decided or to revisit
}

// DigestLead is a lead as a digest lists it.
type DigestLead struct {
	ID        LeadID
	Label     string // raw lead text: the bot escapes it
	Status    Status
	CreatedAt time.Time
	Votes     int
	Revealed  bool     // the votes may be shown (blind voting)
	Flags     []string // red flag codes (Severity ≥ DigestFlagSeverity), worst first
	Channel   string   // the card, for a link
	TS        string
	DecidedAt time.Time
	Reason    string // the decision's reason
}

// DigestOptions are config.toml's [digest] settings for one run.
type DigestOptions struct {
	Channel      string         // slack.digest_channel
	Location     *time.Location // digest.timezone, for the title; nil = UTC
	RevisitAfter time.Duration  // digest.revisit_after; 0 = no second look
	AskAfter     time.Duration  // outcomes.ask_after; 0 = no "what became of these?"
	SkipEmpty    bool           // post nothing when there is nothing to say
	MaxPerPart   int            // leads per message; DefaultDigestPart when 0
}

const (
	// DefaultDigestPart keeps a part well inside Slack's 50 blocks a message.
	DefaultDigestPart = 15
	// DigestFlagSeverity is the least severity a flag needs to be listed.
	DigestFlagSeverity = 50
	// digestWeek is the period of the digest's timing line.
	digestWeek = 7 * 24 * time.Hour
	// DigestJobPrefix prefixes the job keys of digest runs (Store.MarkJob,
	// Store.LastJob): the scheduler asks whether any digest ever ran.
	DigestJobPrefix = "digest|"
)

// BuildDigest composes the digest as of now: the pending leads oldest first,
// the leads decided in [since, now), the disqualified leads whose second look
// (RevisitAfter after their decision) has come and that no digest showed
// yet, and on the last part a timing line over the last seven days. It reads
// the pending leads through the status index. It returns the parts (none when empty
// and o.SkipEmpty) and the leads shown for a second look, which the caller
// marks once the digest is queued. A Store with time indexes (TimeIndex)
// is asked only for the decided, revisit and week's leads; any other is
// read one status at a time.
func (s *Service) BuildDigest(ctx context.Context, since, now time.Time, o DigestOptions) ([]DigestPart, []LeadID, error) {
	// One status at a time, keeping only the leads the digest shows or
	// times: holding every decided lead at once would cost what all leads
	// ever stored cost in memory.
	weekFrom := now.Add(-digestWeek)
	inWeek := func(l Lead) bool { return !l.CreatedAt.Before(weekFrom) && l.CreatedAt.Before(now) }
	pending, err := s.Store.Leads(ctx, LeadFilter{Status: StatusPending})
	if err != nil {
		return nil, nil, fmt.Errorf("listing %s leads for the digest: %w", StatusPending, err)
	}
	slices.SortStableFunc(pending, func(a, b Lead) int { return a.CreatedAt.Compare(b.CreatedAt) })

	var decided, revisit, all []Lead
	if ix, ok := s.Store.(TimeIndex); ok {
		// The time indexes: the cost follows the leads shown or timed.
		if decided, err = ix.LeadsDecided(ctx, since, now); err != nil {
			return nil, nil, fmt.Errorf("listing decided leads for the digest: %w", err)
		}
		if o.RevisitAfter > 0 {
			// Decided at or before now − RevisitAfter: before one nanosecond later.
			leads, err := ix.LeadsToRevisit(ctx, now.Add(-o.RevisitAfter).Add(time.Nanosecond))
			if err != nil {
				return nil, nil, fmt.Errorf("listing leads to revisit for the digest: %w", err)
			}
			for _, l := range leads {
				if dueRevisit(l, o.RevisitAfter, now) {
					revisit = append(revisit, l)
				}
			}
		}
		if all, err = ix.LeadsCreated(ctx, weekFrom, now); err != nil {
			return nil, nil, fmt.Errorf("listing this week's leads for the digest: %w", err)
		}
	} else {
		for _, l := range pending {
			if inWeek(l) {
				all = append(all, l)
			}
		}
		for _, st := range []Status{StatusQualified, StatusDisqualified, StatusReferred} {
			leads, err := s.Store.Leads(ctx, LeadFilter{Status: st})
			if err != nil {
				return nil, nil, fmt.Errorf("listing %s leads for the digest: %w", st, err)
			}
			for _, l := range leads {
				if inWeek(l) {
					all = append(all, l)
				}
				if l.Decision == nil {
					continue
				}
				if at := l.Decision.At; !at.Before(since) && at.Before(now) {
					decided = append(decided, l)
				}
				if dueRevisit(l, o.RevisitAfter, now) {
					revisit = append(revisit, l)
				}
			}
		}
	}
	byDecision := func(a, b Lead) int { return a.Decision.At.Compare(b.Decision.At) }
	slices.SortStableFunc(decided, byDecision)
	slices.SortStableFunc(revisit, byDecision)

	week := SummariseTimings(all, weekFrom, now)
	month, err := s.monthReport(ctx, since, now, o.Location)
	if err != nil {
		return nil, nil, err
	}
	asked, askedMore, err := s.outcomesToAsk(ctx, o.AskAfter, now)
	if err != nil {
		return nil, nil, err
	}
	parts := splitDigest(s.digestLeads(pending), s.digestLeads(decided), s.digestLeads(revisit), o.MaxPerPart)
	if len(parts) == 0 {
		if o.SkipEmpty && len(asked) == 0 && (month == nil || month.Decided == 0) {
			return nil, nil, nil
		}
		parts = []DigestPart{{Empty: len(asked) == 0}}
	}
	parts[len(parts)-1].Outcomes, parts[len(parts)-1].OutcomesMore = s.digestLeads(asked), askedMore
	for i := range parts {
		parts[i].Part, parts[i].Parts, parts[i].Day = i+1, len(parts), now
	}
	parts[len(parts)-1].Week = &week
	parts[len(parts)-1].Month = month
	ids := make([]LeadID, len(revisit))
	for i, l := range revisit {
		ids[i] = l.ID
	}
	return parts, ids, nil
}

// dueRevisit reports whether disqualified lead l is due a second look at
// now: after RevisitAfter, and not shown for a second look since it was
// (last) disqualified.
func dueRevisit(l Lead, after time.Duration, now time.Time) bool {
	if after <= 0 || l.Status != StatusDisqualified || l.Decision == nil {
		return false
	}
	at := l.Decision.At
	return !at.Add(after).After(now) && (l.Reminder.Revisited.IsZero() || l.Reminder.Revisited.Before(at))
}

func (s *Service) digestLeads(leads []Lead) []DigestLead {
	out := make([]DigestLead, 0, len(leads))
	for _, l := range leads {
		d := DigestLead{
			ID: l.ID, Label: l.Label(), Status: l.Status, CreatedAt: l.CreatedAt,
			Votes: len(l.Votes), Revealed: Revealed(&l, s.Policy),
			Channel: l.Slack.Channel, TS: l.Slack.TS,
		}
		for _, f := range l.Research.Flags { // ordered by severity by Compose
			if Severity(f.Code) >= DigestFlagSeverity && !slices.Contains(d.Flags, f.Code) {
				d.Flags = append(d.Flags, f.Code)
			}
		}
		if l.Decision != nil {
			d.DecidedAt, d.Reason = l.Decision.At, l.Decision.Reason
		}
		out = append(out, d)
	}
	return out
}

// splitDigest cuts the three sections into parts of at most per leads, in
// order: pending, decided, revisit. No leads, no parts.
func splitDigest(pending, decided, revisit []DigestLead, per int) []DigestPart {
	if per <= 0 {
		per = DefaultDigestPart
	}
	var parts []DigestPart
	room := 0
	take := func(leads []DigestLead, section func(*DigestPart) *[]DigestLead) {
		for len(leads) > 0 {
			if room == 0 {
				parts = append(parts, DigestPart{})
				room = per
			}
			n := min(room, len(leads))
			sec := section(&parts[len(parts)-1])
			*sec = append(*sec, leads[:n]...)
			leads, room = leads[n:], room-n
		}
	}
	take(pending, func(p *DigestPart) *[]DigestLead { return &p.Pending })
	take(decided, func(p *DigestPart) *[]DigestLead { return &p.Decided })
	take(revisit, func(p *DigestPart) *[]DigestLead { return &p.Revisit })
	return parts
}

// DigestKey names the digest run scheduled at t, for RunDigest: the local
// wall time in loc and the zone's name ("2026-11-30T09:00 Europe/Amsterdam").
// Wall time, not the offset, so that the hour a DST fall-back repeats (cron
// runs "30 1 * * *" twice on that day) gives the same key and one digest.
func DigestKey(t time.Time, loc *time.Location) string {
	if loc == nil {
		loc = time.UTC
	}
	return t.In(loc).Format("2006-01-02T15:04") + " " + loc.String()
}

// lastDigest is when the last digest ran, or a day before now when none did.
func (s *Service) lastDigest(ctx context.Context, now time.Time) (time.Time, error) {
	_, at, ok, err := s.Store.LastJob(ctx, DigestJobPrefix)
	if err != nil {
		return time.Time{}, fmt.Errorf("finding the last digest: %w", err)
	}
	if !ok || at.After(now) {
		return now.Add(-24 * time.Hour), nil
	}
	return at, nil
}

// RunDigest posts the digest of the scheduled run key (the caller derives it
// from the run's scheduled time, e.g. "2026-11-30T09:00 Europe/Amsterdam")
// once: the job marker is written with the digest's outbox items in one
// transaction, so a second tick, a catch-up at start-up after downtime or a
// DST fall-back repeat with the same key queues nothing (sent = false).
// "Decided since" starts where the previous run ended: the marker's time is
// now, the time the run read the store, so consecutive runs cover [previous
// now, now) without overlap, also when a catch-up runs late.
func (s *Service) RunDigest(ctx context.Context, key string, scheduled, now time.Time, o DigestOptions) (sent bool, err error) {
	// Most ticks (and every start-up catch-up after the first) find the run
	// recorded already: answer that before reading any leads. MarkJob below
	// stays the guard against a race.
	if _, _, done, err := s.Store.LastJob(ctx, DigestJobPrefix+key); err != nil {
		return false, fmt.Errorf("looking up digest %s: %w", key, err)
	} else if done {
		return false, nil
	}
	since, err := s.lastDigest(ctx, now)
	if err != nil {
		return false, err
	}
	parts, revisit, err := s.BuildDigest(ctx, since, now, o)
	if err != nil {
		return false, err
	}
	items := make([]OutboxItem, 0, len(parts))
	for i := range parts {
		parts[i].Key = DigestJobPrefix + key
		// The title names the scheduled day: a catch-up at 11:00 is still
		// that morning's digest.
		parts[i].Day = scheduled
		payload, err := json.Marshal(parts[i])
		if err != nil {
			return false, fmt.Errorf("encoding digest part %d: %w", i+1, err)
		}
		items = append(items, OutboxItem{Kind: OutboxDigest, Channel: o.Channel, Payload: payload, CreatedAt: now})
	}
	first, err := s.Store.MarkJob(ctx, DigestJobPrefix+key, now, items)
	if err != nil {
		return false, fmt.Errorf("recording digest %s: %w", key, err)
	}
	if !first {
		return false, nil
	}
	s.wake()
	// The second looks are marked after the digest is queued: a crash in
	// between shows those leads in the next digest again, which is better
	// than never showing them.
	var errs []error
	for _, id := range revisit {
		_, err := s.updateLead(ctx, id, func(l *Lead) ([]OutboxItem, error) {
			if !dueRevisit(*l, o.RevisitAfter, now) {
				return nil, nil
			}
			l.Reminder.Revisited = now
			l.addEvent(now, EventRevisit, DecidedByPolicy, "shown for a second look in digest "+key, EvDigest, key)
			return nil, nil
		})
		if err != nil && !errors.Is(err, ErrNotFound) {
			errs = append(errs, fmt.Errorf("marking %s as shown again: %w", id, err))
		}
	}
	return len(items) > 0, errors.Join(errs...)
}

// DigestFor is the digest as /qualify digest shows it at now: the same
// content as the next scheduled run (decided since the last digest), marking
// nothing.
func (s *Service) DigestFor(ctx context.Context, now time.Time, o DigestOptions) ([]DigestPart, error) {
	since, err := s.lastDigest(ctx, now)
	if err != nil {
		return nil, err
	}
	parts, _, err := s.BuildDigest(ctx, since, now, o)
	return parts, err
}
