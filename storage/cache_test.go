package storage_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	bolt "go.etcd.io/bbolt"

	"github.com/leadtriage/leadtriage/storage"
	"github.com/leadtriage/leadtriage/storage/storagetest"
	"github.com/leadtriage/leadtriage/triage"
)

// cache is the shape package research declares (research.Cache); storage
// must not import research, so the test states it again.
type cache interface {
	GetCache(ctx context.Context, key string, now time.Time) ([]byte, bool, error)
	PutCache(ctx context.Context, key string, val []byte, expires time.Time) error
}

var _ cache = (*storage.DB)(nil)

func mustPut(t testing.TB, db *storage.DB, key, val string, expires time.Time) {
	t.Helper()
	if err := db.PutCache(context.Background(), key, []byte(val), expires); err != nil {
		t.Fatalf("PutCache(%q): %v", key, err)
	}
}

// cached is GetCache as a string, "" with ok false for a miss.
func cached(t testing.TB, db *storage.DB, key string, now time.Time) (string, bool) {
	t.Helper()
	v, ok, err := db.GetCache(context.Background(), key, now)
	if err != nil {
		t.Fatalf("GetCache(%q): %v", key, err)
	}
	if !ok && v != nil {
		t.Errorf("GetCache(%q) = %q with ok false; want nil", key, v)
	}
	return string(v), ok
}

// bucketLen counts the keys of a bucket, straight from bbolt.
func bucketLen(t testing.TB, db *storage.DB, name string) int {
	t.Helper()
	n := 0
	if err := db.Bolt().View(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(name))
		if b == nil {
			return fmt.Errorf("no bucket %s", name)
		}
		return b.ForEach(func(_, _ []byte) error { n++; return nil })
	}); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestDB_Cache_TTL(t *testing.T) {
	t.Parallel()
	db := storagetest.MustOpen(t)
	exp := t0.Add(time.Hour)
	mustPut(t, db, "rdap:acme.example", `{"registered":"2020-01-02"}`, exp)

	tests := []struct {
		name   string
		now    time.Time
		want   string
		wantOK bool
	}{
		{"Fresh", t0, `{"registered":"2020-01-02"}`, true},
		{"JustBeforeExpiry", exp.Add(-time.Nanosecond), `{"registered":"2020-01-02"}`, true},
		{"AtExpiry", exp, "", false},
		{"AfterExpiry", exp.Add(time.Minute), "", false},
	}
	for _, tt := range tests {
		got, ok := cached(t, db, "rdap:acme.example", tt.now)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("%s: GetCache = %q, %v; want %q, %v", tt.name, got, ok, tt.want, tt.wantOK)
		}
	}
	if got, ok := cached(t, db, "rdap:other.example", t0); ok {
		t.Errorf("GetCache(unknown key) = %q, true; want a miss", got)
	}
}

