package storage_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/leadtriage/leadtriage/storage"
	"github.com/leadtriage/leadtriage/storage/storagetest"
	"github.com/leadtriage/leadtriage/triage"
	"github.com/leadtriage/leadtriage/triage/triagetest"
)

// update changes lead id through the store, failing t on an error.
func update(t *testing.T, s triage.Store, id triage.LeadID, fn func(l *triage.Lead)) {
	t.Helper()
	if _, err := s.UpdateLead(t.Context(), id, func(l *triage.Lead) ([]triage.OutboxItem, error) {
		fn(l)
		return nil, nil
	}); err != nil {
		t.Fatal(err)
	}
}

// The outcome indexes follow each change of a lead: a decision puts it in
// W (awaiting an outcome) and A (not asked yet), asking takes it out of A,
// a deal puts it in K until the deal is gone, an outcome takes it out of
// all three, reopening keeps it out, a new decision puts it back (asked
// only about the old one), and a purge removes every entry.
func TestDB_OutcomeIndexes_FollowTheLead(t *testing.T) {
	t.Parallel()
	db := storagetest.MustOpen(t)
	ctx := t.Context()
	id := mustCreate(t, db, newLead(t, "acme")).ID
	far := t0.AddDate(10, 0, 0)
	check := func(step, await, ask, deals string) {
		t.Helper()
		leads, total, err := db.AwaitingOutcome(ctx, time.Time{}, far, 10)
		if got := idList(t)(leads, err); got != await || total != len(leads) {
			t.Errorf("%s: awaiting = %q (%d in all), want %q", step, got, total, await)
		}
		if got := idList(t)(db.LeadsToAsk(ctx, time.Time{}, far)); got != ask {
			t.Errorf("%s: to ask = %q, want %q", step, got, ask)
		}
		if got := idList(t)(db.LeadsWithOpenDeals(ctx, time.Time{}, far)); got != deals {
			t.Errorf("%s: open deals = %q, want %q", step, got, deals)
		}
	}
	id1 := id.String()
	check("pending", "", "", "")
	decide(t, db, id, triage.StatusQualified, t0)
	check("qualified", id1, id1, "")
	update(t, db, id, func(l *triage.Lead) { l.Reminder.OutcomeAsked = t0.Add(time.Minute) })
	check("asked", id1, "", "")
	update(t, db, id, func(l *triage.Lead) {
		l.CRM = []triage.CRMRecord{{System: "hubspot", Kind: "company", ID: "c1"}, {System: "hubspot", Kind: "deal", ID: "d1"}}
	})
	check("deal made", id1, "", id1)
	update(t, db, id, func(l *triage.Lead) { l.CRM[1].Gone = t0.Add(time.Hour) })
	check("deal gone", id1, "", "")
	update(t, db, id, func(l *triage.Lead) {
		l.CRM = append(l.CRM, triage.CRMRecord{System: "hubspot", Kind: "deal", ID: "d2"})
	})
	check("new deal", id1, "", id1)
	update(t, db, id, func(l *triage.Lead) {
		l.Outcome = &triage.Outcome{Kind: triage.OutcomeLost, By: "hubspot", At: t0.Add(2 * time.Hour)}
	})
	check("outcome", "", "", "")
	update(t, db, id, func(l *triage.Lead) { l.Status, l.Outcome = triage.StatusPending, nil })
	check("reopened", "", "", "")
	decide(t, db, id, triage.StatusDisqualified, t0.Add(24*time.Hour))
	check("decided again", id1, id1, id1)

	// Time bounds: [from, to) on the decision time.
	if got := idList(t)(db.LeadsToAsk(ctx, t0, t0.Add(24*time.Hour))); got != "" {
		t.Errorf("to ask before the new decision = %q, want none", got)
	}
	if got := idList(t)(db.LeadsWithOpenDeals(ctx, t0.Add(24*time.Hour), t0.Add(24*time.Hour+1))); got != id1 {
		t.Errorf("open deals at the decision = %q, want %s", got, id1)
	}

	if err := db.PurgeLead(ctx, id, t0.Add(48*time.Hour), func(triage.Lead) ([]triage.OutboxItem, error) { return nil, nil }); err != nil {
		t.Fatal(err)
	}
	check("purged", "", "", "")
	if err := db.Check(); err != nil {
		t.Fatal(err)
	}
}

// AwaitingOutcome decodes at most limit leads, oldest decision first, and
// counts the rest by their keys; a negative limit changes nothing and says
// so.
func TestDB_AwaitingOutcome_Limit(t *testing.T) {
	t.Parallel()
	db := storagetest.MustOpen(t)
	ctx := t.Context()
	var want []string
	for i := range 7 {
		id := mustCreate(t, db, newLead(t, fmt.Sprintf("co%d", i))).ID
		// Decided in reverse order of creation: the list follows decisions.
		decide(t, db, id, triage.StatusReferred, t0.Add(time.Duration(10-i)*time.Hour))
		want = append([]string{id.String()}, want...)
	}
	leads, total, err := db.AwaitingOutcome(ctx, time.Time{}, t0.AddDate(0, 0, 1), 3)
	if got := idList(t)(leads, err); got != strings.Join(want[:3], " ") || total != 7 {
		t.Errorf("AwaitingOutcome(limit 3) = %q, %d in all; want %q, 7", got, total, strings.Join(want[:3], " "))
	}
	leads, total, err = db.AwaitingOutcome(ctx, t0.Add(5*time.Hour), t0.Add(8*time.Hour), 0)
	if got := idList(t)(leads, err); got != "" || total != 3 {
		t.Errorf("AwaitingOutcome(limit 0, 3 hours) = %q, %d in all; want none, 3", got, total)
	}
	if _, _, err := db.AwaitingOutcome(ctx, time.Time{}, t0.AddDate(0, 0, 1), -1); err == nil || !strings.Contains(err.Error(), "limit") {
		t.Errorf("AwaitingOutcome(limit -1) error = %v, want one naming the limit", err)
	}
}

