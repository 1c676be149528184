package storage_test

import (
	"testing"
	"time"

	"github.com/leadtriage/leadtriage/storage/storagetest"
	"github.com/leadtriage/leadtriage/triage"
)

func TestDB_MarkJob(t *testing.T) {
	t.Parallel()
	db := storagetest.MustOpen(t)
	ctx := t.Context()
	at := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	item := triage.OutboxItem{Kind: triage.OutboxThreadReply, Channel: "C1", Text: "digest"}

	first, err := db.MarkJob(ctx, "digest|2026-11-30T09:00", at, []triage.OutboxItem{item})
	if err != nil || !first {
		t.Fatalf("first MarkJob = %v, %v", first, err)
	}
	again, err := db.MarkJob(ctx, "digest|2026-11-30T09:00", at, []triage.OutboxItem{item})
	if err != nil || again {
		t.Fatalf("second MarkJob = %v, %v; want false", again, err)
	}
	due, err := db.DueOutbox(ctx, at, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(due) != 1 {
		t.Errorf("%d outbox items, want the first run's one only", len(due))
	}

	// The newest by time, not by key order.
	if _, err := db.MarkJob(ctx, "digest|2026-12-01T09:00", at.Add(24*time.Hour), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := db.MarkJob(ctx, "reminders|x", at.Add(48*time.Hour), nil); err != nil {
		t.Fatal(err)
	}
	key, last, ok, err := db.LastJob(ctx, "digest|")
	if err != nil || !ok || key != "digest|2026-12-01T09:00" || !last.Equal(at.Add(24*time.Hour)) {
		t.Errorf("LastJob = %q %v %v %v", key, last, ok, err)
	}
	if _, _, ok, _ := db.LastJob(ctx, "revisit|"); ok {
		t.Error("LastJob found a job for an unused prefix")
	}
	if _, err := db.MarkJob(ctx, "", at, nil); err == nil {
		t.Error("an empty job key was accepted")
	}

	// The marker survives a restart.
	db = storagetest.MustReopen(t, db)
	if again, _ := db.MarkJob(ctx, "digest|2026-11-30T09:00", at, nil); again {
		t.Error("the job ran again after a restart")
	}
}
