package storage

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"math"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/leadtriage/leadtriage/triage"
)

// Cache limits. A research result is a few KiB; anything near these is a bug
// upstream, and refusing it keeps one bad entry from bloating the file.
const (
	MaxCacheKey   = 512     // bytes
	MaxCacheValue = 1 << 20 // bytes (1 MiB)
)

// cachePrunePerCall bounds the expired entries one GetCache deletes, like
// eventsPrunePerCall.
const cachePrunePerCall = 16

// maxExpiry is the latest expiry an int64 of Unix nanoseconds can hold.
var maxExpiry = time.Unix(0, math.MaxInt64)

// GetCache returns the value cached under key, with ok false when there is
// none or it expired at or before now: expired entries count as missing.
// The value is the caller's own copy.
//
// GetCache also does the cache's opportunistic pruning (PutCache is not told
// the time): when the oldest entry has expired, it deletes a bounded number
// of expired entries in a write transaction after the read. A failed prune is
// logged, not returned; Prune catches up.
func (db *DB) GetCache(ctx context.Context, key string, now time.Time) ([]byte, bool, error) {
	if err := checkCacheKey(key); err != nil {
		return nil, false, fmt.Errorf("reading cache: %w", err)
	}
	var (
		val      []byte
		ok       bool
		stale    bool
		deadline = timeKey(now)
	)
	err := db.view(ctx, "reading cache", func(tx *bolt.Tx) error {
		val, ok, stale = nil, false, false
		if v := tx.Bucket(bucketCache).Get([]byte(key)); len(v) >= 8 && bytes.Compare(v[:8], deadline) > 0 {
			val, ok = bytes.Clone(v[8:]), true
		}
		k, _ := tx.Bucket(bucketCacheByExpiry).Cursor().First()
		stale = len(k) >= 8 && bytes.Compare(k[:8], deadline) <= 0
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	if stale {
		if err := db.update(ctx, "pruning cache", func(tx *bolt.Tx) error {
			_, err := pruneCache(tx, now, cachePrunePerCall)
			return err
		}); err != nil {
			db.log.Warn("pruning cache", slog.Any("error", err))
		}
	}
	return val, ok, nil
}

// PutCache stores val under key until expires, replacing any earlier entry.
// A key that is empty or longer than MaxCacheKey bytes, a value longer than
// MaxCacheValue bytes, or a zero expiry is refused with an error wrapping
// triage.ErrInvalid, and nothing is written.
func (db *DB) PutCache(ctx context.Context, key string, val []byte, expires time.Time) error {
	if err := checkCacheKey(key); err != nil {
		return fmt.Errorf("writing cache: %w", err)
	}
	switch {
	case len(val) > MaxCacheValue:
		return fmt.Errorf("writing cache: value is %d bytes, over the limit of %d (MaxCacheValue): %w", len(val), MaxCacheValue, triage.ErrInvalid)
	case expires.IsZero():
		return fmt.Errorf("writing cache: no expiry given: %w", triage.ErrInvalid)
	case expires.After(maxExpiry):
		return fmt.Errorf("writing cache: expiry %s is after %s: %w", expires.UTC().Format(time.RFC3339), maxExpiry.UTC().Format(time.RFC3339), triage.ErrInvalid)
	}
	k := []byte(key)
	exp := timeKey(expires)
	v := make([]byte, 0, 8+len(val))
	v = append(append(v, exp...), val...)
	return db.update(ctx, "writing cache", func(tx *bolt.Tx) error {
		c, byExpiry := tx.Bucket(bucketCache), tx.Bucket(bucketCacheByExpiry)
		if old := c.Get(k); len(old) >= 8 {
			// join copies, so the old expiry is not read after the Put below.
			if err := byExpiry.Delete(join(old[:8], k)); err != nil {
				return fmt.Errorf("replacing cache entry: %w", err)
			}
		}
		if err := c.Put(k, v); err != nil {
			return fmt.Errorf("writing cache entry: %w", err)
		}
		if err := byExpiry.Put(join(exp, k), []byte{}); err != nil {
			return fmt.Errorf("indexing cache entry: %w", err)
		}
		return nil
	})
}

func checkCacheKey(key string) error {
	switch {
	case key == "":
		return fmt.Errorf("empty key: %w", triage.ErrInvalid)
	case len(key) > MaxCacheKey:
		return fmt.Errorf("key is %d bytes, over the limit of %d (MaxCacheKey): %w", len(key), MaxCacheKey, triage.ErrInvalid)
	}
	return nil
}

// pruneCache deletes up to limit cache entries that expired by now.
func pruneCache(tx *bolt.Tx, now time.Time, limit int) (int, error) {
	byExpiry := tx.Bucket(bucketCacheByExpiry)
	keys := expired(byExpiry, now, limit)
	c := tx.Bucket(bucketCache)
	for _, k := range keys {
		key := k[9:]
		// An entry re-written later has another expiry (and index entry): keep it.
		if v := c.Get(key); v != nil && (len(v) < 8 || bytes.Equal(v[:8], k[:8])) {
			if err := c.Delete(key); err != nil {
				return 0, fmt.Errorf("pruning cache: %w", err)
			}
		}
		if err := byExpiry.Delete(k); err != nil {
			return 0, fmt.Errorf("pruning cache: %w", err)
		}
	}
	return len(keys), nil
}
