package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/leadtriage/leadtriage/triage"
)

// idemPrunePerCreate bounds how many expired idempotency keys one CreateLead
// deletes: enough to outpace the one key each call adds, small enough to keep
// intake latency flat.
const idemPrunePerCreate = 16

// CreateLead implements triage.Store. In one transaction it resolves the
// idempotency key, assigns the next lead id, stores the lead with its
// indexes and queues out. A key whose lead no longer exists (erased) counts
// as expired. Concurrent calls share a commit (groupUpdate): the
// transaction function starts from scratch each time it runs.
func (db *DB) CreateLead(ctx context.Context, lead triage.Lead, idem triage.Idempotency, out []triage.OutboxItem) (triage.Lead, bool, error) {
	var (
		stored  triage.Lead
		created bool
	)
	err := db.write(ctx, "storing lead", db.groupUpdate, func(tx *bolt.Tx) error {
		stored, created = triage.Lead{}, false
		idemB, expiryB := tx.Bucket(bucketIdem), tx.Bucket(bucketIdemExpiry)
		key := []byte(idem.Key)
		if idem.Key != "" {
			if v := idemB.Get(key); v != nil {
				r, err := decodeIdem(v)
				if err != nil {
					return fmt.Errorf("idempotency key: %w", err)
				}
				live := idem.Now.IsZero() || idem.Now.Before(r.Expires)
				if live && r.Fingerprint != idem.Fingerprint {
					return pass(triage.ErrIdempotencyKey)
				}
				if live {
					l, err := getLead(tx, triage.LeadID(r.Lead))
					if err == nil {
						stored = l
						return nil
					}
					if !errors.Is(err, triage.ErrNotFound) {
						return err
					}
				}
				if err := expiryB.Delete(join(timeKey(r.Expires), key)); err != nil {
					return fmt.Errorf("replacing idempotency key: %w", err)
				}
			}
		}

		seq, err := tx.Bucket(bucketLeads).NextSequence()
		if err != nil {
			return fmt.Errorf("assigning lead id: %w", err)
		}
		lead.ID = triage.LeadID(seq)
		if _, err := saveLead(tx, nil, &lead, nil); err != nil {
			return err
		}
		if idem.Key != "" {
			v, err := encodeIdem(idemRecord{Lead: seq, Fingerprint: idem.Fingerprint, Expires: idem.Expires})
			if err != nil {
				return err
			}
			if err := idemB.Put(key, v); err != nil {
				return fmt.Errorf("recording idempotency key: %w", err)
			}
			if err := expiryB.Put(join(timeKey(idem.Expires), key), []byte{}); err != nil {
				return fmt.Errorf("recording idempotency key expiry: %w", err)
			}
		}
		if !idem.Now.IsZero() {
			if _, err := pruneIdem(tx, idem.Now, idemPrunePerCreate); err != nil {
				return err
			}
		}
		items := make([]triage.OutboxItem, len(out))
		for i, o := range out {
			o.Lead = lead.ID
			items[i] = o
		}
		if err := enqueue(tx, items); err != nil {
			return err
		}
		stored, created = lead, true
		return nil
	})
	if err != nil {
		return triage.Lead{}, false, err
	}
	return stored, created, nil
}

// Lead implements triage.Store.
func (db *DB) Lead(ctx context.Context, id triage.LeadID) (triage.Lead, error) {
	var l triage.Lead
	err := db.view(ctx, "reading lead", func(tx *bolt.Tx) error {
		var err error
		l, err = getLead(tx, id)
		return err
	})
	return l, err
}

// Leads implements triage.Store. With a status it walks the status index,
// so its cost follows the matching leads, not all leads.
func (db *DB) Leads(ctx context.Context, f triage.LeadFilter) ([]triage.Lead, error) {
	if f.Status != "" && !f.Status.Valid() {
		return nil, &triage.FieldError{Field: "status", Problem: fmt.Sprintf("%q is not a status", f.Status)}
	}
	var leads []triage.Lead
	full := func() bool { return f.Limit > 0 && len(leads) >= f.Limit }
	err := db.view(ctx, "listing leads", func(tx *bolt.Tx) error {
		leads = nil
		if f.Status == "" {
			c := tx.Bucket(bucketLeads).Cursor()
			for k, v := c.First(); k != nil && !full(); k, v = c.Next() {
				l, err := decodeLead(v)
				if err != nil {
					return fmt.Errorf("lead %s: %w", triage.LeadID(fromU64(k)), err)
				}
				leads = append(leads, l)
			}
			return nil
		}
		var err error
		leads, err = db.leadsByIndex(tx, ixStatus, string(f.Status), f.Limit)
		return err
	})
	if err != nil {
		return nil, err
	}
	return leads, nil
}

// LeadsByEmail lists the leads with exactly this (normalised) e-mail address,
// oldest first: research uses it to flag duplicates.
func (db *DB) LeadsByEmail(ctx context.Context, email string) ([]triage.Lead, error) {
	return db.leadsBy(ctx, "listing leads by e-mail", ixEmail, email)
}

// LeadsByDomain lists the leads with exactly this domain, oldest first.
func (db *DB) LeadsByDomain(ctx context.Context, domain string) ([]triage.Lead, error) {
	return db.leadsBy(ctx, "listing leads by domain", ixDomain, domain)
}

func (db *DB) leadsBy(ctx context.Context, what string, kind byte, value string) ([]triage.Lead, error) {
	if value == "" {
		return nil, nil
	}
	var leads []triage.Lead
	err := db.view(ctx, what, func(tx *bolt.Tx) error {
		var err error
		leads, err = db.leadsByIndex(tx, kind, value, 0)
		return err
	})
	if err != nil {
		return nil, err
	}
	return leads, nil
}

