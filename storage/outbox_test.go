package storage_test

import (
	"encoding/binary"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	bolt "go.etcd.io/bbolt"

	"github.com/leadtriage/leadtriage/storage"
	"github.com/leadtriage/leadtriage/storage/storagetest"
	"github.com/leadtriage/leadtriage/triage"
)

type itemSummary struct {
	ID   uint64
	Kind triage.OutboxKind
	Lead triage.LeadID
	Seq  int
}

func summarise(items []triage.OutboxItem) []itemSummary {
	out := []itemSummary{}
	for _, it := range items {
		out = append(out, itemSummary{it.ID, it.Kind, it.Lead, it.Seq})
	}
	return out
}

// dueItem summarises the due item id; the zero summary if it is not due.
func dueItem(t *testing.T, db *storage.DB, id uint64) itemSummary {
	t.Helper()
	for _, it := range summarise(mustDue(t, db, t0)) {
		if it.ID == id {
			return it
		}
	}
	return itemSummary{}
}

func TestDB_DueOutbox_OrderAndNextAt(t *testing.T) {
	t.Parallel()
	db := storagetest.MustOpen(t)
	err := db.Enqueue(t.Context(),
		triage.OutboxItem{Kind: triage.OutboxEphemeral, Channel: "C1", User: "U1", Text: "one"},
		triage.OutboxItem{Kind: triage.OutboxEphemeral, Channel: "C1", User: "U1", Text: "later", NextAt: t0.Add(time.Minute)},
		triage.OutboxItem{Kind: triage.OutboxEphemeral, Channel: "C1", User: "U1", Text: "now", NextAt: t0},
		triage.OutboxItem{Kind: triage.OutboxEphemeral, Channel: "C1", User: "U1", Text: "four"},
	)
	if err != nil {
		t.Fatal(err)
	}
	texts := func(items []triage.OutboxItem) []string {
		var s []string
		for _, it := range items {
			s = append(s, it.Text)
		}
		return s
	}
	if diff := cmp.Diff([]string{"one", "now", "four"}, texts(mustDue(t, db, t0))); diff != "" {
		t.Errorf("due at t0 (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"one", "later", "now", "four"}, texts(mustDue(t, db, t0.Add(time.Minute)))); diff != "" {
		t.Errorf("due a minute later (-want +got):\n%s", diff)
	}
	limited, err := db.DueOutbox(t.Context(), t0, 2)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"one", "now"}, texts(limited)); diff != "" {
		t.Errorf("due with limit 2 (-want +got):\n%s", diff)
	}
	all := mustDue(t, db, t0.Add(time.Hour))
	for i, it := range all {
		if it.ID != uint64(i+1) || it.Seq != 1 || it.Dead || it.Attempts != 0 {
			t.Errorf("item %d = %+v, want id %d, seq 1, live, no attempts", i, it, i+1)
		}
	}
}

func TestDB_NextOutbox(t *testing.T) {
	t.Parallel()
	db := storagetest.MustOpen(t)
	if _, ok, err := db.NextOutbox(t.Context()); err != nil || ok {
		t.Fatalf("NextOutbox on an empty outbox = ok %v, %v; want not ok", ok, err)
	}
	if err := db.Enqueue(t.Context(),
		triage.OutboxItem{Kind: triage.OutboxEphemeral, NextAt: t0.Add(2 * time.Minute)},
		triage.OutboxItem{Kind: triage.OutboxEphemeral, NextAt: t0.Add(time.Minute)},
	); err != nil {
		t.Fatal(err)
	}
	at, ok, err := db.NextOutbox(t.Context())
	if err != nil || !ok || !at.Equal(t0.Add(time.Minute)) {
		t.Errorf("NextOutbox = %v %v %v, want %v", at, ok, err, t0.Add(time.Minute))
	}
	if err := db.DeadLetter(t.Context(), 2, "gone"); err != nil {
		t.Fatal(err)
	}
	at, ok, err = db.NextOutbox(t.Context())
	if err != nil || !ok || !at.Equal(t0.Add(2*time.Minute)) {
		t.Errorf("NextOutbox ignoring the dead item = %v %v %v, want %v", at, ok, err, t0.Add(2*time.Minute))
	}
}

