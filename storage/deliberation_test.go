package storage_test

import (
	"encoding/binary"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	bolt "go.etcd.io/bbolt"

	"github.com/leadtriage/leadtriage/storage"
	"github.com/leadtriage/leadtriage/storage/storagetest"
	"github.com/leadtriage/leadtriage/triage"
)

func TestDB_Outbox_PlainRoundTrip(t *testing.T) {
	t.Parallel()
	db := storagetest.MustOpen(t)
	l := mustCreate(t, db, newLead(t, "acme"))
	draft := triage.OutboxItem{
		Kind: triage.OutboxThreadReply, Lead: l.ID, Channel: "C1",
		Text:      "A decline to send them:",
		Plain:     "Subject: Your request\n\nDear <!channel> & co,\n\n```not a fence```",
		CreatedAt: t0,
	}
	if err := db.Enqueue(t.Context(), draft); err != nil {
		t.Fatal(err)
	}
	db = storagetest.MustReopen(t, db)
	due := mustDue(t, db, t0)
	if len(due) != 1 {
		t.Fatalf("due = %+v, want the draft", due)
	}
	want := draft
	want.ID, want.Seq = 1, 1
	if diff := cmp.Diff(want, due[0], equalTimes); diff != "" {
		t.Errorf("draft after a round trip (-want +got):\n%s", diff)
	}
}

