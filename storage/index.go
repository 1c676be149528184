package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/leadtriage/leadtriage/triage"
)

// Typed key prefixes of lead_index (schema 3; W, A and K schema 4). One
// bucket instead of one per index: a new lead's entries share the bucket's
// branch pages, and the time indexes cost no bucket of their own.
const (
	ixStatus  = 'S' // S status|id: every lead
	ixEmail   = 'E' // E email|id: leads with an e-mail
	ixDomain  = 'D' // D domain|id: leads with a domain
	ixCreated = 'c' // c created|id: every lead with a creation time
	ixDecided = 'd' // d decided|id: decided leads (not pending) with a decision time
	ixRevisit = 'r' // r decided|id: disqualified leads not shown for a second look since
	ixOwner   = 'O' // O owner|id: pending and qualified leads with an owner (the App Home's "your leads")
	ixMine    = 'U' // U user|id: every lead a user owns or added (/qualify list mine)
	ixAwait   = 'W' // W decided|id: decided leads without an outcome (the digest's "what became of these?")
	ixAsk     = 'A' // A decided|id: those of them whose card was not asked yet for this decision
	ixDeal    = 'K' // K decided|id: those of them with a CRM deal not gone (the CRM read-back)
)

// valueKey is the lead_index key of a string-valued index entry.
func valueKey(kind byte, value string, id []byte) []byte {
	return join(append([]byte{kind}, value...), id)
}

// valuePrefix is what every valueKey(kind, value, …) starts with.
func valuePrefix(kind byte, value string) []byte {
	return join(append([]byte{kind}, value...), nil)
}

// timeIndexKey is the lead_index key of a time-ordered entry.
func timeIndexKey(kind byte, t time.Time, id []byte) []byte {
	k := make([]byte, 0, 17)
	k = append(k, kind)
	k = append(k, indexTime(t)...)
	return append(k, id...)
}

// indexTime is timeKey that also maps the zero time (whose UnixNano is
// undefined) to the front.
func indexTime(t time.Time) []byte {
	if t.IsZero() {
		return u64(0)
	}
	return timeKey(t)
}

// indexKeys are every lead_index key of l. The revisit entry mirrors
// triage's dueRevisit without its clock: the digest checks the rest.
func indexKeys(l *triage.Lead) [][]byte {
	id := u64(uint64(l.ID))
	keys := [][]byte{valueKey(ixStatus, string(l.Status), id)}
	if l.Email != "" {
		keys = append(keys, valueKey(ixEmail, l.Email, id))
	}
	if l.Domain != "" {
		keys = append(keys, valueKey(ixDomain, l.Domain, id))
	}
	if !l.CreatedAt.IsZero() {
		keys = append(keys, timeIndexKey(ixCreated, l.CreatedAt, id))
	}
	if l.Owner != "" && (l.Status == triage.StatusPending || l.Status == triage.StatusQualified) {
		keys = append(keys, valueKey(ixOwner, l.Owner, id))
	}
	if l.Owner != "" {
		keys = append(keys, valueKey(ixMine, l.Owner, id))
	}
	if l.CreatedBy != "" && l.CreatedBy != l.Owner {
		keys = append(keys, valueKey(ixMine, l.CreatedBy, id))
	}
	if d := l.Decision; d != nil && !d.At.IsZero() && l.Status != triage.StatusPending {
		keys = append(keys, timeIndexKey(ixDecided, d.At, id))
		if l.Status == triage.StatusDisqualified && (l.Reminder.Revisited.IsZero() || l.Reminder.Revisited.Before(d.At)) {
			keys = append(keys, timeIndexKey(ixRevisit, d.At, id))
		}
	}
	return append(keys, outcomeIndexKeys(l)...)
}

// outcomeIndexKeys are l's W, A and K entries (schema 4), keyed by decision
// time like d. They mirror triage's OutcomeDue without its clock (A also
// outcomeAskDue, K the read-back's choice of deals): an outcome, the ask
// for this decision or a deal's deletion takes a lead out, so the jobs that
// look for what is left read only that.
func outcomeIndexKeys(l *triage.Lead) [][]byte {
	d := l.Decision
	if d == nil || d.At.IsZero() || l.Status == triage.StatusPending || l.Outcome != nil {
		return nil
	}
	id := u64(uint64(l.ID))
	keys := [][]byte{timeIndexKey(ixAwait, d.At, id)}
	if l.Reminder.OutcomeAsked.Before(d.At) {
		keys = append(keys, timeIndexKey(ixAsk, d.At, id))
	}
	for _, r := range l.CRM {
		if r.Kind == "deal" && r.Gone.IsZero() {
			keys = append(keys, timeIndexKey(ixDeal, d.At, id))
			break
		}
	}
	return keys
}

