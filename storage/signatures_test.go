package storage_test

import (
	"context"
	"crypto/sha256"
	"testing"
	"time"

	"github.com/leadtriage/leadtriage/storage/storagetest"
)

func TestDB_SpendSignature(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := storagetest.MustOpen(t)
	id := func(s string) []byte { h := sha256.Sum256([]byte(s)); return h[:] }
	expires := t0.Add(6 * time.Minute)
	spend := func(what string, s string, exp, now time.Time, want bool) {
		t.Helper()
		first, err := db.SpendSignature(ctx, id(s), exp, now)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if first != want {
			t.Errorf("%s: first = %v, want %v", what, first, want)
		}
	}

	spend("first use", "a", expires, t0, true)
	spend("replay", "a", expires, t0.Add(time.Minute), false)
	spend("another request", "b", expires, t0, true)

	// A refused request's signature is released: its sender may retry it.
	if err := db.ReleaseSignature(ctx, id("b"), expires); err != nil {
		t.Fatal(err)
	}
	spend("retry after release", "b", expires, t0, true)

	// Remembered across a restart: a replay after a crash is still one.
	db = storagetest.MustReopen(t, db)
	spend("replay after restart", "a", expires, t0.Add(2*time.Minute), false)

	// Expired signatures are pruned; what has not expired stays.
	later := t0.Add(time.Minute)
	spend("a later request", "c", later.Add(6*time.Minute), later, true)
	n, err := db.Prune(ctx, expires)
	if err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Errorf("Prune removed %d entries, want the 2 expired signatures", n)
	}
	spend("unexpired after prune", "c", later.Add(6*time.Minute), expires, false)
}