// leadsByIndex loads the leads under kind value|id keys of lead_index. The
// length check keeps "a" from matching "a|b@x.org" keys.
func (db *DB) leadsByIndex(tx *bolt.Tx, kind byte, value string, limit int) ([]triage.Lead, error) {
	var leads []triage.Lead
	prefix := valuePrefix(kind, value)
	c := tx.Bucket(bucketLeadIndex).Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		if len(k) != len(prefix)+8 {
			continue
		}
		l, ok, err := db.indexedLead(tx, kind, triage.LeadID(fromU64(k[len(prefix):])))
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		leads = append(leads, l)
		if limit > 0 && len(leads) >= limit {
			break
		}
	}
	return leads, nil
}

// LeadByMessage implements triage.Store.
func (db *DB) LeadByMessage(ctx context.Context, channel, ts string) (triage.Lead, error) {
	var l triage.Lead
	err := db.view(ctx, "finding lead by message", func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketByMessage).Get(messageKey(channel, ts))
		if v == nil || channel == "" || ts == "" {
			return fmt.Errorf("no lead has its card at %s/%s: %w", channel, ts, triage.ErrNotFound)
		}
		var err error
		l, err = getLead(tx, triage.LeadID(fromU64(v)))
		return err
	})
	return l, err
}

// UpdateLead implements triage.Store. fn gets its own decoded copy of the
// lead; if it fails, the transaction is rolled back and nothing is written.
// Items fn returns without a Lead are about this lead.
func (db *DB) UpdateLead(ctx context.Context, id triage.LeadID, fn func(*triage.Lead) ([]triage.OutboxItem, error)) (triage.Lead, error) {
	var updated triage.Lead
	err := db.update(ctx, "updating lead "+id.String(), func(tx *bolt.Tx) error {
		old, raw, err := getLeadRaw(tx, id)
		if err != nil {
			return err
		}
		l, err := decodeLead(raw)
		if err != nil {
			return err
		}
		items, err := fn(&l)
		if err != nil {
			return pass(err)
		}
		l.ID = id // the key is the id; fn cannot move a lead
		changed, err := saveLead(tx, &old, &l, raw)
		if err != nil {
			return err
		}
		updated = l
		if !changed && len(items) == 0 {
			// A repeated click changes nothing: roll back instead of paying
			// for a commit and its fsyncs.
			return pass(errNoChange)
		}
		for i := range items {
			if items[i].Lead == 0 {
				items[i].Lead = id
			}
		}
		return enqueue(tx, items)
	})
	if err != nil && !errors.Is(err, errNoChange) {
		return triage.Lead{}, err
	}
	return updated, nil
}

// errNoChange rolls back an UpdateLead that had nothing to write.
var errNoChange = errors.New("no change")

// applyToLead runs fn on a lead inside tx and saves it; a missing lead is
// reported as ErrNotFound.
func applyToLead(tx *bolt.Tx, id triage.LeadID, fn func(*triage.Lead) error) error {
	old, raw, err := getLeadRaw(tx, id)
	if err != nil {
		return err
	}
	l, err := decodeLead(raw)
	if err != nil {
		return err
	}
	if err := fn(&l); err != nil {
		return pass(err)
	}
	l.ID = id
	_, err = saveLead(tx, &old, &l, raw)
	return err
}

func getLead(tx *bolt.Tx, id triage.LeadID) (triage.Lead, error) {
	l, _, err := getLeadRaw(tx, id)
	return l, err
}

// getLeadRaw returns the decoded lead and its stored bytes, which are only
// valid inside tx.
func getLeadRaw(tx *bolt.Tx, id triage.LeadID) (triage.Lead, []byte, error) {
	v := tx.Bucket(bucketLeads).Get(u64(uint64(id)))
	if v == nil {
		return triage.Lead{}, nil, fmt.Errorf("lead %s: %w", id, triage.ErrNotFound)
	}
	l, err := decodeLead(v)
	if err != nil {
		return triage.Lead{}, nil, fmt.Errorf("lead %s: %w", id, err)
	}
	return l, v, nil
}

// saveLead writes l and moves its index entries from what old had (nil for a
// new lead). raw, the stored bytes of old, lets an unchanged lead skip the
// write; changed reports whether anything was written.
func saveLead(tx *bolt.Tx, old, l *triage.Lead, raw []byte) (changed bool, err error) {
	v, err := encodeLead(*l)
	if err != nil {
		return false, err
	}
	id := u64(uint64(l.ID))
	if raw != nil && bytes.Equal(raw, v) {
		// Same bytes, same indexed fields: nothing to do.
		return false, nil
	}
	if err := tx.Bucket(bucketLeads).Put(id, v); err != nil {
		return false, fmt.Errorf("writing lead %s: %w", l.ID, err)
	}
	if err := reindexLead(tx, old, l); err != nil {
		return false, err
	}
	var was triage.Lead
	if old != nil {
		was = *old
	}
	if was.Slack != l.Slack {
		b := tx.Bucket(bucketByMessage)
		if was.Slack.Channel != "" && was.Slack.TS != "" {
			k := messageKey(was.Slack.Channel, was.Slack.TS)
			// Only remove the entry if it is ours: another lead may own it now.
			if bytes.Equal(b.Get(k), id) {
				if err := b.Delete(k); err != nil {
					return false, fmt.Errorf("updating message index of lead %s: %w", l.ID, err)
				}
			}
		}
		if l.Slack.Channel != "" && l.Slack.TS != "" {
			if err := b.Put(messageKey(l.Slack.Channel, l.Slack.TS), id); err != nil {
				return false, fmt.Errorf("updating message index of lead %s: %w", l.ID, err)
			}
		}
	}
	return true, nil
}

func messageKey(channel, ts string) []byte {
	return join([]byte(channel), []byte(ts))
}
