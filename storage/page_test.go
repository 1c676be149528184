package storage_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/leadtriage/leadtriage/storage"
	"github.com/leadtriage/leadtriage/storage/storagetest"
	"github.com/leadtriage/leadtriage/triage"
)

// pageAll pages through status with pages of limit until the end and
// returns the ids in the order seen.
func pageAll(t *testing.T, svc *triage.Service, status triage.Status, limit int) []triage.LeadID {
	t.Helper()
	var seen []triage.LeadID
	var after triage.LeadID
	for pages := 0; ; pages++ {
		pg, err := svc.LeadsPage(t.Context(), status, after, limit)
		if err != nil {
			t.Fatal(err)
		}
		if len(pg.Leads) > limit {
			t.Fatalf("page of %d leads, limit %d", len(pg.Leads), limit)
		}
		for _, l := range pg.Leads {
			if status != "" && l.Status != status {
				t.Errorf("%s is %s in a page of %s leads", l.ID, l.Status, status)
			}
			seen = append(seen, l.ID)
		}
		if pg.Next == 0 {
			return seen
		}
		after = pg.Next
		if pages > 10000 {
			t.Fatal("paging does not end")
		}
	}
}

// Paging sees every lead that existed throughout exactly once, in id
// order, while other leads are created between and during its pages: a new
// lead gets a higher id than any before it, and a page resumes after the
// last id it returned.
func TestDB_LeadsAfter_EveryLeadOnceUnderInserts(t *testing.T) {
	t.Parallel()
	db := storagetest.MustOpen(t)
	svc := &triage.Service{Store: db}
	statuses := []triage.Status{triage.StatusPending, triage.StatusQualified, triage.StatusDisqualified}
	before := map[triage.Status][]triage.LeadID{}
	for i := range 120 {
		l := mustCreate(t, db, newLead(t, fmt.Sprintf("c%d", i)))
		st := statuses[i%3]
		if st != triage.StatusPending {
			decide(t, db, l.ID, st, t0)
		}
		before[st] = append(before[st], l.ID)
		before[""] = append(before[""], l.ID)
	}

	for _, status := range []triage.Status{"", triage.StatusPending, triage.StatusQualified} {
		t.Run("status="+string(status), func(t *testing.T) {
			// Inserts run until paging is done, so that they fall between
			// and during its pages.
			stop := make(chan struct{})
			var wg sync.WaitGroup
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					if _, _, err := db.CreateLead(t.Context(), newLead(t, fmt.Sprintf("new%s%d", status, i)), triage.Idempotency{}, nil); err != nil {
						t.Error(err)
						return
					}
				}
			}()
			seen := pageAll(t, svc, status, 7)
			close(stop)
			wg.Wait()

			count := map[triage.LeadID]int{}
			for i, id := range seen {
				count[id]++
				if i > 0 && id <= seen[i-1] {
					t.Errorf("%s after %s: not in id order", id, seen[i-1])
				}
			}
			for id, n := range count {
				if n != 1 {
					t.Errorf("%s seen %d times", id, n)
				}
			}
			for _, id := range before[status] {
				if count[id] != 1 {
					t.Errorf("%s (there throughout) seen %d times, want once", id, count[id])
				}
			}
		})
	}
}

