package storage_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/leadtriage/leadtriage/storage"
	"github.com/leadtriage/leadtriage/storage/storagetest"
	"github.com/leadtriage/leadtriage/triage"
)

func TestDB_Outbox_PayloadRoundTrip(t *testing.T) {
	t.Parallel()
	db := storagetest.MustOpen(t)
	payload, err := json.Marshal(triage.DigestPart{Key: "digest|k", Part: 1, Parts: 1, Title: "Leads digest <&>",
		Pending: []triage.DigestLead{{ID: 3, Label: "Acme <!channel>", Flags: []string{"duplicate"}}}})
	if err != nil {
		t.Fatal(err)
	}
	items := []triage.OutboxItem{
		{Kind: triage.OutboxDigest, Channel: "CDIGEST", Payload: payload, CreatedAt: t0},
		{Kind: triage.OutboxDigest, Channel: "CDIGEST", Payload: []byte{0, 0xff, '"'}, CreatedAt: t0}, // any bytes
		{Kind: triage.OutboxEphemeral, Channel: "C1", User: "U1", Text: "no payload", CreatedAt: t0},
	}
	if err := db.Enqueue(t.Context(), items...); err != nil {
		t.Fatal(err)
	}
	db = storagetest.MustReopen(t, db)
	want := make([]triage.OutboxItem, len(items))
	for i, it := range items {
		it.ID, it.Seq = uint64(i+1), 1
		want[i] = it
	}
	want = append(want[2:], want[:2]...) // the urgent ephemeral is listed first
	if diff := cmp.Diff(want, mustDue(t, db, t0), equalTimes); diff != "" {
		t.Errorf("after a round trip (-want +got):\n%s", diff)
	}
}

// followUpService runs the follow-ups over a real database, for tests that
// restart it.
func followUpService(db *storage.DB, now *time.Time) *triage.Service {
	return &triage.Service{Store: db, Policy: triage.Policy{Quorum: 3, Blind: true, Auto: true, TeamLead: "ULEAD"}, Channel: "C1",
		Now: func() time.Time { return *now }}
}

// deliverAll completes every due item, as the worker would, and returns their kinds.
func deliverAll(t *testing.T, db *storage.DB, now time.Time) []triage.OutboxKind {
	t.Helper()
	var kinds []triage.OutboxKind
	for _, it := range mustDue(t, db, now) {
		if err := db.CompleteOutbox(context.Background(), it.ID, it.Seq, nil); err != nil {
			t.Fatal(err)
		}
		kinds = append(kinds, it.Kind)
	}
	return kinds
}