// The service asks about the same leads and lists the same ones in the
// digest through storage's outcome indexes as through the in-memory
// store's fallback, at every step of a month with decisions, asks,
// outcomes, deals and a reopened lead.
func TestService_Outcomes_IndexAgreesWithFallback(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := storagetest.MustOpen(t)
	mem := &triagetest.Store{}
	const after = 720 * time.Hour
	day := 24 * time.Hour
	stores := []triage.Store{db, mem}
	svcs := []*triage.Service{
		{Store: db, Channel: "C1", Now: func() time.Time { return t0 }},
		{Store: mem, Channel: "C1", Now: func() time.Time { return t0 }},
	}
	if _, ok := triage.Store(mem).(triage.OutcomeIndex); ok {
		t.Fatal("triagetest.Store has an outcome index: this test would compare the index with itself")
	}
	// 40 leads decided one every 3 days over the 120 days before t0 (some
	// before the digest's window), in all three outcomes.
	for _, s := range stores {
		for i := range 40 {
			l := newLead(t, fmt.Sprintf("co%d", i))
			l.CreatedAt = t0.Add(-120 * day).Add(time.Duration(i) * 3 * day)
			id := mustCreateIn(t, s, l)
			st := []triage.Status{triage.StatusQualified, triage.StatusDisqualified, triage.StatusReferred}[i%3]
			update(t, s, id, func(l *triage.Lead) {
				l.Status = st
				l.Decision = &triage.Decision{Outcome: st, Reason: "test", By: "U1", At: l.CreatedAt.Add(time.Hour)}
				switch {
				case i%5 == 0:
					l.Outcome = &triage.Outcome{Kind: triage.OutcomeNoDeal, By: "U1", At: t0}
				case i%7 == 0:
					l.Reminder.OutcomeAsked = l.CreatedAt.Add(after + 2*time.Hour) // asked already
				case i == 11:
					l.Reminder.OutcomeAsked = l.CreatedAt.Add(time.Minute) // asked before this decision
				case i == 13:
					l.Status = triage.StatusPending // reopened
				}
			})
		}
	}
	view := func(s *triage.Service, now time.Time) string {
		t.Helper()
		asked, err := s.AskOutcomes(ctx, after, now)
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(asked) // the fallback reads status by status
		parts, _, err := s.BuildDigest(ctx, now.Add(-day), now, triage.DigestOptions{Channel: "C1", AskAfter: after})
		if err != nil || len(parts) == 0 {
			t.Fatalf("BuildDigest = %d parts, %v", len(parts), err)
		}
		p := parts[len(parts)-1]
		var listed []string
		for _, l := range p.Outcomes {
			listed = append(listed, l.ID.String())
		}
		return fmt.Sprintf("asked %v; digest %v and %d more", asked, listed, p.OutcomesMore)
	}
	steps, asks := 0, 0
	for now := t0.Add(-45 * day); now.Before(t0.Add(10 * day)); now = now.Add(day + 7*time.Hour) {
		got, want := view(svcs[0], now), view(svcs[1], now)
		if strings.Contains(got, "asked [L") {
			asks++
		}
		if got != want {
			t.Errorf("at %s: index %s, fallback %s", now.Format(time.DateTime), got, want)
		}
		steps++
		if steps%9 == 0 {
			// Someone records an outcome of a lead the digest lists.
			for _, s := range stores {
				leads, err := s.Leads(ctx, triage.LeadFilter{Status: triage.StatusQualified})
				if err != nil {
					t.Fatal(err)
				}
				for _, l := range leads {
					if triage.OutcomeDue(l, after, now) {
						update(t, s, l.ID, func(l *triage.Lead) { l.Outcome = &triage.Outcome{Kind: triage.OutcomeWon, By: "U1", At: now} })
						break
					}
				}
			}
		}
	}
	if asks < 5 {
		t.Errorf("only %d checks asked about a lead: the test compares too little", asks)
	}
	if err := db.Check(); err != nil {
		t.Fatal(err)
	}
}

func mustCreateIn(t *testing.T, s triage.Store, l triage.Lead) triage.LeadID {
	t.Helper()
	stored, created, err := s.CreateLead(t.Context(), l, triage.Idempotency{}, nil)
	if err != nil || !created {
		t.Fatalf("CreateLead(%s) = created %v, %v", l.Company, created, err)
	}
	return stored.ID
}

var _ triage.OutcomeIndex = (*storage.DB)(nil)
