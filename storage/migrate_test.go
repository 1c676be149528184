package storage

import (
	"bytes"
	"encoding/json"
	"errors"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/leadtriage/leadtriage/triage"
)

// bucketsKept are the buckets schema 3 takes over from schema 2 unchanged.
var bucketsKept = []string{"leads", "by_message", "idempotency", "idempotency_by_expiry", "events_seen",
	"events_by_time", "inbox", "outbox", "outbox_dead", "outbox_by_lead", "outbox_urgent", "outbox_blocked",
	"cache", "cache_by_expiry", "jobs", "signatures_seen"}

// snapshot copies every key and value of the named buckets.
func snapshot(t *testing.T, bdb *bolt.DB, names []string) map[string]map[string]string {
	t.Helper()
	out := map[string]map[string]string{}
	err := bdb.View(func(tx *bolt.Tx) error {
		for _, name := range names {
			b := tx.Bucket([]byte(name))
			if b == nil {
				return errors.New("bucket " + name + " missing")
			}
			m := map[string]string{}
			if err := b.ForEach(func(k, v []byte) error { m[string(k)] = string(v); return nil }); err != nil {
				return err
			}
			out[name] = m
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestOpen_MigratesSchema2 opens testdata/schema2.db, written by the schema 2
// code (fixture_test.go), and finds every lead, index entry, outbox item,
// inbox entry, mark, signature, cache entry and job intact, the new time
// indexes filled, and the three old index buckets gone.
func TestOpen_MigratesSchema2(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "v2.db")
	if err := copyFile(path, filepath.Join("testdata", "schema2.db")); err != nil {
		t.Fatal(err)
	}
	bdb, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	// The committed file has no owners (its writer claimed nothing): give
	// four leads one, in the v2 records themselves, so that the migration
	// has an owner index to build.
	if err := bdb.Update(func(tx *bolt.Tx) error {
		for id, owner := range map[uint64]string{1: "U1", 2: "U1", 3: "U1", 6: "U2"} {
			if err := setOwnerV2(tx, id, owner); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, bdb, bucketsKept)
	if err := bdb.View(func(tx *bolt.Tx) error {
		if v := string(tx.Bucket(bucketMeta).Get(keySchemaVersion)); v != "2" {
			t.Fatalf("fixture schema_version = %q, want 2", v)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := bdb.Close(); err != nil {
		t.Fatal(err)
	}

	db, err := Open(path, WithClock(func() time.Time { return fixtureNow }))
	if err != nil {
		t.Fatalf("opening the schema 2 file: %v", err)
	}
	defer db.Close()
	if err := db.Check(); err != nil {
		t.Fatal(err)
	}
	now := fixtureNow
	ids := idList(t)
	for _, c := range []struct {
		what string
		got  string
		want string
	}{
		{"all", ids(db.Leads(ctx, triage.LeadFilter{})), "L-1 L-2 L-3 L-4 L-5 L-6"},
		{"pending", ids(db.Leads(ctx, triage.LeadFilter{Status: triage.StatusPending})), "L-1 L-6"},
		{"qualified", ids(db.Leads(ctx, triage.LeadFilter{Status: triage.StatusQualified})), "L-2"},
		{"disqualified", ids(db.Leads(ctx, triage.LeadFilter{Status: triage.StatusDisqualified})), "L-3 L-4"},
		{"referred", ids(db.Leads(ctx, triage.LeadFilter{Status: triage.StatusReferred})), "L-5"},
		{"by e-mail", ids(db.LeadsByEmail(ctx, "jan@company3.example")), "L-3"},
		{"by domain", ids(db.LeadsByDomain(ctx, "company4.example")), "L-4"},
		{"purged domain", ids(db.LeadsByDomain(ctx, "company7.example")), ""},
		{"decided last day", ids(db.LeadsDecided(ctx, now.Add(-24*time.Hour), now)), "L-2"},
		{"decided 3 years ago (retention)", ids(db.LeadsDecided(ctx, time.Time{}, now.AddDate(-3, 0, 0))), "L-5"},
		{"to revisit after 30 days", ids(db.LeadsToRevisit(ctx, now.AddDate(0, 0, -30))), "L-3"},
		{"created last week", ids(db.LeadsCreated(ctx, now.AddDate(0, 0, -7), now)), "L-2 L-1"},
		{"owned by U1 (pending, qualified; not the disqualified L-3)", ids(db.LeadsOwned(ctx, "U1")), "L-1 L-2"},
		{"owned by U2 (reopened)", ids(db.LeadsOwned(ctx, "U2")), "L-6"},
		{"to ask the outcome of (schema 4's A entries, written by the schema 3 step)", ids(db.LeadsToAsk(ctx, time.Time{}, now)), "L-5 L-3 L-4 L-2"},
	} {
		if c.got != c.want {
			t.Errorf("%s: %q, want %q", c.what, c.got, c.want)
		}
	}
	if l, err := db.LeadByMessage(ctx, "C1", "1764800000.000200"); err != nil || l.ID != 2 {
		t.Errorf("LeadByMessage = %s, %v; want L-2", l.ID, err)
	}

	// Everything but the lead indexes is carried over byte for byte.
	after := snapshot(t, db.Bolt(), bucketsKept)
	for _, name := range bucketsKept {
		if len(before[name]) == 0 && !slices.Contains([]string{"events_by_time", "cache_by_expiry", "idempotency_by_expiry", "outbox_by_lead"}, name) {
			t.Errorf("fixture bucket %s is empty: the test would prove nothing for it", name)
		}
		for k, v := range before[name] {
			if after[name][k] != v {
				t.Errorf("bucket %s key %x changed or lost", name, k)
			}
		}
		if len(after[name]) != len(before[name]) {
			t.Errorf("bucket %s has %d entries, had %d", name, len(after[name]), len(before[name]))
		}
	}
	if err := db.Bolt().View(func(tx *bolt.Tx) error {
		for _, name := range []string{"by_status", "by_email", "by_domain"} {
			if tx.Bucket([]byte(name)) != nil {
				t.Errorf("bucket %s still there after the migration", name)
			}
		}
		if v := string(tx.Bucket(bucketMeta).Get(keySchemaVersion)); v != "4" {
			t.Errorf("schema_version = %q, want 4", v)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	// The store works on the migrated data: the idempotency key still
	// finds L-1, the outbox lists its attempted post, the urgent item first
	// and the parked one, the dead letter, the inbox entry and its mark, the
	// spent signature, the cache entry and the jobs.
	l, created, err := db.CreateLead(ctx, triage.Lead{Company: "again", CreatedAt: now}, triage.Idempotency{Key: "idem-1", Fingerprint: "fp-1", Expires: now.Add(time.Hour), Now: now}, nil)
	if err != nil || created || l.ID != 1 {
		t.Errorf("CreateLead(idem-1) = %s, created %v, %v; want L-1, not created", l.ID, created, err)
	}
	due, err := db.DueOutbox(ctx, now.Add(time.Hour), 0)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, it := range due {
		got = append(got, string(it.Kind)+" "+it.Lead.String()+" attempted="+boolWord(!it.Attempted.IsZero())+" blocked="+it.Blocked)
	}
	want := []string{"ephemeral L-0 attempted=no blocked=", "post_card L-1 attempted=yes blocked=", "post_card L-2 attempted=no blocked=not_in_channel"}
	if !slices.Equal(got, want) {
		t.Errorf("DueOutbox = %q, want %q", got, want)
	}
	if b, err := db.BlockedOutbox(ctx); err != nil || len(b) != 1 || b[0].Lead != 2 {
		t.Errorf("BlockedOutbox = %+v, %v; want L-2's post", b, err)
	}
	if d, err := db.DeadLetters(ctx); err != nil || len(d) != 1 || d[0].Lead != 3 || d[0].Kind != triage.OutboxUpdateCard {
		t.Errorf("DeadLetters = %+v, %v; want L-3's card update", d, err)
	}
	in, err := db.Inbox(ctx)
	if err != nil || len(in) != 1 || in[0].Mark != "Ev0001" || !bytes.Equal(in[0].Body, []byte("payload=%7B%7D")) {
		t.Errorf("Inbox = %+v, %v; want the click", in, err)
	}
	if _, dup, err := db.AdmitInbox(ctx, triage.InboxEntry{Kind: "slack", Mark: "Ev0001", Body: []byte("x"), At: now}); err != nil || !dup {
		t.Errorf("AdmitInbox(Ev0001) dup = %v, %v; want a repeat", dup, err)
	}
	if fresh, err := db.SpendSignature(ctx, []byte("sig-0001"), now.Add(5*time.Minute), now); err != nil || fresh {
		t.Errorf("SpendSignature(sig-0001) = %v, %v; want spent", fresh, err)
	}
	if v, ok, err := db.GetCache(ctx, "rdap/company1.example", now); err != nil || !ok || string(v) != `{"age":11}` {
		t.Errorf("GetCache = %q, %v, %v", v, ok, err)
	}
	for prefix, want := range map[string]string{"digest|": "digest|2026-12-03T09:00 UTC", "purged|": "purged|L-7"} {
		if key, _, ok, err := db.LastJob(ctx, prefix); err != nil || !ok || key != want {
			t.Errorf("LastJob(%s) = %q, %v, %v; want %q", prefix, key, ok, err, want)
		}
	}
}

// setOwnerV2 sets the owner of lead id in its stored JSON, leaving every
// other field as the schema 2 code wrote it.
func setOwnerV2(tx *bolt.Tx, id uint64, owner string) error {
	b := tx.Bucket(bucketLeads)
	var rec map[string]any
	if err := json.Unmarshal(b.Get(u64(id)), &rec); err != nil {
		return err
	}
	rec["owner"] = owner
	v, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	return b.Put(u64(id), v)
}

func boolWord(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// TestOpen_MigratesSchema3 opens testdata/schema3.db, written by the schema
// 3 code (TestWriteFixtureV3), and finds the W, A and K entries added for
// every lead, lead_index equal to what a save of every lead writes now, and
// every other key and bucket as it was.
func TestOpen_MigratesSchema3(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "v3.db")
	if err := copyFile(path, filepath.Join("testdata", "schema3.db")); err != nil {
		t.Fatal(err)
	}
	bdb, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	all := append(slices.Clone(bucketsKept), "lead_index")
	before := snapshot(t, bdb, all)
	if err := bdb.View(func(tx *bolt.Tx) error {
		if v := string(tx.Bucket(bucketMeta).Get(keySchemaVersion)); v != "3" {
			t.Fatalf("fixture schema_version = %q, want 3", v)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for k := range before["lead_index"] {
		if k[0] == ixAwait || k[0] == ixAsk || k[0] == ixDeal {
			t.Fatalf("the schema 3 fixture has a %c entry already", k[0])
		}
	}
	if err := bdb.Close(); err != nil {
		t.Fatal(err)
	}

	db, err := Open(path, WithClock(func() time.Time { return fixtureNow }))
	if err != nil {
		t.Fatalf("opening the schema 3 file: %v", err)
	}
	defer db.Close()
	if err := db.Check(); err != nil {
		t.Fatal(err)
	}
	ids := idList(t)
	far := fixtureNow.AddDate(1, 0, 0)
	awaiting, total, err := db.AwaitingOutcome(ctx, time.Time{}, far, 100)
	for _, c := range []struct {
		what string
		got  string
		want string
	}{
		// Decision order: L5 (4 years ago), L3 L4 (60 days), L8 L9 L11 (40
		// days; L10 has its outcome), L12 (2 days), L2 (an hour).
		{"awaiting an outcome", ids(awaiting, err), "L-5 L-3 L-4 L-8 L-9 L-11 L-12 L-2"},
		{"to ask (L9 asked; L12 asked about an earlier decision)", ids(db.LeadsToAsk(ctx, time.Time{}, far)), "L-5 L-3 L-4 L-8 L-11 L-12 L-2"},
		{"open deals (L10 won, L11's gone, L12's a Pipedrive lead)", ids(db.LeadsWithOpenDeals(ctx, time.Time{}, far)), "L-9"},
		{"decided last day (unchanged)", ids(db.LeadsDecided(ctx, fixtureNow.Add(-24*time.Hour), fixtureNow)), "L-2"},
	} {
		if c.got != c.want {
			t.Errorf("%s: %q, want %q", c.what, c.got, c.want)
		}
	}
	if total != 8 {
		t.Errorf("awaiting an outcome: %d in all, want 8", total)
	}

	after := snapshot(t, db.Bolt(), all)
	for _, name := range bucketsKept {
		if !maps.Equal(before[name], after[name]) {
			t.Errorf("bucket %s changed", name)
		}
	}
	// lead_index: the schema 3 entries kept, plus exactly the new ones a
	// save of each lead writes now.
	want := maps.Clone(before["lead_index"])
	if err := db.Bolt().View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketLeads).ForEach(func(k, v []byte) error {
			l, err := decodeLead(v)
			if err != nil {
				return err
			}
			l.ID = triage.LeadID(fromU64(k))
			for _, key := range indexKeys(&l) {
				want[string(key)] = ""
			}
			return nil
		})
	}); err != nil {
		t.Fatal(err)
	}
	if !maps.Equal(want, after["lead_index"]) {
		t.Errorf("lead_index has %d entries, want %d", len(after["lead_index"]), len(want))
	}
	if err := db.Bolt().View(func(tx *bolt.Tx) error {
		if v := string(tx.Bucket(bucketMeta).Get(keySchemaVersion)); v != "4" {
			t.Errorf("schema_version = %q, want 4", v)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// idList reads a listing's ids as "L-1 L-2"; a listing error fails t (as
// index_test.go's, which is in package storage_test).
func idList(t *testing.T) func([]triage.Lead, error) string {
	return func(leads []triage.Lead, err error) string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		var s []string
		for _, l := range leads {
			s = append(s, l.ID.String())
		}
		return strings.Join(s, " ")
	}
}
