package storage

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/leadtriage/leadtriage/triage"
)

// writeV2 regenerates testdata/schema2.db, the migration test's input. It
// was run once with the schema 2 code (go test ./storage -run
// TestWriteFixture -write-v2) and the file committed: running it with later
// code would write a later schema, so leave it alone.
var writeV2 = flag.Bool("write-v2", false, "write testdata/schema2.db with the current code (only ever with schema 2 code)")

// writeV3 regenerates testdata/schema3.db, the schema 3 → 4 migration
// test's input: the schema 2 fixture plus outcomes, outcome asks and CRM
// deals (writeFixtureOutcomes). Run once with the schema 3 code and
// committed; leave it alone since.
var writeV3 = flag.Bool("write-v3", false, "write testdata/schema3.db with the current code (only ever with schema 3 code)")

// fixtureNow is the "now" the schema 2 fixture was written at.
var fixtureNow = time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC)

func TestWriteFixtureV3(t *testing.T) {
	if !*writeV3 {
		t.Skip("only with -write-v3")
	}
	if SchemaVersion != 3 {
		t.Fatalf("this code writes schema %d: testdata/schema3.db must stay what the schema 3 code wrote", SchemaVersion)
	}
	path := filepath.Join("testdata", "schema3.db")
	_ = os.Remove(path)
	db, err := Open(path, WithClock(func() time.Time { return fixtureNow }))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := writeFixture(context.Background(), db); err != nil {
		t.Fatal(err)
	}
	if err := writeFixtureOutcomes(context.Background(), db); err != nil {
		t.Fatal(err)
	}
}

func TestWriteFixture(t *testing.T) {
	if !*writeV2 {
		t.Skip("only with -write-v2")
	}
	if SchemaVersion != 2 {
		t.Fatalf("this code writes schema %d: testdata/schema2.db must stay what the schema 2 code wrote", SchemaVersion)
	}
	path := filepath.Join("testdata", "schema2.db")
	if err := os.MkdirAll("testdata", 0o755); err != nil {
		t.Fatal(err)
	}
	_ = os.Remove(path)
	db, err := Open(path, WithClock(func() time.Time { return fixtureNow }))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := writeFixture(context.Background(), db); err != nil {
		t.Fatal(err)
	}
}

