package storage_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"sync"
	"testing"

	"github.com/leadtriage/leadtriage/storage/storagetest"
	"github.com/leadtriage/leadtriage/triage"
)

// TestCompact_ErasesAndKeeps purges a lead holding a canary, compacts while
// other leads are written, and greps the file: the canary is gone, every
// other lead and the id sequence survive.
func TestCompact_ErasesAndKeeps(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := storagetest.MustOpen(t)
	l, err := triage.NewLead(triage.LeadInput{Company: "Canary BV", Email: canary}, t0)
	if err != nil {
		t.Fatal(err)
	}
	victim := mustCreate(t, db, l)
	keep := mustCreate(t, db, newLead(t, "keeper"))
	if err := db.PurgeLead(ctx, victim.ID, t0, func(triage.Lead) ([]triage.OutboxItem, error) { return nil, nil }); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(db.Path())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(raw, []byte("CANARY")) {
		t.Log("bbolt already reused the freed page; the test still checks the compaction keeps data")
	}

	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mustCreate(t, db, newLead(t, fmt.Sprintf("during%d", i)))
		}()
	}
	if err := db.Compact(ctx); err != nil {
		t.Fatalf("Compact: %v", err)
	}
	wg.Wait()

	raw, err = os.ReadFile(db.Path())
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, []byte("CANARY")) {
		t.Error("the file still holds the purged canary after Compact")
	}
	if err := db.Check(); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Lead(ctx, keep.ID); err != nil {
		t.Errorf("%s lost in the compaction: %v", keep.ID, err)
	}
	all, err := db.Leads(ctx, triage.LeadFilter{})
	if err != nil || len(all) != 21 {
		t.Fatalf("%d leads after compaction (%v), want 21", len(all), err)
	}
	next := mustCreate(t, db, newLead(t, "after"))
	for _, l := range all {
		if next.ID <= l.ID {
			t.Fatalf("new lead got %s, not above %s: the id sequence was lost", next.ID, l.ID)
		}
	}
	s1, err := db.AuditSalt(ctx)
	if err != nil || len(s1) != 32 {
		t.Fatalf("AuditSalt = %x, %v", s1, err)
	}
	if err := db.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	if s2, _ := db.AuditSalt(ctx); !bytes.Equal(s1, s2) {
		t.Error("the audit salt changed")
	}
}
