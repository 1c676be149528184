package triage

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// NoticeCRM says the CRM hand-off made the lead's deal: System ("hubspot",
// "pipedrive") and URL, the deal's page ("" when the CRM gave none).
const NoticeCRM NoticeKind = "crm"

// IsDeal reports whether r is the lead's deal in its CRM (a HubSpot or
// Pipedrive deal, or a Pipedrive lead), the record people open.
func (r CRMRecord) IsDeal() bool {
	return r.Kind == "deal" || r.Kind == "lead"
}

// Deal is the lead's deal still in a CRM (not deleted there), if any.
func (l *Lead) Deal() (CRMRecord, bool) {
	for _, r := range l.CRM {
		if r.IsDeal() && r.Gone.IsZero() {
			return r, true
		}
	}
	return CRMRecord{}, false
}

// RecordCRM records what the CRM hand-off made or found for lead id, at at:
// records already on the lead (same system, kind and id) are not added
// twice, only their URL and Gone are brought up to date. Anything new is an
// EventCRM in the audit trail and a card update in the same transaction;
// the first link to the lead's deal is also a NoticeCRM in the thread. Records without
// a system, kind or id are ErrInvalid, and nothing is written.
func (s *Service) RecordCRM(ctx context.Context, id LeadID, recs []CRMRecord, at time.Time) (Lead, error) {
	for _, r := range recs {
		if r.System == "" || r.Kind == "" || r.ID == "" {
			return Lead{}, &FieldError{Field: "crm", Problem: fmt.Sprintf("a crm record needs a system, kind and id (got %q %q %q)", r.System, r.Kind, r.ID)}
		}
	}
	if len(recs) == 0 {
		return s.Store.Lead(ctx, id)
	}
	queued := false
	lead, err := s.updateLead(ctx, id, func(l *Lead) ([]OutboxItem, error) {
		linked := func() (CRMRecord, bool) {
			d, ok := l.Deal()
			return d, ok && d.URL != ""
		}
		_, hadLink := linked()
		var changed []string
		for _, r := range recs {
			r.At = r.At.UTC()
			r.Gone = r.Gone.UTC()
			if r.At.IsZero() {
				r.At = at.UTC()
			}
			i := indexCRM(l.CRM, r)
			switch {
			case i < 0:
				l.CRM = append(l.CRM, r)
				changed = append(changed, r.System+" "+r.Kind+" "+r.ID)
			case r.URL != "" && l.CRM[i].URL != r.URL:
				l.CRM[i].URL = r.URL
				changed = append(changed, r.System+" "+r.Kind+" "+r.ID+" link")
			case !r.Gone.IsZero() && l.CRM[i].Gone.IsZero():
				l.CRM[i].Gone = r.Gone
				changed = append(changed, r.System+" "+r.Kind+" "+r.ID+" deleted")
			}
		}
		if len(changed) == 0 {
			return nil, nil // a repeat: nothing new
		}
		// Ids and kinds only: the audit trail outlives an erasure.
		l.addEvent(at.UTC(), EventCRM, recs[0].System, strings.Join(changed, ", "), EvRecords, strings.Join(changed, ArgSep))
		out := []OutboxItem{s.cardUpdate(l, at)}
		// Once, when the deal can first be opened: a hand-off that failed
		// half-way records its deal before it has a link (Handoffs.Send).
		if deal, ok := linked(); ok && !hadLink {
			out = append(out, s.threadReply(l, at, Notice{Kind: NoticeCRM, System: deal.System, URL: deal.URL}))
		}
		queued = true
		return out, nil
	})
	if err != nil {
		return Lead{}, fmt.Errorf("recording crm records of %s: %w", id, err)
	}
	if queued {
		s.wake()
	}
	return lead, nil
}

func indexCRM(recs []CRMRecord, r CRMRecord) int {
	for i, x := range recs {
		if x.System == r.System && x.Kind == r.Kind && x.ID == r.ID {
			return i
		}
	}
	return -1
}
