package crm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/leadtriage/leadtriage/triage"
)

// OutboxHandoff is the crm-lane item of one hand-off: the decision of a
// lead.decided event (Snapshot) for the CRM named in Channel.
const OutboxHandoff triage.OutboxKind = "crm_handoff"

// Leads reads a lead as it is now; *triage.Service satisfies it.
type Leads interface {
	Lead(ctx context.Context, id triage.LeadID) (triage.Lead, error)
}

// HandoffConfig is the hand-off sender's set-up; every field but People,
// Owners and Now is required.
type HandoffConfig struct {
	CRM   CRM
	Leads Leads
	// Record keeps what the CRM made or found on the lead
	// (triage.Service.RecordCRM).
	Record   func(ctx context.Context, id triage.LeadID, recs []triage.CRMRecord, at time.Time) (triage.Lead, error)
	Criteria []triage.Criterion
	// Owners maps the lead's Slack owner to their CRM user's e-mail
	// (crm.owners); nil or "": the deal is unowned.
	Owners func(slackUser string) string
	// Permalink links to the lead's thread in Slack (the bot knows the
	// workspace); "" leaves the link out of the note.
	Permalink func(triage.Lead) string
	// People names Slack users in the note; nil: ids.
	People func(ctx context.Context, ids []string) map[string]string
	Now    func() time.Time
}

// Handoffs is the crm.Sender of the CRM hand-off: a lead.decided event
// becomes one OutboxHandoff item, and its Send qualifies the lead in the
// CRM (qualified) or notes the decision on what exists there (disqualified,
// referred), then records the records on the lead.
type Handoffs struct{ cfg HandoffConfig }

var _ Sender = (*Handoffs)(nil)

