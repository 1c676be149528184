package triage_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/leadtriage/leadtriage/triage"
	"github.com/leadtriage/leadtriage/triage/triagetest"
)

// decidedIndex is the fake store with the decided-time index, recording
// which window each read asked for.
type decidedIndex struct {
	*triagetest.Store
	mu    sync.Mutex
	froms []time.Time
}

func (s *decidedIndex) LeadsDecided(ctx context.Context, from, to time.Time) ([]triage.Lead, error) {
	s.mu.Lock()
	s.froms = append(s.froms, from)
	s.mu.Unlock()
	var out []triage.Lead
	for _, st := range []triage.Status{triage.StatusQualified, triage.StatusDisqualified, triage.StatusReferred} {
		leads, err := s.Leads(ctx, triage.LeadFilter{Status: st})
		if err != nil {
			return nil, err
		}
		for _, l := range leads {
			if !l.Decision.At.Before(from) && l.Decision.At.Before(to) {
				out = append(out, l)
			}
		}
	}
	return out, nil
}

func (s *decidedIndex) LeadsToRevisit(context.Context, time.Time) ([]triage.Lead, error) {
	return nil, errors.New("not used by the outcome check")
}

func (s *decidedIndex) LeadsCreated(context.Context, time.Time, time.Time) ([]triage.Lead, error) {
	return nil, errors.New("not used by the outcome check")
}

func (s *decidedIndex) lastFrom() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.froms[len(s.froms)-1]
}

// A bot stopped for weeks still asks once on the cards whose ask time
// passed meanwhile, up to OutcomeAskCatchUp back, reading only that far
// through the index; once it has checked, each check reads two weeks.
func TestService_AskOutcomes_AfterDowntime(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const after = 720 * time.Hour
	day := 24 * time.Hour
	store := &decidedIndex{Store: &triagetest.Store{}}
	clock := triagetest.NewClock(now)
	newService := func() *triage.Service {
		return &triage.Service{Store: store, Policy: blindAuto, Channel: channel, Now: clock.Now}
	}
	svc := newService()
	decide := func(company string, at time.Time) triage.LeadID {
		t.Helper()
		clock.Set(at)
		l, _, err := svc.Submit(ctx, triage.LeadInput{Company: company}, triage.Submission{Via: "webhook"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.DecideByHand(ctx, l.ID, teamLead, triage.DecisionInput{Outcome: triage.StatusQualified, Owner: "U1"}); err != nil {
			t.Fatal(err)
		}
		return l.ID
	}
	// Decided 100, 70 and 0 days before the decision that is just due.
	tooOld := decide("Too old", now.Add(-100*day))
	missed := decide("Missed while stopped", now.Add(-70*day))
	due := decide("Due now", now)

	// The first check after the start: the bot was down for 70 days.
	clock.Set(now.Add(after))
	asked, err := svc.AskOutcomes(ctx, after, clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(asked)
	if diff := cmp.Diff([]triage.LeadID{missed, due}, asked); diff != "" {
		t.Errorf("asked after downtime (-want +got):\n%s", diff)
	}
	cutoff := now.Add(time.Nanosecond)
	if got, want := store.lastFrom(), cutoff.Add(-triage.OutcomeAskCatchUp); !got.Equal(want) {
		t.Errorf("first check read from %v, want %v (OutcomeAskCatchUp)", got, want)
	}
	if l, _ := store.Lead(ctx, tooOld); triage.OutcomeAsked(l) {
		t.Errorf("%s, decided 100 days before the threshold, was asked", tooOld)
	}

	// A minute later: nothing again, and a two-week read.
	clock.Advance(time.Minute)
	if asked, err := svc.AskOutcomes(ctx, after, clock.Now()); err != nil || len(asked) != 0 {
		t.Errorf("second check asked %v, %v", asked, err)
	}
	if got, want := store.lastFrom(), cutoff.Add(time.Minute-triage.OutcomeAskWindow); !got.Equal(want) {
		t.Errorf("second check read from %v, want %v (OutcomeAskWindow)", got, want)
	}

	// A restart reads back to the catch-up bound, and asks nothing twice.
	if asked, err := newService().AskOutcomes(ctx, after, clock.Now()); err != nil || len(asked) != 0 {
		t.Errorf("check after a restart asked %v, %v", asked, err)
	}
	if got, want := store.lastFrom(), cutoff.Add(time.Minute-triage.OutcomeAskCatchUp); !got.Equal(want) {
		t.Errorf("check after a restart read from %v, want %v", got, want)
	}
}