// The card and the checklist of one lead coalesce independently: answers
// fold into the pending checklist item, votes into the pending card item,
// and neither swallows the other.
func TestDB_Outbox_CoalesceFamilies(t *testing.T) {
	t.Parallel()
	db := storagetest.MustOpen(t)
	ctx := t.Context()
	l := mustCreate(t, db, newLead(t, "acme"),
		triage.OutboxItem{Kind: triage.OutboxPostCard, Channel: "C1"},
		triage.OutboxItem{Kind: triage.OutboxPostChecklist, Channel: "C1"},
	)
	other := mustCreate(t, db, newLead(t, "other"),
		triage.OutboxItem{Kind: triage.OutboxPostCard, Channel: "C1"},
		triage.OutboxItem{Kind: triage.OutboxPostChecklist, Channel: "C1"},
	)
	update := func(id triage.LeadID, kinds ...triage.OutboxKind) {
		t.Helper()
		_, err := db.UpdateLead(ctx, id, func(l *triage.Lead) ([]triage.OutboxItem, error) {
			l.Owner += "x" // a change, so the update commits
			var out []triage.OutboxItem
			for _, k := range kinds {
				out = append(out, triage.OutboxItem{Kind: k, Channel: "C1"})
			}
			return out, nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	answer := func(id triage.LeadID) { update(id, triage.OutboxUpdateChecklist, triage.OutboxUpdateCard) }
	vote := func(id triage.LeadID) { update(id, triage.OutboxUpdateCard) }

	answer(l.ID)
	answer(l.ID)
	vote(l.ID)
	want := []itemSummary{
		{1, triage.OutboxPostCard, l.ID, 4},      // two answers and a vote
		{2, triage.OutboxPostChecklist, l.ID, 3}, // two answers
		{3, triage.OutboxPostCard, other.ID, 1},  // the other lead is untouched
		{4, triage.OutboxPostChecklist, other.ID, 1},
	}
	if diff := cmp.Diff(want, summarise(mustDue(t, db, t0))); diff != "" {
		t.Fatalf("outbox after answers and a vote (-want +got):\n%s", diff)
	}

	t.Run("StaleChecklistPostBecomesUpdate", func(t *testing.T) {
		err := db.CompleteOutbox(ctx, 2, 1, func(l *triage.Lead) error {
			l.Slack.ChecklistTS = "111.2"
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		due := summarise(mustDue(t, db, t0))
		if diff := cmp.Diff(itemSummary{2, triage.OutboxUpdateChecklist, l.ID, 3}, due[1]); diff != "" {
			t.Errorf("checklist item after a stale completion (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(itemSummary{1, triage.OutboxPostCard, l.ID, 4}, due[0]); diff != "" {
			t.Errorf("card item after the checklist's stale completion (-want +got):\n%s", diff)
		}
		got, err := db.Lead(ctx, l.ID)
		if err != nil || got.Slack.ChecklistTS != "111.2" {
			t.Errorf("fn not applied: slack %+v, %v", got.Slack, err)
		}
		// The item is still indexed: a further answer folds into it.
		answer(l.ID)
		due = summarise(mustDue(t, db, t0))
		if diff := cmp.Diff(itemSummary{2, triage.OutboxUpdateChecklist, l.ID, 4}, due[1]); diff != "" {
			t.Errorf("checklist item after one more answer (-want +got):\n%s", diff)
		}
	})
	t.Run("CompletingOneFamilyKeepsTheOther", func(t *testing.T) {
		if err := db.CompleteOutbox(ctx, 2, 4, nil); err != nil {
			t.Fatal(err)
		}
		vote(l.ID) // still folds into the card post
		answer(l.ID)
		want := []itemSummary{
			{1, triage.OutboxPostCard, l.ID, 7},
			{3, triage.OutboxPostCard, other.ID, 1},
			{4, triage.OutboxPostChecklist, other.ID, 1},
			{5, triage.OutboxUpdateChecklist, l.ID, 1}, // the checklist's pending item was done: a new one
		}
		if diff := cmp.Diff(want, summarise(mustDue(t, db, t0))); diff != "" {
			t.Errorf("outbox (-want +got):\n%s", diff)
		}
	})
	t.Run("StaleCardPostBecomesUpdate", func(t *testing.T) {
		if err := db.CompleteOutbox(ctx, 1, 1, nil); err != nil {
			t.Fatal(err)
		}
		due := summarise(mustDue(t, db, t0))
		if diff := cmp.Diff(itemSummary{1, triage.OutboxUpdateCard, l.ID, 7}, due[0]); diff != "" {
			t.Errorf("card item after a stale completion (-want +got):\n%s", diff)
		}
	})
	t.Run("DeadChecklistDoesNotCoalesce", func(t *testing.T) {
		if err := db.DeadLetter(ctx, 4, "invalid_blocks"); err != nil {
			t.Fatal(err)
		}
		answer(other.ID)
		want := []itemSummary{
			{1, triage.OutboxUpdateCard, l.ID, 7},
			{3, triage.OutboxPostCard, other.ID, 2},
			{5, triage.OutboxUpdateChecklist, l.ID, 1},
			{6, triage.OutboxUpdateChecklist, other.ID, 1},
		}
		if diff := cmp.Diff(want, summarise(mustDue(t, db, t0))); diff != "" {
			t.Errorf("outbox (-want +got):\n%s", diff)
		}
	})
}

// A schema 1 file, built by hand the way that version wrote it, opens as
// schema 2: its card index entries keep working, and its checklist (which
// schema 1 never had) gets an index of its own.
func TestOpen_MigratesSchema1(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "v1.db")
	bdb, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	id := func(n uint64) []byte { return binary.BigEndian.AppendUint64(nil, n) }
	lead := `{"v":1,"id":1,"status":"pending","company":"Acme","extra":null,"created_at":"2026-11-28T09:30:00Z",` +
		`"votes":null,"answers":null,"decision":null,"research":{"flags":null,"providers":null,"at":"0001-01-01T00:00:00Z"},` +
		`"slack":{"channel":"C1","ts":"111.1"},"events":null}`
	item := `{"v":1,"id":7,"kind":"update_card","lead":1,"channel":"C1","created_at":"2026-11-28T09:30:00Z","seq":2,"next_at":"0001-01-01T00:00:00Z"}`
	err = bdb.Update(func(tx *bolt.Tx) error {
		put := func(bucket string, k, v []byte) error {
			b, err := tx.CreateBucketIfNotExists([]byte(bucket))
			if err != nil {
				return err
			}
			return b.Put(k, v)
		}
		for _, p := range []struct {
			bucket string
			k, v   []byte
		}{
			{"meta", []byte("schema_version"), []byte("1")},
			{"leads", id(1), []byte(lead)},
			{"by_status", append([]byte("pending|"), id(1)...), []byte{}},
			{"by_message", []byte("C1|111.1"), id(1)},
			{"outbox", id(7), []byte(item)},
			{"outbox_by_lead", id(1), id(7)}, // schema 1: the bare lead id means the card
		} {
			if err := put(p.bucket, p.k, p.v); err != nil {
				return err
			}
		}
		return tx.Bucket([]byte("outbox")).SetSequence(7)
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := bdb.Close(); err != nil {
		t.Fatal(err)
	}

	db, err := storage.Open(path)
	if err != nil {
		t.Fatalf("opening a schema 1 file: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Check(); err != nil {
		t.Fatal(err)
	}
	err = db.Bolt().View(func(tx *bolt.Tx) error {
		if v := string(tx.Bucket([]byte("meta")).Get([]byte("schema_version"))); v != "4" {
			t.Errorf("schema_version = %q, want 4", v)
		}
		var keys []string
		_ = tx.Bucket([]byte("outbox_by_lead")).ForEach(func(k, v []byte) error {
			keys = append(keys, string(k)+"->"+string(v))
			return nil
		})
		want := []string{string(id(1)) + "|card->" + string(id(7))}
		if diff := cmp.Diff(want, keys); diff != "" {
			t.Errorf("outbox_by_lead after migration (-want +got):\n%s", diff)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	// The old pending card update still takes the next card update; a
	// checklist update gets an item of its own.
	_, err = db.UpdateLead(t.Context(), 1, func(l *triage.Lead) ([]triage.OutboxItem, error) {
		return []triage.OutboxItem{
			{Kind: triage.OutboxUpdateCard, Channel: "C1"},
			{Kind: triage.OutboxUpdateChecklist, Channel: "C1"},
		}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []itemSummary{
		{7, triage.OutboxUpdateCard, 1, 3},
		{8, triage.OutboxUpdateChecklist, 1, 1},
	}
	if diff := cmp.Diff(want, summarise(mustDue(t, db, t0))); diff != "" {
		t.Errorf("outbox after updates on a migrated file (-want +got):\n%s", diff)
	}
	l, err := db.LeadByMessage(t.Context(), "C1", "111.1")
	if err != nil || l.Company != "Acme" || l.AnswersBy != nil || l.Slack.ChecklistTS != "" {
		t.Errorf("migrated lead = %+v, %v", l, err)
	}

	// Opening again migrates nothing twice.
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err = storage.Open(path)
	if err != nil {
		t.Fatalf("reopening the migrated file: %v", err)
	}
	if err := db.Check(); err != nil {
		t.Fatal(err)
	}
	if got := summarise(mustDue(t, db, t0)); len(got) != 2 {
		t.Errorf("outbox after reopening = %+v, want the two items", got)
	}
}

// A notice is stored as data and reads back whole, every field of it;
// items without one (TestDB_Outbox_PlainRoundTrip) are stored as before
// notices existed, so items queued by an older version still deliver.
func TestDB_Outbox_NoticeRoundTrip(t *testing.T) {
	t.Parallel()
	db := storagetest.MustOpen(t)
	l := mustCreate(t, db, newLead(t, "acme"))
	n := &triage.Notice{
		Kind: triage.NoticeEscalation, Lead: l.ID, User: "U1", Owner: "U2", TeamLead: "ULEAD",
		Choice: triage.ChoiceUnsure, Status: triage.StatusReferred, Reason: "Too <small>", Partner: "Smith & Co",
		Label: "Acme <!channel>", Tally: triage.Tally{Qualify: 1, Disqualify: 2, Unsure: 3}, Votes: 6, Quorum: 3, Blind: true,
		Criteria: []string{"budget", "fit"}, Users: []string{"U3", "U4"}, Team: true,
		Problems:      []triage.ReplyProblem{{Criterion: "budget", Raw: "maybe", Accepted: "yes or no"}},
		Waited:        26*time.Hour + 30*time.Minute,
		BusinessHours: true, Until: t0.Add(24 * time.Hour),
		Draft: &triage.Draft{Language: "nl", Subject: "Uw aanvraag", Body: "Beste Jan,\n\n<!here>"},
		DraftFacts: &triage.DraftFacts{Language: "nl", Name: "Jan", FullName: "Jan de Vries", Company: "Acme <!here>", Label: "Acme <!here>",
			Email: "jan@acme.nl", Phone: "+31 20 123 4567", Website: "https://acme.nl/", Message: "Een webshop\nvoor de zomer.", Reason: "te klein",
			Partner: &triage.Partner{Name: "Smith & Co", Fits: "small webshops", Contact: "intro@smith.example"}},
		System: "hubspot", URL: "https://app.hubspot.com/contacts/1/record/0-3/9",
	}
	item := triage.OutboxItem{Kind: triage.OutboxDirect, Lead: l.ID, User: "ULEAD", Notice: n, CreatedAt: t0}
	if err := db.Enqueue(t.Context(), item); err != nil {
		t.Fatal(err)
	}
	db = storagetest.MustReopen(t, db)
	due := mustDue(t, db, t0)
	if len(due) != 1 {
		t.Fatalf("due = %+v, want the notice", due)
	}
	want := item
	want.ID, want.Seq = 1, 1
	if diff := cmp.Diff(want, due[0], equalTimes); diff != "" {
		t.Errorf("notice after a round trip (-want +got):\n%s", diff)
	}
}