func TestDB_Outbox_CoalesceCardUpdates(t *testing.T) {
	t.Parallel()
	db := storagetest.MustOpen(t)
	ctx := t.Context()
	l := mustCreate(t, db, newLead(t, "acme"), triage.OutboxItem{Kind: triage.OutboxPostCard, Channel: "C1"})
	other := mustCreate(t, db, newLead(t, "other"))
	vote := func(id triage.LeadID) {
		t.Helper()
		_, err := db.UpdateLead(ctx, id, func(l *triage.Lead) ([]triage.OutboxItem, error) {
			return []triage.OutboxItem{
				{Kind: triage.OutboxUpdateCard, Lead: l.ID, Channel: "C1"},
				{Kind: triage.OutboxEphemeral, Lead: l.ID, Channel: "C1", User: "U1", Text: "Your vote"},
			}, nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	vote(l.ID)
	vote(l.ID)
	vote(other.ID)
	want := []itemSummary{
		// Confirmations first (urgent), then the rest in id order.
		{2, triage.OutboxEphemeral, l.ID, 1},
		{3, triage.OutboxEphemeral, l.ID, 1},
		{5, triage.OutboxEphemeral, other.ID, 1},
		{1, triage.OutboxPostCard, l.ID, 3},       // two updates folded into the pending post
		{4, triage.OutboxUpdateCard, other.ID, 1}, // another lead: its own item
	}
	if diff := cmp.Diff(want, summarise(mustDue(t, db, t0))); diff != "" {
		t.Fatalf("outbox after votes (-want +got):\n%s", diff)
	}

	t.Run("StaleSeqKeepsItem", func(t *testing.T) {
		// The worker rendered the post at Seq 1; two updates came in since.
		err := db.CompleteOutbox(ctx, 1, 1, func(l *triage.Lead) error {
			l.Slack = triage.SlackRef{Channel: "C1", TS: "111.1"}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(itemSummary{1, triage.OutboxUpdateCard, l.ID, 3}, dueItem(t, db, 1)); diff != "" {
			t.Errorf("item 1 after a stale completion (-want +got):\n%s", diff)
		}
		got, err := db.Lead(ctx, l.ID)
		if err != nil || got.Slack.TS != "111.1" {
			t.Errorf("fn not applied on a stale completion: slack %+v, %v", got.Slack, err)
		}
	})
	t.Run("CurrentSeqDeletes", func(t *testing.T) {
		if err := db.CompleteOutbox(ctx, 1, 3, nil); err != nil {
			t.Fatal(err)
		}
		for _, it := range mustDue(t, db, t0) {
			if it.ID == 1 {
				t.Fatalf("item 1 still due after completing its current Seq")
			}
		}
		// Nothing pending for the card any more: the next update is a new item.
		vote(l.ID)
		if diff := cmp.Diff(itemSummary{6, triage.OutboxUpdateCard, l.ID, 1}, dueItem(t, db, 6)); diff != "" {
			t.Errorf("update after completion (-want +got):\n%s", diff)
		}
	})
	t.Run("DeadItemDoesNotCoalesce", func(t *testing.T) {
		if err := db.DeadLetter(ctx, 4, "channel_not_found"); err != nil {
			t.Fatal(err)
		}
		vote(other.ID)
		if diff := cmp.Diff(itemSummary{8, triage.OutboxUpdateCard, other.ID, 1}, dueItem(t, db, 8)); diff != "" {
			t.Errorf("update after the pending item died (-want +got):\n%s", diff)
		}
	})
	t.Run("OtherKindsAppend", func(t *testing.T) {
		before := len(mustDue(t, db, t0))
		err := db.Enqueue(ctx,
			triage.OutboxItem{Kind: triage.OutboxThreadReply, Lead: l.ID, Text: "a"},
			triage.OutboxItem{Kind: triage.OutboxThreadReply, Lead: l.ID, Text: "a"},
		)
		if err != nil {
			t.Fatal(err)
		}
		if after := len(mustDue(t, db, t0)); after != before+2 {
			t.Errorf("thread replies: %d items, want %d", after, before+2)
		}
	})
}

func TestDB_CompleteOutbox(t *testing.T) {
	t.Parallel()
	t.Run("UnknownID", func(t *testing.T) {
		t.Parallel()
		db := storagetest.MustOpen(t)
		err := db.CompleteOutbox(t.Context(), 42, 1, func(*triage.Lead) error {
			t.Error("fn applied for an unknown item")
			return nil
		})
		if !errors.Is(err, triage.ErrNotFound) {
			t.Errorf("err = %v, want ErrNotFound", err)
		}
	})
	t.Run("FnErrorRollsBack", func(t *testing.T) {
		t.Parallel()
		db := storagetest.MustOpen(t)
		l := mustCreate(t, db, newLead(t, "acme"), triage.OutboxItem{Kind: triage.OutboxPostCard, Channel: "C1"})
		boom := errors.New("boom")
		err := db.CompleteOutbox(t.Context(), 1, 1, func(l *triage.Lead) error {
			l.Slack.TS = "1.1"
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("err = %v, want fn's error", err)
		}
		if due := mustDue(t, db, t0); len(due) != 1 {
			t.Errorf("item deleted although fn failed: %+v", due)
		}
		if got, _ := db.Lead(t.Context(), l.ID); got.Slack.TS != "" {
			t.Errorf("lead changed although fn failed: %+v", got.Slack)
		}
	})
	t.Run("ItemWithoutLead", func(t *testing.T) {
		t.Parallel()
		db := storagetest.MustOpen(t)
		if err := db.Enqueue(t.Context(), triage.OutboxItem{Kind: triage.OutboxEphemeral, User: "U1"}); err != nil {
			t.Fatal(err)
		}
		err := db.CompleteOutbox(t.Context(), 1, 1, func(*triage.Lead) error {
			t.Error("fn applied to an item without a lead")
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if due := mustDue(t, db, t0); len(due) != 0 {
			t.Errorf("due after completion = %+v, want none", due)
		}
	})
}

func TestDB_RetryOutbox(t *testing.T) {
	t.Parallel()
	db := storagetest.MustOpen(t)
	if err := db.Enqueue(t.Context(), triage.OutboxItem{Kind: triage.OutboxEphemeral, User: "U1"}); err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("é", 2000)
	for i := 1; i <= 2; i++ {
		if err := db.RetryOutbox(t.Context(), 1, t0.Add(time.Duration(i)*time.Minute), long); err != nil {
			t.Fatal(err)
		}
	}
	if due := mustDue(t, db, t0.Add(time.Minute)); len(due) != 0 {
		t.Errorf("item due before its NextAt: %+v", due)
	}
	due := mustDue(t, db, t0.Add(2*time.Minute))
	if len(due) != 1 {
		t.Fatalf("due at NextAt = %d items, want 1", len(due))
	}
	it := due[0]
	if it.Attempts != 2 || !it.NextAt.Equal(t0.Add(2*time.Minute)) {
		t.Errorf("after two retries: attempts %d next %v", it.Attempts, it.NextAt)
	}
	if n := utf8.RuneCountInString(it.LastError); n != storage.MaxLastError || !strings.HasPrefix(it.LastError, "éé") {
		t.Errorf("LastError has %d runes, want %d", n, storage.MaxLastError)
	}
	// A restart keeps the schedule (RELIABILITY O9).
	db = storagetest.MustReopen(t, db)
	if due := mustDue(t, db, t0.Add(2*time.Minute)); len(due) != 1 || due[0].Attempts != 2 {
		t.Errorf("after reopen: %+v, want attempts 2", due)
	}
	if err := db.RetryOutbox(t.Context(), 9, t0, "x"); !errors.Is(err, triage.ErrNotFound) {
		t.Errorf("RetryOutbox(unknown) err = %v, want ErrNotFound", err)
	}
}

func TestDB_DeadLetter(t *testing.T) {
	t.Parallel()
	db := storagetest.MustOpen(t)
	l := mustCreate(t, db, newLead(t, "acme"), triage.OutboxItem{Kind: triage.OutboxPostCard, Channel: "C1"})
	if err := db.Enqueue(t.Context(), triage.OutboxItem{Kind: triage.OutboxEphemeral, User: "U1"}); err != nil {
		t.Fatal(err)
	}
	if err := db.DeadLetter(t.Context(), 1, "invalid_blocks"); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]itemSummary{{2, triage.OutboxEphemeral, 0, 1}}, summarise(mustDue(t, db, t0.Add(time.Hour)))); diff != "" {
		t.Errorf("due after dead-lettering (-want +got):\n%s", diff)
	}
	dead, err := db.DeadLetters(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(dead) != 1 || dead[0].ID != 1 || !dead[0].Dead || dead[0].LastError != "invalid_blocks" || dead[0].Lead != l.ID {
		t.Errorf("DeadLetters = %+v, want item 1, dead, invalid_blocks", dead)
	}
	for _, op := range []struct {
		name string
		err  error
	}{
		{"Retry", db.RetryOutbox(t.Context(), 1, t0, "x")},
		{"Complete", db.CompleteOutbox(t.Context(), 1, 1, nil)},
		{"DeadLetterUnknown", db.DeadLetter(t.Context(), 77, "x")},
	} {
		if !errors.Is(op.err, triage.ErrNotFound) {
			t.Errorf("%s err = %v, want ErrNotFound", op.name, op.err)
		}
	}
	// The lead itself is kept (RELIABILITY O5).
	if _, err := db.Lead(t.Context(), l.ID); err != nil {
		t.Errorf("lead after dead letter: %v", err)
	}
}

func TestDB_Prune(t *testing.T) {
	t.Parallel()
	db := storagetest.MustOpen(t)
	ctx := t.Context()
	for i, key := range []string{"a", "b", "c"} {
		idem := triage.Idempotency{Key: key, Fingerprint: key, Expires: t0.Add(time.Duration(i+1) * time.Minute)}
		if _, _, err := db.CreateLead(ctx, newLead(t, key), idem, nil); err != nil {
			t.Fatal(err)
		}
	}
	if _, dup := mustAdmit(t, db, "Ev1", t0); dup {
		t.Fatal("Ev1 is a repeat in an empty inbox")
	}
	n, err := db.Prune(ctx, t0.Add(2*time.Minute))
	if err != nil || n != 2 {
		t.Fatalf("Prune = %d, %v; want 2 keys (a, b)", n, err)
	}
	// "c" is still live, "a" is free again.
	if _, created, err := db.CreateLead(ctx, newLead(t, "x"), triage.Idempotency{Key: "c", Fingerprint: "other", Expires: t0.Add(time.Hour), Now: t0.Add(2 * time.Minute)}, nil); !errors.Is(err, triage.ErrIdempotencyKey) || created {
		t.Errorf("live key c after Prune: created %v, %v; want ErrIdempotencyKey", created, err)
	}
	if _, created, err := db.CreateLead(ctx, newLead(t, "x"), triage.Idempotency{Key: "a", Fingerprint: "other", Expires: t0.Add(time.Hour), Now: t0.Add(2 * time.Minute)}, nil); err != nil || !created {
		t.Errorf("pruned key a: created %v, %v; want a new lead", created, err)
	}
	n, err = db.Prune(ctx, t0.Add(storage.EventRetention+time.Hour))
	if err != nil || n != 3 {
		t.Errorf("second Prune = %d, %v; want 3 (c, a, Ev1)", n, err)
	}
	if _, dup := mustAdmit(t, db, "Ev1", t0.Add(storage.EventRetention+time.Hour)); dup {
		t.Error("Ev1 still remembered after Prune")
	}
}

// TestDB_DueOutbox_UrgentFirst: a confirmation someone waits for is listed
// before a backlog of paced posts, even when the backlog alone fills the
// limit (issue 9, item 7).
func TestDB_DueOutbox_UrgentFirst(t *testing.T) {
	t.Parallel()
	db := storagetest.MustOpen(t)
	var backlog []triage.OutboxItem
	for i := range 5 {
		backlog = append(backlog, triage.OutboxItem{Kind: triage.OutboxPostCard, Lead: triage.LeadID(i + 1), Channel: "C1"})
	}
	if err := db.Enqueue(t.Context(), backlog...); err != nil {
		t.Fatal(err)
	}
	if err := db.Enqueue(t.Context(),
		triage.OutboxItem{Kind: triage.OutboxEphemeral, Channel: "C1", User: "U1", Text: "vote 1"},
		triage.OutboxItem{Kind: triage.OutboxEphemeral, Channel: "C1", User: "U2", Text: "later", NextAt: t0.Add(time.Minute)},
		triage.OutboxItem{Kind: triage.OutboxEphemeral, Channel: "C1", User: "U3", Text: "vote 3"},
	); err != nil {
		t.Fatal(err)
	}
	limited, err := db.DueOutbox(t.Context(), t0, 3)
	if err != nil {
		t.Fatal(err)
	}
	want := []itemSummary{{6, triage.OutboxEphemeral, 0, 1}, {8, triage.OutboxEphemeral, 0, 1}, {1, triage.OutboxPostCard, 1, 1}}
	if diff := cmp.Diff(want, summarise(limited)); diff != "" {
		t.Errorf("due with limit 3 (-want +got):\n%s", diff)
	}
	// Each item is listed once, urgent ones first, then the rest in id order.
	all := summarise(mustDue(t, db, t0.Add(time.Hour)))
	wantAll := []itemSummary{{6, triage.OutboxEphemeral, 0, 1}, {7, triage.OutboxEphemeral, 0, 1}, {8, triage.OutboxEphemeral, 0, 1},
		{1, triage.OutboxPostCard, 1, 1}, {2, triage.OutboxPostCard, 2, 1}, {3, triage.OutboxPostCard, 3, 1},
		{4, triage.OutboxPostCard, 4, 1}, {5, triage.OutboxPostCard, 5, 1}}
	if diff := cmp.Diff(wantAll, all); diff != "" {
		t.Errorf("all due (-want +got):\n%s", diff)
	}
	// Completed and dead-lettered confirmations leave the urgent index too.
	if err := db.CompleteOutbox(t.Context(), 6, 1, nil); err != nil {
		t.Fatal(err)
	}
	if err := db.DeadLetter(t.Context(), 8, "user_not_found"); err != nil {
		t.Fatal(err)
	}
	err = db.Bolt().View(func(tx *bolt.Tx) error {
		var left []uint64
		err := tx.Bucket([]byte("outbox_urgent")).ForEach(func(k, _ []byte) error {
			left = append(left, binary.BigEndian.Uint64(k))
			return nil
		})
		if diff := cmp.Diff([]uint64{7}, left); diff != "" {
			t.Errorf("outbox_urgent after completing 6 and dead-lettering 8 (-want +got):\n%s", diff)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestDB_DueOutbox_UnindexedUrgent: an ephemeral queued by a version without
// the urgent index is still delivered, in id order.
func TestDB_DueOutbox_UnindexedUrgent(t *testing.T) {
	t.Parallel()
	db := storagetest.MustOpen(t)
	if err := db.Enqueue(t.Context(),
		triage.OutboxItem{Kind: triage.OutboxPostCard, Lead: 1, Channel: "C1"},
		triage.OutboxItem{Kind: triage.OutboxEphemeral, Channel: "C1", User: "U1", Text: "old"},
	); err != nil {
		t.Fatal(err)
	}
	err := db.Bolt().Update(func(tx *bolt.Tx) error {
		return tx.DeleteBucket([]byte("outbox_urgent"))
	})
	if err != nil {
		t.Fatal(err)
	}
	db = storagetest.MustReopen(t, db) // Open creates the missing bucket, empty
	want := []itemSummary{{1, triage.OutboxPostCard, 1, 1}, {2, triage.OutboxEphemeral, 0, 1}}
	if diff := cmp.Diff(want, summarise(mustDue(t, db, t0))); diff != "" {
		t.Errorf("due (-want +got):\n%s", diff)
	}
	if err := db.CompleteOutbox(t.Context(), 2, 1, nil); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want[:1], summarise(mustDue(t, db, t0))); diff != "" {
		t.Errorf("due after completing the ephemeral (-want +got):\n%s", diff)
	}
}

// TestDB_MarkAttempted: the mark survives a reopen and a failed attempt,
// and is cleared when the post turns into an update (its message exists).
func TestDB_MarkAttempted(t *testing.T) {
	t.Parallel()
	db := storagetest.MustOpen(t)
	ctx := t.Context()
	l := mustCreate(t, db, newLead(t, "acme"), triage.OutboxItem{Kind: triage.OutboxPostCard, Channel: "C1"})
	if err := db.MarkAttempted(ctx, 1, t0); err != nil {
		t.Fatal(err)
	}
	db = storagetest.MustReopen(t, db)
	if err := db.RetryOutbox(ctx, 1, t0.Add(time.Second), "ambiguous: timeout"); err != nil {
		t.Fatal(err)
	}
	due := mustDue(t, db, t0.Add(time.Hour))
	if len(due) != 1 || !due[0].Attempted.Equal(t0) {
		t.Fatalf("after a reopen and a retry: %+v, want item 1 attempted at %v", due, t0)
	}
	// A vote folds into the pending post; the worker records the card it
	// rendered at Seq 1, and the item becomes an update with nothing to
	// look for.
	if _, err := db.UpdateLead(ctx, l.ID, func(l *triage.Lead) ([]triage.OutboxItem, error) {
		return []triage.OutboxItem{{Kind: triage.OutboxUpdateCard, Lead: l.ID, Channel: "C1"}}, nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := db.CompleteOutbox(ctx, 1, 1, nil); err != nil {
		t.Fatal(err)
	}
	due = mustDue(t, db, t0.Add(time.Hour))
	if len(due) != 1 || due[0].Kind != triage.OutboxUpdateCard || !due[0].Attempted.IsZero() {
		t.Errorf("after a stale completion: %+v, want an update, not attempted", due)
	}
	if err := db.MarkAttempted(ctx, 99, t0); !errors.Is(err, triage.ErrNotFound) {
		t.Errorf("MarkAttempted(unknown) = %v, want ErrNotFound", err)
	}
}