func TestDB_Cache_CopiesAndEmptyValue(t *testing.T) {
	t.Parallel()
	db := storagetest.MustOpen(t)
	ctx := t.Context()
	val := []byte("abc")
	if err := db.PutCache(ctx, "k", val, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	val[0] = 'X' // the caller's slice is not kept
	got, _, err := db.GetCache(ctx, "k", t0)
	if err != nil || string(got) != "abc" {
		t.Fatalf("GetCache = %q, %v; want abc", got, err)
	}
	got[0] = 'Y' // nor is the returned one shared
	if again, _ := cached(t, db, "k", t0); again != "abc" {
		t.Errorf("GetCache after changing the returned slice = %q; want abc", again)
	}

	if err := db.PutCache(ctx, "empty", nil, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	v, ok, err := db.GetCache(ctx, "empty", t0)
	if err != nil || !ok || v == nil || len(v) != 0 {
		t.Errorf("GetCache(empty) = %#v, %v, %v; want an empty non-nil value, true", v, ok, err)
	}
}

func TestDB_Cache_Overwrite(t *testing.T) {
	t.Parallel()
	db := storagetest.MustOpen(t)
	mustPut(t, db, "k", "old", t0.Add(time.Minute))
	mustPut(t, db, "k", "new", t0.Add(time.Hour)) // a refresh extends the entry
	if got, ok := cached(t, db, "k", t0.Add(30*time.Minute)); !ok || got != "new" {
		t.Errorf("after a longer overwrite: %q, %v; want new, true", got, ok)
	}
	// The first expiry's index entry went with the old value: nothing to prune yet.
	if n, err := db.Prune(t.Context(), t0.Add(30*time.Minute)); err != nil || n != 0 {
		t.Errorf("Prune = %d, %v; want 0", n, err)
	}
	mustPut(t, db, "k", "short", t0.Add(time.Second)) // and may shorten it
	if got, ok := cached(t, db, "k", t0.Add(time.Minute)); ok {
		t.Errorf("after a shorter overwrite: %q, true; want a miss", got)
	}
	if n := bucketLen(t, db, "cache_by_expiry"); n > 1 {
		t.Errorf("cache_by_expiry has %d entries for one key; want at most 1", n)
	}
}

func TestDB_Cache_Limits(t *testing.T) {
	t.Parallel()
	db := storagetest.MustOpen(t)
	ctx := t.Context()
	exp := t0.Add(time.Hour)
	okKey := strings.Repeat("k", storage.MaxCacheKey)
	if err := db.PutCache(ctx, okKey, make([]byte, storage.MaxCacheValue), exp); err != nil {
		t.Fatalf("PutCache at both limits: %v", err)
	}
	if v, ok, err := db.GetCache(ctx, okKey, t0); err != nil || !ok || len(v) != storage.MaxCacheValue {
		t.Errorf("GetCache at both limits = %d bytes, %v, %v", len(v), ok, err)
	}

	long := strings.Repeat("k", storage.MaxCacheKey+1)
	tests := []struct {
		name    string
		key     string
		val     []byte
		expires time.Time
		want    string // in the error
	}{
		{"KeyTooLong", long, []byte("v"), exp, "513 bytes, over the limit of 512"},
		{"EmptyKey", "", []byte("v"), exp, "empty key"},
		{"ValueTooLarge", "big", make([]byte, storage.MaxCacheValue+1), exp, "over the limit of 1048576"},
		{"NoExpiry", "k", []byte("v"), time.Time{}, "no expiry"},
		{"ExpiryOutOfRange", "k", []byte("v"), time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC), "expiry 3000-01-01"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := db.PutCache(ctx, tt.key, tt.val, tt.expires)
			if !errors.Is(err, triage.ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("PutCache = %v; want ErrInvalid saying %q", err, tt.want)
			}
			if errors.Is(err, triage.ErrStoreFull) {
				t.Errorf("PutCache = %v; a refused entry is not a store failure", err)
			}
		})
	}
	t.Run("GetKeyTooLong", func(t *testing.T) {
		t.Parallel()
		if _, _, err := db.GetCache(ctx, long, t0); !errors.Is(err, triage.ErrInvalid) {
			t.Errorf("GetCache(long key) = %v; want ErrInvalid", err)
		}
	})
	t.Cleanup(func() {
		// Only the two entries at the limits were written.
		if n := bucketLen(t, db, "cache"); n != 1 {
			t.Errorf("cache has %d entries; want 1", n)
		}
	})
}

func TestDB_Cache_OpportunisticPrune(t *testing.T) {
	t.Parallel()
	db := storagetest.MustOpen(t)
	const stale = 40
	for i := range stale {
		mustPut(t, db, fmt.Sprintf("old-%02d", i), "x", t0.Add(time.Minute))
	}
	mustPut(t, db, "live", "y", t0.Add(time.Hour))
	now := t0.Add(2 * time.Minute)

	// A hit prunes too: the oldest entry expired.
	if got, ok := cached(t, db, "live", now); !ok || got != "y" {
		t.Fatalf("GetCache(live) = %q, %v", got, ok)
	}
	left := bucketLen(t, db, "cache") - 1
	if left <= 0 || left >= stale {
		t.Fatalf("after one GetCache %d expired entries are left of %d; want some pruned, not all (bounded work)", left, stale)
	}
	for i := 0; bucketLen(t, db, "cache") > 1; i++ {
		if i == stale {
			t.Fatal("GetCache never pruned the expired entries")
		}
		cached(t, db, "old-00", now)
	}
	if got, ok := cached(t, db, "live", now); !ok || got != "y" {
		t.Errorf("GetCache(live) after pruning = %q, %v; want y, true", got, ok)
	}
	if n := bucketLen(t, db, "cache_by_expiry"); n != 1 {
		t.Errorf("cache_by_expiry has %d entries; want 1 (live)", n)
	}
}