// NewHandoffs checks cfg and returns the sender.
func NewHandoffs(cfg HandoffConfig) (*Handoffs, error) {
	if cfg.CRM == nil || cfg.Leads == nil || cfg.Record == nil {
		return nil, errors.New("the crm hand-off needs a crm client, the leads and a recorder")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Handoffs{cfg: cfg}, nil
}

func (*Handoffs) Kind() triage.OutboxKind { return OutboxHandoff }

// Expand turns a lead.decided event into one hand-off; other events into
// nothing.
func (h *Handoffs) Expand(ev triage.OutboxItem) []triage.OutboxItem {
	if ev.Text != triage.EventTypeDecided || ev.Snapshot == nil || ev.Snapshot.Decision == nil {
		return nil
	}
	return []triage.OutboxItem{{
		Kind: OutboxHandoff, Lead: ev.Lead, Channel: h.cfg.CRM.Name(), Text: ev.Text,
		Snapshot: ev.Snapshot, CreatedAt: ev.CreatedAt,
	}}
}

// Send hands the decision to the CRM. It builds on the lead's records as
// they are now, not as they were at the event, so a repeat (a retry, a
// restart) finds what an earlier attempt made instead of making it twice.
// Its errors carry no lead data (see scrub).
func (h *Handoffs) Send(ctx context.Context, it triage.OutboxItem) error {
	if it.Channel != h.cfg.CRM.Name() {
		return Permanent(fmt.Errorf("the hand-off is for %s, which is no longer configured", it.Channel))
	}
	if it.Snapshot == nil || it.Snapshot.Decision == nil {
		return Permanent(errors.New("the hand-off carries no decision"))
	}
	cur, err := h.cfg.Leads.Lead(ctx, it.Lead)
	if errors.Is(err, triage.ErrNotFound) {
		return nil // erased meanwhile: nothing of it goes to the CRM
	}
	if err != nil {
		return fmt.Errorf("reading the lead: %w", err)
	}
	if cur.Decision == nil || !cur.Decision.At.Equal(it.Snapshot.Decision.At) {
		// Reopened or decided again since: that change has its own event.
		return nil
	}
	l := *it.Snapshot
	l.ID, l.CRM, l.Slack = it.Lead, nil, cur.Slack
	for _, r := range cur.CRM {
		if r.Gone.IsZero() { // a deal deleted in the CRM is not built on
			l.CRM = append(l.CRM, r)
		}
	}
	if cur.Owner != "" {
		l.Owner = cur.Owner // claimed after the decision
	}
	hd := Handoff{Lead: l, Criteria: h.cfg.Criteria}
	if h.cfg.Owners != nil && l.Owner != "" {
		hd.OwnerEmail = h.cfg.Owners(l.Owner)
	}
	if h.cfg.Permalink != nil {
		hd.Permalink = h.cfg.Permalink(cur)
	}
	if h.cfg.People != nil {
		hd.People = h.cfg.People(ctx, people(l))
	}
	var recs []triage.CRMRecord
	if l.Decision.Outcome == triage.StatusQualified {
		recs, err = h.cfg.CRM.Qualify(ctx, hd)
	} else {
		recs, err = h.cfg.CRM.Note(ctx, hd)
	}
	if err != nil {
		if len(recs) > 0 {
			// Half made: keep what exists (even when the call's time ran
			// out), so the retry does not make it again.
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			_, rerr := h.cfg.Record(rctx, it.Lead, recs, h.cfg.Now())
			cancel()
			if rerr != nil && !errors.Is(rerr, triage.ErrNotFound) {
				return errors.Join(scrub(err), fmt.Errorf("recording what the crm made so far: %w", rerr))
			}
		}
		return scrub(err)
	}
	if len(recs) == 0 {
		return nil // a declined lead the CRM does not know: nothing to note
	}
	if _, err := h.cfg.Record(ctx, it.Lead, recs, h.cfg.Now()); err != nil && !errors.Is(err, triage.ErrNotFound) {
		// Retried: the CRM finds what it made, so the repeat adds nothing there.
		return fmt.Errorf("recording the crm records: %w", err)
	}
	return nil
}

// scrub keeps only what may sit in the dead-letter list: a CRM's 4xx body
// may quote what we sent (a 400 on an invalid e-mail names it), and a
// transport error names the URL (a search by e-mail has it in the query).
// What remains is the status, the CRM's error category or code, and our
// own words; a *StatusError stays one, so the worker's retry rule holds.
func scrub(err error) error {
	var se *StatusError
	if errors.As(err, &se) {
		clean := &StatusError{Status: se.Status, RetryAfter: se.RetryAfter, Body: errorCategory(se.Body)}
		op := strings.TrimSuffix(err.Error(), se.Error())
		if op == err.Error() {
			op = ""
		}
		return &scrubbed{msg: op + clean.Error(), err: clean}
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		inner := "the connection failed"
		switch {
		case ue.Timeout():
			inner = "timed out"
		case errors.Is(ue.Err, context.Canceled):
			inner = "cancelled"
		}
		return &scrubbed{msg: "calling the crm: " + ue.Op + ": " + inner, err: ue.Err}
	}
	return err
}

// scrubbed is an error with a message of our own, wrapping what the worker
// inspects (*StatusError) or a transport cause.
type scrubbed struct {
	msg string
	err error
}

func (e *scrubbed) Error() string { return e.msg }
func (e *scrubbed) Unwrap() error { return e.err }

// errorCategory is the machine-readable part of a CRM's error body:
// HubSpot's "category" (and "subCategory"), Pipedrive's "errorCode" or
// "code"; "" when there is none. The human "message" is dropped: it may
// quote the lead.
func errorCategory(body string) string {
	var e struct {
		Category    string `json:"category"`
		SubCategory string `json:"subCategory"`
		ErrorCode   any    `json:"errorCode"`
		Code        any    `json:"code"`
	}
	if json.Unmarshal([]byte(body), &e) != nil {
		return ""
	}
	var parts []string
	for _, v := range []any{e.Category, e.SubCategory, e.ErrorCode, e.Code} {
		if s := token(v); s != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, " ")
}

// token keeps a code only if it looks like one (letters, digits, _ . -),
// at most 64 characters: never free text.
func token(v any) string {
	var s string
	switch x := v.(type) {
	case string:
		s = x
	case float64:
		s = fmt.Sprint(x)
	default:
		return ""
	}
	if s == "" || len(s) > 64 {
		return ""
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '.' || r == '-') {
			return ""
		}
	}
	return s
}

// people are the Slack users a lead's note names: voters, those who
// answered, the decider and the owner, each once, sorted.
func people(l triage.Lead) []string {
	seen := map[string]bool{}
	add := func(id string) {
		if id != "" && id != triage.DecidedByPolicy {
			seen[id] = true
		}
	}
	for id := range l.Votes {
		add(id)
	}
	for _, a := range l.Answers {
		add(a.By)
	}
	for _, byUser := range l.AnswersBy {
		for id := range byUser {
			add(id)
		}
	}
	if l.Decision != nil {
		add(l.Decision.By)
	}
	add(l.Owner)
	return slices.Sorted(maps.Keys(seen))
}

// handoffTimeout bounds one hand-off: up to ten CRM calls and the users.info
// look-ups, each far quicker than the worker's per-call timeout allows for
// them together.
const handoffTimeout = time.Minute

// Timeout implements the worker's per-sender time-out.
func (h *Handoffs) Timeout() time.Duration { return handoffTimeout }