// reindexLead moves l's lead_index entries from what old had (nil for a new
// lead): only the entries that differ are written.
func reindexLead(tx *bolt.Tx, old, l *triage.Lead) error {
	b := tx.Bucket(bucketLeadIndex)
	var was [][]byte
	if old != nil {
		was = indexKeys(old)
	}
	now := indexKeys(l)
	for _, k := range was {
		if !containsKey(now, k) {
			if err := b.Delete(k); err != nil {
				return fmt.Errorf("updating the index of lead %s: %w", l.ID, err)
			}
		}
	}
	for _, k := range now {
		if !containsKey(was, k) {
			if err := b.Put(k, []byte{}); err != nil {
				return fmt.Errorf("updating the index of lead %s: %w", l.ID, err)
			}
		}
	}
	return nil
}

// indexedLead reads the lead an index entry of kind points at. A missing
// lead (an index left behind) is logged and reported as !ok, not as an
// error: a list goes on without it.
func (db *DB) indexedLead(tx *bolt.Tx, kind byte, id triage.LeadID) (l triage.Lead, ok bool, err error) {
	l, err = getLead(tx, id)
	if errors.Is(err, triage.ErrNotFound) {
		db.log.Warn("index entry without lead", slog.String("index", string(kind)), slog.String("lead_id", id.String()))
		return triage.Lead{}, false, nil
	}
	return l, err == nil, err
}

func containsKey(keys [][]byte, k []byte) bool {
	for _, x := range keys {
		if bytes.Equal(x, k) {
			return true
		}
	}
	return false
}

