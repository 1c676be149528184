package storage_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/leadtriage/leadtriage/storage"
	"github.com/leadtriage/leadtriage/storage/storagetest"
	"github.com/leadtriage/leadtriage/triage"
	"github.com/leadtriage/leadtriage/triage/triagetest"
)

// faultyDisk is an injected write failure: while err is set, every write
// transaction fails with it, as a full disk fails them.
type faultyDisk struct {
	mu     sync.Mutex
	err    error
	writes atomic.Int32
}

func (d *faultyDisk) set(err error) { d.mu.Lock(); d.err = err; d.mu.Unlock() }

func (d *faultyDisk) fault() error {
	d.writes.Add(1)
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.err
}

func TestDB_Ping_WriteHealth(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := triagetest.NewClock(t0)
	disk := &faultyDisk{}
	db := storagetest.MustOpenWith(t, storage.WithWriteFault(disk.fault), storage.WithClock(clock.Now))
	ping := func(what string, wantReason string) {
		t.Helper()
		err := db.Ping(ctx)
		switch {
		case wantReason == "" && err != nil:
			t.Errorf("%s: Ping = %v, want healthy", what, err)
		case wantReason != "" && !errors.Is(err, storage.ErrCannotWrite):
			t.Errorf("%s: Ping = %v, want ErrCannotWrite", what, err)
		case wantReason != "" && !strings.Contains(err.Error(), wantReason):
			t.Errorf("%s: Ping = %v, want the reason %q", what, err, wantReason)
		case err != nil && strings.Contains(err.Error(), db.Path()):
			t.Errorf("%s: Ping names the file: %v", what, err)
		}
	}

	ping("fresh", "")

	// The disk fills up: a lead cannot be stored, and health says so.
	disk.set(syscall.ENOSPC)
	if _, _, err := db.CreateLead(ctx, newLead(t, "acme"), triage.Idempotency{}, nil); !errors.Is(err, triage.ErrStoreFull) {
		t.Fatalf("CreateLead on a full disk = %v, want ErrStoreFull", err)
	}
	ping("after a failed write", "no space left on device")
	ping("still full", "no space left on device")

	// Space returns; no one writes, yet health recovers by itself, once a
	// probe works and no real write failed for ProbeEvery (a store too full
	// for a lead may still take a probe).
	disk.set(nil)
	ping("space back, failure recent", "no space left on device")
	clock.Advance(storage.ProbeEvery)
	ping("space back", "")
	// A real write that works clears a failure at once.
	disk.set(syscall.ENOSPC)
	if _, _, err := db.CreateLead(ctx, newLead(t, "acme"), triage.Idempotency{}, nil); err == nil {
		t.Fatal("CreateLead on a full disk succeeded")
	}
	disk.set(nil)
	mustCreate(t, db, newLead(t, "acme"))
	ping("a lead stored again", "")

	// A disk that breaks while nothing is written: the probe finds it once
	// ProbeEvery has passed since the last write.
	disk.set(syscall.EIO)
	ping("broken, last write recent", "")
	clock.Advance(storage.ProbeEvery)
	ping("broken, probe due", "input/output error")
	disk.set(nil)
	ping("repaired", "")

	// Healthy probes are paced: a flood of health checks costs one write
	// per ProbeEvery, not one each.
	clock.Advance(storage.ProbeEvery)
	before := disk.writes.Load()
	for range 50 {
		ping("flood", "")
	}
	if n := disk.writes.Load() - before; n != 1 {
		t.Errorf("50 health checks wrote %d probes, want 1", n)
	}
}

// TestDB_Ping_SizeCap fills a real database to its size cap (a file-size
// limit as a full disk sets one): health reports it, naming the cause.
func TestDB_Ping_SizeCap(t *testing.T) {
	t.Parallel()
	db := storagetest.MustOpenWith(t, storage.WithMaxSize(256<<10))
	ping := db.Ping(t.Context())
	if ping != nil {
		t.Fatalf("empty database: Ping = %v", ping)
	}
	var full error
	for range 1000 {
		l := newLead(t, "acme")
		l.Message = strings.Repeat("m", 4000)
		if _, _, err := db.CreateLead(t.Context(), l, triage.Idempotency{}, nil); err != nil {
			full = err
			break
		}
	}
	if !errors.Is(full, triage.ErrStoreFull) {
		t.Fatalf("writing past the size cap: %v, want ErrStoreFull", full)
	}
	err := db.Ping(t.Context())
	if !errors.Is(err, storage.ErrCannotWrite) || !strings.Contains(err.Error(), "maximum size") {
		t.Errorf("full database: Ping = %v, want ErrCannotWrite naming the maximum size", err)
	}
}
