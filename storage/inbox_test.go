package storage_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/leadtriage/leadtriage/storage"
	"github.com/leadtriage/leadtriage/storage/storagetest"
	"github.com/leadtriage/leadtriage/triage"
	bolt "go.etcd.io/bbolt"
)

// mustAdmit admits an event-shaped entry with mark and returns its key and
// whether it was a repeat.
func mustAdmit(t testing.TB, db *storage.DB, mark string, at time.Time) (string, bool) {
	t.Helper()
	key, dup, err := db.AdmitInbox(context.Background(), triage.InboxEntry{Kind: "event", Mark: mark, Body: []byte(`{"event_id":"` + mark + `"}`), At: at})
	if err != nil {
		t.Fatalf("AdmitInbox(%s): %v", mark, err)
	}
	return key, dup
}

func mustInbox(t testing.TB, db *storage.DB) []triage.InboxEntry {
	t.Helper()
	es, err := db.Inbox(context.Background())
	if err != nil {
		t.Fatalf("Inbox: %v", err)
	}
	return es
}

func TestDB_AdmitInbox_Marks(t *testing.T) {
	t.Parallel()
	db := storagetest.MustOpen(t)
	check := func(mark string, at time.Time, wantDup bool) {
		t.Helper()
		if _, dup := mustAdmit(t, db, mark, at); dup != wantDup {
			t.Errorf("AdmitInbox(%s, %v) dup = %v; want %v", mark, at, dup, wantDup)
		}
	}
	check("Ev1", t0, false)
	check("Ev1", t0.Add(time.Minute), true)
	check("Ev2", t0.Add(time.Minute), false)
	db = storagetest.MustReopen(t, db)
	check("Ev1", t0.Add(time.Hour), true)
	// A day later the old marks count as gone, pruned or not.
	check("Ev3", t0.Add(storage.EventRetention+2*time.Minute), false)
	check("Ev1", t0.Add(storage.EventRetention+3*time.Minute), false)
	check("Ev3", t0.Add(storage.EventRetention+4*time.Minute), true)
	// A repeat writes no entry: Ev1 twice, Ev2, Ev3, Ev1 again.
	got := mustInbox(t, db)
	var marks []string
	for _, e := range got {
		marks = append(marks, e.Mark)
	}
	if strings.Join(marks, ",") != "Ev1,Ev2,Ev3,Ev1" {
		t.Errorf("inbox marks = %v; want Ev1,Ev2,Ev3,Ev1 (oldest first, no repeats)", marks)
	}
	if e := got[0]; e.Kind != "event" || string(e.Body) != `{"event_id":"Ev1"}` || !e.At.Equal(t0) || e.Key == "" {
		t.Errorf("first entry = %+v", e)
	}
}

// TestDB_Inbox_LeavesWithItsEffect: a change made with the entry's key in
// its context removes the entry in the same transaction; a change that fails
// leaves it for a replay.
func TestDB_Inbox_LeavesWithItsEffect(t *testing.T) {
	t.Parallel()
	db := storagetest.MustOpen(t)
	l := mustCreate(t, db, newLead(t, "acme"))
	k1, _ := mustAdmit(t, db, "Ev1", t0)
	k2, _ := mustAdmit(t, db, "Ev2", t0)
	k3, _ := mustAdmit(t, db, "Ev3", t0)

	boom := errors.New("refused")
	_, err := db.UpdateLead(triage.WithInboxKey(t.Context(), k1), l.ID, func(*triage.Lead) ([]triage.OutboxItem, error) { return nil, boom })
	if !errors.Is(err, boom) {
		t.Fatalf("failing UpdateLead = %v", err)
	}
	if n := len(mustInbox(t, db)); n != 3 {
		t.Fatalf("after a failed change the inbox holds %d entries; want 3", n)
	}
	if _, err := db.UpdateLead(triage.WithInboxKey(t.Context(), k1), l.ID, func(l *triage.Lead) ([]triage.OutboxItem, error) {
		l.Owner = "U1"
		return nil, nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := db.Enqueue(triage.WithInboxKey(t.Context(), k2), triage.OutboxItem{Kind: triage.OutboxEphemeral, Channel: "C1", User: "U1", Text: "hi"}); err != nil {
		t.Fatal(err)
	}
	got := mustInbox(t, db)
	if len(got) != 1 || got[0].Key != k3 {
		t.Fatalf("inbox = %+v; want only %s", got, k3)
	}
	// An entry whose handling changed nothing is removed explicitly, once.
	for range 2 {
		if err := db.DoneInbox(t.Context(), k3); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(mustInbox(t, db)); n != 0 {
		t.Errorf("inbox holds %d entries after DoneInbox", n)
	}
	if err := db.DoneInbox(t.Context(), "L-1"); !errors.Is(err, triage.ErrInvalid) {
		t.Errorf("DoneInbox(bad key) = %v; want ErrInvalid", err)
	}
}

// TestDB_AdmitInbox_Concurrent: callers that share a group commit each get
// their own key, and of concurrent repeats of one mark exactly one is new.
func TestDB_AdmitInbox_Concurrent(t *testing.T) {
	t.Parallel()
	db := storagetest.MustOpen(t)
	const n = 64
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		keys = map[string]bool{}
		news = map[string]int{}
	)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mark := fmt.Sprintf("Ev%d", i%16) // every mark four times
			key, dup, err := db.AdmitInbox(context.Background(), triage.InboxEntry{Kind: "event", Mark: mark, Body: []byte("{}"), At: t0})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil:
				t.Error(err)
			case dup:
			case keys[key]:
				t.Errorf("key %s given twice", key)
			default:
				keys[key] = true
				news[mark]++
			}
		}()
	}
	wg.Wait()
	if len(news) != 16 || len(keys) != 16 {
		t.Errorf("%d marks admitted with %d keys; want 16 each", len(news), len(keys))
	}
	for m, c := range news {
		if c != 1 {
			t.Errorf("mark %s admitted %d times", m, c)
		}
	}
	if got := len(mustInbox(t, db)); got != 16 {
		t.Errorf("inbox holds %d entries; want 16", got)
	}
}