// Reminder, then escalation, each exactly once, over repeated sweeps with a
// restart between each: the state is in bbolt, not in the process.
func TestSweepReminders_ExactlyOnceAcrossRestarts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	ams, err := time.LoadLocation("Europe/Amsterdam")
	if err != nil {
		t.Fatal(err)
	}
	hours, err := triage.ParseBusinessHours("09:00-17:30", "Mon-Fri", "Europe/Amsterdam")
	if err != nil {
		t.Fatal(err)
	}
	f := triage.FollowUp{After: 4 * time.Hour, EscalateAfter: 24 * time.Hour, Hours: hours, Team: []string{"U1", "U2"}, TeamLead: "ULEAD"}
	created := time.Date(2026, 11, 30, 9, 0, 0, 0, ams) // Monday
	now := created
	db := storagetest.MustOpen(t)
	svc := followUpService(db, &now)
	l, _, err := svc.Submit(ctx, triage.LeadInput{Company: "Acme", Email: "info@acme.example"}, triage.Submission{Via: "webhook"})
	if err != nil {
		t.Fatal(err)
	}
	// A decided lead is never followed up.
	other, _, err := svc.Submit(ctx, triage.LeadInput{Company: "Globex", Email: "info@globex.example"}, triage.Submission{Via: "webhook"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.UpdateLead(ctx, other.ID, func(l *triage.Lead) ([]triage.OutboxItem, error) {
		return nil, triage.Decide(l, triage.StatusQualified, "", "ULEAD", now)
	}); err != nil {
		t.Fatal(err)
	}
	deliverAll(t, db, now)

	steps := []struct {
		at   time.Time
		want []triage.OutboxKind
	}{
		{created.Add(3 * time.Hour), nil},
		{created.Add(4 * time.Hour), []triage.OutboxKind{triage.OutboxReminder}},
		{created.Add(4 * time.Hour), nil},
		{created.Add(8 * time.Hour), nil},
		{time.Date(2026, 12, 2, 15, 59, 0, 0, ams), nil},
		{time.Date(2026, 12, 2, 16, 0, 0, 0, ams), []triage.OutboxKind{triage.OutboxDirect}},
		{time.Date(2026, 12, 2, 16, 0, 0, 0, ams), nil},
		{time.Date(2026, 12, 9, 16, 0, 0, 0, ams), nil},
	}
	for i, st := range steps {
		db = storagetest.MustReopen(t, db)
		now = st.at
		svc = followUpService(db, &now)
		if _, err := svc.SweepReminders(ctx, f, now); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if diff := cmp.Diff(st.want, deliverAll(t, db, now)); diff != "" {
			t.Errorf("step %d at %v queued (-want +got):\n%s", i, st.at, diff)
		}
	}
	got, err := db.Lead(ctx, l.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := triage.ReminderState{Reminded: created.Add(4 * time.Hour), Escalated: time.Date(2026, 12, 2, 16, 0, 0, 0, ams)}
	if diff := cmp.Diff(want, got.Reminder, equalTimes); diff != "" {
		t.Errorf("stored Reminder (-want +got):\n%s", diff)
	}
}

// A digest run is recorded with its outbox items: after a restart the same
// run queues nothing, and the next one starts where it ended.
func TestRunDigest_ExactlyOnceAcrossRestart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := t0
	db := storagetest.MustOpen(t)
	svc := followUpService(db, &now)
	l, _, err := svc.Submit(ctx, triage.LeadInput{Company: "Acme", Email: "info@acme.example"}, triage.Submission{Via: "webhook"})
	if err != nil {
		t.Fatal(err)
	}
	deliverAll(t, db, now)
	o := triage.DigestOptions{Channel: "CDIGEST", RevisitAfter: 90 * 24 * time.Hour}
	if sent, err := svc.RunDigest(ctx, "day1", now, now, o); err != nil || !sent {
		t.Fatalf("first run = %v, %v", sent, err)
	}
	db = storagetest.MustReopen(t, db)
	svc = followUpService(db, &now)
	if sent, err := svc.RunDigest(ctx, "day1", now, now.Add(time.Hour), o); err != nil || sent {
		t.Errorf("the same run after a restart = %v, %v; want not sent", sent, err)
	}
	if diff := cmp.Diff([]triage.OutboxKind{triage.OutboxDigest}, deliverAll(t, db, now.Add(time.Hour))); diff != "" {
		t.Errorf("queued (-want +got):\n%s", diff)
	}
	if _, err := db.UpdateLead(ctx, l.ID, func(l *triage.Lead) ([]triage.OutboxItem, error) {
		return nil, triage.Decide(l, triage.StatusDisqualified, "too small", "ULEAD", now.Add(2*time.Hour))
	}); err != nil {
		t.Fatal(err)
	}
	next := now.Add(24 * time.Hour)
	if sent, err := svc.RunDigest(ctx, "day2", next, next, o); err != nil || !sent {
		t.Fatalf("second run = %v, %v", sent, err)
	}
	due := mustDue(t, db, next)
	if len(due) != 1 {
		t.Fatalf("due = %+v; want one digest part", due)
	}
	var p triage.DigestPart
	if err := json.Unmarshal(due[0].Payload, &p); err != nil {
		t.Fatal(err)
	}
	if len(p.Pending) != 0 || len(p.Decided) != 1 || p.Decided[0].ID != l.ID || p.Decided[0].Reason != "too small" {
		t.Errorf("second digest = %+v; want the lead decided since the first", p)
	}
}