func TestDB_LeadsAfter_Pages(t *testing.T) {
	t.Parallel()
	db := storagetest.MustOpen(t)
	ctx := t.Context()
	for i := range 5 {
		mustCreate(t, db, newLead(t, fmt.Sprintf("c%d", i)))
	}
	decide(t, db, 2, triage.StatusQualified, t0)
	for _, c := range []struct {
		status triage.Status
		after  triage.LeadID
		limit  int
		want   string
		more   bool
	}{
		{"", 0, 2, "L-1 L-2", true},
		{"", 2, 2, "L-3 L-4", true},
		{"", 4, 2, "L-5", false},
		{"", 3, 2, "L-4 L-5", false}, // exactly full: nothing follows
		{triage.StatusPending, 0, 2, "L-1 L-3", true},
		{triage.StatusPending, 3, 5, "L-4 L-5", false},
		{triage.StatusQualified, 0, 5, "L-2", false},
		{triage.StatusReferred, 0, 5, "", false},
		{"", 1<<64 - 1, 5, "", false},
	} {
		leads, more, err := db.LeadsAfter(ctx, triage.LeadFilter{Status: c.status, Limit: c.limit}, c.after)
		if got := idList(t)(leads, err); got != c.want || more != c.more {
			t.Errorf("LeadsAfter(%q, after %d, limit %d) = %q, more %v; want %q, more %v", c.status, c.after, c.limit, got, more, c.want, c.more)
		}
	}
	for status, want := range map[triage.Status]int{"": 5, triage.StatusPending: 4, triage.StatusQualified: 1, triage.StatusReferred: 0} {
		if n, err := db.CountLeads(ctx, status); err != nil || n != want {
			t.Errorf("CountLeads(%q) = %d, %v; want %d", status, n, err, want)
		}
	}

	// Bad input names the field.
	for _, f := range []triage.LeadFilter{{Status: "open", Limit: 1}, {Limit: 0}} {
		var fe *triage.FieldError
		if _, _, err := db.LeadsAfter(ctx, f, 0); !errors.As(err, &fe) {
			t.Errorf("LeadsAfter(%+v) = %v, want a field error", f, err)
		}
	}
	svc := &triage.Service{Store: db}
	for _, limit := range []int{0, -1, triage.MaxPage + 1} {
		var fe *triage.FieldError
		if _, err := svc.LeadsPage(ctx, "", 0, limit); !errors.As(err, &fe) || fe.Field != "limit" {
			t.Errorf("LeadsPage(limit %d) = %v, want a field error on limit", limit, err)
		}
	}
}

// The owner index holds the pending and qualified leads of each owner and
// follows every change: a claim, a decision that hands the lead to someone
// else, a disqualification, a reopening and a purge.
func TestDB_OwnerIndex_FollowsTheLead(t *testing.T) {
	t.Parallel()
	db := storagetest.MustOpen(t)
	ctx := t.Context()
	now := t0
	svc := &triage.Service{Store: db, Policy: triage.Policy{Quorum: 3, TeamLead: "ULEAD"}, Channel: "C1", Now: func() time.Time { return now }}
	a := mustCreate(t, db, newLead(t, "acme")).ID
	b := mustCreate(t, db, newLead(t, "beta")).ID
	check := func(step string, want map[string]string) {
		t.Helper()
		for _, owner := range []string{"U1", "U2"} {
			if got := idList(t)(db.LeadsOwned(ctx, owner)); got != want[owner] {
				t.Errorf("%s: owned by %s = %q, want %q", step, owner, got, want[owner])
			}
		}
	}
	check("new", nil)

	if _, err := svc.Claim(ctx, a, "U1"); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Claim(ctx, b, "U1"); err != nil {
		t.Fatal(err)
	}
	check("claimed", map[string]string{"U1": "L-1 L-2"})

	if _, err := svc.DecideByHand(ctx, a, "ULEAD", triage.DecisionInput{Outcome: triage.StatusQualified, Owner: "U2"}); err != nil {
		t.Fatal(err)
	}
	check("qualified for U2", map[string]string{"U1": "L-2", "U2": "L-1"})

	if _, err := svc.DecideByHand(ctx, b, "ULEAD", triage.DecisionInput{Outcome: triage.StatusDisqualified, Reason: "too small"}); err != nil {
		t.Fatal(err)
	}
	check("L-2 disqualified", map[string]string{"U2": "L-1"})

	if _, err := svc.Reopen(ctx, b, "ULEAD", ""); err != nil {
		t.Fatal(err)
	}
	check("L-2 reopened (its owner kept)", map[string]string{"U1": "L-2", "U2": "L-1"})

	db = storagetest.MustReopen(t, db)
	check("after a restart", map[string]string{"U1": "L-2", "U2": "L-1"})

	if err := db.PurgeLead(ctx, a, now, func(triage.Lead) ([]triage.OutboxItem, error) { return nil, nil }); err != nil {
		t.Fatal(err)
	}
	check("L-1 purged", map[string]string{"U1": "L-2"})

	// The App Home reads them through the index.
	svc.Store = db
	h, err := svc.Home(ctx, "U1", now)
	if got := idList(t)(h.Owned, err); got != "L-2" {
		t.Errorf("Home(U1).Owned = %q, want L-2", got)
	}
	var _ triage.OwnerIndex = (*storage.DB)(nil)
}

