package bot_test

import (
	"context"
	"testing"
	"time"

	"github.com/leadtriage/leadtriage/slackfake"
	"github.com/leadtriage/leadtriage/triage"
)

// Every message the bot posts about a lead (card, checklist, thread reply,
// reminder, direct message) is remembered, and an erasure deletes each of
// them in Slack.
func TestBot_ForgetDeletesEveryMessage(t *testing.T) {
	t.Parallel()
	h := newOBHarness(t, obCriteriaPolicy)
	l := h.submit("Canary Holding")
	other := h.submit("Other")
	h.drain(10)
	const lead = "U0LEAD01"
	h.fake.AddUser(lead, "Team Lead")
	h.enqueue(
		triage.OutboxItem{Kind: triage.OutboxThreadReply, Lead: l.ID, Text: "a reply", CreatedAt: obT0},
		triage.OutboxItem{Kind: triage.OutboxReminder, Lead: l.ID, Text: "a reminder", CreatedAt: obT0},
		triage.OutboxItem{Kind: triage.OutboxDirect, Lead: l.ID, User: lead, Text: "an escalation", CreatedAt: obT0},
		triage.OutboxItem{Kind: triage.OutboxThreadReply, Lead: other.ID, Text: "the other's reply", CreatedAt: obT0},
	)
	h.drain(10)
	got := h.lead(l.ID)
	if len(got.Posted) != 3 {
		t.Fatalf("remembered %+v, want the reply, the reminder and the DM", got.Posted)
	}

	forgotten, n, err := h.svc.Forget(context.Background(), triage.ForgetRequest{ID: l.ID.String()}, "test", []byte("salt"))
	if err != nil || len(forgotten) != 1 || n != 5 {
		t.Fatalf("Forget = %v, %d, %v; want %s and 5 deletions", forgotten, n, err, l.ID)
	}
	h.drain(10)

	var about, kept int
	for _, ch := range []string{obChannel, "D" + lead} {
		for _, m := range h.fake.Messages(ch) {
			ofLead := m.TS == got.Slack.TS || m.ThreadTS == got.Slack.TS || ch != obChannel
			switch {
			case ofLead && !m.Deleted:
				t.Errorf("message %s/%s %q about the erased lead is still in Slack", ch, m.TS, m.Text)
			case ofLead:
				about++
			case m.Deleted:
				t.Errorf("message %s/%s %q of another lead was deleted", ch, m.TS, m.Text)
			default:
				kept++
			}
		}
	}
	if about != 5 || kept < 2 {
		t.Errorf("deleted %d messages about the lead (want 5), kept %d of the other (want its card and reply)", about, kept)
	}
	if n, d := len(h.due()), len(h.deadLetters()); n+d != 0 {
		t.Errorf("outbox holds %d items and %d dead letters, want none", n, d)
	}
}

// A reply Slack takes while its lead is being erased (the erasure deleted
// the item in flight) is deleted too: it must not outlive the erasure.
func TestBot_ForgetDuringPostDeletesTheOrphan(t *testing.T) {
	t.Parallel()
	h := newOBHarness(t, obBlindPolicy)
	l := h.submit("Canary Holding")
	h.drain(10)
	h.enqueue(triage.OutboxItem{Kind: triage.OutboxThreadReply, Lead: l.ID, Text: "in flight", CreatedAt: obT0})
	// Slack takes the reply, then answers only after the erasure below.
	h.fake.Fail("chat.postMessage", slackfake.Fault{DelayAfter: time.Second})
	done := make(chan error, 1)
	go func() {
		_, err := h.bot.DeliverDue(context.Background(), h.clock.Now())
		done <- err
	}()
	h.fake.WaitUntil(t, 5*time.Second, "the reply in Slack", func() bool {
		for _, m := range h.fake.Messages(obChannel) {
			if m.Text == "in flight" {
				return true
			}
		}
		return false
	})
	if _, _, err := h.svc.Forget(context.Background(), triage.ForgetRequest{ID: l.ID.String()}, "test", nil); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("DeliverDue: %v", err)
	}
	h.drain(10)
	for _, m := range h.fake.Messages(obChannel) {
		if !m.Deleted {
			t.Errorf("message %s %q of the erased lead is still in Slack", m.TS, m.Text)
		}
	}
}

// A checklist Slack takes while its lead is being erased is deleted too,
// as a reply is: the card goes first, the checklist is in flight.
func TestBot_ForgetDuringChecklistDeletesTheOrphan(t *testing.T) {
	t.Parallel()
	h := newOBHarness(t, obCriteriaPolicy)
	l := h.submit("Canary Holding")
	// The card passes; Slack takes the checklist, then answers only after
	// the erasure below.
	h.fake.Fail("chat.postMessage", slackfake.Fault{})
	h.fake.Fail("chat.postMessage", slackfake.Fault{DelayAfter: time.Second})
	done := make(chan error, 1)
	go func() {
		_, err := h.bot.DeliverDue(context.Background(), h.clock.Now())
		done <- err
	}()
	h.fake.WaitUntil(t, 5*time.Second, "the checklist in Slack", func() bool {
		for _, m := range h.fake.Messages(obChannel) {
			if m.ThreadTS != "" && m.ThreadTS != m.TS {
				return true
			}
		}
		return false
	})
	if _, _, err := h.svc.Forget(context.Background(), triage.ForgetRequest{ID: l.ID.String()}, "test", nil); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("DeliverDue: %v", err)
	}
	h.drain(10)
	msgs := h.fake.Messages(obChannel)
	if len(msgs) != 2 {
		t.Fatalf("Slack holds %d messages, want the card and the checklist", len(msgs))
	}
	for _, m := range msgs {
		if !m.Deleted {
			t.Errorf("message %s %q of the erased lead is still in Slack", m.TS, m.Text)
		}
	}
}
