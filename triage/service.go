package triage

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// Service holds the use cases. Adapters call it; it calls only the Store.
type Service struct {
	Store   Store
	Policy  Policy
	Channel string           // the triage channel cards are posted to
	Now     func() time.Time // injected clock; time.Now when nil
	// Wake, when set, is called after every commit that queued outbox items,
	// so the delivery worker starts at once instead of at its next poll.
	Wake func()
	// Events are the domain event types something listens to (outgoing
	// webhooks); only those are queued, in the transaction of the change.
	// Empty: none.
	Events map[string]bool

	// Log receives what background work (research) cannot return; nil = discard.
	Log *slog.Logger

	// Researcher looks into new leads; nil = no research.
	Researcher Researcher
	// ResearchTimeout bounds one research run (research.timeout); 10 s when 0.
	ResearchTimeout time.Duration
	// FreeMail reports whether a domain is a free-mail (or disposable)
	// provider's, whose users are no one company: a new lead is linked to
	// an earlier decision by such a domain only through the same e-mail.
	// nil = none is.
	FreeMail func(domain string) bool

	research researchRunner
	outcomes outcomeCheck
	stats    statsCache // recent DecisionStats reports
}

func (s *Service) log() *slog.Logger {
	if s.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Log
}

func (s *Service) wake() {
	if s.Wake != nil {
		s.Wake()
	}
}

// Idempotency windows: an explicit Idempotency-Key is honoured for a day (as
// payment APIs do); an identical body without a key counts as a double submit
// for ten minutes.
const (
	ExplicitKeyTTL = 24 * time.Hour
	ImplicitKeyTTL = 10 * time.Minute
)

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

// Submission is how a lead arrived.
type Submission struct {
	IdempotencyKey string // from the Idempotency-Key header; "" = none
	CreatedBy      string // Slack user id when added in Slack
	Via            string // "webhook", "slack", "csv": recorded in the audit trail
}

// Submit validates in, stores it and queues its card, atomically. It returns
// the stored lead and whether it is new; a repeat (same key, or the same
// content within ImplicitKeyTTL) returns the first lead.
func (s *Service) Submit(ctx context.Context, in LeadInput, sub Submission) (Lead, bool, error) {
	now := s.now()
	lead, err := NewLead(in, now)
	if err != nil {
		return Lead{}, false, err
	}
	lead.CreatedBy = sub.CreatedBy
	if lead.Source == "" {
		lead.Source = sub.Via
	}
	fp := in.Fingerprint()
	idem := Idempotency{Fingerprint: fp, Now: now}
	if sub.IdempotencyKey != "" {
		if n := len(sub.IdempotencyKey); n > 255 {
			return Lead{}, false, &FieldError{Field: "Idempotency-Key", Problem: fmt.Sprintf("too long (%d characters, at most 255)", n)}
		}
		idem.Key = "key:" + sub.IdempotencyKey
		idem.Expires = now.Add(ExplicitKeyTTL)
	} else {
		idem.Key = "body:" + fp
		idem.Expires = now.Add(ImplicitKeyTTL)
	}
	by := sub.CreatedBy
	if by == "" {
		by = sub.Via
	}
	lead.addEvent(now, EventCreated, by, "via "+sub.Via, EvVia, sub.Via)
	lead.Returning = s.returning(ctx, lead)
	out := []OutboxItem{{Kind: OutboxPostCard, Channel: s.Channel, CreatedAt: now}}
	if len(s.Policy.Criteria) > 0 {
		out = append(out, OutboxItem{Kind: OutboxPostChecklist, Channel: s.Channel, CreatedAt: now})
	}
	if s.Listening(EventTypeCreated) {
		// The store sets the item's Lead to the new id; the worker takes the
		// snapshot's id from it.
		out = append(out, EventItem(EventTypeCreated, lead, now))
	}
	stored, created, err := s.Store.CreateLead(ctx, lead, idem, out)
	if err != nil {
		return Lead{}, false, fmt.Errorf("storing lead: %w", err)
	}
	if created {
		s.wake()
		s.StartResearch(stored.ID, false)
	}
	return stored, created, nil
}

