package storage_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/leadtriage/leadtriage/storage"
	"github.com/leadtriage/leadtriage/storage/storagetest"
	"github.com/leadtriage/leadtriage/triage"
)

// DecisionStats gives the same report through the time indexes as from
// every lead (statusOnly), returns created after the period included.
func TestTimeIndexes_SameDecisionStats(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	day := 24 * time.Hour
	crit := []triage.Criterion{{ID: "budget", Kind: triage.KindYesNo}}
	build := func(t *testing.T) *storage.DB {
		db := storagetest.MustOpen(t)
		var declined []triage.LeadID
		for i := range 40 {
			l := newLead(t, fmt.Sprintf("co%d", i))
			l.CreatedAt = t0.Add(time.Duration(i) * day)
			id := mustCreate(t, db, l).ID
			at := l.CreatedAt.Add(time.Duration(i%7) * time.Hour)
			switch i % 4 {
			case 0: // stays pending
			case 1:
				decide(t, db, id, triage.StatusQualified, at)
				kind := triage.OutcomeWon
				if i%8 == 5 {
					kind = triage.OutcomeLost
				}
				if _, err := db.UpdateLead(ctx, id, func(l *triage.Lead) ([]triage.OutboxItem, error) {
					l.Outcome = &triage.Outcome{Kind: kind, At: at.Add(day)}
					l.Answers = map[string]triage.Answer{"budget": {Value: []string{"yes", "no"}[i%3%2]}}
					return nil, nil
				}); err != nil {
					t.Fatal(err)
				}
			default:
				decide(t, db, id, triage.StatusDisqualified, at)
				declined = append(declined, id)
			}
		}
		// Returns of the first declined leads, created after every decision.
		for i, prior := range declined[:5] {
			l := newLead(t, fmt.Sprintf("back%d", i))
			l.CreatedAt = t0.Add(100 * day)
			l.Returning = &triage.PriorDecision{Lead: prior, Outcome: triage.StatusDisqualified}
			id := mustCreate(t, db, l).ID
			if i%2 == 0 {
				decide(t, db, id, triage.StatusQualified, l.CreatedAt.Add(time.Hour))
			}
		}
		return db
	}
	indexed, scanned := build(t), build(t)
	svcIx := &triage.Service{Store: indexed, Policy: triage.Policy{Criteria: crit}}
	svcScan := &triage.Service{Store: statusOnly{scanned}, Policy: triage.Policy{Criteria: crit}}
	for _, p := range []struct{ from, to time.Time }{
		{time.Time{}, t0.Add(200 * day)},
		{t0.Add(10 * day), t0.Add(30 * day)},
		{t0.Add(50 * day), t0.Add(60 * day)},
	} {
		got, err := svcIx.DecisionStats(ctx, p.from, p.to)
		if err != nil {
			t.Fatal(err)
		}
		want, err := svcScan.DecisionStats(ctx, p.from, p.to)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("[%v, %v) (-scanned +indexed):\n%s", p.from, p.to, diff)
		}
		if p.from.IsZero() && (got.Decided != 30+3 || got.CameBack.K != 5 || got.Returns != 5) {
			t.Errorf("all time: decided %d, came back %d, returns %d; want 33, 5, 5", got.Decided, got.CameBack.K, got.Returns)
		}
	}
}
