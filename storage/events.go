package storage

import (
	"bytes"
	"context"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/leadtriage/leadtriage/triage"
)

// EventRetention is how long an inbox mark (a Slack event id, or another
// request's de-duplication mark) is remembered. Slack retries a delivery for
// minutes, never for a day.
const EventRetention = triage.InboxMarkRetention

// Prune deletes Slack event ids older than EventRetention, expired
// idempotency keys, expired intake signatures and expired cache entries, and
// returns how many entries it removed. CreateLead and GetCache already prune
// a few per call, and AdmitInbox ignores expired marks; Prune is for a
// periodic job.
func (db *DB) Prune(ctx context.Context, now time.Time) (int, error) {
	const batch = 1000
	total := 0
	for {
		n := 0
		err := db.update(ctx, "pruning expired keys", func(tx *bolt.Tx) error {
			ne, err := pruneEvents(tx, now, batch)
			if err != nil {
				return err
			}
			ni, err := pruneIdem(tx, now, batch)
			if err != nil {
				return err
			}
			nc, err := pruneCache(tx, now, batch)
			if err != nil {
				return err
			}
			ns, err := pruneSignatures(tx, now, batch)
			n = ne + ni + nc + ns
			return err
		})
		if err != nil {
			return total, err
		}
		total += n
		if n == 0 {
			return total, nil
		}
	}
}

// pruneEvents deletes up to limit marks seen before now-EventRetention:
// first those of the events_by_time index (ids recorded before the inbox,
// which wrote it), then any found by scanning events_seen, which the inbox
// does not index by time. The scan reads every live mark: a day of Slack
// requests, once an hour.
func pruneEvents(tx *bolt.Tx, now time.Time, limit int) (int, error) {
	cutoff := now.Add(-EventRetention)
	keys := expired(tx.Bucket(bucketEventsByTime), cutoff, limit)
	events, byTime := tx.Bucket(bucketEvents), tx.Bucket(bucketEventsByTime)
	for _, k := range keys {
		id := k[9:]
		// Only delete the id if this index entry is the one it was recorded with.
		if bytes.Equal(events.Get(id), k[:8]) {
			if err := events.Delete(id); err != nil {
				return 0, fmt.Errorf("pruning event ids: %w", err)
			}
		}
		if err := byTime.Delete(k); err != nil {
			return 0, fmt.Errorf("pruning event ids: %w", err)
		}
	}
	n := len(keys)
	if n >= limit {
		return n, nil
	}
	// Collect before deleting: deleting under a bbolt cursor can skip keys.
	var old [][]byte
	c := events.Cursor()
	for k, v := c.First(); k != nil && n+len(old) < limit; k, v = c.Next() {
		if markExpired(v, now) {
			old = append(old, bytes.Clone(k))
		}
	}
	for _, k := range old {
		if err := events.Delete(k); err != nil {
			return 0, fmt.Errorf("pruning inbox marks: %w", err)
		}
	}
	return n + len(old), nil
}

// pruneIdem deletes up to limit idempotency keys that expired by now.
func pruneIdem(tx *bolt.Tx, now time.Time, limit int) (int, error) {
	byExpiry := tx.Bucket(bucketIdemExpiry)
	keys := expired(byExpiry, now, limit)
	idem := tx.Bucket(bucketIdem)
	for _, k := range keys {
		key := k[9:]
		if v := idem.Get(key); v != nil {
			r, err := decodeIdem(v)
			if err != nil {
				return 0, fmt.Errorf("pruning idempotency keys: %w", err)
			}
			// A key re-recorded later has another expiry entry: keep it.
			if bytes.Equal(timeKey(r.Expires), k[:8]) {
				if err := idem.Delete(key); err != nil {
					return 0, fmt.Errorf("pruning idempotency keys: %w", err)
				}
			}
		}
		if err := byExpiry.Delete(k); err != nil {
			return 0, fmt.Errorf("pruning idempotency keys: %w", err)
		}
	}
	return len(keys), nil
}

// expired returns copies of up to limit keys of a time|name index whose time
// is not after cutoff. Keys are collected before deleting because deleting
// under a bbolt cursor can skip entries.
func expired(b *bolt.Bucket, cutoff time.Time, limit int) [][]byte {
	end := timeKey(cutoff)
	var keys [][]byte
	c := b.Cursor()
	for k, _ := c.First(); k != nil && len(keys) < limit; k, _ = c.Next() {
		if len(k) < 9 || bytes.Compare(k[:8], end) > 0 {
			break
		}
		keys = append(keys, bytes.Clone(k))
	}
	return keys
}