// Lead returns one lead.
func (s *Service) Lead(ctx context.Context, id LeadID) (Lead, error) {
	return s.Store.Lead(ctx, id)
}

// Leads lists leads with a status ("" = all), oldest first.
func (s *Service) Leads(ctx context.Context, status Status) ([]Lead, error) {
	if status != "" && !status.Valid() {
		return nil, &FieldError{Field: "status", Problem: fmt.Sprintf("%q is not a status (pending, qualified, disqualified, referred or all)", status)}
	}
	return s.Store.Leads(ctx, LeadFilter{Status: status})
}

// VoteResult says what a vote did.
type VoteResult struct {
	Lead    Lead
	Changed bool    // false: the same vote again, nothing changed
	Verdict Verdict // the policy's view after the vote
}

// Vote records user's choice on lead id, applies the policy and queues the
// card update, the voter's confirmation and any thread message.
func (s *Service) Vote(ctx context.Context, id LeadID, user string, c Choice) (VoteResult, error) {
	now := s.now()
	var res VoteResult
	lead, err := s.updateLead(ctx, id, func(l *Lead) ([]OutboxItem, error) {
		res = VoteResult{}
		changed, err := ApplyVote(l, user, c, now)
		if err != nil || !changed {
			return nil, err
		}
		res.Changed = true
		var out []OutboxItem
		res.Verdict, out = s.applyPolicy(l, now)
		confirm := Notice{Kind: NoticeVoted, User: user, Choice: c}
		if l.Status == StatusPending && s.Policy.Blind && !Revealed(l, s.Policy) {
			confirm.Blind, confirm.Votes, confirm.Quorum = true, len(l.Votes), max(s.Policy.Quorum, 1)
		}
		out = append(out, s.ephemeral(l, user, now, confirm))
		return out, nil
	})
	if err != nil {
		return VoteResult{}, fmt.Errorf("voting on %s: %w", id, err)
	}
	res.Lead = lead
	if res.Changed {
		s.wake()
	}
	if !res.Changed {
		if err := s.Store.Enqueue(ctx, s.ephemeral(&lead, user, s.now(), Notice{Kind: NoticeAlreadyVoted, User: user, Choice: c})); err != nil {
			return res, fmt.Errorf("queueing a reply to %s: %w", user, err)
		}
		s.wake()
	}
	return res, nil
}

// applyPolicy applies the policy after a vote or an answer: it decides, or tells
// the team lead why it does not (a tie, a must-have veto, decide = "lead"),
// and queues the card update and the thread messages.
func (s *Service) applyPolicy(l *Lead, now time.Time) (Verdict, []OutboxItem) {
	v := Evaluate(l, s.Policy)
	out := []OutboxItem{s.cardUpdate(l, now)}
	switch {
	case v.Outcome != "":
		reason := fmt.Sprintf("%s by vote (%s)", v.Outcome, v.Tally)
		if err := Decide(l, v.Outcome, reason, DecidedByPolicy, now); err != nil {
			return v, out
		}
		out = append(out, s.threadReply(l, now, Notice{Kind: NoticeAutoDecided, Status: v.Outcome, Tally: v.Tally}))
	case len(v.Vetoed) > 0 && !hasEvent(l, EventVetoed):
		l.addEvent(now, EventVetoed, DecidedByPolicy, "must-have answered no: "+strings.Join(v.Vetoed, ", "), EvCriteria, strings.Join(v.Vetoed, ArgSep))
		out = append(out, s.threadReply(l, now, Notice{Kind: NoticeVetoed, Tally: v.Tally, Criteria: v.Vetoed}))
	case v.Tie && !hasEvent(l, EventTie):
		l.addEvent(now, EventTie, DecidedByPolicy, v.Tally.String(), v.Tally.args()...)
		out = append(out, s.threadReply(l, now, Notice{Kind: NoticeTie, Tally: v.Tally}))
	case v.Quorum && !s.Policy.Auto && l.Status == StatusPending && !hasEvent(l, EventQuorum):
		l.addEvent(now, EventQuorum, DecidedByPolicy, v.Tally.String(), v.Tally.args()...)
		out = append(out, s.threadReply(l, now, Notice{Kind: NoticeDecideNow, Tally: v.Tally, Status: v.Majority,
			Criteria: EvaluateCriteria(l, s.Policy.Criteria).MustNo}))
	}
	if s.Policy.DissentPrompt && v.Quorum && v.Tally.Disqualify == v.Tally.Total() && !redFlags(l.Research) && !hasEvent(l, EventDissent) {
		l.addEvent(now, EventDissent, DecidedByPolicy, "")
		out = append(out, s.threadReply(l, now, Notice{Kind: NoticeDissent}))
	}
	return v, out
}

