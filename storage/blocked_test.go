package storage_test

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	bolt "go.etcd.io/bbolt"

	"github.com/leadtriage/leadtriage/storage/storagetest"
	"github.com/leadtriage/leadtriage/triage"
)

func TestDB_BlockOutbox(t *testing.T) {
	t.Parallel()
	db := storagetest.MustOpen(t)
	ctx := t.Context()
	if err := db.Enqueue(ctx,
		triage.OutboxItem{Kind: triage.OutboxEphemeral, Channel: "C1", User: "U1", Text: "one"},
		triage.OutboxItem{Kind: triage.OutboxEphemeral, Channel: "C1", User: "U1", Text: "two"},
		triage.OutboxItem{Kind: triage.OutboxEphemeral, Channel: "C2", User: "U1", Text: "three"},
	); err != nil {
		t.Fatal(err)
	}
	later := t0.Add(5 * time.Minute)
	for _, id := range []uint64{1, 2} {
		if err := db.BlockOutbox(ctx, id, "not_in_channel", "C1", later); err != nil {
			t.Fatal(err)
		}
	}
	blockedIDs := func() []uint64 {
		t.Helper()
		items, err := db.BlockedOutbox(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var ids []uint64
		for _, it := range items {
			if it.Blocked != "not_in_channel" || it.BlockedOn != "C1" {
				t.Errorf("item %d blocked = %q on %q", it.ID, it.Blocked, it.BlockedOn)
			}
			ids = append(ids, it.ID)
		}
		return ids
	}
	if diff := cmp.Diff([]uint64{1, 2}, blockedIDs()); diff != "" {
		t.Errorf("blocked (-want +got):\n%s", diff)
	}
	t.Run("ParkedUntilNext", func(t *testing.T) {
		if got := summarise(mustDue(t, db, t0)); len(got) != 1 || got[0].ID != 3 {
			t.Errorf("due at t0 = %v, want only item 3", got)
		}
	})
	t.Run("UnblockMakesDueInOrderAndKeepsTheMark", func(t *testing.T) {
		n, err := db.UnblockOutbox(ctx)
		if err != nil || n != 2 {
			t.Fatalf("UnblockOutbox = %d, %v; want 2", n, err)
		}
		if got := summarise(mustDue(t, db, t0)); len(got) != 3 || got[0].ID != 1 || got[1].ID != 2 {
			t.Errorf("due after unblock = %v, want 1, 2, 3", got)
		}
		if diff := cmp.Diff([]uint64{1, 2}, blockedIDs()); diff != "" {
			t.Errorf("still marked blocked until delivered (-want +got):\n%s", diff)
		}
	})
	t.Run("CompleteRetryAndDeadLetterClear", func(t *testing.T) {
		if err := db.CompleteOutbox(ctx, 1, 1, nil); err != nil {
			t.Fatal(err)
		}
		if err := db.RetryOutbox(ctx, 2, t0.Add(time.Second), "http_500"); err != nil {
			t.Fatal(err)
		}
		if got := blockedIDs(); len(got) != 0 {
			t.Errorf("blocked after delivery and another failure = %v, want none", got)
		}
	})
	t.Run("Errors", func(t *testing.T) {
		if err := db.BlockOutbox(ctx, 99, "not_in_channel", "C1", later); !errors.Is(err, triage.ErrNotFound) {
			t.Errorf("BlockOutbox(unknown) = %v, want ErrNotFound", err)
		}
		if err := db.BlockOutbox(ctx, 3, "", "C1", later); !errors.Is(err, triage.ErrInvalid) {
			t.Errorf("BlockOutbox(no cause) = %v, want ErrInvalid", err)
		}
	})
}

func TestDB_RequeueDeadLetter(t *testing.T) {
	t.Parallel()
	db := storagetest.MustOpen(t)
	ctx := t.Context()
	l := mustCreate(t, db, newLead(t, "Acme"), triage.OutboxItem{Kind: triage.OutboxPostCard, Channel: "C1"})
	if err := db.RetryOutbox(ctx, 1, t0, "http_500"); err != nil {
		t.Fatal(err)
	}
	if err := db.DeadLetter(ctx, 1, "slack refused it: msg_too_long"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.RequeueDeadLetter(ctx, 2, t0); !errors.Is(err, triage.ErrNotFound) {
		t.Errorf("RequeueDeadLetter(not dead) = %v, want ErrNotFound", err)
	}
	it, err := db.RequeueDeadLetter(ctx, 1, t0)
	if err != nil {
		t.Fatal(err)
	}
	if it.Dead || it.Attempts != 0 || !it.NextAt.IsZero() || it.LastError != "" || it.Lead != l.ID {
		t.Errorf("requeued = %+v, want live, due at once, no attempts", it)
	}
	if dead, _ := db.DeadLetters(ctx); len(dead) != 0 {
		t.Errorf("dead letters after requeue = %v", dead)
	}
	if got := summarise(mustDue(t, db, t0)); len(got) != 1 || got[0].ID != 1 {
		t.Fatalf("due = %v, want item 1", got)
	}
	// It is indexed again: a card update folds into it.
	if _, err := db.UpdateLead(ctx, l.ID, func(*triage.Lead) ([]triage.OutboxItem, error) {
		return []triage.OutboxItem{{Kind: triage.OutboxUpdateCard, Lead: l.ID, Channel: "C1"}}, nil
	}); err != nil {
		t.Fatal(err)
	}
	if got := summarise(mustDue(t, db, t0)); len(got) != 1 || got[0].Seq != 2 {
		t.Errorf("due after an update = %v, want the requeued post with Seq 2", got)
	}
	if _, err := db.RequeueDeadLetter(ctx, 1, t0); !errors.Is(err, triage.ErrNotFound) {
		t.Errorf("RequeueDeadLetter twice = %v, want ErrNotFound", err)
	}
}

// TestDB_PurgeLead_DropsBlockedIndex: a purged lead's parked items leave no
// entry in outbox_blocked behind.
func TestDB_PurgeLead_DropsBlockedIndex(t *testing.T) {
	t.Parallel()
	db := storagetest.MustOpen(t)
	ctx := t.Context()
	l := mustCreate(t, db, newLead(t, "Acme"), triage.OutboxItem{Kind: triage.OutboxPostCard, Channel: "C1"})
	if err := db.BlockOutbox(ctx, 1, "not_in_channel", "C1", t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := db.PurgeLead(ctx, l.ID, t0, func(triage.Lead) ([]triage.OutboxItem, error) { return nil, nil }); err != nil {
		t.Fatal(err)
	}
	if items, err := db.BlockedOutbox(ctx); err != nil || len(items) != 0 {
		t.Errorf("blocked after the purge = %+v, %v", items, err)
	}
	err := db.Bolt().View(func(tx *bolt.Tx) error {
		if k, _ := tx.Bucket([]byte("outbox_blocked")).Cursor().First(); k != nil {
			t.Errorf("outbox_blocked still holds item %x", k)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
