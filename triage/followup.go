package triage

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// FollowUp is how the team is reminded of leads nobody takes up, from
// config.toml's [reminders] (and voting.team, slack.team_lead).
type FollowUp struct {
	After         time.Duration // reminder in the thread after this much business time; 0 = none
	EscalateAfter time.Duration // direct message to TeamLead after this much; 0 = none
	Hours         BusinessHours
	Team          []string // voting.team: who is expected to vote; empty = unknown
	TeamLead      string   // slack.team_lead; "" = no escalation
}

// Stage is one step of the follow-up of a lead.
type Stage int

const (
	StageNone     Stage = iota
	StageRemind         // a reminder in the card's thread
	StageEscalate       // a direct message to the team lead
)

func (s Stage) String() string {
	switch s {
	case StageRemind:
		return "remind"
	case StageEscalate:
		return "escalate"
	}
	return "none"
}

// Snooze bounds.
const (
	MinSnooze = time.Hour
	MaxSnooze = 30 * 24 * time.Hour
)

// DueStages lists the follow-up stages due for l at now, reminder first.
// Only a pending lead that nobody claimed is followed up. Its clock is the
// business time since it was created, or since it was last reopened: each
// round of deliberation gets one reminder and one escalation (like the
// notices of applyPolicy). Nothing is due while the lead is snoozed; once the
// snooze ends, what came due in the meantime is due, once.
func DueStages(l Lead, f FollowUp, now time.Time) []Stage {
	if l.Status != StatusPending || l.Owner != "" || now.Before(l.Reminder.SnoozedUntil) {
		return nil
	}
	start := roundStart(&l)
	var due []Stage
	if f.After > 0 && !inRound(l.Reminder.Reminded, start) && !now.Before(f.Hours.Add(start, f.After)) {
		due = append(due, StageRemind)
	}
	if f.EscalateAfter > 0 && f.TeamLead != "" && !inRound(l.Reminder.Escalated, start) && !now.Before(f.Hours.Add(start, f.EscalateAfter)) {
		due = append(due, StageEscalate)
	}
	return due
}

// roundStart is when the lead's current round of deliberation began: its
// creation, or its last reopening.
func roundStart(l *Lead) time.Time {
	for i := len(l.Events) - 1; i >= 0; i-- {
		if e := l.Events[i]; e.Kind == EventReopened && e.At.After(l.CreatedAt) {
			return e.At
		}
	}
	return l.CreatedAt
}

// inRound reports whether a stage that happened at t belongs to the round
// that began at start.
func inRound(t, start time.Time) bool {
	return !t.IsZero() && !t.Before(start)
}

// SweepResult lists the leads a sweep followed up.
type SweepResult struct {
	Reminded  []LeadID
	Escalated []LeadID
}

// SweepReminders queues the reminders and escalations due at now. It reads
// only the pending leads (the status index), so its cost does not grow with
// the number of decided leads. Each stage is recorded on the lead in the
// transaction that queues its message, after checking again that it is
// still due there: two sweeps, or a sweep across a restart, never send a
// stage twice. One lead's failure does not stop the others; the errors are
// joined.
func (s *Service) SweepReminders(ctx context.Context, f FollowUp, now time.Time) (SweepResult, error) {
	var res SweepResult
	leads, err := s.Store.Leads(ctx, LeadFilter{Status: StatusPending})
	if err != nil {
		return res, fmt.Errorf("listing pending leads for reminders: %w", err)
	}
	var errs []error
	queued := false
	for _, l := range leads {
		if len(DueStages(l, f, now)) == 0 {
			continue
		}
		if err := ctx.Err(); err != nil {
			errs = append(errs, err)
			break
		}
		var done []Stage
		_, err := s.updateLead(ctx, l.ID, func(l *Lead) ([]OutboxItem, error) {
			done = nil
			var out []OutboxItem
			for _, st := range DueStages(*l, f, now) {
				done = append(done, st)
				out = append(out, s.followUp(l, st, f, now))
			}
			return out, nil
		})
		switch {
		case errors.Is(err, ErrNotFound):
			continue // erased meanwhile
		case err != nil:
			errs = append(errs, fmt.Errorf("following up %s: %w", l.ID, err))
			continue
		}
		for _, st := range done {
			queued = true
			switch st {
			case StageRemind:
				res.Reminded = append(res.Reminded, l.ID)
			case StageEscalate:
				res.Escalated = append(res.Escalated, l.ID)
			}
		}
	}
	if queued {
		s.wake()
	}
	return res, errors.Join(errs...)
}

