package bot_test

import (
	"context"
	"strings"
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

// A digest part that names an erased lead is re-rendered without it: the
// part stays for the other leads, and no line of it names the lead any
// more (issue 13). Two parts: the lead is in the first only.
func TestBot_ForgetRedactsTheDigest(t *testing.T) {
	t.Parallel()
	h := newOBHarness(t, obBlindPolicy)
	canary := h.submit("Canary Holding")
	var others []triage.Lead
	for _, name := range []string{"Acme", "Globex", "Initech"} {
		h.clock.Advance(time.Minute)
		others = append(others, h.submit(name))
	}
	h.drain(20)
	o := triage.DigestOptions{Channel: obDigestChannel, MaxPerPart: 2}
	if sent, err := h.svc.RunDigest(context.Background(), "k1", h.clock.Now(), h.clock.Now(), o); err != nil || !sent {
		t.Fatalf("RunDigest = %v, %v", sent, err)
	}
	h.drain(10)
	msgs := h.fake.Messages(obDigestChannel)
	if len(msgs) != 2 {
		t.Fatalf("digest messages = %d, want 2 parts", len(msgs))
	}
	if _, text := blockTexts(t, msgs[0].Blocks); !strings.Contains(text, "Canary Holding") {
		t.Fatalf("the first part does not name the canary:\n%s", text)
	}
	if got := h.lead(canary.ID).Posted; len(got) != 1 || !got[0].Digest || got[0].TS != msgs[0].TS {
		t.Fatalf("canary remembers %+v, want the first digest part", got)
	}

	if _, _, err := h.svc.Forget(context.Background(), triage.ForgetRequest{ID: canary.ID.String()}, "test", []byte("salt")); err != nil {
		t.Fatal(err)
	}
	h.drain(10)

	msgs = h.fake.Messages(obDigestChannel)
	if len(msgs) != 2 || msgs[0].Deleted || msgs[1].Deleted {
		t.Fatalf("digest parts = %+v, want both still there", msgs)
	}
	_, first := blockTexts(t, msgs[0].Blocks)
	if strings.Contains(first, "Canary") || strings.Contains(first, "*"+canary.ID.String()+"*") {
		t.Errorf("the digest still names the erased lead:\n%s", first)
	}
	if !strings.Contains(first, "Acme") || !strings.Contains(first, "*"+others[0].ID.String()+"*") {
		t.Errorf("the digest lost the other lead of its part:\n%s", first)
	}
	if msgs[0].Updates != 1 || msgs[1].Updates != 0 {
		t.Errorf("updates = %d, %d; want the first part once, the second untouched", msgs[0].Updates, msgs[1].Updates)
	}
	if n, d := len(h.due()), len(h.deadLetters()); n+d != 0 {
		t.Errorf("outbox holds %d items and %d dead letters, want none", n, d)
	}
}

// A lead erased after the digest was built but before its part reached
// Slack is removed from the part at once: no lead remembers it any more.
func TestBot_ForgetBeforeTheDigestPostsRedactsIt(t *testing.T) {
	t.Parallel()
	h := newOBHarness(t, obBlindPolicy)
	canary := h.submit("Canary Holding")
	h.clock.Advance(time.Minute)
	h.submit("Acme")
	h.drain(20)
	o := triage.DigestOptions{Channel: obDigestChannel}
	if sent, err := h.svc.RunDigest(context.Background(), "k1", h.clock.Now(), h.clock.Now(), o); err != nil || !sent {
		t.Fatalf("RunDigest = %v, %v", sent, err)
	}
	if _, _, err := h.svc.Forget(context.Background(), triage.ForgetRequest{ID: canary.ID.String()}, "test", nil); err != nil {
		t.Fatal(err)
	}
	h.drain(10)
	msgs := h.fake.Messages(obDigestChannel)
	if len(msgs) != 1 {
		t.Fatalf("digest messages = %d, want 1", len(msgs))
	}
	if _, text := blockTexts(t, msgs[0].Blocks); strings.Contains(text, "Canary") || !strings.Contains(text, "Acme") {
		t.Errorf("digest after the erasure:\n%s", text)
	}
}
