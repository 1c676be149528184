package triage_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/leadtriage/leadtriage/triage"
	"github.com/leadtriage/leadtriage/triage/triagetest"
)

func TestService_PurgeExpired(t *testing.T) {
	t.Parallel()
	const retention = 30 * 24 * time.Hour
	decidedAt := now.Add(-retention) // exactly at the boundary at now
	decided := func(st triage.Status, at time.Time) triage.Lead {
		return triage.Lead{
			Status: st, Company: "Acme BV", Email: "jan.jansen+CANARY@voorbeeld.nl", Domain: "voorbeeld.nl",
			CreatedAt: at.Add(-time.Hour),
			Decision:  &triage.Decision{Outcome: st, By: "auto", At: at},
			Slack:     triage.SlackRef{Channel: "C1", TS: "100.1", ChecklistTS: "100.2"},
		}
	}
	with := func(l triage.Lead, change func(*triage.Lead)) triage.Lead {
		change(&l)
		return l
	}
	tests := []struct {
		name      string
		lead      triage.Lead
		retention time.Duration
		now       time.Time
		purged    bool
		deletes   []string // the ts of the messages whose deletion is queued, in order
	}{
		{name: "retention 0 keeps everything", lead: decided(triage.StatusQualified, now.Add(-10*retention)), retention: 0, now: now},
		{name: "a minute before the boundary", lead: decided(triage.StatusQualified, decidedAt), retention: retention, now: now.Add(-time.Minute)},
		{name: "at the boundary", lead: decided(triage.StatusQualified, decidedAt), retention: retention, now: now,
			purged: true, deletes: []string{"100.2", "100.1"}},
		{name: "a minute after the boundary, disqualified", lead: decided(triage.StatusDisqualified, decidedAt), retention: retention, now: now.Add(time.Minute),
			purged: true, deletes: []string{"100.2", "100.1"}},
		{name: "referred, no checklist", lead: with(decided(triage.StatusReferred, decidedAt), func(l *triage.Lead) { l.Slack.ChecklistTS = "" }),
			retention: retention, now: now, purged: true, deletes: []string{"100.1"}},
		{name: "card never posted: nothing to delete in Slack", lead: with(decided(triage.StatusQualified, decidedAt), func(l *triage.Lead) { l.Slack = triage.SlackRef{} }),
			retention: retention, now: now, purged: true},
		{name: "pending is never purged", lead: triage.Lead{Status: triage.StatusPending, Company: "Old BV", CreatedAt: now.Add(-10 * retention)},
			retention: retention, now: now},
		{name: "reopened (pending again) is never purged", lead: with(decided(triage.StatusQualified, decidedAt), func(l *triage.Lead) {
			l.Status, l.Decision = triage.StatusPending, nil
			l.Events = []triage.Event{{At: decidedAt, Kind: triage.EventDecided}, {At: decidedAt.Add(time.Hour), Kind: triage.EventReopened}}
		}), retention: retention, now: now.Add(retention)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			store := &triagetest.Store{}
			l, _, err := store.CreateLead(ctx, tt.lead, triage.Idempotency{Key: "key:k", Fingerprint: "f", Expires: tt.now.Add(time.Hour), Now: tt.lead.CreatedAt}, nil)
			if err != nil {
				t.Fatal(err)
			}
			// A card update still pending: it must not outlive the lead.
			if err := store.Enqueue(ctx, triage.OutboxItem{Kind: triage.OutboxUpdateCard, Lead: l.ID, Channel: "C1", CreatedAt: now}); err != nil {
				t.Fatal(err)
			}
			woken := 0
			svc := &triage.Service{Store: store, Channel: "C1", Wake: func() { woken++ }}
			purged, err := svc.PurgeExpired(ctx, tt.retention, tt.now)
			if err != nil {
				t.Fatalf("PurgeExpired: %v", err)
			}
			_, lerr := store.Lead(ctx, l.ID)
			_, at, audited, _ := store.LastJob(ctx, triage.PurgedJobKey(l.ID))
			if !tt.purged {
				if len(purged) != 0 || lerr != nil || audited || woken != 0 {
					t.Errorf("purged %v (lead error %v, audit %v, woken %d); want the lead kept", purged, lerr, audited, woken)
				}
				if out := store.Outbox(); len(out) != 1 || out[0].Kind != triage.OutboxUpdateCard {
					t.Errorf("outbox = %v, want the card update only", kindsOf(out))
				}
				return
			}
			if diff := cmp.Diff([]triage.LeadID{l.ID}, purged); diff != "" {
				t.Errorf("purged (-want +got):\n%s", diff)
			}
			if !errors.Is(lerr, triage.ErrNotFound) {
				t.Errorf("Lead after the purge: %v, want ErrNotFound", lerr)
			}
			if !audited || !at.Equal(tt.now.UTC()) {
				t.Errorf("audit entry %s = %v at %v, want at %v", triage.PurgedJobKey(l.ID), audited, at, tt.now)
			}
			if woken != 1 {
				t.Errorf("woke the worker %d times, want 1", woken)
			}
			var want, got []triage.OutboxItem
			for _, ts := range tt.deletes {
				want = append(want, triage.OutboxItem{Kind: triage.OutboxDeleteMessage, Lead: l.ID, Channel: "C1", Payload: []byte(ts), CreatedAt: tt.now})
			}
			for _, it := range store.Outbox() {
				it.ID, it.Seq = 0, 0
				got = append(got, it)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("outbox after the purge (-want +got):\n%s", diff)
			}
			// The same content is a new lead now: its idempotency key went with it.
			again, created, err := store.CreateLead(ctx, tt.lead, triage.Idempotency{Key: "key:k", Fingerprint: "f", Expires: tt.now.Add(time.Hour), Now: tt.now}, nil)
			if err != nil || !created || again.ID == l.ID {
				t.Errorf("resubmission = %s created %v, %v; want a new lead", again.ID, created, err)
			}
			// A second run purges nothing twice.
			if again, err := svc.PurgeExpired(ctx, tt.retention, tt.now); err != nil || len(again) != 1 || again[0] == l.ID {
				t.Errorf("second run = %v, %v; want only the resubmitted lead", again, err)
			}
		})
	}
}