func TestDB_AdmitInbox_BadInput(t *testing.T) {
	t.Parallel()
	db := storagetest.MustOpen(t)
	for _, e := range []triage.InboxEntry{
		{Kind: "", Body: []byte("{}")},
		{Kind: strings.Repeat("k", 65), Body: []byte("{}")},
		{Kind: "event", Mark: strings.Repeat("m", 513), Body: []byte("{}")},
		{Kind: "event", Body: make([]byte, 4<<20+1)},
	} {
		if _, _, err := db.AdmitInbox(t.Context(), e); !errors.Is(err, triage.ErrInvalid) {
			t.Errorf("AdmitInbox(kind %d bytes, mark %d, body %d) = %v; want ErrInvalid", len(e.Kind), len(e.Mark), len(e.Body), err)
		}
	}
	if n := len(mustInbox(t, db)); n != 0 {
		t.Errorf("refused entries left %d in the inbox", n)
	}
}

// TestDB_Inbox_BodyVerbatim: the body is stored as it came, whatever bytes
// it holds (the record's separator included), and survives a reopen.
func TestDB_Inbox_BodyVerbatim(t *testing.T) {
	t.Parallel()
	db := storagetest.MustOpen(t)
	body := []byte("payload=%7B%7D\n\x00\xff{\"a\":\"b\\n\"}\n")
	if _, _, err := db.AdmitInbox(t.Context(), triage.InboxEntry{Kind: "slack_interaction_form", Mark: "m", Body: body, At: t0}); err != nil {
		t.Fatal(err)
	}
	db = storagetest.MustReopen(t, db)
	got := mustInbox(t, db)
	if len(got) != 1 || string(got[0].Body) != string(body) || got[0].Kind != "slack_interaction_form" || got[0].Mark != "m" || !got[0].At.Equal(t0) {
		t.Errorf("inbox after reopen = %+v; want the entry verbatim", got)
	}
}

// TestDB_Prune_InboxMarks: Prune finds expired marks without a time index,
// and still drains the index that event ids recorded before the inbox have.
func TestDB_Prune_InboxMarks(t *testing.T) {
	t.Parallel()
	db := storagetest.MustOpen(t)
	for i := range 5 {
		mustAdmit(t, db, fmt.Sprintf("Ev%d", i), t0.Add(time.Duration(i)*time.Hour))
	}
	// A legacy id, as FirstSeen recorded it: value and time index.
	legacy := []byte("EvLEGACY")
	at := t0.UnixNano()
	if err := db.Bolt().Update(func(tx *bolt.Tx) error {
		v := binary.BigEndian.AppendUint64(nil, uint64(at))
		if err := tx.Bucket([]byte("events_seen")).Put(legacy, v); err != nil {
			return err
		}
		return tx.Bucket([]byte("events_by_time")).Put(append(append(v, '|'), legacy...), []byte{})
	}); err != nil {
		t.Fatal(err)
	}
	// At t0+retention+2h30: Ev0, Ev1, Ev2 and the legacy id are past it.
	n, err := db.Prune(t.Context(), t0.Add(storage.EventRetention+150*time.Minute))
	if err != nil || n != 4 {
		t.Fatalf("Prune = %d, %v; want 4 marks", n, err)
	}
	var left []string
	if err := db.Bolt().View(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte("events_seen")).ForEach(func(k, _ []byte) error {
			left = append(left, string(k))
			return nil
		})
	}); err != nil {
		t.Fatal(err)
	}
	if strings.Join(left, ",") != "Ev3,Ev4" {
		t.Errorf("marks after Prune = %v; want Ev3,Ev4", left)
	}
}
