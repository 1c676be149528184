// Package triagetest provides in-memory fakes of what package triage
// consumes, for tests: a Store that keeps state the way the bbolt store
// documents it, and a settable Clock. Named like net/http/httptest.
package triagetest

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/leadtriage/leadtriage/triage"
)

var _ triage.Store = (*Store)(nil)

// Store is a stateful in-memory triage.Store, safe for concurrent use. The
// zero value is an empty store. Like storage.DB it is also the store the
// adapters declare (bot.Store, intake.Store), so their tests can use it. It
// follows the documented semantics of each method: idempotency keys with
// expiry, outbox coalescing of
// card updates (triage.OutboxItem.Coalesces) and the Seq rule of
// CompleteOutbox. Leads go in and out as deep copies, so a test cannot
// change stored state by accident.
//
// The …Fn hooks exist only to inject failures: when set, a hook runs before
// the method with the same arguments, and an error it returns is returned
// unchanged while nothing is written. Set hooks before the store is shared
// between goroutines: they are read without a lock.
type Store struct {
	CreateLeadFn func(ctx context.Context, lead triage.Lead, idem triage.Idempotency, out []triage.OutboxItem) error
	UpdateLeadFn func(ctx context.Context, id triage.LeadID) error
	EnqueueFn    func(ctx context.Context, items ...triage.OutboxItem) error
	PurgeLeadFn  func(ctx context.Context, id triage.LeadID) error

	mu        sync.Mutex
	leads     map[triage.LeadID]triage.Lead
	lastLead  triage.LeadID
	keys      map[string]idemEntry
	outbox    []triage.OutboxItem // ID order
	lastItem  uint64
	seen      map[string]time.Time // inbox marks
	inbox     []triage.InboxEntry  // key order
	lastInbox uint64
	jobs      map[string]time.Time
}

type idemEntry struct {
	lead        triage.LeadID
	fingerprint string
	expires     time.Time
}

