package storage_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/leadtriage/leadtriage/storage"
	"github.com/leadtriage/leadtriage/storage/storagetest"
	"github.com/leadtriage/leadtriage/triage"
)

func kinds(items []triage.OutboxItem) []triage.OutboxKind {
	var out []triage.OutboxKind
	for _, it := range items {
		out = append(out, it.Kind)
	}
	return out
}

// crmLane returns the due crm-lane items at at.
func crmLane(t *testing.T, db *storage.DB, at time.Time) []triage.OutboxItem {
	t.Helper()
	due, err := db.DueCRM(t.Context(), at, 0)
	if err != nil {
		t.Fatal(err)
	}
	return due
}

func TestDB_Lanes_NeitherWorkerSeesTheOther(t *testing.T) {
	t.Parallel()
	db := storagetest.MustOpen(t)
	l := newLead(t, "acme")
	l.Owner = "U7"
	l = mustCreate(t, db, l,
		triage.OutboxItem{Kind: triage.OutboxPostCard, Channel: "C1", CreatedAt: t0},
		triage.EventItem(triage.EventTypeCreated, l, t0),
	)
	slack, err := db.DueOutbox(t.Context(), t0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := kinds(slack); len(got) != 1 || got[0] != triage.OutboxPostCard {
		t.Errorf("the Slack lane = %v, want the card only", got)
	}
	crm := crmLane(t, db, t0)
	if len(crm) != 1 || crm[0].Kind != triage.OutboxEvent || crm[0].Lead != l.ID || crm[0].Text != triage.EventTypeCreated {
		t.Fatalf("the crm lane = %+v, want lead.created of %s", crm, l.ID)
	}
	if s := crm[0].Snapshot; s == nil || s.Company != "acme" || s.Owner != "U7" || s.Status != triage.StatusPending {
		t.Errorf("the snapshot read back as %+v, want the lead as stored", s)
	}
	// The Slack worker has nothing more to wait for once its card is out.
	if err := db.CompleteOutbox(t.Context(), slack[0].ID, slack[0].Seq, nil); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := db.NextOutbox(t.Context()); err != nil || ok {
		t.Errorf("NextOutbox with only crm items = ok %v, %v; want none", ok, err)
	}
	if at, ok, err := db.NextCRM(t.Context()); err != nil || !ok || !at.IsZero() {
		t.Errorf("NextCRM = %v %v %v, want due at once", at, ok, err)
	}
}

func TestDB_ExpandCRM(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := storagetest.MustOpen(t)
	l := mustCreate(t, db, newLead(t, "acme"), triage.EventItem(triage.EventTypeCreated, newLead(t, "acme"), t0))
	ev := crmLane(t, db, t0)[0]
	deliveries := []triage.OutboxItem{
		{Kind: triage.OutboxWebhook, Lead: l.ID, Channel: "https://a.example/hook", Text: ev.Text, Snapshot: ev.Snapshot, CreatedAt: ev.CreatedAt},
		{Kind: triage.OutboxWebhook, Lead: l.ID, Channel: "https://b.example/hook", Text: ev.Text, Snapshot: ev.Snapshot, CreatedAt: ev.CreatedAt},
	}
	if err := db.ExpandCRM(ctx, ev.ID, []triage.OutboxItem{{Kind: triage.OutboxPostCard}}); !errors.Is(err, triage.ErrInvalid) {
		t.Errorf("expanding into a Slack item = %v, want ErrInvalid", err)
	}
	if err := db.ExpandCRM(ctx, ev.ID, deliveries); err != nil {
		t.Fatal(err)
	}
	got := crmLane(t, db, t0)
	if len(got) != 2 || got[0].Channel != "https://a.example/hook" || got[1].Channel != "https://b.example/hook" || got[0].ID == ev.ID {
		t.Fatalf("after expanding, the crm lane = %+v, want two new deliveries", got)
	}
	if err := db.ExpandCRM(ctx, ev.ID, deliveries); !errors.Is(err, triage.ErrNotFound) {
		t.Errorf("expanding the event again = %v, want ErrNotFound", err)
	}
	if n := len(crmLane(t, db, t0)); n != 2 {
		t.Errorf("a failed expansion changed the lane to %d items", n)
	}

	// A retried delivery waits; a dead one leaves the lane and comes back
	// into it when requeued.
	if err := db.RetryOutbox(ctx, got[0].ID, t0.Add(time.Minute), "HTTP 500"); err != nil {
		t.Fatal(err)
	}
	if err := db.DeadLetter(ctx, got[1].ID, "HTTP 400"); err != nil {
		t.Fatal(err)
	}
	if n := len(crmLane(t, db, t0)); n != 0 {
		t.Errorf("%d crm items due at t0, want none", n)
	}
	if at, ok, _ := db.NextCRM(ctx); !ok || !at.Equal(t0.Add(time.Minute)) {
		t.Errorf("NextCRM = %v %v, want %v", at, ok, t0.Add(time.Minute))
	}
	if _, err := db.RequeueDeadLetter(ctx, got[1].ID, t0); err != nil {
		t.Fatal(err)
	}
	due := crmLane(t, db, t0)
	if len(due) != 1 || due[0].ID != got[1].ID || due[0].Channel != "https://b.example/hook" {
		t.Errorf("after requeueing, the crm lane = %+v, want the dead letter back", due)
	}
	if slack, _ := db.DueOutbox(ctx, t0.Add(time.Hour), 0); len(slack) != 0 {
		t.Errorf("the Slack lane sees %v", kinds(slack))
	}
}

func TestDB_PurgeLead_DropsItsEvents(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := storagetest.MustOpen(t)
	a := mustCreate(t, db, newLead(t, "acme"), triage.EventItem(triage.EventTypeCreated, newLead(t, "acme"), t0))
	b := mustCreate(t, db, newLead(t, "other"), triage.EventItem(triage.EventTypeCreated, newLead(t, "other"), t0))
	ev := crmLane(t, db, t0)
	if err := db.ExpandCRM(ctx, ev[0].ID, []triage.OutboxItem{
		{Kind: triage.OutboxWebhook, Lead: a.ID, Channel: "https://a.example/hook", Text: ev[0].Text, Snapshot: ev[0].Snapshot},
		{Kind: triage.OutboxWebhook, Lead: a.ID, Channel: "https://b.example/hook", Text: ev[0].Text, Snapshot: ev[0].Snapshot},
	}); err != nil {
		t.Fatal(err)
	}
	dead := crmLane(t, db, t0)[1]
	if err := db.DeadLetter(ctx, dead.ID, "HTTP 400"); err != nil {
		t.Fatal(err)
	}
	if err := db.PurgeLead(ctx, a.ID, t0, func(triage.Lead) ([]triage.OutboxItem, error) { return nil, nil }); err != nil {
		t.Fatal(err)
	}
	left := crmLane(t, db, t0)
	if len(left) != 1 || left[0].Lead != b.ID {
		t.Errorf("after erasing %s the crm lane = %+v, want only %s's event", a.ID, left, b.ID)
	}
	letters, err := db.DeadLetters(ctx)
	if err != nil || len(letters) != 0 {
		t.Errorf("dead letters after erasure = %d, %v; want none", len(letters), err)
	}
}
