package triage_test

import (
	"context"
	"math/rand/v2"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/leadtriage/leadtriage/triage"
	"github.com/leadtriage/leadtriage/triage/triagetest"
)

// The accumulator gives DecisionStats's report on the 200-lead fixture
// whatever the order and the pages the leads come in, with Report asked
// between pages, and whether each lead comes once in both roles (Add) or
// once per stream (AddDecision for the decided-at index, AddReturn for the
// created-at index), as the service feeds it.
func TestStatsAccumulator_OrdersAndPages(t *testing.T) {
	t.Parallel()
	from, to := now.AddDate(0, -2, 0), now
	leads := statsFixture(from, to)
	want := triage.DecisionStats(leads, statsCriteria, from, to)
	if want.Decided != 160 {
		t.Fatalf("fixture report decided %d, want 160 (TestDecisionStats_Fixture)", want.Decided)
	}
	for seed := range uint64(20) {
		rng := rand.New(rand.NewPCG(seed, 42))
		shuffled := func() []triage.Lead {
			s := append([]triage.Lead(nil), leads...)
			rng.Shuffle(len(s), func(i, j int) { s[i], s[j] = s[j], s[i] })
			return s
		}
		// Add, in pages of 1 to 50 leads, with a report between pages.
		acc := triage.NewStatsAccumulator(statsCriteria, from, to)
		for rest := shuffled(); len(rest) > 0; {
			n := min(1+rng.IntN(50), len(rest))
			for _, l := range rest[:n] {
				acc.Add(l)
			}
			rest = rest[n:]
			_ = acc.Report()
		}
		if diff := cmp.Diff(want, acc.Report()); diff != "" {
			t.Errorf("seed %d, Add (-slice +accumulator):\n%s", seed, diff)
		}
		// Two streams, interleaved at random: every lead to AddDecision
		// and to AddReturn once each.
		acc = triage.NewStatsAccumulator(statsCriteria, from, to)
		decisions, returns := shuffled(), shuffled()
		for len(decisions)+len(returns) > 0 {
			if len(returns) == 0 || (len(decisions) > 0 && rng.IntN(2) == 0) {
				acc.AddDecision(decisions[0])
				decisions = decisions[1:]
			} else {
				acc.AddReturn(returns[0])
				returns = returns[1:]
			}
		}
		if diff := cmp.Diff(want, acc.Report()); diff != "" {
			t.Errorf("seed %d, two streams (-slice +accumulator):\n%s", seed, diff)
		}
	}
}

// A report changed by its receiver does not change the accumulator's next.
func TestStatsAccumulator_ReportIsACopy(t *testing.T) {
	t.Parallel()
	from, to := now.AddDate(0, -2, 0), now
	acc := triage.NewStatsAccumulator(statsCriteria, from, to)
	for _, l := range statsFixture(from, to) {
		acc.Add(l)
	}
	first := acc.Report()
	first.Criteria[0].Yes.K = -1
	if got := acc.Report(); cmp.Equal(first, got) {
		t.Error("changing one report changed the next")
	}
}

// countingStore counts how often the service reads every lead: the
// fallback path of DecisionStats.
type countingStore struct {
	*triagetest.Store
	reads atomic.Int64
}

func (s *countingStore) Leads(ctx context.Context, f triage.LeadFilter) ([]triage.Lead, error) {
	s.reads.Add(1)
	return s.Store.Leads(ctx, f)
}

// DecisionStats serves a report for bounds on the same days again for
// StatsCacheTTL without reading the store, stale as it may be by then,
// and reads anew for other days, another period, or once it expired.
func TestService_DecisionStats_Cache(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	from, to := now.AddDate(0, -2, 0), now
	store := &countingStore{Store: &triagetest.Store{}}
	leads := statsFixture(from, to)
	for _, l := range leads {
		if _, _, err := store.CreateLead(ctx, l, triage.Idempotency{}, nil); err != nil {
			t.Fatal(err)
		}
	}
	clock := triagetest.NewClock(now)
	svc := &triage.Service{Store: store, Policy: triage.Policy{Criteria: statsCriteria}, Now: clock.Now}
	stats := func(from, to time.Time) triage.DecisionReport {
		t.Helper()
		r, err := svc.DecisionStats(ctx, from, to)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	reads := func(want int64) {
		t.Helper()
		if got := store.reads.Load(); got != want {
			t.Errorf("store read %d times, want %d", got, want)
		}
	}

	want := triage.DecisionStats(leads, statsCriteria, from, to)
	if diff := cmp.Diff(want, stats(from, to)); diff != "" {
		t.Errorf("first call (-want +got):\n%s", diff)
	}
	reads(1)
	// The App Home a few minutes later: its window moved, its days did not.
	clock.Advance(triage.StatsCacheTTL - time.Minute)
	got := stats(from.Add(9*time.Minute), to.Add(9*time.Minute))
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("second call (-first +second):\n%s", diff)
	}
	reads(1)
	got.Criteria[0].Yes.K = -1 // the caller's copy, not the cache's

	// Meanwhile a qualified lead without an outcome is won: not shown yet.
	var open triage.LeadID
	for _, l := range leads {
		if l.Status == triage.StatusQualified && l.Outcome == nil && !l.Decision.At.Before(from) && l.Decision.At.Before(to) {
			open = l.ID
			break
		}
	}
	if _, err := store.UpdateLead(ctx, open, func(l *triage.Lead) ([]triage.OutboxItem, error) {
		l.Outcome = &triage.Outcome{Kind: triage.OutcomeWon, At: now}
		return nil, nil
	}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, stats(from, to)); diff != "" {
		t.Errorf("within the TTL (-cached +got):\n%s", diff)
	}
	reads(1)

	// Another period, and the same period ending on the next day: read.
	stats(from.AddDate(0, 0, -30), to)
	reads(2)
	stats(from, to.Add(24*time.Hour))
	reads(3)

	// Expired: read again, with the outcome.
	clock.Advance(time.Minute)
	if r := stats(from, to); r.Won != want.Won+1 {
		t.Errorf("after the TTL: won %d, want %d", r.Won, want.Won+1)
	}
	reads(4)
}
