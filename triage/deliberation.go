package triage

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// MaxNote bounds a decider's note, in runes.
const MaxNote = 1000

// Answer records user's answers on lead id: each person's latest answer is
// kept, and the latest of anyone's is the criterion's value. Answers are
// taken on decided leads too (they inform a reopen), but only a pending lead
// can be decided by them (a must-have turning yes may lift a veto). A click
// (no note) that repeats a person's answer keeps the note they wrote with it.
func (s *Service) Answer(ctx context.Context, id LeadID, user string, answers []ParsedAnswer) (Lead, error) {
	return s.answer(ctx, id, user, answers, false)
}

// answer is Answer; with replyNotes the notes are the whole truth (a thread
// reply, or its edit, says everything the person means), else an empty
// note keeps the one stored with the same value.
func (s *Service) answer(ctx context.Context, id LeadID, user string, answers []ParsedAnswer, replyNotes bool) (Lead, error) {
	if user == "" {
		return Lead{}, &FieldError{Field: "user", Problem: "an answer needs a user"}
	}
	if len(answers) == 0 {
		return s.Lead(ctx, id)
	}
	answers = append([]ParsedAnswer(nil), answers...) // notes are cleaned in a copy
	for i, a := range answers {
		c, ok := s.criterion(a.Criterion)
		if !ok {
			return Lead{}, fmt.Errorf("answering on %s: %q: %w", id, a.Criterion, ErrUnknownCriteria)
		}
		if v, err := NormaliseAnswer(c, a.Value); err != nil || v != a.Value {
			return Lead{}, &FieldError{Field: a.Criterion, Problem: "accepted: " + AcceptedForms(c)}
		}
		answers[i].Note = truncateRunes(cleanLine(a.Note), MaxAnswerNote)
	}
	now := s.now()
	changed := false
	lead, err := s.updateLead(ctx, id, func(l *Lead) ([]OutboxItem, error) {
		changed = false
		for _, a := range answers {
			prev := l.AnswersBy[a.Criterion][user]
			note := a.Note
			if note == "" && !replyNotes && prev.Value == a.Value {
				note = prev.Note
			}
			if prev.Value == a.Value && prev.Note == note {
				continue
			}
			changed = true
			if l.AnswersBy == nil {
				l.AnswersBy = map[string]map[string]Answer{}
			}
			if l.AnswersBy[a.Criterion] == nil {
				l.AnswersBy[a.Criterion] = map[string]Answer{}
			}
			ans := Answer{Value: a.Value, Note: note, By: user, At: now}
			l.AnswersBy[a.Criterion][user] = ans
			if l.Answers == nil {
				l.Answers = map[string]Answer{}
			}
			l.Answers[a.Criterion] = ans
			l.addEvent(now, EventAnswered, user, a.Criterion+": "+a.Value)
		}
		if !changed {
			return nil, nil
		}
		out := []OutboxItem{s.checklistUpdate(l, now)}
		if l.Status == StatusPending {
			_, items := s.applyPolicy(l, now)
			out = append(out, items...)
		} else {
			out = append(out, s.cardUpdate(l, now))
		}
		return out, nil
	})
	if err != nil {
		return Lead{}, fmt.Errorf("answering on %s: %w", id, err)
	}
	if changed {
		s.wake()
	}
	return lead, nil
}

// ReplyResult says what a thread reply did.
type ReplyResult struct {
	Lead     Lead
	Ours     bool // the reply is in the thread of one of our cards
	Answered int
	Problems []ReplyProblem
	Hinted   bool // a hint was queued for the problems (at most once a reply)
}

// Reply is a person's message in a thread, or its edit, as plain text.
type Reply struct {
	Channel  string
	ThreadTS string // the card's ts
	TS       string // the reply's own ts: an edit keeps it
	User     string
	Text     string
}

