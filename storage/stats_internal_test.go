package storage

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	bolt "go.etcd.io/bbolt"

	"github.com/leadtriage/leadtriage/triage"
)

// statsNow is the stats tests' "now".
var statsNow = time.Date(2026, 11, 28, 9, 30, 0, 0, time.UTC)

var statsCriteria = []triage.Criterion{
	{ID: "budget", Kind: triage.KindYesNo},
	{ID: "fit", Kind: triage.KindScale},
}

// statsLeads is a file's worth of leads for the decision stats: n leads
// created every 10 hours up to statsNow, about four in five decided an
// hour or more later (qualified with and without outcomes, disqualified,
// referred), with votes, dissent prompts and answers; every 13th lead
// from the 60th on returns to the one 40 before it.
func statsLeads(n int) []triage.Lead {
	leads := make([]triage.Lead, n)
	for i := range leads {
		created := statsNow.Add(-time.Duration(n-i) * 10 * time.Hour)
		l := triage.Lead{ID: triage.LeadID(i + 1), Company: fmt.Sprintf("Co %d", i), Status: triage.StatusPending, CreatedAt: created}
		choices := []triage.Choice{triage.ChoiceQualify, triage.ChoiceDisqualify, triage.ChoiceUnsure}
		l.Events = []triage.Event{
			{At: created, Kind: triage.EventVoted, By: "U1", Detail: string(choices[i%3])},
			{At: created, Kind: triage.EventVoted, By: "U2", Detail: string(choices[i%2])},
		}
		if i%4 == 0 {
			l.Events = append(l.Events, triage.Event{At: created, Kind: triage.EventDissent, By: triage.DecidedByPolicy})
		}
		l.Answers = map[string]triage.Answer{
			"budget": {Value: []string{triage.AnswerYes, triage.AnswerNo}[i%2]},
			"fit":    {Value: fmt.Sprint(1 + i%5)},
		}
		if st := []triage.Status{"", triage.StatusQualified, triage.StatusDisqualified, triage.StatusReferred, triage.StatusQualified}[i%5]; st != "" {
			l.Status = st
			l.Decision = &triage.Decision{Outcome: st, By: "auto", At: created.Add(time.Duration(1+i%11) * time.Hour)}
			if st == triage.StatusQualified && i%7 != 0 {
				l.Outcome = &triage.Outcome{Kind: []triage.OutcomeKind{triage.OutcomeWon, triage.OutcomeLost, triage.OutcomeNoDeal}[i%3], At: l.Decision.At.Add(time.Hour)}
			}
		}
		if i >= 60 && i%13 == 0 {
			prior := leads[i-40]
			if prior.Decision != nil {
				l.Returning = &triage.PriorDecision{Lead: prior.ID, Outcome: prior.Status}
			}
		}
		leads[i] = l
	}
	return leads
}

