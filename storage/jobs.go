package storage

import (
	"bytes"
	"context"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/leadtriage/leadtriage/triage"
)

// MarkJob implements triage.Store: the jobs bucket maps a job key to the
// time it ran (8-byte big-endian unix nanoseconds); the key's presence is the
// exactly-once guard, written in the same transaction as the job's outbox
// items.
func (db *DB) MarkJob(ctx context.Context, key string, at time.Time, out []triage.OutboxItem) (bool, error) {
	if key == "" || len(key) > 512 {
		return false, fmt.Errorf("job key must be 1–512 bytes: %w", triage.ErrInvalid)
	}
	first := false
	err := db.update(ctx, "recording job "+key, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketJobs)
		if b.Get([]byte(key)) != nil {
			return nil
		}
		first = true
		if err := b.Put([]byte(key), u64(uint64(at.UnixNano()))); err != nil {
			return fmt.Errorf("writing job marker: %w", err)
		}
		return enqueue(tx, out)
	})
	if err != nil {
		return false, err
	}
	return first, nil
}

// LastJob implements triage.Store. It scans the keys with the prefix; job
// keys are few (one a scheduled run), so no time index is kept.
func (db *DB) LastJob(ctx context.Context, prefix string) (string, time.Time, bool, error) {
	var (
		key  string
		last time.Time
		ok   bool
	)
	err := db.view(ctx, "finding the last job "+prefix, func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketJobs).Cursor()
		p := []byte(prefix)
		for k, v := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, v = c.Next() {
			if len(v) != 8 {
				continue
			}
			at := time.Unix(0, int64(fromU64(v))).UTC()
			if !ok || at.After(last) {
				key, last, ok = string(k), at, true
			}
		}
		return nil
	})
	return key, last, ok, err
}