// writeFixture fills db through the store's own methods with one of each
// thing a file holds: leads in every state (pending, decided, due a second
// look, shown already, past a three-year retention, reopened, purged), an
// idempotency key, live, urgent, blocked, attempted and dead outbox items,
// an inbox entry with its mark, a spent signature, a cache entry and jobs.
func writeFixture(ctx context.Context, db *DB) error {
	now := fixtureNow
	lead := func(n int, created time.Time) triage.Lead {
		domain := fmt.Sprintf("company%d.example", n)
		return triage.Lead{
			Status: triage.StatusPending, Company: fmt.Sprintf("Company %d", n), Name: "Jan Jansen",
			Email: "jan@" + domain, Website: "https://" + domain + "/", Domain: domain,
			Message: "A demo, please.", Source: "webhook", CreatedAt: created,
		}
	}
	create := func(l triage.Lead, idem triage.Idempotency, out ...triage.OutboxItem) (triage.Lead, error) {
		stored, _, err := db.CreateLead(ctx, l, idem, out)
		return stored, err
	}
	decide := func(id triage.LeadID, st triage.Status, at, revisited time.Time, ts string) error {
		_, err := db.UpdateLead(ctx, id, func(l *triage.Lead) ([]triage.OutboxItem, error) {
			l.Status = st
			l.Decision = &triage.Decision{Outcome: st, Reason: "fixture", By: "U1", At: at}
			l.Reminder.Revisited = revisited
			l.Slack = triage.SlackRef{Channel: "C1", TS: ts}
			return nil, nil
		})
		return err
	}
	post := triage.OutboxItem{Kind: triage.OutboxPostCard, Channel: "C1", CreatedAt: now}

	// L1: pending, its card post attempted and not yet recorded.
	_, err := create(lead(1, now.Add(-2*time.Hour)), triage.Idempotency{Key: "idem-1", Fingerprint: "fp-1", Expires: now.Add(24 * time.Hour), Now: now}, post)
	if err != nil {
		return err
	}
	due, err := db.DueOutbox(ctx, now, 0)
	if err != nil {
		return err
	}
	if err := db.MarkAttempted(ctx, due[0].ID, now); err != nil {
		return err
	}
	// L2: qualified an hour ago (in the next digest); its card post is
	// blocked on a channel without the app.
	l2, err := create(lead(2, now.Add(-26*time.Hour)), triage.Idempotency{}, post)
	if err != nil {
		return err
	}
	if err := decide(l2.ID, triage.StatusQualified, now.Add(-time.Hour), time.Time{}, "1764800000.000200"); err != nil {
		return err
	}
	// L3: disqualified 60 days ago, never shown again: due a second look.
	l3, err := create(lead(3, now.AddDate(0, 0, -61)), triage.Idempotency{})
	if err != nil {
		return err
	}
	if err := decide(l3.ID, triage.StatusDisqualified, now.AddDate(0, 0, -60), time.Time{}, "1759600000.000300"); err != nil {
		return err
	}
	// L4: disqualified 60 days ago and shown for a second look 20 days ago.
	l4, err := create(lead(4, now.AddDate(0, 0, -61)), triage.Idempotency{})
	if err != nil {
		return err
	}
	if err := decide(l4.ID, triage.StatusDisqualified, now.AddDate(0, 0, -60), now.AddDate(0, 0, -20), "1759600000.000400"); err != nil {
		return err
	}
	// L5: referred four years ago: past a three-year retention.
	l5, err := create(lead(5, now.AddDate(-4, 0, -1)), triage.Idempotency{})
	if err != nil {
		return err
	}
	if err := decide(l5.ID, triage.StatusReferred, now.AddDate(-4, 0, 0), time.Time{}, "1638000000.000500"); err != nil {
		return err
	}
	// L6: decided four years ago, then reopened: pending with an old decision.
	l6, err := create(lead(6, now.AddDate(-4, 0, -1)), triage.Idempotency{})
	if err != nil {
		return err
	}
	if err := decide(l6.ID, triage.StatusPending, now.AddDate(-4, 0, 0), time.Time{}, "1638000000.000600"); err != nil {
		return err
	}
	// L7: purged by retention: gone, with its audit entry.
	l7, err := create(lead(7, now.AddDate(-5, 0, 0)), triage.Idempotency{})
	if err != nil {
		return err
	}
	if err := db.PurgeLead(ctx, l7.ID, now.Add(-3*time.Hour), func(triage.Lead) ([]triage.OutboxItem, error) { return nil, nil }); err != nil {
		return err
	}

	// Outbox: an urgent ephemeral, a card update of L3 that is dead, and
	// L2's post parked on its cause.
	if err := db.Enqueue(ctx, triage.OutboxItem{Kind: triage.OutboxEphemeral, Channel: "C1", User: "U2", Text: "Lead L-1 is yours.", CreatedAt: now}); err != nil {
		return err
	}
	if _, err := db.UpdateLead(ctx, l3.ID, func(l *triage.Lead) ([]triage.OutboxItem, error) {
		l.Votes = map[string]triage.Choice{"U1": "no"}
		return []triage.OutboxItem{{Kind: triage.OutboxUpdateCard, Channel: "C1", CreatedAt: now}}, nil
	}); err != nil {
		return err
	}
	due, err = db.DueOutbox(ctx, now, 0)
	if err != nil {
		return err
	}
	for _, it := range due {
		switch {
		case it.Lead == l3.ID:
			if err := db.DeadLetter(ctx, it.ID, "message_not_found"); err != nil {
				return err
			}
		case it.Lead == l2.ID:
			if err := db.BlockOutbox(ctx, it.ID, "not_in_channel", "C1", now.Add(15*time.Minute)); err != nil {
				return err
			}
		}
	}

	// Inbox: a click accepted and not yet acted on.
	if _, _, err := db.AdmitInbox(ctx, triage.InboxEntry{Kind: "slack", Mark: "Ev0001", Body: []byte("payload=%7B%7D"), At: now}); err != nil {
		return err
	}
	if _, err := db.SpendSignature(ctx, []byte("sig-0001"), now.Add(5*time.Minute), now); err != nil {
		return err
	}
	if err := db.PutCache(ctx, "rdap/company1.example", []byte(`{"age":11}`), now.Add(24*time.Hour)); err != nil {
		return err
	}
	if _, err := db.MarkJob(ctx, "digest|2026-12-03T09:00 UTC", now.Add(-24*time.Hour), nil); err != nil {
		return err
	}
	return nil
}

