package storage_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/leadtriage/leadtriage/storage"
	"github.com/leadtriage/leadtriage/storage/storagetest"
	"github.com/leadtriage/leadtriage/triage"
)

func TestOpen_Fresh(t *testing.T) {
	t.Parallel()
	db := storagetest.MustOpen(t)
	if db.Bolt().NoSync {
		t.Error("NoSync = true; acknowledged leads would not survive a power cut")
	}
	if got := db.Bolt().Path(); got != db.Path() {
		t.Errorf("Path() = %q, bolt path %q", db.Path(), got)
	}
	err := db.Bolt().View(func(tx *bolt.Tx) error {
		for _, name := range []string{"meta", "leads", "lead_index", "by_message",
			"idempotency", "idempotency_by_expiry", "events_seen", "events_by_time", "outbox", "outbox_dead", "outbox_by_lead"} {
			if tx.Bucket([]byte(name)) == nil {
				t.Errorf("bucket %s missing", name)
			}
		}
		if v := string(tx.Bucket([]byte("meta")).Get([]byte("schema_version"))); v != "4" {
			t.Errorf("schema_version = %q, want 4", v)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Ping(t.Context()); err != nil {
		t.Errorf("Ping on an open database: %v", err)
	}
}

func TestOpen_Locked(t *testing.T) {
	t.Parallel()
	db := storagetest.MustOpen(t)
	start := time.Now()
	second, err := storage.Open(db.Path())
	elapsed := time.Since(start)
	if err == nil {
		second.Close()
		t.Fatal("second Open of a held file succeeded")
	}
	if !errors.Is(err, storage.ErrLocked) || !errors.Is(err, berrors.ErrTimeout) {
		t.Errorf("err = %v, want ErrLocked and bbolt ErrTimeout", err)
	}
	want := "database " + db.Path() + " is locked: is another leadtriage running?"
	if err.Error() != want {
		t.Errorf("err = %q, want %q", err, want)
	}
	// The default timeout is 1 s; a generous bound keeps this stable on a busy CI.
	if elapsed > 3*time.Second {
		t.Errorf("second Open took %s, want about 1 s", elapsed)
	}
}

func TestOpen_LockTimeoutOption(t *testing.T) {
	t.Parallel()
	db := storagetest.MustOpen(t)
	_, err := storage.Open(db.Path(), storage.WithLockTimeout(50*time.Millisecond))
	if !errors.Is(err, storage.ErrLocked) {
		t.Fatalf("err = %v, want ErrLocked", err)
	}
}

// populated writes a database big enough that half of it holds live pages.
func populated(t *testing.T) string {
	t.Helper()
	db := storagetest.MustOpen(t)
	for i := range 200 {
		l := newLead(t, "acme")
		l.Message = strings.Repeat("x", 2000) + string(rune('a'+i%26))
		mustCreate(t, db, l)
	}
	return db.Path()
}

func TestOpen_DamagedFileRefused(t *testing.T) {
	t.Parallel()
	src := populated(t)
	orig, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		content []byte
	}{
		{"TruncatedToHalf", orig[:len(orig)/2]},
		{"TruncatedInsideMetaPage", orig[:100]},
		{"NotBbolt", bytes.Repeat([]byte("leadtriage"), 2000)},
		// Valid meta pages and size, garbage where they say the freelist is:
		// bbolt panics on this; Open must turn that into an error.
		{"FreelistZeroed", zeroFreelists(t, orig)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "copy.db")
			if err := os.WriteFile(path, tt.content, 0o600); err != nil {
				t.Fatal(err)
			}
			db, err := storage.Open(path)
			if err == nil {
				db.Close()
				t.Fatal("Open of a damaged file succeeded")
			}
			t.Logf("Open: %v", err)
			if !errors.Is(err, storage.ErrCorrupt) {
				t.Errorf("err = %v, want ErrCorrupt", err)
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("err = %q does not name the file", err)
			}
			after, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(after, tt.content) {
				t.Error("Open changed the damaged file")
			}
		})
	}
}

// zeroFreelists returns a copy of a bbolt file with the freelist pages both
// meta pages point at overwritten with zeros.
func zeroFreelists(t *testing.T, file []byte) []byte {
	t.Helper()
	out := bytes.Clone(file)
	e := binary.NativeEndian
	pageSize := int(e.Uint32(file[16+8:]))
	for _, metaPage := range []int{0, 1} {
		meta := file[metaPage*pageSize+16:]
		free := int(e.Uint64(meta[32:]))
		if free == 0 || (free+1)*pageSize > len(out) {
			t.Fatalf("meta %d: freelist page %d is not in the file", metaPage, free)
		}
		clear(out[free*pageSize : (free+1)*pageSize])
	}
	return out
}