// AnswerReply reads a reply in a card's thread as answers. Chatter is left
// alone; a line that names a criterion but has no readable answer gets one
// short hint in the thread, once per reply (TS) however often the reply is
// edited or delivered. Edits come here too and update the answers and notes.
func (s *Service) AnswerReply(ctx context.Context, r Reply) (ReplyResult, error) {
	l, err := s.Store.LeadByMessage(ctx, r.Channel, r.ThreadTS)
	if errors.Is(err, ErrNotFound) {
		return ReplyResult{}, nil // not one of our threads
	}
	if err != nil {
		return ReplyResult{}, fmt.Errorf("finding the lead of thread %s: %w", r.ThreadTS, err)
	}
	res := ReplyResult{Lead: l, Ours: true}
	answers, problems := ParseReply(r.Text, s.Policy.Criteria)
	res.Problems = problems
	if len(answers) > 0 {
		if res.Lead, err = s.answer(ctx, l.ID, r.User, answers, true); err != nil {
			return res, err
		}
		res.Answered = len(answers)
	}
	if len(problems) > 0 {
		item := s.threadReply(&l, s.now(), Notice{Kind: NoticeAnswerHint, User: r.User, Problems: problems})
		if r.TS == "" {
			err = s.Store.Enqueue(ctx, item)
			res.Hinted = err == nil
		} else {
			// The job marker and the hint are written together: a retried
			// delivery or an edit of the same reply never hints again.
			res.Hinted, err = s.Store.MarkJob(ctx, "answer-hint|"+r.Channel+"|"+r.TS, s.now(), []OutboxItem{item})
		}
		if err != nil {
			return res, fmt.Errorf("queueing an answer hint on %s: %w", l.ID, err)
		}
		if res.Hinted {
			s.wake()
		}
	}
	return res, nil
}

// Unvote withdraws user's vote if it is still c (a reaction was removed).
func (s *Service) Unvote(ctx context.Context, id LeadID, user string, c Choice) (Lead, error) {
	now := s.now()
	changed := false
	lead, err := s.updateLead(ctx, id, func(l *Lead) ([]OutboxItem, error) {
		changed = false
		if l.Status != StatusPending {
			return nil, ErrLeadClosed
		}
		if l.Votes[user] != c {
			return nil, nil
		}
		delete(l.Votes, user)
		changed = true
		l.addEvent(now, EventUnvoted, user, string(c), EvChoice, string(c))
		return []OutboxItem{s.cardUpdate(l, now)}, nil
	})
	if err != nil {
		return Lead{}, fmt.Errorf("withdrawing a vote on %s: %w", id, err)
	}
	if changed {
		s.wake()
	}
	return lead, nil
}

// DecisionInput is a decider's decision from the decide dialog.
type DecisionInput struct {
	Outcome Status // qualified, disqualified or referred
	Owner   string // qualified: who follows up (default: the current owner)
	Reason  string // disqualified: one of Policy.Reasons (free text when none are configured)
	Note    string
	Partner string // referred: a Policy.Partners name
}

// DecideByHand records a decider's decision. Wrong input is a *FieldError
// naming the dialog field (outcome, owner, reason, note, partner); a user
// who may not decide gets ErrNotAllowed.
func (s *Service) DecideByHand(ctx context.Context, id LeadID, user string, in DecisionInput) (Lead, error) {
	if !s.Policy.CanDecide(user) {
		return Lead{}, fmt.Errorf("deciding %s: %w", id, ErrNotAllowed)
	}
	in.Reason, in.Note, in.Partner = cleanLine(in.Reason), cleanText(in.Note), cleanLine(in.Partner)
	if n := len([]rune(in.Note)); n > MaxNote {
		return Lead{}, &FieldError{Field: "note", Problem: fmt.Sprintf("too long (%d characters, at most %d)", n, MaxNote), Reason: ReasonTooLong, N: n, Max: MaxNote}
	}
	var partner *Partner
	switch in.Outcome {
	case StatusQualified:
	case StatusDisqualified:
		if in.Reason == "" {
			return Lead{}, &FieldError{Field: "reason", Problem: "pick a reason: it tells the team later why we said no", Reason: ReasonPickReason}
		}
		if len(s.Policy.Reasons) > 0 {
			configured, ok := matchFold(s.Policy.Reasons, in.Reason)
			if !ok {
				return Lead{}, &FieldError{Field: "reason", Problem: "pick one of the configured reasons", Reason: ReasonUnknownReason}
			}
			in.Reason = configured
		}
	case StatusReferred:
		p, ok := s.Policy.Partner(in.Partner)
		if !ok {
			return Lead{}, &FieldError{Field: "partner", Problem: "pick a partner to refer them to", Reason: ReasonPickPartner}
		}
		partner = &p
		in.Partner = p.Name
	default:
		return Lead{}, &FieldError{Field: "outcome", Problem: "pick qualify, disqualify or refer", Reason: ReasonPickOutcome}
	}
	now := s.now()
	lead, err := s.updateLead(ctx, id, func(l *Lead) ([]OutboxItem, error) {
		if in.Outcome == StatusQualified {
			owner := in.Owner
			if owner == "" {
				owner = l.Owner
			}
			if owner == "" {
				return nil, &FieldError{Field: "owner", Problem: "pick who follows up on this lead", Reason: ReasonPickOwner}
			}
			if owner != l.Owner {
				l.Owner = owner
				l.addEvent(now, EventClaimed, user, "owner set to "+owner+" by the decision", EvOwner, owner)
			}
		}
		reason := in.Reason
		if in.Outcome == StatusReferred {
			reason = "referred to " + in.Partner
		}
		if err := Decide(l, in.Outcome, reason, user, now); err != nil {
			return nil, err
		}
		l.Decision.Note, l.Decision.Partner = in.Note, in.Partner
		decided := Notice{Kind: NoticeDecided, User: user, Status: l.Status}
		switch in.Outcome {
		case StatusQualified:
			decided.Owner = l.Owner
		case StatusDisqualified:
			decided.Reason = in.Reason
		case StatusReferred:
			decided.Partner = in.Partner
		}
		out := []OutboxItem{s.cardUpdate(l, now), s.threadReply(l, now, decided)}
		switch in.Outcome {
		case StatusDisqualified:
			out = append(out, s.draft(l, now, Notice{Kind: NoticeDeclineDraft}, DeclineFacts(*l, in.Reason, nil)))
		case StatusReferred:
			out = append(out,
				s.draft(l, now, Notice{Kind: NoticeDeclineDraft, Partner: partner.Name}, DeclineFacts(*l, "", partner)),
				s.draft(l, now, Notice{Kind: NoticeReferralDraft, Partner: partner.Name}, ReferralFacts(*l, *partner)))
		}
		return out, nil
	})
	if err != nil {
		return Lead{}, fmt.Errorf("deciding %s: %w", id, err)
	}
	s.wake()
	return lead, nil
}