// writeFixtureOutcomes adds to writeFixture's leads what schema 4 indexes:
// L8 qualified 40 days ago, not asked, no outcome; L9 qualified 40 days
// ago, asked, with an open HubSpot deal; L10 qualified 40 days ago, its deal
// won; L11 disqualified 40 days ago with a deal deleted in the CRM (gone);
// L12 qualified, asked, then reopened and decided again (asked about the
// earlier decision only), with a Pipedrive lead (not a deal).
func writeFixtureOutcomes(ctx context.Context, db *DB) error {
	now := fixtureNow
	decidedAt := now.AddDate(0, 0, -40)
	type extra struct {
		status  triage.Status
		asked   time.Time
		outcome *triage.Outcome
		crm     []triage.CRMRecord
		at      time.Time
	}
	deal := func(system, kind, id string, gone time.Time) triage.CRMRecord {
		return triage.CRMRecord{System: system, Kind: kind, ID: id, At: decidedAt, Gone: gone}
	}
	for n, e := range []extra{
		{status: triage.StatusQualified, at: decidedAt},
		{status: triage.StatusQualified, at: decidedAt, asked: now.AddDate(0, 0, -10), crm: []triage.CRMRecord{deal("hubspot", "company", "c9", time.Time{}), deal("hubspot", "deal", "d9", time.Time{})}},
		{status: triage.StatusQualified, at: decidedAt, crm: []triage.CRMRecord{deal("hubspot", "deal", "d10", time.Time{})},
			outcome: &triage.Outcome{Kind: triage.OutcomeWon, Value: 5000, By: "hubspot", At: now.AddDate(0, 0, -5)}},
		{status: triage.StatusDisqualified, at: decidedAt, crm: []triage.CRMRecord{deal("hubspot", "deal", "d11", now.AddDate(0, 0, -3))}},
		{status: triage.StatusQualified, at: now.AddDate(0, 0, -2), asked: now.AddDate(0, 0, -8), crm: []triage.CRMRecord{deal("pipedrive", "lead", "p12", time.Time{})}},
	} {
		i := 8 + n
		domain := fmt.Sprintf("company%d.example", i)
		l, _, err := db.CreateLead(ctx, triage.Lead{
			Status: triage.StatusPending, Company: fmt.Sprintf("Company %d", i), Name: "Jan Jansen",
			Email: "jan@" + domain, Domain: domain, Message: "A quote, please.", Source: "webhook", CreatedAt: e.at.Add(-time.Hour),
		}, triage.Idempotency{}, nil)
		if err != nil {
			return err
		}
		if _, err := db.UpdateLead(ctx, l.ID, func(l *triage.Lead) ([]triage.OutboxItem, error) {
			l.Status = e.status
			l.Decision = &triage.Decision{Outcome: e.status, Reason: "fixture", By: "U1", At: e.at}
			l.Reminder.OutcomeAsked = e.asked
			l.Outcome = e.outcome
			l.CRM = e.crm
			l.Slack = triage.SlackRef{Channel: "C1", TS: fmt.Sprintf("1764000000.%06d", i)}
			return nil, nil
		}); err != nil {
			return err
		}
	}
	return nil
}
