package storage_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/leadtriage/leadtriage/storage"
	"github.com/leadtriage/leadtriage/triage"
)

// t0 is the tests' fixed "now".
var t0 = time.Date(2026, 11, 28, 9, 30, 0, 0, time.UTC)

// equalTimes compares instants, not time.Time representations: a stored time
// comes back without its monotonic reading and with a fixed zone.
var equalTimes = cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })

func newLead(t testing.TB, company string) triage.Lead {
	t.Helper()
	l, err := triage.NewLead(triage.LeadInput{Company: company, Email: "info@" + company + ".example", Website: company + ".example"}, t0)
	if err != nil {
		t.Fatalf("NewLead(%q): %v", company, err)
	}
	return l
}

func mustCreate(t testing.TB, db *storage.DB, l triage.Lead, out ...triage.OutboxItem) triage.Lead {
	t.Helper()
	stored, created, err := db.CreateLead(context.Background(), l, triage.Idempotency{}, out)
	if err != nil || !created {
		t.Fatalf("CreateLead(%s) = created %v, %v; want a new lead", l.Company, created, err)
	}
	return stored
}

func ids(leads []triage.Lead) []triage.LeadID {
	out := make([]triage.LeadID, len(leads))
	for i, l := range leads {
		out[i] = l.ID
	}
	return out
}

func mustDue(t testing.TB, db *storage.DB, now time.Time) []triage.OutboxItem {
	t.Helper()
	due, err := db.DueOutbox(context.Background(), now, 0)
	if err != nil {
		t.Fatalf("DueOutbox: %v", err)
	}
	return due
}