// Reopen puts a decided lead back to pending: the decision moves to the
// audit trail and the team votes afresh.
func (s *Service) Reopen(ctx context.Context, id LeadID, user, note string) (Lead, error) {
	if !s.Policy.CanDecide(user) {
		return Lead{}, fmt.Errorf("reopening %s: %w", id, ErrNotAllowed)
	}
	note = cleanText(note)
	if n := len([]rune(note)); n > MaxNote {
		return Lead{}, &FieldError{Field: "note", Problem: fmt.Sprintf("too long (%d characters, at most %d)", n, MaxNote), Reason: ReasonTooLong, N: n, Max: MaxNote}
	}
	now := s.now()
	lead, err := s.updateLead(ctx, id, func(l *Lead) ([]OutboxItem, error) {
		if l.Status == StatusPending || l.Decision == nil {
			return nil, &FieldError{Field: "outcome", Problem: fmt.Sprintf("%s is not decided, so there is nothing to reopen", l.ID)}
		}
		was := l.Decision
		detail := fmt.Sprintf("was %s by %s on %s: %s", was.Outcome, was.By, was.At.Format("2006-01-02"), was.Reason)
		if note != "" {
			detail += "; " + note
		}
		l.Status, l.Decision = StatusPending, nil
		votes := make([]string, 0, len(l.Votes))
		for u, c := range l.Votes {
			votes = append(votes, u+"="+string(c))
		}
		sort.Strings(votes)
		if len(votes) > 0 {
			detail += "; votes were " + strings.Join(votes, ", ")
		}
		l.Votes = nil
		l.addEvent(now, EventReopened, user, detail, EvOutcome, string(was.Outcome), EvBy, was.By, EvAt, was.At.UTC().Format(time.RFC3339),
			EvReason, was.Reason, EvNote, note, EvVotes, strings.Join(votes, ArgSep))
		out := []OutboxItem{s.cardUpdate(l, now), s.threadReply(l, now, Notice{Kind: NoticeReopened, User: user, Status: was.Outcome})}
		if len(s.Policy.Criteria) > 0 {
			out = append(out, s.checklistUpdate(l, now))
		}
		return out, nil
	})
	if err != nil {
		return Lead{}, fmt.Errorf("reopening %s: %w", id, err)
	}
	s.wake()
	return lead, nil
}

func (s *Service) criterion(id string) (Criterion, bool) {
	for _, c := range s.Policy.Criteria {
		if c.ID == id {
			return c, true
		}
	}
	return Criterion{}, false
}

func (s *Service) checklistUpdate(l *Lead, now time.Time) OutboxItem {
	return OutboxItem{Kind: OutboxUpdateChecklist, Lead: l.ID, Channel: s.channelOf(*l), CreatedAt: now}
}

// draft queues a thread reply with a copyable draft, introduced by n; the
// bot escapes the draft and shows it as a block of its own.
func (s *Service) draft(l *Lead, now time.Time, n Notice, f DraftFacts) OutboxItem {
	n.DraftFacts = &f
	return s.threadReply(l, now, n)
}

// matchFold finds s in list, case-insensitively, and returns the list's spelling.
func matchFold(list []string, s string) (string, bool) {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return v, true
		}
	}
	return "", false
}
