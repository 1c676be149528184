package triage

import "time"

// Timings are how long a lead waited for the team, in wall time since it
// was created (not business time: the figures answer "how long did they
// wait for us?").
type Timings struct {
	FirstVote, Claim, Decision          time.Duration
	HasFirstVote, HasClaim, HasDecision bool
}

// LeadTimings reads l's audit trail: its first vote, its first claim, and
// its current decision. A reopened lead's decision counts once it is decided
// again.
func LeadTimings(l Lead) Timings {
	var t Timings
	for _, e := range l.Events {
		switch {
		case e.Kind == EventVoted && !t.HasFirstVote:
			t.FirstVote, t.HasFirstVote = max(e.At.Sub(l.CreatedAt), 0), true
		case e.Kind == EventClaimed && !t.HasClaim:
			t.Claim, t.HasClaim = max(e.At.Sub(l.CreatedAt), 0), true
		}
	}
	t.Decision, t.HasDecision = decisionWait(l)
	return t
}

// decisionWait is how long l waited for its current decision; false while
// it is pending (a reopened lead has none until it is decided again).
func decisionWait(l Lead) (time.Duration, bool) {
	if l.Decision == nil || l.Status == StatusPending {
		return 0, false
	}
	return max(l.Decision.At.Sub(l.CreatedAt), 0), true
}

// TimingSummary is the median wait over a period's leads. A median is 0 when
// no lead has that timing; the counts say how many do.
type TimingSummary struct {
	Since, Until time.Time // leads created in [Since, Until)
	Count        int       // leads created in the period

	MedianFirstVote, MedianClaim, MedianDecision time.Duration
	FirstVotes, Claims, Decisions                int // leads with a first vote, a claim, a decision
}

// SummariseTimings summarises the leads created in [since, until).
func SummariseTimings(leads []Lead, since, until time.Time) TimingSummary {
	sum := TimingSummary{Since: since, Until: until}
	var votes, claims, decisions []time.Duration
	for _, l := range leads {
		if l.CreatedAt.Before(since) || !l.CreatedAt.Before(until) {
			continue
		}
		sum.Count++
		t := LeadTimings(l)
		if t.HasFirstVote {
			votes = append(votes, t.FirstVote)
		}
		if t.HasClaim {
			claims = append(claims, t.Claim)
		}
		if t.HasDecision {
			decisions = append(decisions, t.Decision)
		}
	}
	sum.FirstVotes, sum.Claims, sum.Decisions = len(votes), len(claims), len(decisions)
	sum.MedianFirstVote, sum.MedianClaim, sum.MedianDecision = median(votes), median(claims), median(decisions)
	return sum
}
