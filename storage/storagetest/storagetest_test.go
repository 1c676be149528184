package storagetest_test

import (
	"testing"
	"time"

	"github.com/leadtriage/leadtriage/storage"
	"github.com/leadtriage/leadtriage/storage/storagetest"
	"github.com/leadtriage/leadtriage/triage"
)

func TestMustOpen(t *testing.T) {
	t.Parallel()
	db := storagetest.MustOpen(t)
	if err := db.Ping(t.Context()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	if err := db.Check(); err != nil {
		t.Errorf("Check on a new database: %v", err)
	}
	var inner *storage.DB
	t.Run("CleanupCloses", func(t *testing.T) {
		inner = storagetest.MustOpen(t)
	})
	// The subtest's cleanups have run: the handle is checked and closed.
	if err := inner.Ping(t.Context()); err == nil {
		t.Error("database still open after the test's cleanup")
	}
}

func TestMustReopen(t *testing.T) {
	t.Parallel()
	db := storagetest.MustOpen(t)
	now := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	lead, err := triage.NewLead(triage.LeadInput{Company: "Acme"}, now)
	if err != nil {
		t.Fatal(err)
	}
	stored, _, err := db.CreateLead(t.Context(), lead, triage.Idempotency{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	path := db.Path()
	reopened := storagetest.MustReopen(t, db)
	if reopened.Path() != path {
		t.Errorf("reopened %s, want %s", reopened.Path(), path)
	}
	if err := db.Ping(t.Context()); err == nil {
		t.Error("the old handle still works after MustReopen")
	}
	got, err := reopened.Lead(t.Context(), stored.ID)
	if err != nil || got.Company != "Acme" {
		t.Errorf("lead after reopen = %+v, %v", got, err)
	}
}
