package storage_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	bolt "go.etcd.io/bbolt"

	"github.com/leadtriage/leadtriage/storage"
	"github.com/leadtriage/leadtriage/storage/storagetest"
	"github.com/leadtriage/leadtriage/triage"
)

const canary = "jan.jansen+CANARY@voorbeeld.nl"

// deletesOf is the plan PurgeExpired makes: delete the checklist, then the card.
func deletesOf(l triage.Lead) ([]triage.OutboxItem, error) {
	var out []triage.OutboxItem
	for _, ts := range []string{l.Slack.ChecklistTS, l.Slack.TS} {
		if ts != "" {
			out = append(out, triage.OutboxItem{Kind: triage.OutboxDeleteMessage, Lead: l.ID, Channel: l.Slack.Channel, Payload: []byte(ts), CreatedAt: t0})
		}
	}
	return out, nil
}

// decideLead gives a stored lead a card, a checklist and a decision, and
// leaves a card update pending.
func decideLead(t *testing.T, db *storage.DB, id triage.LeadID, ts string) {
	t.Helper()
	_, err := db.UpdateLead(context.Background(), id, func(l *triage.Lead) ([]triage.OutboxItem, error) {
		l.Slack = triage.SlackRef{Channel: "C1", TS: ts, ChecklistTS: ts + "1"}
		l.Status = triage.StatusQualified
		l.Decision = &triage.Decision{Outcome: triage.StatusQualified, By: "auto", At: t0}
		return []triage.OutboxItem{{Kind: triage.OutboxUpdateCard, Channel: "C1", CreatedAt: t0}}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func mustPutCache(t *testing.T, db *storage.DB, keys ...string) {
	t.Helper()
	for _, k := range keys {
		if err := db.PutCache(context.Background(), k, []byte(`{"cached":true}`), t0.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
}

// inCache reports which of keys are in the cache.
func inCache(t *testing.T, db *storage.DB, keys ...string) map[string]bool {
	t.Helper()
	got := map[string]bool{}
	for _, k := range keys {
		_, ok, err := db.GetCache(context.Background(), k, t0)
		if err != nil {
			t.Fatal(err)
		}
		got[k] = ok
	}
	return got
}

// bucketsHolding lists the buckets whose keys or values contain needle.
func bucketsHolding(t *testing.T, db *bolt.DB, needle []byte) []string {
	t.Helper()
	var found []string
	err := db.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			return b.ForEach(func(k, v []byte) error {
				if bytes.Contains(k, needle) || bytes.Contains(v, needle) {
					found = append(found, string(name))
					return errors.New("found") // one hit per bucket is enough
				}
				return nil
			})
		})
	})
	if err != nil && len(found) == 0 {
		t.Fatal(err)
	}
	return found
}

func TestDB_PurgeLead(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := storagetest.MustOpen(t)

	in := triage.LeadInput{Company: "Acme BV", Name: "Jan Jansen", Email: canary, Website: "https://voorbeeld.nl", Message: "Call me"}
	lead, err := triage.NewLead(in, t0)
	if err != nil {
		t.Fatal(err)
	}
	idem := triage.Idempotency{Key: "key:acme", Fingerprint: in.Fingerprint(), Expires: t0.Add(24 * time.Hour), Now: t0}
	acme, created, err := db.CreateLead(ctx, lead, idem, []triage.OutboxItem{{Kind: triage.OutboxPostCard, Channel: "C1", CreatedAt: t0}})
	if err != nil || !created {
		t.Fatalf("CreateLead = %v, %v", created, err)
	}
	other := mustCreate(t, db, newLead(t, "other"))
	decideLead(t, db, acme.ID, "100.1")
	decideLead(t, db, other.ID, "200.1")
	// A dead letter that quotes the lead goes too.
	if err := db.Enqueue(ctx, triage.OutboxItem{Kind: triage.OutboxThreadReply, Lead: acme.ID, Channel: "C1", Plain: "Dear Jan Jansen", CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	for _, it := range mustDue(t, db, t0) {
		if it.Kind == triage.OutboxThreadReply {
			if err := db.DeadLetter(ctx, it.ID, "test"); err != nil {
				t.Fatal(err)
			}
		}
	}
	ours := []string{"research/v1/rdap/voorbeeld.nl", "research/v1/website/voorbeeld.nl", "research/v1/dns/voorbeeld.nl"}
	theirs := []string{"research/v1/rdap/other.example", "research/v1/dns/xvoorbeeld.nl", "research/v1/kvk/name:acme"}
	mustPutCache(t, db, append(ours, theirs...)...)

	if err := db.PurgeLead(ctx, acme.ID, t0.Add(time.Minute), deletesOf); err != nil {
		t.Fatalf("PurgeLead: %v", err)
	}

	if _, err := db.Lead(ctx, acme.ID); !errors.Is(err, triage.ErrNotFound) {
		t.Errorf("Lead = %v, want ErrNotFound", err)
	}
	if _, err := db.LeadByMessage(ctx, "C1", "100.1"); !errors.Is(err, triage.ErrNotFound) {
		t.Errorf("LeadByMessage = %v, want ErrNotFound", err)
	}
	if l, err := db.LeadByMessage(ctx, "C1", "200.1"); err != nil || l.ID != other.ID {
		t.Errorf("LeadByMessage of the other lead = %s, %v", l.ID, err)
	}
	lists := map[string]func() ([]triage.Lead, error){
		"LeadsByEmail":  func() ([]triage.Lead, error) { return db.LeadsByEmail(ctx, canary) },
		"LeadsByDomain": func() ([]triage.Lead, error) { return db.LeadsByDomain(ctx, "voorbeeld.nl") },
		"Leads(qualified)": func() ([]triage.Lead, error) {
			return db.Leads(ctx, triage.LeadFilter{Status: triage.StatusQualified})
		},
		"Leads(all)": func() ([]triage.Lead, error) { return db.Leads(ctx, triage.LeadFilter{}) },
	}
	want := map[string][]triage.LeadID{"LeadsByEmail": {}, "LeadsByDomain": {}, "Leads(qualified)": {other.ID}, "Leads(all)": {other.ID}}
	for name, list := range lists {
		leads, err := list()
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want[name], ids(leads)); diff != "" {
			t.Errorf("%s after the purge (-want +got):\n%s", name, diff)
		}
	}

	// The lead's pending items and dead letters are gone; the deletions of
	// its checklist and card are queued; the other lead's update stays.
	type item struct {
		Kind    triage.OutboxKind
		Lead    triage.LeadID
		Payload string
	}
	var got []item
	for _, it := range mustDue(t, db, t0) {
		got = append(got, item{it.Kind, it.Lead, string(it.Payload)})
	}
	wantItems := []item{
		{triage.OutboxUpdateCard, other.ID, ""},
		{triage.OutboxDeleteMessage, acme.ID, "100.11"},
		{triage.OutboxDeleteMessage, acme.ID, "100.1"},
	}
	if diff := cmp.Diff(wantItems, got); diff != "" {
		t.Errorf("outbox after the purge (-want +got):\n%s", diff)
	}
	if dead, err := db.DeadLetters(ctx); err != nil || len(dead) != 0 {
		t.Errorf("DeadLetters = %+v, %v; want none", dead, err)
	}

	wantCache := map[string]bool{}
	for _, k := range ours {
		wantCache[k] = false
	}
	for _, k := range theirs {
		wantCache[k] = true
	}
	if diff := cmp.Diff(wantCache, inCache(t, db, append(ours, theirs...)...)); diff != "" {
		t.Errorf("cache after the purge (-want +got):\n%s", diff)
	}

	key, at, ok, err := db.LastJob(ctx, triage.PurgedJobPrefix)
	if err != nil || !ok || key != "purged|"+acme.ID.String() || !at.Equal(t0.Add(time.Minute)) {
		t.Errorf("LastJob(purged) = %q %v %v, %v", key, at, ok, err)
	}

	// No bucket holds the canary any more: not the lead, an index, an
	// idempotency key, the outbox or the audit entry.
	if found := bucketsHolding(t, db.Bolt(), []byte(canary)); len(found) != 0 {
		t.Errorf("the canary is still in buckets %v", found)
	}
	if found := bucketsHolding(t, db.Bolt(), []byte("key:acme")); len(found) != 0 {
		t.Errorf("the idempotency key is still in buckets %v", found)
	}

	// bbolt reuses the freed pages but leaves their bytes in the file until
	// they are written again; an offline compaction leaves none.
	compacted := filepath.Join(t.TempDir(), "compact.db")
	dst, err := bolt.Open(compacted, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := bolt.Compact(dst, db.Bolt(), 0); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(compacted)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, []byte(canary)) {
		t.Error("the compacted file still holds the canary")
	}

	// The same content under the same key is a new lead now.
	again, created, err := db.CreateLead(ctx, lead, triage.Idempotency{Key: "key:acme", Fingerprint: "another", Expires: t0.Add(24 * time.Hour), Now: t0}, nil)
	if err != nil || !created || again.ID == acme.ID {
		t.Errorf("resubmission = %s created %v, %v; want a new lead", again.ID, created, err)
	}
}

// The research cache of a domain stays while another lead has that domain.
func TestDB_PurgeLead_SharedDomainKeepsCache(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := storagetest.MustOpen(t)
	first := mustCreate(t, db, newLead(t, "shared"))
	second := mustCreate(t, db, newLead(t, "shared"))
	key := "research/v1/rdap/shared.example"
	mustPutCache(t, db, key)

	if err := db.PurgeLead(ctx, first.ID, t0, deletesOf); err != nil {
		t.Fatal(err)
	}
	if !inCache(t, db, key)[key] {
		t.Error("the cache of a domain another lead has was dropped")
	}
	if err := db.PurgeLead(ctx, second.ID, t0, deletesOf); err != nil {
		t.Fatal(err)
	}
	if inCache(t, db, key)[key] {
		t.Error("the cache of a domain no lead has any more was kept")
	}
}

func TestDB_PurgeLead_Errors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := storagetest.MustOpen(t)
	l := mustCreate(t, db, newLead(t, "kept"), triage.OutboxItem{Kind: triage.OutboxPostCard, Channel: "C1", CreatedAt: t0})

	t.Run("ErrNotFound", func(t *testing.T) {
		err := db.PurgeLead(ctx, l.ID+100, t0, func(triage.Lead) ([]triage.OutboxItem, error) {
			t.Error("fn called for a lead that does not exist")
			return nil, nil
		})
		if !errors.Is(err, triage.ErrNotFound) {
			t.Errorf("err = %v, want ErrNotFound", err)
		}
	})
	t.Run("fn fails: nothing written", func(t *testing.T) {
		boom := errors.New("changed its mind")
		err := db.PurgeLead(ctx, l.ID, t0, func(got triage.Lead) ([]triage.OutboxItem, error) {
			if got.ID != l.ID || got.Company != "kept" {
				t.Errorf("fn got %s %q", got.ID, got.Company)
			}
			return []triage.OutboxItem{{Kind: triage.OutboxDeleteMessage, Channel: "C1", Payload: []byte("1.2")}}, boom
		})
		if !errors.Is(err, boom) || errors.Is(err, triage.ErrStoreFull) {
			t.Errorf("err = %v, want fn's error as is", err)
		}
		if _, err := db.Lead(ctx, l.ID); err != nil {
			t.Errorf("Lead = %v, want it kept", err)
		}
		if due := mustDue(t, db, t0); len(due) != 1 || due[0].Kind != triage.OutboxPostCard {
			t.Errorf("outbox = %+v, want the card post only", due)
		}
		if _, _, ok, _ := db.LastJob(ctx, triage.PurgedJobPrefix); ok {
			t.Error("an audit entry was written")
		}
	})
	t.Run("cancelled context", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if err := db.PurgeLead(cctx, l.ID, t0, deletesOf); !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want context.Canceled", err)
		}
	})
}
