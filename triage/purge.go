package triage

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// PurgedJobPrefix prefixes the audit entries of purged leads in the job log
// (Store.MarkJob, LastJob): "purged|L-7", at the time of the purge. The entry
// names the lead's id and nothing else: no e-mail, no company.
const PurgedJobPrefix = "purged|"

// PurgedJobKey is the audit entry's key for lead id.
func PurgedJobKey(id LeadID) string { return PurgedJobPrefix + id.String() }

// Expired reports whether lead l is past its retention at now: decided, and
// decided at least retention ago. A pending lead (also one reopened after a
// decision) never expires, and retention 0 keeps every lead.
func Expired(l Lead, retention time.Duration, now time.Time) bool {
	if retention <= 0 || l.Status == StatusPending || l.Decision == nil || l.Decision.At.IsZero() {
		return false
	}
	return !l.Decision.At.Add(retention).After(now)
}

// errNotExpired makes PurgeLead write nothing for a lead that changed since
// it was listed (reopened, or decided anew).
var errNotExpired = errors.New("lead not past retention")

// PurgeExpired deletes the decided leads past retention at now (privacy.
// retention; 0 keeps everything) and queues the deletion of their Slack
// messages: the checklist, then the card. It reads only the leads decided
// before now − retention (TimeIndex; without it, every decided lead through
// the status index) and checks each lead again inside the transaction
// that deletes it, so a lead reopened meanwhile stays. Each purge leaves
// the PII-free audit entry PurgedJobKey. One lead's failure does not stop
// the others; the errors are joined. Running it again purges nothing twice.
func (s *Service) PurgeExpired(ctx context.Context, retention time.Duration, now time.Time) (purged []LeadID, err error) {
	if retention <= 0 {
		return nil, nil
	}
	now = now.UTC()
	var errs []error
	var lists [][]Lead
	if ix, ok := s.Store.(TimeIndex); ok {
		// The decided-at index: only the leads decided at or before
		// now − retention are read.
		leads, err := ix.LeadsDecided(ctx, time.Time{}, now.Add(-retention).Add(time.Nanosecond))
		if err != nil {
			errs = append(errs, fmt.Errorf("listing decided leads for retention: %w", err))
		}
		lists = append(lists, leads)
	} else {
		for _, st := range Statuses {
			if st == StatusPending {
				continue
			}
			leads, err := s.Store.Leads(ctx, LeadFilter{Status: st})
			if err != nil {
				errs = append(errs, fmt.Errorf("listing %s leads for retention: %w", st, err))
				continue
			}
			lists = append(lists, leads)
		}
	}
	for _, leads := range lists {
		for _, l := range leads {
			if !Expired(l, retention, now) {
				continue
			}
			if err := ctx.Err(); err != nil {
				errs = append(errs, err)
				break
			}
			err := s.Store.PurgeLead(ctx, l.ID, now, func(l Lead) ([]OutboxItem, error) {
				if !Expired(l, retention, now) {
					return nil, errNotExpired
				}
				return deleteMessages(l, now), nil
			})
			switch {
			case errors.Is(err, ErrNotFound), errors.Is(err, errNotExpired):
				continue // erased or reopened meanwhile
			case err != nil:
				errs = append(errs, fmt.Errorf("purging %s: %w", l.ID, err))
				continue
			}
			purged = append(purged, l.ID)
		}
	}
	if len(purged) > 0 {
		s.wake()
	}
	return purged, errors.Join(errs...)
}

// deleteMessages returns the items that delete l's messages in Slack: the
// other messages first (thread replies, reminders, direct messages; digest
// parts that name it are re-rendered without it instead), then
// the checklist, since it is a reply in the card's thread, then the card:
// a thread's parent deleted first would leave its replies showing.
func deleteMessages(l Lead, now time.Time) []OutboxItem {
	var out []OutboxItem
	for _, m := range l.Posted {
		kind := OutboxDeleteMessage
		if m.Digest {
			kind = OutboxRedactDigest
		}
		out = append(out, OutboxItem{Kind: kind, Lead: l.ID, Channel: m.Channel, Payload: []byte(m.TS), CreatedAt: now})
	}
	if l.Slack.Channel == "" {
		return out
	}
	for _, ts := range []string{l.Slack.ChecklistTS, l.Slack.TS} {
		if ts != "" {
			out = append(out, OutboxItem{Kind: OutboxDeleteMessage, Lead: l.ID, Channel: l.Slack.Channel, Payload: []byte(ts), CreatedAt: now})
		}
	}
	return out
}