// A lead reopened between the listing and its purge stays: the purge checks
// again inside the transaction. Other leads are purged all the same, and one
// lead's failure does not stop the rest.
func TestService_PurgeExpired_ChecksAgainAndGoesOn(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const retention = 24 * time.Hour
	store := &triagetest.Store{}
	var ids []triage.LeadID
	for _, company := range []string{"Reopened BV", "Failing BV", "Purged BV"} {
		l, _, err := store.CreateLead(ctx, triage.Lead{Status: triage.StatusQualified, Company: company, CreatedAt: now.Add(-3 * retention),
			Decision: &triage.Decision{Outcome: triage.StatusQualified, At: now.Add(-2 * retention)}}, triage.Idempotency{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, l.ID)
	}
	boom := errors.New("disk on fire")
	store.PurgeLeadFn = func(_ context.Context, id triage.LeadID) error {
		switch id {
		case ids[0]: // reopened just now
			_, err := store.UpdateLead(ctx, id, func(l *triage.Lead) ([]triage.OutboxItem, error) {
				l.Status, l.Decision = triage.StatusPending, nil
				return nil, nil
			})
			return err
		case ids[1]:
			return boom
		}
		return nil
	}
	svc := &triage.Service{Store: store, Channel: "C1"}
	purged, err := svc.PurgeExpired(ctx, retention, now)
	if !errors.Is(err, boom) {
		t.Errorf("err = %v, want the failing lead's error", err)
	}
	if diff := cmp.Diff([]triage.LeadID{ids[2]}, purged); diff != "" {
		t.Errorf("purged (-want +got):\n%s", diff)
	}
	for _, id := range ids[:2] {
		if _, err := store.Lead(ctx, id); err != nil {
			t.Errorf("%s: %v, want it kept", id, err)
		}
	}
}

func TestExpired(t *testing.T) {
	t.Parallel()
	at := now.Add(-time.Hour)
	l := triage.Lead{Status: triage.StatusReferred, Decision: &triage.Decision{Outcome: triage.StatusReferred, At: at}}
	tests := []struct {
		name      string
		lead      triage.Lead
		retention time.Duration
		want      bool
	}{
		{"at the boundary", l, time.Hour, true},
		{"a nanosecond before", l, time.Hour + time.Nanosecond, false},
		{"no retention", l, 0, false},
		{"negative retention", l, -time.Hour, false},
		{"no decision recorded", triage.Lead{Status: triage.StatusQualified}, time.Nanosecond, false},
		{"pending", triage.Lead{Status: triage.StatusPending, Decision: &triage.Decision{At: at}}, time.Nanosecond, false},
	}
	for _, tt := range tests {
		if got := triage.Expired(tt.lead, tt.retention, now); got != tt.want {
			t.Errorf("%s: Expired = %v, want %v", tt.name, got, tt.want)
		}
	}
}