func TestOpen_NewerSchemaRefused(t *testing.T) {
	t.Parallel()
	db := storagetest.MustOpen(t)
	path := db.Path()
	err := db.Bolt().Update(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte("meta")).Put([]byte("schema_version"), []byte("5"))
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	_, err = storage.Open(path)
	if !errors.Is(err, storage.ErrSchemaTooNew) {
		t.Fatalf("err = %v, want ErrSchemaTooNew", err)
	}
	if !strings.Contains(err.Error(), "schema version 5") {
		t.Errorf("err = %q does not say which version", err)
	}
	// The file keeps its version for the newer leadtriage.
	bdb, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer bdb.Close()
	_ = bdb.View(func(tx *bolt.Tx) error {
		if v := string(tx.Bucket([]byte("meta")).Get([]byte("schema_version"))); v != "5" {
			t.Errorf("schema_version after refused Open = %q, want 5", v)
		}
		return nil
	})
}

func TestOpen_ForeignBboltFileRefused(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "other.db")
	bdb, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := bdb.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucket([]byte("locks"))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	bdb.Close()
	_, err = storage.Open(path)
	if !errors.Is(err, storage.ErrCorrupt) || !strings.Contains(err.Error(), "not a leadtriage database") {
		t.Fatalf("err = %v, want ErrCorrupt saying it is not a leadtriage database", err)
	}
}

func TestDB_Backup(t *testing.T) {
	t.Parallel()
	db := storagetest.MustOpen(t)
	a := mustCreate(t, db, newLead(t, "acme"), triage.OutboxItem{Kind: triage.OutboxPostCard, Channel: "C1"})
	var buf bytes.Buffer
	n, err := db.Backup(&buf)
	if err != nil {
		t.Fatalf("Backup: %v", err)
	}
	if n != int64(buf.Len()) || n == 0 {
		t.Errorf("Backup reported %d bytes, wrote %d", n, buf.Len())
	}
	// Writes after the snapshot are not in it.
	mustCreate(t, db, newLead(t, "later"))

	path := filepath.Join(t.TempDir(), "restored.db")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	restored, err := storage.Open(path)
	if err != nil {
		t.Fatalf("opening the backup: %v", err)
	}
	defer restored.Close()
	if err := restored.Check(); err != nil {
		t.Errorf("backup fails the consistency check: %v", err)
	}
	leads, err := restored.Leads(t.Context(), triage.LeadFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(leads) != 1 || leads[0].ID != a.ID || leads[0].Company != "acme" {
		t.Errorf("restored leads = %v, want just %s", ids(leads), a.ID)
	}
	if due := mustDue(t, restored, t0); len(due) != 1 {
		t.Errorf("restored outbox has %d items, want 1", len(due))
	}
}

func TestDB_PingClosed(t *testing.T) {
	t.Parallel()
	db, err := storage.Open(filepath.Join(t.TempDir(), "x.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.Ping(t.Context()); err == nil {
		t.Error("Ping on a closed database succeeded")
	}
	_, _, err = db.CreateLead(context.Background(), newLead(t, "acme"), triage.Idempotency{}, nil)
	if !errors.Is(err, triage.ErrStoreFull) {
		t.Errorf("CreateLead on a closed database: %v, want ErrStoreFull (so intake answers 503)", err)
	}
}

func TestOpen_UpgradesEmptyBboltFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "empty.db")
	bdb, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	bdb.Close()
	db, err := storage.Open(path)
	if err != nil {
		t.Fatalf("Open of an empty bbolt file: %v", err)
	}
	defer db.Close()
	if err := db.Ping(t.Context()); err != nil {
		t.Fatal(err)
	}
	mustCreate(t, db, newLead(t, "acme"))
}

func TestDB_StoreFull(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "small.db")
	db, err := storage.Open(path, storage.WithMaxSize(256<<10))
	if err != nil {
		t.Fatal(err)
	}
	var acked []triage.Lead
	var full error
	for range 1000 {
		l := newLead(t, "acme")
		l.Message = strings.Repeat("m", 4000)
		stored, _, err := db.CreateLead(t.Context(), l, triage.Idempotency{}, []triage.OutboxItem{{Kind: triage.OutboxPostCard}})
		if err != nil {
			full = err
			break
		}
		acked = append(acked, stored)
	}
	if !errors.Is(full, triage.ErrStoreFull) {
		t.Fatalf("writing past the size cap: %v, want ErrStoreFull", full)
	}
	t.Logf("%d leads fitted; then: %v", len(acked), full)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	// Every acknowledged lead survives and the file is consistent.
	db, err = storage.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Check(); err != nil {
		t.Errorf("consistency after the store filled up: %v", err)
	}
	leads, err := db.Leads(t.Context(), triage.LeadFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(leads) != len(acked) || len(acked) == 0 {
		t.Errorf("%d leads stored, %d acknowledged", len(leads), len(acked))
	}
}
