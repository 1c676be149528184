package triagetest_test

import (
	"context"
	"errors"
	"testing"

	"github.com/leadtriage/leadtriage/triage"
	"github.com/leadtriage/leadtriage/triage/triagetest"
)

// PurgeLead follows the documented contract: ErrNotFound for a missing
// lead, and fn's error leaves everything as it was.
func TestStore_PurgeLead_Contract(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := &triagetest.Store{}
	l, _, err := s.CreateLead(ctx, triage.Lead{Company: "Acme", CreatedAt: now}, triage.Idempotency{Now: now},
		[]triage.OutboxItem{{Kind: triage.OutboxPostCard, Channel: "C1"}})
	if err != nil {
		t.Fatal(err)
	}
	keep := func(triage.Lead) ([]triage.OutboxItem, error) { return nil, nil }
	if err := s.PurgeLead(ctx, l.ID+1, now, keep); !errors.Is(err, triage.ErrNotFound) {
		t.Errorf("PurgeLead of a missing lead = %v, want ErrNotFound", err)
	}
	boom := errors.New("changed its mind")
	if err := s.PurgeLead(ctx, l.ID, now, func(triage.Lead) ([]triage.OutboxItem, error) {
		return []triage.OutboxItem{{Kind: triage.OutboxDeleteMessage, Channel: "C1", Payload: []byte("1.2")}}, boom
	}); !errors.Is(err, boom) {
		t.Errorf("PurgeLead with a failing fn = %v, want its error", err)
	}
	if _, err := s.Lead(ctx, l.ID); err != nil || len(s.Outbox()) != 1 {
		t.Errorf("after a failed purge: lead %v, outbox %+v; want both kept", err, s.Outbox())
	}
	if _, _, ok, _ := s.LastJob(ctx, triage.PurgedJobPrefix); ok {
		t.Error("a failed purge left an audit entry")
	}
	if err := s.PurgeLead(ctx, l.ID, now, keep); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Lead(ctx, l.ID); !errors.Is(err, triage.ErrNotFound) || len(s.Outbox()) != 0 {
		t.Errorf("after the purge: lead %v, outbox %+v; want both gone", err, s.Outbox())
	}
	if key, at, ok, _ := s.LastJob(ctx, triage.PurgedJobPrefix); !ok || key != "purged|"+l.ID.String() || !at.Equal(now) {
		t.Errorf("audit entry = %q %v %v", key, at, ok)
	}
}