// redFlags reports whether research found anything worth a second thought;
// an incomplete research run is not a finding.
func redFlags(r Research) bool {
	for _, f := range r.Flags {
		if f.Code != FlagResearchIncomplete {
			return true
		}
	}
	return false
}

// hasEvent reports whether l's audit trail has an event of kind since the
// lead was last reopened: notices to the team lead are given once per round
// of deliberation, not on every later vote.
func hasEvent(l *Lead, kind string) bool {
	for i := len(l.Events) - 1; i >= 0; i-- {
		switch l.Events[i].Kind {
		case kind:
			return true
		case EventReopened:
			return false
		}
	}
	return false
}

// Claim makes user the lead's owner and queues the card update.
func (s *Service) Claim(ctx context.Context, id LeadID, user string) (Lead, error) {
	now := s.now()
	var changed bool
	lead, err := s.updateLead(ctx, id, func(l *Lead) ([]OutboxItem, error) {
		var err error
		changed, err = Claim(l, user, now)
		if err != nil || !changed {
			return nil, err
		}
		return []OutboxItem{
			s.cardUpdate(l, now),
			s.ephemeral(l, user, now, Notice{Kind: NoticeClaimed, User: user}),
		}, nil
	})
	if err != nil {
		return Lead{}, fmt.Errorf("claiming %s: %w", id, err)
	}
	if changed {
		s.wake()
	}
	return lead, nil
}

// Tell queues an ephemeral message to user in channel: answers to clicks
// that changed nothing, and errors.
func (s *Service) Tell(ctx context.Context, channel, user, text string) error {
	if channel == "" {
		channel = s.Channel
	}
	if user == "" || channel == "" {
		return nil
	}
	if err := s.Store.Enqueue(ctx, OutboxItem{Kind: OutboxEphemeral, Channel: channel, User: user, Text: text, CreatedAt: s.now()}); err != nil {
		return fmt.Errorf("queueing a reply to %s: %w", user, err)
	}
	s.wake()
	return nil
}

func (s *Service) channelOf(l Lead) string {
	if l.Slack.Channel != "" {
		return l.Slack.Channel
	}
	return s.Channel
}

func (s *Service) cardUpdate(l *Lead, now time.Time) OutboxItem {
	return OutboxItem{Kind: OutboxUpdateCard, Lead: l.ID, Channel: s.channelOf(*l), CreatedAt: now}
}

// notice fills in what every notice about l carries.
func (s *Service) notice(l *Lead, n Notice) *Notice {
	n.Lead, n.TeamLead = l.ID, s.Policy.TeamLead
	return &n
}

func (s *Service) threadReply(l *Lead, now time.Time, n Notice) OutboxItem {
	return OutboxItem{Kind: OutboxThreadReply, Lead: l.ID, Channel: s.channelOf(*l), Notice: s.notice(l, n), CreatedAt: now}
}

func (s *Service) ephemeral(l *Lead, user string, now time.Time, n Notice) OutboxItem {
	return OutboxItem{Kind: OutboxEphemeral, Lead: l.ID, Channel: s.channelOf(*l), User: user, Notice: s.notice(l, n), CreatedAt: now}
}
