package storage

import (
	"bytes"
	"context"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/leadtriage/leadtriage/triage"
)

// PurgeLead implements triage.Store. In one transaction it deletes the lead
// record and every entry that leads to it or copies from it:
//
//   - its lead_index entries (status, e-mail, domain, times), and its by_message
//     entry if that still points at it;
//   - the idempotency keys (and their expiry entries) that point at it;
//   - its outbox items, live and dead, with their outbox_by_lead entries:
//     a pending card update must not race the deletion of the card, and a
//     dead letter may quote lead text;
//   - the cache entries of its domain (keys ending in "/"+domain, as the
//     research cache writes them), unless another lead has that domain.
//
// It then queues the items fn returns and writes the audit entry
// triage.PurgedJobKey(id) at at in the jobs bucket. bbolt reuses the freed
// pages; the file itself only shrinks with an offline compaction.
func (db *DB) PurgeLead(ctx context.Context, id triage.LeadID, at time.Time, fn func(triage.Lead) ([]triage.OutboxItem, error)) error {
	return db.update(ctx, "purging lead "+id.String(), func(tx *bolt.Tx) error {
		l, err := getLead(tx, id)
		if err != nil {
			return err
		}
		items, err := fn(l)
		if err != nil {
			return pass(err)
		}
		key := u64(uint64(id))
		if err := tx.Bucket(bucketLeads).Delete(key); err != nil {
			return fmt.Errorf("deleting lead %s: %w", id, err)
		}
		if err := unindexLead(tx, l); err != nil {
			return err
		}
		if err := purgeIdem(tx, id); err != nil {
			return err
		}
		if err := purgeOutbox(tx, id); err != nil {
			return err
		}
		if err := purgeDomainCache(tx, l.Domain); err != nil {
			return err
		}
		if err := tx.Bucket(bucketJobs).Put([]byte(triage.PurgedJobKey(id)), u64(uint64(at.UnixNano()))); err != nil {
			return fmt.Errorf("recording the purge of %s: %w", id, err)
		}
		return enqueue(tx, items)
	})
}

// unindexLead deletes l's lead_index entries and its by_message entry.
func unindexLead(tx *bolt.Tx, l triage.Lead) error {
	id := u64(uint64(l.ID))
	b := tx.Bucket(bucketLeadIndex)
	for _, k := range indexKeys(&l) {
		if err := b.Delete(k); err != nil {
			return fmt.Errorf("deleting the index of lead %s: %w", l.ID, err)
		}
	}
	if l.Slack.Channel != "" && l.Slack.TS != "" {
		b := tx.Bucket(bucketByMessage)
		k := messageKey(l.Slack.Channel, l.Slack.TS)
		if bytes.Equal(b.Get(k), id) {
			if err := b.Delete(k); err != nil {
				return fmt.Errorf("deleting message index of lead %s: %w", l.ID, err)
			}
		}
	}
	return nil
}

// purgeIdem deletes the idempotency keys of lead id. Keys live a day at
// most and are pruned, so the scan stays short.
func purgeIdem(tx *bolt.Tx, id triage.LeadID) error {
	idemB, expiryB := tx.Bucket(bucketIdem), tx.Bucket(bucketIdemExpiry)
	var keys, expiries [][]byte
	err := idemB.ForEach(func(k, v []byte) error {
		r, err := decodeIdem(v)
		if err != nil {
			return fmt.Errorf("idempotency key: %w", err)
		}
		if triage.LeadID(r.Lead) == id {
			keys = append(keys, bytes.Clone(k))
			expiries = append(expiries, join(timeKey(r.Expires), k))
		}
		return nil
	})
	if err != nil {
		return err
	}
	// Collected first: changing a bucket under ForEach can skip entries.
	for i, k := range keys {
		if err := idemB.Delete(k); err != nil {
			return fmt.Errorf("deleting idempotency key of %s: %w", id, err)
		}
		if err := expiryB.Delete(expiries[i]); err != nil {
			return fmt.Errorf("deleting idempotency key expiry of %s: %w", id, err)
		}
	}
	return nil
}

// purgeOutbox deletes the live and dead outbox items of lead id and its
// outbox_by_lead entries.
func purgeOutbox(tx *bolt.Tx, id triage.LeadID) error {
	for _, name := range [][]byte{bucketOutbox, bucketOutboxDead} {
		b := tx.Bucket(name)
		var keys [][]byte
		err := b.ForEach(func(k, v []byte) error {
			it, err := decodeOutbox(v)
			if err != nil {
				return fmt.Errorf("outbox item %d: %w", fromU64(k), err)
			}
			if it.Lead == id {
				keys = append(keys, bytes.Clone(k))
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, k := range keys {
			if err := b.Delete(k); err != nil {
				return fmt.Errorf("deleting outbox item %d of %s: %w", fromU64(k), id, err)
			}
			if err := unindexID(tx, k); err != nil {
				return fmt.Errorf("purging %s: %w", id, err)
			}
		}
	}
	byLead := tx.Bucket(bucketOutboxByLead)
	prefix := join(u64(uint64(id)), nil)
	var keys [][]byte
	c := byLead.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		keys = append(keys, bytes.Clone(k))
	}
	for _, k := range keys {
		if err := byLead.Delete(k); err != nil {
			return fmt.Errorf("deleting outbox index of %s: %w", id, err)
		}
	}
	return nil
}

// purgeDomainCache deletes the cache entries whose key ends in "/"+domain,
// unless a lead with that domain remains (its research may use them). The
// lead being purged must be out of lead_index already. Cache keys are not
// indexed by subject, so this scans the cache; it runs once per purged lead.
func purgeDomainCache(tx *bolt.Tx, domain string) error {
	if domain == "" {
		return nil
	}
	prefix := valuePrefix(ixDomain, domain)
	c := tx.Bucket(bucketLeadIndex).Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		if len(k) == len(prefix)+8 {
			return nil // another lead has this domain
		}
	}
	suffix := []byte("/" + domain)
	cache, byExpiry := tx.Bucket(bucketCache), tx.Bucket(bucketCacheByExpiry)
	var keys, expiries [][]byte
	err := cache.ForEach(func(k, v []byte) error {
		if bytes.HasSuffix(k, suffix) {
			keys = append(keys, bytes.Clone(k))
			if len(v) >= 8 {
				expiries = append(expiries, join(v[:8], k))
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, k := range keys {
		if err := cache.Delete(k); err != nil {
			return fmt.Errorf("deleting cache entries of a purged domain: %w", err)
		}
	}
	for _, k := range expiries {
		if err := byExpiry.Delete(k); err != nil {
			return fmt.Errorf("deleting cache entries of a purged domain: %w", err)
		}
	}
	return nil
}