func TestDB_Cache_Prune(t *testing.T) {
	t.Parallel()
	db := storagetest.MustOpen(t)
	for i := range 5 {
		mustPut(t, db, fmt.Sprintf("k%d", i), "v", t0.Add(time.Duration(i+1)*time.Minute))
	}
	n, err := db.Prune(t.Context(), t0.Add(3*time.Minute))
	if err != nil || n != 3 {
		t.Fatalf("Prune = %d, %v; want 3 (k0, k1, k2)", n, err)
	}
	var live []string
	for i := range 5 {
		if _, ok := cached(t, db, fmt.Sprintf("k%d", i), t0); ok {
			live = append(live, fmt.Sprintf("k%d", i))
		}
	}
	if diff := cmp.Diff([]string{"k3", "k4"}, live); diff != "" {
		t.Errorf("entries left (-want +got):\n%s", diff)
	}
}

func TestDB_Cache_SurvivesReopen(t *testing.T) {
	t.Parallel()
	db := storagetest.MustOpen(t)
	mustPut(t, db, "k", "v", t0.Add(time.Hour))
	db = storagetest.MustReopen(t, db)
	if got, ok := cached(t, db, "k", t0); !ok || got != "v" {
		t.Errorf("GetCache after reopen = %q, %v; want v, true", got, ok)
	}
}

// A file written before the cache existed gains its buckets on open, with
// no new schema version.
func TestOpen_AddsCacheBuckets(t *testing.T) {
	t.Parallel()
	db := storagetest.MustOpen(t)
	lead := mustCreate(t, db, newLead(t, "acme"))
	if err := db.Bolt().Update(func(tx *bolt.Tx) error {
		for _, name := range []string{"cache", "cache_by_expiry"} {
			if err := tx.DeleteBucket([]byte(name)); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	db = storagetest.MustReopen(t, db)
	mustPut(t, db, "k", "v", t0.Add(time.Hour))
	if got, ok := cached(t, db, "k", t0); !ok || got != "v" {
		t.Errorf("GetCache = %q, %v; want v, true", got, ok)
	}
	if _, err := db.Lead(t.Context(), lead.ID); err != nil {
		t.Errorf("lead after upgrade: %v", err)
	}
	var version string
	if err := db.Bolt().View(func(tx *bolt.Tx) error {
		version = string(tx.Bucket([]byte("meta")).Get([]byte("schema_version")))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// Schema 2 came with the outbox index per family (issue 4) and schema 3
	// with lead_index (issue 14), schema 4 with its outcome entries, not
	// with the cache buckets.
	if want := fmt.Sprint(storage.SchemaVersion); version != want || want != "4" {
		t.Errorf("schema version %q (SchemaVersion %s); want 4", version, want)
	}
}

func TestDB_Cache_Concurrent(t *testing.T) {
	t.Parallel()
	db := storagetest.MustOpen(t)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 10 {
				key := fmt.Sprintf("k%d", i)
				// Half of them expire at once, so readers prune while others write.
				exp := t0.Add(time.Duration(1+w%2*60) * time.Minute)
				if err := db.PutCache(context.Background(), key, []byte(key), exp); err != nil {
					errs <- err
					return
				}
				if v, ok, err := db.GetCache(context.Background(), key, t0.Add(2*time.Minute)); err != nil || (ok && string(v) != key) {
					errs <- fmt.Errorf("GetCache(%s) = %q, %v, %v", key, v, ok, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestDB_Cache_CancelledContext(t *testing.T) {
	t.Parallel()
	db := storagetest.MustOpen(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := db.PutCache(ctx, "k", []byte("v"), t0.Add(time.Hour)); !errors.Is(err, context.Canceled) {
		t.Errorf("PutCache = %v; want context.Canceled", err)
	}
	if _, _, err := db.GetCache(ctx, "k", t0); !errors.Is(err, context.Canceled) {
		t.Errorf("GetCache = %v; want context.Canceled", err)
	}
	if n := bucketLen(t, db, "cache"); n != 0 {
		t.Errorf("cache has %d entries after a cancelled PutCache; want 0", n)
	}
}
