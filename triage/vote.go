package triage

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Choice is one teammate's vote.
type Choice string

const (
	ChoiceQualify    Choice = "qualify"
	ChoiceDisqualify Choice = "disqualify"
	ChoiceUnsure     Choice = "unsure"
)

// Valid reports whether c is a known choice.
func (c Choice) Valid() bool {
	return c == ChoiceQualify || c == ChoiceDisqualify || c == ChoiceUnsure
}

// Policy is how the team decides, from config.toml's [voting], [[criteria]],
// [disqualify] and [[partners]] sections.
type Policy struct {
	Quorum   int      // votes needed before the vote is revealed and decided
	Blind    bool     // hide who voted what until the quorum
	Auto     bool     // decide = "auto": the majority at the quorum decides
	TeamLead string   // Slack user id mentioned on ties and when the lead must decide
	Deciders []string // who may decide by hand; empty = the team lead

	Criteria []Criterion // the team's qualification criteria, in config order
	Reasons  []string    // reasons offered when disqualifying; empty = free text
	Partners []Partner   // where declined leads are referred

	// DissentPrompt asks once, when everyone votes no and research found
	// no red flag, what would change the team's mind.
	DissentPrompt bool
}

// CanDecide reports whether user may decide, and reopen, leads by hand.
func (p Policy) CanDecide(user string) bool {
	if user == "" {
		return false
	}
	if len(p.Deciders) == 0 {
		return user == p.TeamLead
	}
	for _, d := range p.Deciders {
		if d == user {
			return true
		}
	}
	return false
}

// Partner finds a configured partner by name (case-insensitive).
func (p Policy) Partner(name string) (Partner, bool) {
	for _, pa := range p.Partners {
		if strings.EqualFold(pa.Name, name) {
			return pa, true
		}
	}
	return Partner{}, false
}

// Tally counts votes.
type Tally struct {
	Qualify, Disqualify, Unsure int
}

// Total is the number of votes cast.
func (t Tally) Total() int { return t.Qualify + t.Disqualify + t.Unsure }

func (t Tally) String() string {
	return fmt.Sprintf("%d qualify, %d disqualify, %d unsure", t.Qualify, t.Disqualify, t.Unsure)
}

// args are the tally as an event's Args.
func (t Tally) args() []string {
	return []string{EvQualify, strconv.Itoa(t.Qualify), EvDisqualify, strconv.Itoa(t.Disqualify), EvUnsure, strconv.Itoa(t.Unsure)}
}

// Count tallies a lead's votes.
func Count(votes map[string]Choice) Tally {
	var t Tally
	for _, c := range votes {
		switch c {
		case ChoiceQualify:
			t.Qualify++
		case ChoiceDisqualify:
			t.Disqualify++
		case ChoiceUnsure:
			t.Unsure++
		}
	}
	return t
}

// ApplyVote records user's choice on l. It reports whether anything changed:
// voting the same again is a no-op. A decided lead takes no votes.
func ApplyVote(l *Lead, user string, c Choice, now time.Time) (changed bool, err error) {
	if !c.Valid() {
		return false, &FieldError{Field: "vote", Problem: fmt.Sprintf("%q is not a vote", c)}
	}
	if user == "" {
		return false, &FieldError{Field: "user", Problem: "a vote needs a voter"}
	}
	if l.Status != StatusPending {
		return false, ErrLeadClosed
	}
	prev, had := l.Votes[user]
	if had && prev == c {
		return false, nil
	}
	if l.Votes == nil {
		l.Votes = map[string]Choice{}
	}
	l.Votes[user] = c
	detail := string(c)
	if had {
		detail = fmt.Sprintf("%s (was %s)", c, prev)
	}
	l.addEvent(now, EventVoted, user, detail, EvChoice, string(c), EvWas, string(prev))
	return true, nil
}

// Verdict is what the policy makes of a lead's votes.
type Verdict struct {
	Tally   Tally
	Quorum  bool   // enough votes were cast
	Outcome Status // set when the policy decides the lead now
	Tie     bool   // quorum reached, no majority: the team lead must decide
	// Vetoed lists must-have criteria answered "no" that stopped a majority
	// for qualify; the team lead decides instead.
	Vetoed []string
	// Majority is what most votes say at the quorum, also when the policy
	// does not decide (decide = "lead", a veto): the recommendation.
	Majority Status
}

// Evaluate applies the policy to l's votes. It decides nothing for a lead
// that is no longer pending, and nothing before the quorum. With Auto, a
// majority of qualify over disqualify qualifies and the reverse disqualifies;
// unsure votes count toward the quorum only.
func Evaluate(l *Lead, p Policy) Verdict {
	v := Verdict{Tally: Count(l.Votes)}
	quorum := p.Quorum
	if quorum < 1 {
		quorum = 1
	}
	v.Quorum = v.Tally.Total() >= quorum
	if l.Status != StatusPending || !v.Quorum {
		return v
	}
	switch {
	case v.Tally.Qualify > v.Tally.Disqualify:
		v.Majority = StatusQualified
	case v.Tally.Disqualify > v.Tally.Qualify:
		v.Majority = StatusDisqualified
	}
	if !p.Auto {
		return v
	}
	switch {
	case v.Majority == StatusQualified:
		if no := EvaluateCriteria(l, p.Criteria).MustNo; len(no) > 0 {
			v.Vetoed = no
			return v
		}
		v.Outcome = StatusQualified
	case v.Majority == StatusDisqualified:
		v.Outcome = StatusDisqualified
	default:
		v.Tie = true
	}
	return v
}

// Revealed reports whether a card may show who voted what: always without
// blind voting, else once the quorum is reached or the lead is decided.
func Revealed(l *Lead, p Policy) bool {
	if !p.Blind || l.Status != StatusPending {
		return true
	}
	q := p.Quorum
	if q < 1 {
		q = 1
	}
	// Once revealed, a withdrawn vote does not hide the others again.
	return len(l.Votes) >= q || hasEvent(l, EventQuorum) || hasEvent(l, EventTie) || hasEvent(l, EventVetoed)
}

// Claim makes user the lead's owner. Claiming your own lead again is a no-op;
// a lead someone else owns is not taken over silently.
func Claim(l *Lead, user string, now time.Time) (changed bool, err error) {
	if user == "" {
		return false, &FieldError{Field: "user", Problem: "a claim needs a user"}
	}
	switch {
	case l.Status == StatusDisqualified || l.Status == StatusReferred:
		return false, ErrLeadClosed
	case l.Owner == user:
		return false, nil
	case l.Owner != "":
		return false, &ClaimedError{Lead: l.ID, Owner: l.Owner}
	}
	l.Owner = user
	l.addEvent(now, EventClaimed, user, "")
	return true, nil
}

// Decide closes l with outcome. by is DecidedByPolicy or the deciding user.
func Decide(l *Lead, outcome Status, reason, by string, now time.Time) error {
	if l.Status != StatusPending {
		return ErrLeadClosed
	}
	if outcome == StatusPending || !outcome.Valid() {
		return &FieldError{Field: "outcome", Problem: fmt.Sprintf("%q is not an outcome", outcome)}
	}
	l.Status = outcome
	l.Decision = &Decision{Outcome: outcome, Reason: reason, By: by, At: now.UTC()}
	detail := string(outcome)
	if reason != "" {
		detail += ": " + reason
	}
	l.addEvent(now, EventDecided, by, detail, EvOutcome, string(outcome), EvReason, reason)
	return nil
}
