package triage_test

import (
	"fmt"
	"strings"
	"time"

	"github.com/leadtriage/leadtriage/triage"
)

// said is what the bot says in English for an outbox item's notice (its
// Text for items without one). The domain records notices as data; this
// keeps the domain's tests reading as the conversation they specify, in
// the words the bot used when the domain still wrote them. bot's notice
// tests check that the bot's English rendering says the same.
func said(it triage.OutboxItem) string {
	n := it.Notice
	if n == nil {
		return it.Text
	}
	id := "*" + n.Lead.String() + "*"
	lead := "Team lead"
	if n.TeamLead != "" {
		lead = "<@" + n.TeamLead + ">"
	}
	switch n.Kind {
	case triage.NoticeVoted:
		s := fmt.Sprintf("Your vote on %s: *%s*.", id, n.Choice)
		if n.Blind {
			s += fmt.Sprintf(" %d of %d votes so far; the votes stay hidden until the quorum.", n.Votes, n.Quorum)
		}
		return s
	case triage.NoticeAlreadyVoted:
		return fmt.Sprintf("You already voted *%s* on %s; nothing changed.", n.Choice, id)
	case triage.NoticeClaimed:
		return fmt.Sprintf("You own %s now.", id)
	case triage.NoticeAutoDecided:
		return fmt.Sprintf("%s is %s by the team's vote: %s.", id, n.Status, n.Tally)
	case triage.NoticeVetoed:
		return fmt.Sprintf("The vote on %s says qualify (%s), but must-have %s is answered *no*. %s, your call.", id, n.Tally, codes(n.Criteria), lead)
	case triage.NoticeTie:
		return fmt.Sprintf("Quorum reached on %s without a majority (%s). %s, your call.", id, n.Tally, lead)
	case triage.NoticeDecideNow:
		rec := "no majority"
		if n.Status != "" {
			rec = "the vote recommends *" + map[triage.Status]string{triage.StatusQualified: "qualify", triage.StatusDisqualified: "disqualify"}[n.Status] + "*"
		}
		if len(n.Criteria) > 0 {
			rec += "; must-have " + codes(n.Criteria) + " is answered *no*"
		}
		return fmt.Sprintf("Quorum reached on %s (%s): %s. %s, please decide.", id, n.Tally, rec, lead)
	case triage.NoticeDissent:
		return fmt.Sprintf("Everyone said no to %s, and research found no red flag. What would change your mind? "+
			"A 15-minute call costs little, and a no can be a missed big deal.", id)
	case triage.NoticeDecided:
		s := fmt.Sprintf("<@%s> decided: %s is *%s*", n.User, id, n.Status)
		switch n.Status {
		case triage.StatusQualified:
			s += fmt.Sprintf(", owner <@%s>.", n.Owner)
		case triage.StatusDisqualified:
			s += " (" + escaped(n.Reason) + ")."
		case triage.StatusReferred:
			s += " to " + escaped(n.Partner) + "."
		}
		return s
	case triage.NoticeReopened:
		return fmt.Sprintf("<@%s> reopened %s (it was %s). Votes start afresh.", n.User, id, n.Status)
	case triage.NoticeAnswerHint:
		var lines []string
		for _, p := range n.Problems {
			lines = append(lines, fmt.Sprintf("`%s`: %s", p.Criterion, escaped(p.Accepted)))
		}
		return fmt.Sprintf("<@%s>, I could not read that answer. Accepted: %s. Write one per line, e.g. `%s: yes`; words after the answer are kept as a note.",
			n.User, strings.Join(lines, "; "), n.Problems[0].Criterion)
	case triage.NoticeDeclineDraft:
		if n.Partner != "" {
			return "A decline that points them to " + escaped(n.Partner) + " (nothing is sent automatically):"
		}
		return "A decline to send them, if you like (nothing is sent automatically):"
	case triage.NoticeReferralDraft:
		return "And an introduction for " + escaped(n.Partner) + ":"
	case triage.NoticeReminder:
		s := fmt.Sprintf("%s has waited %s without a claim or a decision.", id, waited(n))
		switch {
		case !n.Team:
			return s + " Who takes it? Claim it or vote."
		case len(n.Users) == 0:
			return s + " Everyone has voted: who takes it? Claim it or decide."
		}
		return s + " Not voted yet: " + mentions(n.Users) + "."
	case triage.NoticeEscalation:
		s := fmt.Sprintf("%s (%s) has waited %s without a decision. ", id, escaped(n.Label), waited(n))
		switch {
		case n.Votes == 0:
			s += "No votes so far."
		case n.Blind:
			s += fmt.Sprintf("Votes so far: %d (hidden until the quorum).", n.Votes)
		default:
			s += fmt.Sprintf("Votes so far: %s.", n.Tally)
		}
		if len(n.Users) > 0 {
			s += " Not voted yet: " + mentions(n.Users) + "."
		}
		return s
	case triage.NoticeSnoozed:
		return fmt.Sprintf("Snoozed %s until %s.", id, amsterdam(n.Until))
	case triage.NoticeAlreadySnoozed:
		return fmt.Sprintf("%s is already snoozed until %s.", id, amsterdam(n.Until))
	}
	return "unknown notice " + string(n.Kind)
}

func codes(ids []string) string {
	q := make([]string, len(ids))
	for i, id := range ids {
		q[i] = "`" + id + "`"
	}
	return strings.Join(q, ", ")
}

func mentions(users []string) string {
	m := make([]string, len(users))
	for i, u := range users {
		m[i] = "<@" + u + ">"
	}
	return strings.Join(m, ", ")
}

func escaped(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

func waited(n *triage.Notice) string {
	d := n.Waited.Truncate(time.Minute)
	h, m := int(d/time.Hour), int(d%time.Hour/time.Minute)
	s := fmt.Sprintf("%dh %dm", h, m)
	switch {
	case h == 0:
		s = fmt.Sprintf("%dm", m)
	case m == 0:
		s = fmt.Sprintf("%dh", h)
	}
	if n.BusinessHours {
		s += " (business hours)"
	}
	return s
}

// amsterdam is a snooze's end as the tests' team reads it.
func amsterdam(t time.Time) string {
	loc, err := time.LoadLocation("Europe/Amsterdam")
	if err != nil {
		panic(err)
	}
	return t.In(loc).Format("Mon 2 Jan 15:04")
}