// TestDB_NewestLeads: "/qualify list all" and "list mine" read the newest
// leads through the leads bucket and the U index (owned or added by the
// user, whatever the status), newest first, with the total counted; the
// index follows claims, hand-overs and purges, and matches a plain scan.
func TestDB_NewestLeads(t *testing.T) {
	t.Parallel()
	db := storagetest.MustOpen(t)
	ctx := t.Context()
	now := t0
	svc := &triage.Service{Store: db, Policy: triage.Policy{Quorum: 3, TeamLead: "ULEAD"}, Channel: "C1", Now: func() time.Time { return now }}
	var ids []triage.LeadID
	for i, by := range []string{"U1", "", "U2", "U1", ""} {
		l := newLead(t, fmt.Sprintf("co%d", i))
		l.CreatedBy = by
		ids = append(ids, mustCreate(t, db, l).ID)
	}
	newest := func(user string, limit int) (string, int) {
		t.Helper()
		leads, total, err := db.NewestLeads(ctx, user, limit)
		return idList(t)(leads, err), total
	}
	check := func(step, user string, limit int, want string, wantTotal int) {
		t.Helper()
		if got, total := newest(user, limit); got != want || total != wantTotal {
			t.Errorf("%s: NewestLeads(%q, %d) = %q of %d, want %q of %d", step, user, limit, got, total, want, wantTotal)
		}
		// The service's fallback (no index) must say the same.
		fallback := &triage.Service{Store: struct{ triage.Store }{db}}
		leads, total, err := fallback.NewestLeads(ctx, user, limit)
		if got := idList(t)(leads, err); got != want || total != wantTotal {
			t.Errorf("%s: fallback = %q of %d, want %q of %d", step, got, total, want, wantTotal)
		}
	}
	check("all", "", 3, "L-5 L-4 L-3", 5)
	check("added by U1", "U1", 10, "L-4 L-1", 2)
	check("nobody's", "U9", 10, "", 0)

	if _, err := svc.Claim(ctx, ids[1], "U1"); err != nil { // L-2
		t.Fatal(err)
	}
	check("U1 claims L-2", "U1", 10, "L-4 L-2 L-1", 3)
	check("a page of U1's", "U1", 2, "L-4 L-2", 3)

	// L-4 added by U1 is handed to U2: still U1's (added), now U2's too.
	if _, err := svc.DecideByHand(ctx, ids[3], "ULEAD", triage.DecisionInput{Outcome: triage.StatusQualified, Owner: "U2"}); err != nil {
		t.Fatal(err)
	}
	check("L-4 qualified for U2 (U2)", "U2", 10, "L-4 L-3", 2)
	check("L-4 qualified for U2 (U1)", "U1", 10, "L-4 L-2 L-1", 3)

	if err := db.PurgeLead(ctx, ids[3], now, func(triage.Lead) ([]triage.OutboxItem, error) { return nil, nil }); err != nil {
		t.Fatal(err)
	}
	check("L-4 purged (U1)", "U1", 10, "L-2 L-1", 2)
	check("L-4 purged (all)", "", 10, "L-5 L-3 L-2 L-1", 4)
	db = storagetest.MustReopen(t, db)
	leads, total, err := db.NewestLeads(ctx, "U2", 10)
	if got := idList(t)(leads, err); got != "L-3" || total != 1 {
		t.Errorf("after a restart: U2's = %q of %d, want L-3 of 1", got, total)
	}
	if _, _, err := db.NewestLeads(ctx, "", 0); err == nil {
		t.Error("a page of 0 leads was accepted")
	}
}