// followUp records stage st on l and returns its message.
func (s *Service) followUp(l *Lead, st Stage, f FollowUp, now time.Time) OutboxItem {
	n := Notice{Waited: f.Hours.Elapsed(roundStart(l), now), BusinessHours: !f.Hours.Always()}
	missing := notVoted(l, f.Team)
	n.Users = missing
	if st == StageEscalate {
		l.Reminder.Escalated = now
		detail := "told " + f.TeamLead
		if len(missing) > 0 {
			detail += "; not voted: " + strings.Join(missing, ", ")
		}
		l.addEvent(now, EventEscalated, DecidedByPolicy, detail, EvTold, f.TeamLead, EvNotVoted, strings.Join(missing, ArgSep))
		n.Kind, n.Label, n.Votes = NoticeEscalation, truncateRunes(l.Label(), 80), len(l.Votes)
		if Revealed(l, s.Policy) {
			n.Tally = Count(l.Votes)
		} else {
			n.Blind = true
		}
		return OutboxItem{Kind: OutboxDirect, Lead: l.ID, User: f.TeamLead, Notice: s.notice(l, n), CreatedAt: now}
	}
	l.Reminder.Reminded = now
	detail := ""
	if len(missing) > 0 {
		detail = "not voted: " + strings.Join(missing, ", ")
	}
	l.addEvent(now, EventReminded, DecidedByPolicy, detail, EvNotVoted, strings.Join(missing, ArgSep))
	n.Kind, n.Team = NoticeReminder, len(f.Team) > 0
	return OutboxItem{Kind: OutboxReminder, Lead: l.ID, Channel: s.channelOf(*l), Notice: s.notice(l, n), CreatedAt: now}
}

// notVoted lists the team members without a vote on l, in team order.
func notVoted(l *Lead, team []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, u := range team {
		if _, voted := l.Votes[u]; voted || u == "" || seen[u] {
			continue
		}
		seen[u] = true
		out = append(out, u)
	}
	return out
}

// Snooze holds off the follow-up of lead id for d (MinSnooze to MaxSnooze):
// no reminder or escalation before then. A longer snooze already in place
// stays; the confirmation to user says until when. Only pending leads can
// be snoozed (ErrLeadClosed).
func (s *Service) Snooze(ctx context.Context, id LeadID, user string, d time.Duration) (Lead, error) {
	if d < MinSnooze || d > MaxSnooze {
		return Lead{}, &FieldError{Field: "snooze", Problem: fmt.Sprintf("%s is not between %s and %s", d, MinSnooze, MaxSnooze)}
	}
	if user == "" {
		return Lead{}, &FieldError{Field: "user", Problem: "a snooze needs a user"}
	}
	now := s.now()
	lead, err := s.updateLead(ctx, id, func(l *Lead) ([]OutboxItem, error) {
		if l.Status != StatusPending {
			return nil, ErrLeadClosed
		}
		until := now.Add(d)
		if l.Reminder.SnoozedUntil.After(until) {
			return []OutboxItem{s.ephemeral(l, user, now, Notice{Kind: NoticeAlreadySnoozed, User: user, Until: l.Reminder.SnoozedUntil})}, nil
		}
		l.Reminder.SnoozedUntil = until
		l.addEvent(now, EventSnoozed, user, "until "+until.Format(time.RFC3339), EvAt, until.UTC().Format(time.RFC3339))
		return []OutboxItem{
			s.cardUpdate(l, now),
			s.ephemeral(l, user, now, Notice{Kind: NoticeSnoozed, User: user, Until: until}),
		}, nil
	})
	if err != nil {
		return Lead{}, fmt.Errorf("snoozing %s: %w", id, err)
	}
	s.wake()
	return lead, nil
}