// leadsByTime loads the leads of a time index whose time is in [from, to),
// in time order (then id order). It reads only those leads' records.
func (db *DB) leadsByTime(ctx context.Context, what string, kind byte, from, to time.Time) ([]triage.Lead, error) {
	var leads []triage.Lead
	err := db.view(ctx, what, func(tx *bolt.Tx) error {
		leads = nil
		end := timeIndexKey(kind, to, nil)
		c := tx.Bucket(bucketLeadIndex).Cursor()
		for k, _ := c.Seek(timeIndexKey(kind, from, nil)); k != nil && k[0] == kind && bytes.Compare(k, end) < 0; k, _ = c.Next() {
			if len(k) != 17 {
				continue
			}
			l, ok, err := db.indexedLead(tx, kind, triage.LeadID(fromU64(k[9:])))
			if err != nil {
				return err
			}
			if ok {
				leads = append(leads, l)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return leads, nil
}

// LeadsDecided implements triage.TimeIndex through the decided-at index.
func (db *DB) LeadsDecided(ctx context.Context, from, to time.Time) ([]triage.Lead, error) {
	return db.leadsByTime(ctx, "listing leads by decision time", ixDecided, from, to)
}

// LeadsToRevisit implements triage.TimeIndex through the revisit index,
// which the revisit mark (Reminder.Revisited) empties.
func (db *DB) LeadsToRevisit(ctx context.Context, decidedBefore time.Time) ([]triage.Lead, error) {
	return db.leadsByTime(ctx, "listing leads to revisit", ixRevisit, time.Time{}, decidedBefore)
}

// LeadsCreated implements triage.TimeIndex through the created-at index.
func (db *DB) LeadsCreated(ctx context.Context, from, to time.Time) ([]triage.Lead, error) {
	return db.leadsByTime(ctx, "listing leads by creation time", ixCreated, from, to)
}

var _ triage.TimeIndex = (*DB)(nil)

// LeadsOwned implements triage.OwnerIndex through the owner index, which
// holds only pending and qualified leads: a disqualified or referred lead
// leaves it with its decision, and comes back when it is reopened.
func (db *DB) LeadsOwned(ctx context.Context, owner string) ([]triage.Lead, error) {
	return db.leadsBy(ctx, "listing leads by owner", ixOwner, owner)
}

var _ triage.OwnerIndex = (*DB)(nil)

// LeadsToAsk implements triage.OutcomeIndex through the A index, which
// asking about a lead's decision (or its outcome) empties: a check a
// minute reads only the leads that crossed the threshold since.
func (db *DB) LeadsToAsk(ctx context.Context, from, to time.Time) ([]triage.Lead, error) {
	return db.leadsByTime(ctx, "listing leads to ask the outcome of", ixAsk, from, to)
}

// LeadsWithOpenDeals implements triage.OutcomeIndex through the K index.
func (db *DB) LeadsWithOpenDeals(ctx context.Context, from, to time.Time) ([]triage.Lead, error) {
	return db.leadsByTime(ctx, "listing leads with an open deal", ixDeal, from, to)
}

// AwaitingOutcome implements triage.OutcomeIndex through the W index: it
// counts the keys in [from, to) and decodes only the first limit leads.
func (db *DB) AwaitingOutcome(ctx context.Context, from, to time.Time, limit int) ([]triage.Lead, int, error) {
	if limit < 0 {
		return nil, 0, &triage.FieldError{Field: "limit", Problem: fmt.Sprintf("%d is not a page size", limit)}
	}
	var (
		leads []triage.Lead
		total int
	)
	err := db.view(ctx, "listing leads awaiting an outcome", func(tx *bolt.Tx) error {
		leads, total = nil, 0
		end := timeIndexKey(ixAwait, to, nil)
		c := tx.Bucket(bucketLeadIndex).Cursor()
		for k, _ := c.Seek(timeIndexKey(ixAwait, from, nil)); k != nil && k[0] == ixAwait && bytes.Compare(k, end) < 0; k, _ = c.Next() {
			if len(k) != 17 {
				continue
			}
			if err := db.countInPage(tx, ixAwait, k[9:], limit, &leads, &total); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	return leads, total, nil
}

var _ triage.OutcomeIndex = (*DB)(nil)

// countInPage counts the index entry of kind for lead id (8 bytes) into
// *total and, while *leads holds fewer than limit, decodes the lead into
// it. An entry whose lead is missing (indexedLead) is not counted when it
// is decoded; past the page it is counted unread.
func (db *DB) countInPage(tx *bolt.Tx, kind byte, id []byte, limit int, leads *[]triage.Lead, total *int) error {
	if len(*leads) == limit {
		*total++
		return nil
	}
	l, ok, err := db.indexedLead(tx, kind, triage.LeadID(fromU64(id)))
	if err != nil || !ok {
		return err
	}
	*total++
	*leads = append(*leads, l)
	return nil
}

// LeadsAfter implements triage.LeadPager: it seeks to the first id above
// after in the status index (or the leads bucket, for any status), decodes
// at most f.Limit leads and looks at one more key to say whether more
// follow.
func (db *DB) LeadsAfter(ctx context.Context, f triage.LeadFilter, after triage.LeadID) ([]triage.Lead, bool, error) {
	if f.Status != "" && !f.Status.Valid() {
		return nil, false, &triage.FieldError{Field: "status", Problem: fmt.Sprintf("%q is not a status", f.Status)}
	}
	if f.Limit <= 0 {
		return nil, false, &triage.FieldError{Field: "limit", Problem: fmt.Sprintf("%d is not a page size", f.Limit)}
	}
	if uint64(after) == math.MaxUint64 {
		return nil, false, nil // nothing can follow (and after+1 would wrap to the first)
	}
	var (
		leads []triage.Lead
		more  bool
	)
	err := db.view(ctx, "listing a page of leads", func(tx *bolt.Tx) error {
		leads, more = nil, false
		if f.Status == "" {
			c := tx.Bucket(bucketLeads).Cursor()
			for k, v := c.Seek(u64(uint64(after) + 1)); k != nil; k, v = c.Next() {
				if len(leads) == f.Limit {
					more = true
					return nil
				}
				l, err := decodeLead(v)
				if err != nil {
					return fmt.Errorf("lead %s: %w", triage.LeadID(fromU64(k)), err)
				}
				leads = append(leads, l)
			}
			return nil
		}
		prefix := valuePrefix(ixStatus, string(f.Status))
		c := tx.Bucket(bucketLeadIndex).Cursor()
		for k, _ := c.Seek(append(bytes.Clone(prefix), u64(uint64(after)+1)...)); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			if len(k) != len(prefix)+8 {
				continue
			}
			if len(leads) == f.Limit {
				more = true
				return nil
			}
			l, ok, err := db.indexedLead(tx, ixStatus, triage.LeadID(fromU64(k[len(prefix):])))
			if err != nil {
				return err
			}
			if ok {
				leads = append(leads, l)
			}
		}
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	return leads, more, nil
}

// CountLeads implements triage.LeadPager: it counts status index keys (or
// lead keys, for any status) without decoding a lead.
func (db *DB) CountLeads(ctx context.Context, status triage.Status) (int, error) {
	if status != "" && !status.Valid() {
		return 0, &triage.FieldError{Field: "status", Problem: fmt.Sprintf("%q is not a status", status)}
	}
	var n int
	err := db.view(ctx, "counting leads", func(tx *bolt.Tx) error {
		if status == "" {
			n = tx.Bucket(bucketLeads).Stats().KeyN
			return nil
		}
		n = 0
		prefix := valuePrefix(ixStatus, string(status))
		c := tx.Bucket(bucketLeadIndex).Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			if len(k) == len(prefix)+8 {
				n++
			}
		}
		return nil
	})
	return n, err
}

var _ triage.LeadPager = (*DB)(nil)

// NewestLeads implements triage.NewestIndex: the newest limit leads (of
// user's, through the U index, when user is set), newest first, and how
// many there are in all, counted by keys without decoding a lead.
func (db *DB) NewestLeads(ctx context.Context, user string, limit int) ([]triage.Lead, int, error) {
	if limit <= 0 {
		return nil, 0, &triage.FieldError{Field: "limit", Problem: fmt.Sprintf("%d is not a page size", limit)}
	}
	var (
		leads []triage.Lead
		total int
	)
	err := db.view(ctx, "listing the newest leads", func(tx *bolt.Tx) error {
		leads, total = nil, 0
		if user == "" {
			// Count by the status index's small keys, not the leads'
			// large pages: every lead has exactly one status entry.
			ix := tx.Bucket(bucketLeadIndex).Cursor()
			for k, _ := ix.Seek([]byte{ixStatus}); k != nil && k[0] == ixStatus; k, _ = ix.Next() {
				total++
			}
			c := tx.Bucket(bucketLeads).Cursor()
			for k, v := c.Last(); k != nil && len(leads) < limit; k, v = c.Prev() {
				l, err := decodeLead(v)
				if err != nil {
					return fmt.Errorf("lead %s: %w", triage.LeadID(fromU64(k)), err)
				}
				leads = append(leads, l)
			}
			return nil
		}
		prefix := valuePrefix(ixMine, user)
		c := tx.Bucket(bucketLeadIndex).Cursor()
		// The last key with the prefix: seek past every id, then step back.
		k, _ := c.Seek(append(bytes.Clone(prefix), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff))
		if k == nil {
			k, _ = c.Last()
		} else {
			k, _ = c.Prev()
		}
		for ; k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Prev() {
			if len(k) != len(prefix)+8 {
				continue
			}
			if err := db.countInPage(tx, ixMine, k[len(prefix):], limit, &leads, &total); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	return leads, total, nil
}

var _ triage.NewestIndex = (*DB)(nil)

// migrateLeadIndex (schema 2 → 3) builds lead_index from the lead records
// and drops by_status, by_email and by_domain, whose entries it replaces.
// It runs inside Open's one migration transaction: a crash leaves the file
// at schema 2, and the next start migrates it again. The keys are put in
// ascending order: bbolt splits a node only at commit, so unordered puts
// into one large transaction would move ever longer slices (quadratic;
// minutes at 100 000 leads), while appends stay cheap.
func migrateLeadIndex(tx *bolt.Tx) error {
	if err := putIndexKeysOfLeads(tx, indexKeys); err != nil {
		return fmt.Errorf("building lead_index: %w", err)
	}
	for _, name := range [][]byte{[]byte("by_status"), []byte("by_email"), []byte("by_domain")} {
		if err := tx.DeleteBucket(name); err != nil && !errors.Is(err, berrors.ErrBucketNotFound) {
			return fmt.Errorf("dropping bucket %s: %w", name, err)
		}
	}
	return nil
}

// putIndexKeysOfLeads puts keysOf(lead) of every stored lead into
// lead_index, in one pass over the leads and in ascending key order (see
// migrateLeadIndex).
func putIndexKeysOfLeads(tx *bolt.Tx, keysOf func(*triage.Lead) [][]byte) error {
	var keys [][]byte
	c := tx.Bucket(bucketLeads).Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		l, err := decodeLead(v)
		if err != nil {
			return fmt.Errorf("lead %s: %w", triage.LeadID(fromU64(k)), err)
		}
		l.ID = triage.LeadID(fromU64(k))
		keys = append(keys, keysOf(&l)...)
	}
	slices.SortFunc(keys, bytes.Compare)
	b := tx.Bucket(bucketLeadIndex)
	for _, key := range keys {
		if err := b.Put(key, []byte{}); err != nil {
			return err
		}
	}
	return nil
}

// migrateOutcomeIndex (schema 3 → 4) adds the W, A and K entries of every
// lead to lead_index, in one pass over the leads and in key order (see
// migrateLeadIndex), inside Open's migration transaction.
func migrateOutcomeIndex(tx *bolt.Tx) error {
	// A file converted from schema 2 in this transaction has them already
	// (migrateLeadIndex writes every entry of indexKeys); schema 3 code
	// never wrote a W entry, and A and K entries come only with one.
	if k, _ := tx.Bucket(bucketLeadIndex).Cursor().Seek([]byte{ixAwait}); k != nil && k[0] == ixAwait {
		return nil
	}
	if err := putIndexKeysOfLeads(tx, outcomeIndexKeys); err != nil {
		return fmt.Errorf("adding outcome entries to lead_index: %w", err)
	}
	return nil
}