// CreateLead implements triage.Store. A stored key is live while idem.Now is
// before its expiry; an expired key is replaced by the new lead's.
func (s *Store) CreateLead(ctx context.Context, lead triage.Lead, idem triage.Idempotency, out []triage.OutboxItem) (triage.Lead, bool, error) {
	if err := ctx.Err(); err != nil {
		return triage.Lead{}, false, err
	}
	if s.CreateLeadFn != nil {
		if err := s.CreateLeadFn(ctx, lead, idem, out); err != nil {
			return triage.Lead{}, false, err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.init()
	if idem.Key != "" {
		if e, ok := s.keys[idem.Key]; ok && idem.Now.Before(e.expires) {
			if e.fingerprint != idem.Fingerprint {
				return triage.Lead{}, false, triage.ErrIdempotencyKey
			}
			if l, ok := s.leads[e.lead]; ok {
				return triage.Lead.Clone(l), false, nil
			}
			// The lead is gone (erased): the key no longer protects anything.
		}
	}
	s.lastLead++
	lead = triage.Lead.Clone(lead)
	lead.ID = s.lastLead
	s.leads[lead.ID] = lead
	if idem.Key != "" {
		s.keys[idem.Key] = idemEntry{lead: lead.ID, fingerprint: idem.Fingerprint, expires: idem.Expires}
	}
	for _, it := range out {
		it.Lead = lead.ID
		s.enqueue(it)
	}
	s.doneInbox(triage.InboxKey(ctx))
	return triage.Lead.Clone(lead), true, nil
}

// Lead implements triage.Store.
func (s *Store) Lead(ctx context.Context, id triage.LeadID) (triage.Lead, error) {
	if err := ctx.Err(); err != nil {
		return triage.Lead{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.leads[id]
	if !ok {
		return triage.Lead{}, fmt.Errorf("loading %s: %w", id, triage.ErrNotFound)
	}
	return triage.Lead.Clone(l), nil
}

// Leads implements triage.Store: oldest (lowest id) first.
func (s *Store) Leads(ctx context.Context, f triage.LeadFilter) ([]triage.Lead, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var res []triage.Lead
	for _, id := range slices.Sorted(maps.Keys(s.leads)) {
		l := s.leads[id]
		if f.Status != "" && l.Status != f.Status {
			continue
		}
		res = append(res, triage.Lead.Clone(l))
		if f.Limit > 0 && len(res) == f.Limit {
			break
		}
	}
	return res, nil
}

// LeadsByEmail implements triage.Store.
func (s *Store) LeadsByEmail(ctx context.Context, email string) ([]triage.Lead, error) {
	return s.leadsWhere(ctx, func(l triage.Lead) bool { return email != "" && l.Email == email })
}

// LeadsByDomain implements triage.Store.
func (s *Store) LeadsByDomain(ctx context.Context, domain string) ([]triage.Lead, error) {
	return s.leadsWhere(ctx, func(l triage.Lead) bool { return domain != "" && l.Domain == domain })
}

func (s *Store) leadsWhere(ctx context.Context, match func(triage.Lead) bool) ([]triage.Lead, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var res []triage.Lead
	for _, id := range slices.Sorted(maps.Keys(s.leads)) {
		if l := s.leads[id]; match(l) {
			res = append(res, triage.Lead.Clone(l))
		}
	}
	return res, nil
}

// LeadByMessage implements triage.Store.
func (s *Store) LeadByMessage(ctx context.Context, channel, ts string) (triage.Lead, error) {
	if err := ctx.Err(); err != nil {
		return triage.Lead{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if channel != "" && ts != "" {
		for _, l := range s.leads {
			if l.Slack.Channel == channel && l.Slack.TS == ts {
				return triage.Lead.Clone(l), nil
			}
		}
	}
	return triage.Lead{}, fmt.Errorf("finding the lead of message %s/%s: %w", channel, ts, triage.ErrNotFound)
}

// UpdateLead implements triage.Store. fn works on a copy, so an error leaves
// the stored lead untouched; the lead keeps its id whatever fn does.
func (s *Store) UpdateLead(ctx context.Context, id triage.LeadID, fn func(*triage.Lead) ([]triage.OutboxItem, error)) (triage.Lead, error) {
	if err := ctx.Err(); err != nil {
		return triage.Lead{}, err
	}
	if s.UpdateLeadFn != nil {
		if err := s.UpdateLeadFn(ctx, id); err != nil {
			return triage.Lead{}, err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.init()
	old, ok := s.leads[id]
	if !ok {
		return triage.Lead{}, fmt.Errorf("updating %s: %w", id, triage.ErrNotFound)
	}
	l := triage.Lead.Clone(old)
	out, err := fn(&l)
	if err != nil {
		return triage.Lead{}, err
	}
	l.ID = id
	s.leads[id] = triage.Lead.Clone(l)
	for _, it := range out {
		s.enqueue(it)
	}
	s.doneInbox(triage.InboxKey(ctx))
	return l, nil
}

// PurgeLead implements triage.Store: the lead, the idempotency keys that
// point at it and its outbox items (live and dead) go; fn's items and the
// audit entry triage.PurgedJobKey come. The fake keeps no research cache.
func (s *Store) PurgeLead(ctx context.Context, id triage.LeadID, at time.Time, fn func(triage.Lead) ([]triage.OutboxItem, error)) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.PurgeLeadFn != nil {
		if err := s.PurgeLeadFn(ctx, id); err != nil {
			return err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.init()
	l, ok := s.leads[id]
	if !ok {
		return fmt.Errorf("purging %s: %w", id, triage.ErrNotFound)
	}
	out, err := fn(triage.Lead.Clone(l))
	if err != nil {
		return err
	}
	delete(s.leads, id)
	for k, e := range s.keys {
		if e.lead == id {
			delete(s.keys, k)
		}
	}
	s.outbox = slices.DeleteFunc(s.outbox, func(it triage.OutboxItem) bool { return it.Lead == id })
	if s.jobs == nil {
		s.jobs = map[string]time.Time{}
	}
	s.jobs[triage.PurgedJobKey(id)] = at
	for _, it := range out {
		s.enqueue(it)
	}
	s.doneInbox(triage.InboxKey(ctx))
	return nil
}

// Enqueue implements triage.Store.
func (s *Store) Enqueue(ctx context.Context, items ...triage.OutboxItem) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.EnqueueFn != nil {
		if err := s.EnqueueFn(ctx, items...); err != nil {
			return err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.init()
	for _, it := range items {
		s.enqueue(it)
	}
	s.doneInbox(triage.InboxKey(ctx))
	return nil
}

// enqueue adds it, or folds it into a live item that renders the same card
// at delivery time by bumping that item's Seq. s.mu must be held.
func (s *Store) enqueue(it triage.OutboxItem) {
	for i := range s.outbox {
		if s.outbox[i].Coalesces(it) {
			s.outbox[i].Seq++
			return
		}
	}
	s.lastItem++
	it.ID = s.lastItem
	it.Dead = false
	s.outbox = append(s.outbox, cloneItem(it))
}

// AdmitInbox is as bot.InboxStore documents it. Marks are never forgotten.
func (s *Store) AdmitInbox(ctx context.Context, e triage.InboxEntry) (string, bool, error) {
	if err := ctx.Err(); err != nil {
		return "", false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.init()
	if e.Mark != "" {
		if _, ok := s.seen[e.Mark]; ok {
			return "", true, nil
		}
		s.seen[e.Mark] = e.At
	}
	s.lastInbox++
	e.Key = strconv.FormatUint(s.lastInbox, 10)
	e.Body = slices.Clone(e.Body)
	s.inbox = append(s.inbox, e)
	return e.Key, false, nil
}

// Inbox is as bot.InboxStore documents it.
func (s *Store) Inbox(ctx context.Context) ([]triage.InboxEntry, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]triage.InboxEntry, len(s.inbox))
	for i, e := range s.inbox {
		e.Body = slices.Clone(e.Body)
		out[i] = e
	}
	return out, nil
}

// DoneInbox is as bot.InboxStore documents it.
func (s *Store) DoneInbox(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.doneInbox(key)
	return nil
}

// doneInbox removes the inbox entry key, if any. s.mu must be held.
func (s *Store) doneInbox(key string) {
	if key == "" {
		return
	}
	s.inbox = slices.DeleteFunc(s.inbox, func(e triage.InboxEntry) bool { return e.Key == key })
}

// DueOutbox is as bot.DeliveryStore documents it: items of the slack lane
// only. limit <= 0 means no limit.
func (s *Store) DueOutbox(ctx context.Context, now time.Time, limit int) ([]triage.OutboxItem, error) {
	return s.due(ctx, triage.LaneSlack, now, limit)
}

// NextOutbox is as bot.DeliveryStore documents it, for the slack lane. An
// item due at once reports the zero time.
func (s *Store) NextOutbox(ctx context.Context) (time.Time, bool, error) {
	return s.next(ctx, triage.LaneSlack)
}

// DueCRM is as crm.Store documents it: items of the crm lane only.
func (s *Store) DueCRM(ctx context.Context, now time.Time, limit int) ([]triage.OutboxItem, error) {
	return s.due(ctx, triage.LaneCRM, now, limit)
}

// NextCRM is as crm.Store documents it.
func (s *Store) NextCRM(ctx context.Context) (time.Time, bool, error) {
	return s.next(ctx, triage.LaneCRM)
}

// ExpandCRM is as crm.Store documents it: item id is replaced by items at
// once; ErrNotFound (nothing written) if id is not pending.
func (s *Store) ExpandCRM(ctx context.Context, id uint64, items []triage.OutboxItem) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	for _, it := range items {
		if it.Kind.Lane() != triage.LaneCRM {
			return fmt.Errorf("expanding outbox item %d into a %s item: %w", id, it.Kind, triage.ErrInvalid)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	i := s.item(id)
	if i < 0 || s.outbox[i].Dead {
		return fmt.Errorf("outbox item %d is not pending: %w", id, triage.ErrNotFound)
	}
	s.outbox = slices.Delete(s.outbox, i, i+1)
	for _, it := range items {
		s.enqueue(it)
	}
	return nil
}

func (s *Store) due(ctx context.Context, lane string, now time.Time, limit int) ([]triage.OutboxItem, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var res []triage.OutboxItem
	for _, it := range s.outbox {
		if it.Dead || it.NextAt.After(now) || it.Kind.Lane() != lane {
			continue
		}
		res = append(res, cloneItem(it))
		if limit > 0 && len(res) == limit {
			break
		}
	}
	return res, nil
}

func (s *Store) next(ctx context.Context, lane string) (time.Time, bool, error) {
	if err := ctx.Err(); err != nil {
		return time.Time{}, false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var at time.Time
	ok := false
	for _, it := range s.outbox {
		if it.Dead || it.Kind.Lane() != lane {
			continue
		}
		if !ok || it.NextAt.Before(at) {
			at, ok = it.NextAt, true
		}
	}
	return at, ok, nil
}

// CompleteOutbox implements triage.Store. It returns ErrNotFound when the
// item, or the lead fn should change, does not exist; fn is not applied to
// items about no lead. An error from fn leaves everything as it was.
func (s *Store) CompleteOutbox(ctx context.Context, id uint64, seq int, fn func(*triage.Lead) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	i := s.item(id)
	if i < 0 {
		return fmt.Errorf("completing outbox item %d: %w", id, triage.ErrNotFound)
	}
	it := s.outbox[i]
	if fn != nil && it.Lead != 0 {
		old, ok := s.leads[it.Lead]
		if !ok {
			return fmt.Errorf("completing outbox item %d of %s: %w", id, it.Lead, triage.ErrNotFound)
		}
		l := triage.Lead.Clone(old)
		if err := fn(&l); err != nil {
			return err
		}
		l.ID = it.Lead
		s.leads[it.Lead] = triage.Lead.Clone(l)
	}
	if it.Seq == seq {
		s.outbox = slices.Delete(s.outbox, i, i+1)
	}
	return nil
}

// RetryOutbox is as bot.DeliveryStore documents it. ErrNotFound if there is no such item.
func (s *Store) RetryOutbox(ctx context.Context, id uint64, next time.Time, lastErr string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	i := s.item(id)
	if i < 0 {
		return fmt.Errorf("rescheduling outbox item %d: %w", id, triage.ErrNotFound)
	}
	s.outbox[i].Attempts++
	s.outbox[i].NextAt = next
	s.outbox[i].LastError = lastErr
	s.outbox[i].Blocked, s.outbox[i].BlockedOn = "", ""
	return nil
}

// MarkAttempted is as bot.DeliveryStore documents it. ErrNotFound if there is no such item.
func (s *Store) MarkAttempted(ctx context.Context, id uint64, at time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	i := s.item(id)
	if i < 0 || s.outbox[i].Dead {
		return fmt.Errorf("marking outbox item %d attempted: %w", id, triage.ErrNotFound)
	}
	s.outbox[i].Attempted = at
	return nil
}

// DeadLetter is as bot.DeliveryStore documents it. ErrNotFound if there is no such item.
func (s *Store) DeadLetter(ctx context.Context, id uint64, reason string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	i := s.item(id)
	if i < 0 {
		return fmt.Errorf("dead-lettering outbox item %d: %w", id, triage.ErrNotFound)
	}
	s.outbox[i].Dead = true
	s.outbox[i].LastError = reason
	s.outbox[i].Blocked, s.outbox[i].BlockedOn = "", ""
	return nil
}

// DeadLetters is as intake.Store documents it.
func (s *Store) DeadLetters(ctx context.Context) ([]triage.OutboxItem, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var res []triage.OutboxItem
	for _, it := range s.outbox {
		if it.Dead {
			res = append(res, cloneItem(it))
		}
	}
	return res, nil
}

// RequeueDeadLetter is as intake.Store documents it. ErrNotFound if id is not dead.
func (s *Store) RequeueDeadLetter(ctx context.Context, id uint64, at time.Time) (triage.OutboxItem, error) {
	if err := ctx.Err(); err != nil {
		return triage.OutboxItem{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	i := s.item(id)
	if i < 0 || !s.outbox[i].Dead {
		return triage.OutboxItem{}, fmt.Errorf("requeueing dead letter %d: %w", id, triage.ErrNotFound)
	}
	it := &s.outbox[i]
	it.Dead, it.Attempts, it.NextAt, it.LastError, it.Attempted = false, 0, time.Time{}, "", time.Time{}
	it.Blocked, it.BlockedOn, it.Requeued = "", "", at
	return cloneItem(*it), nil
}

// BlockOutbox is as bot.BlockedStore documents it. ErrNotFound if id is not pending.
func (s *Store) BlockOutbox(ctx context.Context, id uint64, cause, on string, next time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	i := s.item(id)
	if i < 0 || s.outbox[i].Dead {
		return fmt.Errorf("blocking outbox item %d: %w", id, triage.ErrNotFound)
	}
	s.outbox[i].Blocked, s.outbox[i].BlockedOn, s.outbox[i].NextAt, s.outbox[i].LastError = cause, on, next, cause
	return nil
}

// UnblockOutbox is as bot.BlockedStore documents it.
func (s *Store) UnblockOutbox(ctx context.Context) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for i := range s.outbox {
		if !s.outbox[i].Dead && s.outbox[i].Blocked != "" {
			s.outbox[i].NextAt = time.Time{}
			n++
		}
	}
	return n, nil
}

// BlockedOutbox is as bot.BlockedStore and intake.Store document it.
func (s *Store) BlockedOutbox(ctx context.Context) ([]triage.OutboxItem, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var res []triage.OutboxItem
	for _, it := range s.outbox {
		if !it.Dead && it.Blocked != "" {
			res = append(res, cloneItem(it))
		}
	}
	return res, nil
}

// Ping is as intake.Store documents it; only a cancelled ctx makes it fail.
func (s *Store) Ping(ctx context.Context) error {
	return ctx.Err()
}

// Outbox returns every outbox item, live and dead, in ID order: what a test
// inspects after a use case ran.
func (s *Store) Outbox() []triage.OutboxItem {
	s.mu.Lock()
	defer s.mu.Unlock()
	var res []triage.OutboxItem // nil when empty, as slices.Clone gave
	for _, it := range s.outbox {
		res = append(res, cloneItem(it))
	}
	return res
}

// cloneItem copies it deeply: its Payload is a slice.
func cloneItem(it triage.OutboxItem) triage.OutboxItem {
	it.Payload = slices.Clone(it.Payload)
	if it.Snapshot != nil {
		l := triage.Lead.Clone(*it.Snapshot)
		it.Snapshot = &l
	}
	return it
}

// item returns the index of outbox item id, or -1. s.mu must be held.
func (s *Store) item(id uint64) int {
	for i, it := range s.outbox {
		if it.ID == id {
			return i
		}
	}
	return -1
}

// init makes the zero Store usable. s.mu must be held.
func (s *Store) init() {
	if s.leads == nil {
		s.leads = map[triage.LeadID]triage.Lead{}
		s.keys = map[string]idemEntry{}
		s.seen = map[string]time.Time{}
	}
}

// MarkJob implements triage.Store: the marker and the items are written
// together, under one lock, like the bbolt store's single transaction.
func (s *Store) MarkJob(ctx context.Context, key string, at time.Time, out []triage.OutboxItem) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	if s.EnqueueFn != nil {
		if err := s.EnqueueFn(ctx, out...); err != nil {
			return false, err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.init()
	if s.jobs == nil {
		s.jobs = map[string]time.Time{}
	}
	if _, done := s.jobs[key]; done {
		return false, nil
	}
	s.jobs[key] = at
	for _, it := range out {
		s.enqueue(it)
	}
	s.doneInbox(triage.InboxKey(ctx))
	return true, nil
}

// LastJob implements triage.Store.
func (s *Store) LastJob(ctx context.Context, prefix string) (string, time.Time, bool, error) {
	if err := ctx.Err(); err != nil {
		return "", time.Time{}, false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var (
		key  string
		last time.Time
		ok   bool
	)
	for k, at := range s.jobs {
		if strings.HasPrefix(k, prefix) && (!ok || at.After(last)) {
			key, last, ok = k, at, true
		}
	}
	return key, last, ok, nil
}
