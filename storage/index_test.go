package storage_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/leadtriage/leadtriage/storage"
	"github.com/leadtriage/leadtriage/storage/storagetest"
	"github.com/leadtriage/leadtriage/triage"
)

// idList reads a listing's ids as "L-1 L-2"; a listing error fails t.
func idList(t *testing.T) func([]triage.Lead, error) string {
	return func(leads []triage.Lead, err error) string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		var s []string
		for _, l := range leads {
			s = append(s, l.ID.String())
		}
		return strings.Join(s, " ")
	}
}

func decide(t *testing.T, db *storage.DB, id triage.LeadID, st triage.Status, at time.Time) {
	t.Helper()
	_, err := db.UpdateLead(t.Context(), id, func(l *triage.Lead) ([]triage.OutboxItem, error) {
		l.Status = st
		l.Decision = &triage.Decision{Outcome: st, Reason: "test", By: "U1", At: at}
		return nil, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// The time indexes follow each change of a lead: a decision adds it, a
// reopening removes it, the second-look mark takes it off the revisit list,
// a new decision puts it back, and a purge removes every entry.
func TestDB_TimeIndexes_FollowTheLead(t *testing.T) {
	t.Parallel()
	db := storagetest.MustOpen(t)
	ctx := t.Context()
	l := newLead(t, "acme")
	l.CreatedAt = t0.Add(-time.Hour)
	id := mustCreate(t, db, l).ID
	day := 24 * time.Hour
	check := func(step, decided, revisit, created string) {
		t.Helper()
		if got := idList(t)(db.LeadsDecided(ctx, time.Time{}, t0.Add(100*day))); got != decided {
			t.Errorf("%s: decided = %q, want %q", step, got, decided)
		}
		if got := idList(t)(db.LeadsToRevisit(ctx, t0.Add(100*day))); got != revisit {
			t.Errorf("%s: to revisit = %q, want %q", step, got, revisit)
		}
		if got := idList(t)(db.LeadsCreated(ctx, t0.Add(-day), t0)); got != created {
			t.Errorf("%s: created = %q, want %q", step, got, created)
		}
	}
	check("new", "", "", "L-1")

	decide(t, db, id, triage.StatusDisqualified, t0)
	check("disqualified", "L-1", "L-1", "L-1")
	// Only the decision time bounds the list: decided at t0 is not before t0.
	if got := idList(t)(db.LeadsDecided(ctx, t0.Add(-day), t0)); got != "" {
		t.Errorf("decided in [t0-1d, t0) = %q, want none", got)
	}

	if _, err := db.UpdateLead(ctx, id, func(l *triage.Lead) ([]triage.OutboxItem, error) {
		l.Reminder.Revisited = t0.Add(30 * day)
		return nil, nil
	}); err != nil {
		t.Fatal(err)
	}
	check("shown again", "L-1", "", "L-1")

	decide(t, db, id, triage.StatusPending, t0) // reopened: keeps its old decision
	check("reopened", "", "", "L-1")

	decide(t, db, id, triage.StatusDisqualified, t0.Add(40*day))
	check("disqualified anew", "L-1", "L-1", "L-1")

	if err := db.PurgeLead(ctx, id, t0, func(triage.Lead) ([]triage.OutboxItem, error) { return nil, nil }); err != nil {
		t.Fatal(err)
	}
	check("purged", "", "", "")
}

// statusOnly hides TimeIndex: the service then reads every decided lead
// through the status index, as before schema 3.
type statusOnly struct{ triage.Store }

// BuildDigest, Home and PurgeExpired give the same results through the time
// indexes as through the status index, on leads in every state.
func TestTimeIndexes_SameDigestAndRetention(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := t0
	day := 24 * time.Hour
	build := func(t *testing.T) *storage.DB {
		db := storagetest.MustOpen(t)
		for i := range 60 {
			l := newLead(t, fmt.Sprintf("co%d", i))
			l.CreatedAt = now.Add(-time.Duration(i*i) * 12 * time.Hour)
			id := mustCreate(t, db, l).ID
			decidedAt := l.CreatedAt.Add(time.Duration(i%5) * time.Hour)
			switch i % 6 {
			case 0: // stays pending
			case 1:
				decide(t, db, id, triage.StatusQualified, decidedAt)
			case 2, 5:
				decide(t, db, id, triage.StatusDisqualified, decidedAt)
			case 3:
				decide(t, db, id, triage.StatusReferred, decidedAt)
			case 4: // decided, then reopened
				decide(t, db, id, triage.StatusDisqualified, decidedAt)
				decide(t, db, id, triage.StatusPending, decidedAt)
			}
			if i%12 == 5 {
				if _, err := db.UpdateLead(ctx, id, func(l *triage.Lead) ([]triage.OutboxItem, error) {
					l.Reminder.Revisited = decidedAt.Add(31 * day)
					return nil, nil
				}); err != nil {
					t.Fatal(err)
				}
			}
		}
		return db
	}
	opts := triage.DigestOptions{Channel: "C1", RevisitAfter: 30 * day, MaxPerPart: 1000}
	indexed, scanned := build(t), build(t)
	svcIx := &triage.Service{Store: indexed, Channel: "C1"}
	svcScan := &triage.Service{Store: statusOnly{scanned}, Channel: "C1"}
	for _, since := range []time.Time{{}, now.Add(-day), now.Add(-20 * day)} {
		gotParts, gotIDs, err := svcIx.BuildDigest(ctx, since, now, opts)
		if err != nil {
			t.Fatal(err)
		}
		wantParts, wantIDs, err := svcScan.BuildDigest(ctx, since, now, opts)
		if err != nil {
			t.Fatal(err)
		}
		if len(wantParts[0].Decided) == 0 || len(wantIDs) == 0 {
			t.Fatalf("since %v: the leads give no decided or revisit lines: the test would prove little", since)
		}
		if diff := cmp.Diff(wantParts, gotParts, equalTimes); diff != "" {
			t.Errorf("since %v: digest through the time indexes (-status index +time indexes):\n%s", since, diff)
		}
		if diff := cmp.Diff(wantIDs, gotIDs); diff != "" {
			t.Errorf("since %v: revisit ids (-status index +time indexes):\n%s", since, diff)
		}
	}
	// The App Home's numbers: the leads created in the last 30 days.
	gotHome, err := svcIx.Home(ctx, "U1", now)
	if err != nil {
		t.Fatal(err)
	}
	wantHome, err := svcScan.Home(ctx, "U1", now)
	if err != nil {
		t.Fatal(err)
	}
	if wantHome.Stats.Received == 0 || wantHome.Stats.Decided == 0 {
		t.Fatalf("home stats %+v: the test would prove little", wantHome.Stats)
	}
	if diff := cmp.Diff(wantHome, gotHome, equalTimes); diff != "" {
		t.Errorf("App Home (-status index +time indexes):\n%s", diff)
	}

	gotPurged, err := svcIx.PurgeExpired(ctx, 200*day, now)
	if err != nil {
		t.Fatal(err)
	}
	wantPurged, err := svcScan.PurgeExpired(ctx, 200*day, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(wantPurged) == 0 {
		t.Fatal("nothing expired: the test would prove little")
	}
	// The status index lists one status after another; the time index in
	// decision order. The same leads go either way.
	if diff := cmp.Diff(wantPurged, gotPurged, cmpSortIDs); diff != "" {
		t.Errorf("purged (-status index +time indexes):\n%s", diff)
	}
	if got, want := idList(t)(indexed.Leads(ctx, triage.LeadFilter{})), idList(t)(scanned.Leads(ctx, triage.LeadFilter{})); got != want {
		t.Errorf("leads left = %q, want %q", got, want)
	}
}

var cmpSortIDs = cmpopts.SortSlices(func(a, b triage.LeadID) bool { return a < b })