// openStatsDB is a file holding leads, written in one transaction.
func openStatsDB(t *testing.T, leads []triage.Lead) *DB {
	t.Helper()
	db, err := Open(filepath.Join(t.TempDir(), "stats.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	err = db.bolt.Update(func(tx *bolt.Tx) error {
		for _, l := range leads {
			seq, err := tx.Bucket(bucketLeads).NextSequence()
			if err != nil {
				return err
			}
			if triage.LeadID(seq) != l.ID {
				return fmt.Errorf("lead %s got id %d", l.ID, seq)
			}
			if _, err := saveLead(tx, nil, &l, nil); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// The streaming report (all time by id pages, a period through the time
// indexes a page at a time) equals the slice report over every lead, on
// 900 leads: several pages of either kind.
func TestDB_DecisionStats_StreamedSameAsSlice(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	leads := statsLeads(900)
	db := openStatsDB(t, leads)
	day := 24 * time.Hour
	for _, p := range []struct {
		name     string
		from, to time.Time
	}{
		{"all time", time.Time{}, statsNow},
		{"all time, ending earlier", time.Time{}, statsNow.Add(-100 * day)},
		{"30 days", statsNow.Add(-30 * day), statsNow},
		{"12 months", statsNow.AddDate(-1, 0, 0), statsNow},
		{"a month", statsNow.Add(-300 * day), statsNow.Add(-270 * day)},
		{"empty", statsNow.Add(day), statsNow.Add(2 * day)},
	} {
		streamed := &triage.Service{Store: db, Policy: triage.Policy{Criteria: statsCriteria}, Now: func() time.Time { return statsNow }}
		sliced := &triage.Service{Store: statusOnly{db}, Policy: triage.Policy{Criteria: statsCriteria}, Now: func() time.Time { return statsNow }}
		got, err := streamed.DecisionStats(ctx, p.from, p.to)
		if err != nil {
			t.Fatal(err)
		}
		want, err := sliced.DecisionStats(ctx, p.from, p.to)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s (-slice +streamed):\n%s", p.name, diff)
		}
		if direct := triage.DecisionStats(leads, statsCriteria, p.from, p.to); !cmp.Equal(direct, want) {
			t.Errorf("%s: the slice path differs from DecisionStats over the leads written:\n%s", p.name, cmp.Diff(direct, want))
		}
		if p.name == "all time" && (got.Decided < 700 || got.CameBack.K == 0 || got.Dissent.N == 0 || got.Won == 0) {
			t.Errorf("all time: %+v; want every role filled", got)
		}
	}
}

// eachByTime visits, in pages of any size, exactly what leadsByTime lists
// in one transaction, in the same order.
func TestDB_EachByTime_Pages(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := openStatsDB(t, statsLeads(300))
	for _, kind := range []byte{ixDecided, ixCreated} {
		for _, r := range []struct{ from, to time.Time }{
			{time.Time{}, statsNow.Add(time.Hour)},
			{statsNow.Add(-50 * 24 * time.Hour), statsNow.Add(-20 * 24 * time.Hour)},
			{statsNow.Add(time.Hour), statsNow.Add(2 * time.Hour)},
		} {
			want, err := db.leadsByTime(ctx, "test", kind, r.from, r.to)
			if err != nil {
				t.Fatal(err)
			}
			for _, page := range []int{1, 7, 100, 1000} {
				var got []triage.LeadID
				if err := db.eachByTime(ctx, "test", kind, r.from, r.to, page, func(l triage.Lead) error {
					got = append(got, l.ID)
					return nil
				}); err != nil {
					t.Fatal(err)
				}
				var wantIDs []triage.LeadID
				for _, l := range want {
					wantIDs = append(wantIDs, l.ID)
				}
				if diff := cmp.Diff(wantIDs, got); diff != "" {
					t.Errorf("index %c [%v, %v), page %d (-leadsByTime +eachByTime):\n%s", kind, r.from, r.to, page, diff)
				}
			}
		}
	}
}

// An error from fn stops the walk and comes back as it is; a cancelled
// context stops it before the next page.
func TestDB_EachLeadDecided_Stops(t *testing.T) {
	t.Parallel()
	db := openStatsDB(t, statsLeads(600))
	stop := errors.New("enough")
	calls := 0
	err := db.EachLeadDecided(context.Background(), time.Time{}, statsNow, func(triage.Lead) error {
		calls++
		if calls == 3 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || calls != 3 {
		t.Errorf("err %v after %d calls; want %v after 3", err, calls, stop)
	}

	ctx, cancel := context.WithCancel(context.Background())
	calls = 0
	err = db.EachLeadCreated(ctx, time.Time{}, statsNow, func(triage.Lead) error {
		calls++
		cancel()
		return nil
	})
	if !errors.Is(err, context.Canceled) || calls != timePage {
		t.Errorf("err %v after %d calls; want context.Canceled after the first page (%d)", err, calls, timePage)
	}
}
