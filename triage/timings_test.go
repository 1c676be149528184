package triage_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/leadtriage/leadtriage/triage"
)

func TestLeadTimings(t *testing.T) {
	t.Parallel()
	created := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	ev := func(after time.Duration, kind string) triage.Event {
		return triage.Event{At: created.Add(after), Kind: kind}
	}
	tests := []struct {
		name string
		lead triage.Lead
		want triage.Timings
	}{
		{"new lead", triage.Lead{Status: triage.StatusPending, CreatedAt: created, Events: []triage.Event{ev(0, triage.EventCreated)}}, triage.Timings{}},
		{
			name: "first vote and first claim count",
			lead: triage.Lead{Status: triage.StatusPending, CreatedAt: created, Events: []triage.Event{
				ev(0, triage.EventCreated), ev(time.Hour, triage.EventVoted), ev(2*time.Hour, triage.EventVoted),
				ev(3*time.Hour, triage.EventClaimed), ev(4*time.Hour, triage.EventClaimed),
			}},
			want: triage.Timings{FirstVote: time.Hour, HasFirstVote: true, Claim: 3 * time.Hour, HasClaim: true},
		},
		{
			name: "decided: the current decision",
			lead: triage.Lead{Status: triage.StatusQualified, CreatedAt: created,
				Decision: &triage.Decision{Outcome: triage.StatusQualified, At: created.Add(50 * time.Hour)},
				Events: []triage.Event{
					ev(30*time.Minute, triage.EventVoted), ev(time.Hour, triage.EventDecided), ev(2*time.Hour, triage.EventReopened), ev(50*time.Hour, triage.EventDecided),
				}},
			want: triage.Timings{FirstVote: 30 * time.Minute, HasFirstVote: true, Decision: 50 * time.Hour, HasDecision: true},
		},
		{
			name: "reopened: no decision now",
			lead: triage.Lead{Status: triage.StatusPending, CreatedAt: created,
				Events: []triage.Event{ev(time.Hour, triage.EventDecided), ev(2*time.Hour, triage.EventReopened)}},
			want: triage.Timings{},
		},
		{
			name: "clock skew never gives a negative wait",
			lead: triage.Lead{Status: triage.StatusDisqualified, CreatedAt: created,
				Decision: &triage.Decision{Outcome: triage.StatusDisqualified, At: created.Add(-time.Second)},
				Events:   []triage.Event{ev(-time.Second, triage.EventVoted)}},
			want: triage.Timings{HasFirstVote: true, HasDecision: true},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tt.want, triage.LeadTimings(tt.lead)); diff != "" {
				t.Errorf("LeadTimings (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSummariseTimings(t *testing.T) {
	t.Parallel()
	since := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	until := since.Add(7 * 24 * time.Hour)
	lead := func(created time.Time, vote, claim, decide time.Duration) triage.Lead {
		l := triage.Lead{Status: triage.StatusPending, CreatedAt: created}
		if vote > 0 {
			l.Events = append(l.Events, triage.Event{At: created.Add(vote), Kind: triage.EventVoted})
		}
		if claim > 0 {
			l.Events = append(l.Events, triage.Event{At: created.Add(claim), Kind: triage.EventClaimed})
		}
		if decide > 0 {
			l.Status = triage.StatusQualified
			l.Decision = &triage.Decision{Outcome: triage.StatusQualified, At: created.Add(decide)}
		}
		return l
	}
	leads := []triage.Lead{
		lead(since, time.Hour, 0, 10*time.Hour),
		lead(since.Add(time.Hour), 3*time.Hour, 2*time.Hour, 20*time.Hour),
		lead(since.Add(2*time.Hour), 2*time.Hour, 0, 0),
		lead(until.Add(-time.Nanosecond), 0, 0, 0),
		// Outside the period: never counted.
		lead(since.Add(-time.Nanosecond), time.Minute, time.Minute, time.Minute),
		lead(until, time.Minute, time.Minute, time.Minute),
	}
	want := triage.TimingSummary{
		Since: since, Until: until, Count: 4,
		MedianFirstVote: 2 * time.Hour, FirstVotes: 3,
		MedianClaim: 2 * time.Hour, Claims: 1,
		MedianDecision: 15 * time.Hour, Decisions: 2,
	}
	if diff := cmp.Diff(want, triage.SummariseTimings(leads, since, until)); diff != "" {
		t.Errorf("SummariseTimings (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(triage.TimingSummary{Since: since, Until: until}, triage.SummariseTimings(nil, since, until)); diff != "" {
		t.Errorf("SummariseTimings(nil) (-want +got):\n%s", diff)
	}
}
