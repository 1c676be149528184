package triage_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/leadtriage/leadtriage/triage"
)

// decided submits a lead and qualifies it by hand, delivering what was queued.
func (h *harness) decided(t *testing.T) triage.Lead {
	t.Helper()
	l := h.mustSubmit(t)
	l, err := h.svc.DecideByHand(context.Background(), l.ID, teamLead, triage.DecisionInput{Outcome: triage.StatusQualified, Owner: "U1"})
	if err != nil {
		t.Fatal(err)
	}
	h.deliver(t)
	return l
}

func TestService_RecordOutcome(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := newHarness(t, blindAuto)
	l := h.decided(t)

	res, err := h.svc.RecordOutcome(ctx, l.ID, triage.OutcomeInput{Kind: triage.OutcomeWon, Value: 12000, Note: " signed ", By: "U1"})
	if err != nil || !res.Changed || res.Corrected {
		t.Fatalf("RecordOutcome = %+v, %v", res, err)
	}
	want := &triage.Outcome{Kind: triage.OutcomeWon, Value: 12000, Note: "signed", By: "U1", At: now}
	if diff := cmp.Diff(want, h.stored(t, l.ID).Outcome); diff != "" {
		t.Errorf("stored outcome (-want +got):\n%s", diff)
	}
	out := h.deliver(t)
	if diff := cmp.Diff([]string{"update_card", "thread_reply"}, kindsOf(out)); diff != "" {
		t.Errorf("queued (-want +got):\n%s", diff)
	}
	if n := out[1].Notice; n == nil || n.Kind != triage.NoticeOutcome || n.Outcome.Kind != triage.OutcomeWon || n.User != "U1" {
		t.Errorf("thread notice = %+v", out[1].Notice)
	}

	// The same again changes nothing, and queues nothing.
	res, err = h.svc.RecordOutcome(ctx, l.ID, triage.OutcomeInput{Kind: triage.OutcomeWon, Value: 12000, Note: "signed", By: "U2"})
	if err != nil || res.Changed {
		t.Fatalf("repeat = %+v, %v", res, err)
	}
	if out := h.deliver(t); len(out) != 0 {
		t.Errorf("repeat queued %v", kindsOf(out))
	}
	if got := len(eventsOf(h.stored(t, l.ID), triage.EventOutcome)); got != 1 {
		t.Errorf("%d outcome events after a repeat, want 1", got)
	}

	// A correction replaces it; the audit trail keeps both.
	res, err = h.svc.RecordOutcome(ctx, l.ID, triage.OutcomeInput{Kind: triage.OutcomeLost, By: "U2", Confirm: true})
	if err != nil || !res.Changed || !res.Corrected {
		t.Fatalf("correction = %+v, %v", res, err)
	}
	out = h.deliver(t)
	if diff := cmp.Diff([]string{"update_card", "thread_reply", "ephemeral"}, kindsOf(out)); diff != "" {
		t.Errorf("correction queued (-want +got):\n%s", diff)
	}
	if !out[1].Notice.Corrected || out[2].User != "U2" || out[2].Notice.Kind != triage.NoticeOutcomeRecorded {
		t.Errorf("correction notices = %+v, %+v", out[1].Notice, out[2])
	}
	ev := eventsOf(h.stored(t, l.ID), triage.EventOutcome)
	if len(ev) != 2 || ev[1].Detail != "lost (was won 12000: signed)" || ev[1].By != "U2" {
		t.Errorf("outcome events = %+v", ev)
	}
	// The same as data, for bot to word in the team's language.
	if diff := cmp.Diff([]map[string]string{
		{triage.EvResult: "won", triage.EvValue: "12000", triage.EvNote: "signed"},
		{triage.EvResult: "lost", triage.EvWas: "won", triage.EvWasValue: "12000", triage.EvWasNote: "signed"},
	}, []map[string]string{ev[0].Args, ev[1].Args}); diff != "" {
		t.Errorf("outcome event args (-want +got):\n%s", diff)
	}

	// A repeated click still gets its private answer.
	if _, err := h.svc.RecordOutcome(ctx, l.ID, triage.OutcomeInput{Kind: triage.OutcomeLost, By: "U3", Confirm: true}); err != nil {
		t.Fatal(err)
	}
	out = h.deliver(t)
	if len(out) != 1 || out[0].Kind != triage.OutboxEphemeral || !out[0].Notice.Repeat {
		t.Errorf("repeated click queued %+v", out)
	}
}

func TestService_RecordOutcome_Refused(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := newHarness(t, blindAuto)
	l := h.decided(t)
	pending, _, err := h.svc.Submit(ctx, triage.LeadInput{Company: "Pending"}, triage.Submission{Via: "webhook"})
	if err != nil {
		t.Fatal(err)
	}
	h.deliver(t)
	for _, tc := range []struct {
		name  string
		id    triage.LeadID
		in    triage.OutcomeInput
		field string
		is    error
	}{
		{"unknown kind", l.ID, triage.OutcomeInput{Kind: "maybe", By: "U1"}, "outcome", nil},
		{"negative", l.ID, triage.OutcomeInput{Kind: triage.OutcomeWon, Value: -1, By: "U1"}, "value", nil},
		{"absurd", l.ID, triage.OutcomeInput{Kind: triage.OutcomeWon, Value: triage.MaxOutcomeValue + 1, By: "U1"}, "value", nil},
		{"no deal with value", l.ID, triage.OutcomeInput{Kind: triage.OutcomeNoDeal, Value: 5, By: "U1"}, "value", nil},
		{"note too long", l.ID, triage.OutcomeInput{Kind: triage.OutcomeWon, Note: strings.Repeat("n", triage.MaxOutcomeNote+1), By: "U1"}, "note", nil},
		{"nobody", l.ID, triage.OutcomeInput{Kind: triage.OutcomeWon}, "by", nil},
		{"pending", pending.ID, triage.OutcomeInput{Kind: triage.OutcomeWon, By: "U1"}, "", triage.ErrNotDecided},
		{"unknown lead", 999, triage.OutcomeInput{Kind: triage.OutcomeWon, By: "U1"}, "", triage.ErrNotFound},
	} {
		_, err := h.svc.RecordOutcome(ctx, tc.id, tc.in)
		var fe *triage.FieldError
		switch {
		case tc.field != "" && (!errors.As(err, &fe) || fe.Field != tc.field):
			t.Errorf("%s: err = %v, want a field error on %s", tc.name, err, tc.field)
		case tc.is != nil && !errors.Is(err, tc.is):
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.is)
		}
	}
	if got := h.stored(t, l.ID).Outcome; got != nil {
		t.Errorf("refused input stored %+v", got)
	}
	if out := h.deliver(t); len(out) != 0 {
		t.Errorf("refused input queued %v", kindsOf(out))
	}
	if triage.IsInternal(triage.ErrNotDecided) {
		t.Error("ErrNotDecided counts as internal")
	}
}

func TestService_AskOutcomes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := newHarness(t, blindAuto)
	l := h.decided(t)
	const after = 720 * time.Hour

	if asked, err := h.svc.AskOutcomes(ctx, after, h.clock.Now().Add(after-time.Second)); err != nil || len(asked) != 0 {
		t.Fatalf("before ask_after: %v, %v", asked, err)
	}
	if asked, err := h.svc.AskOutcomes(ctx, 0, h.clock.Now().Add(100*after)); err != nil || len(asked) != 0 {
		t.Fatalf("ask_after 0s: %v, %v", asked, err)
	}
	h.clock.Advance(after)
	asked, err := h.svc.AskOutcomes(ctx, after, h.clock.Now())
	if err != nil || len(asked) != 1 || asked[0] != l.ID {
		t.Fatalf("AskOutcomes = %v, %v", asked, err)
	}
	got := h.stored(t, l.ID)
	if !triage.OutcomeAsked(got) || !got.Reminder.OutcomeAsked.Equal(h.clock.Now()) {
		t.Errorf("lead after asking: asked=%v at %v", triage.OutcomeAsked(got), got.Reminder.OutcomeAsked)
	}
	if diff := cmp.Diff([]string{"update_card"}, kindsOf(h.deliver(t))); diff != "" {
		t.Errorf("queued (-want +got):\n%s", diff)
	}
	// Once: a second check asks nothing.
	h.clock.Advance(time.Minute)
	if asked, err := h.svc.AskOutcomes(ctx, after, h.clock.Now()); err != nil || len(asked) != 0 {
		t.Errorf("second check asked %v, %v", asked, err)
	}
	// An outcome ends the asking.
	if _, err := h.svc.RecordOutcome(ctx, l.ID, triage.OutcomeInput{Kind: triage.OutcomeNoDeal, By: "U1"}); err != nil {
		t.Fatal(err)
	}
	if triage.OutcomeAsked(h.stored(t, l.ID)) {
		t.Error("a lead with an outcome still asks for one")
	}
}

func TestService_Submit_Returning(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := newHarness(t, deliberate)
	first := h.mustSubmit(t)
	if first.Returning != nil {
		t.Fatalf("first lead returning: %+v", first.Returning)
	}
	if _, err := h.svc.DecideByHand(ctx, first.ID, teamLead, triage.DecisionInput{Outcome: triage.StatusDisqualified, Reason: "Spam"}); err != nil {
		t.Fatal(err)
	}
	h.clock.Advance(time.Hour)
	// Same domain, another address.
	l, _, err := h.svc.Submit(ctx, triage.LeadInput{Company: "Acme BV", Email: "inkoop@acme.nl"}, triage.Submission{Via: "webhook"})
	if err != nil {
		t.Fatal(err)
	}
	card := h.stored(t, first.ID).Slack
	want := &triage.PriorDecision{Lead: first.ID, Outcome: triage.StatusDisqualified, Reason: "Spam", At: now, Channel: card.Channel, TS: card.TS}
	if diff := cmp.Diff(want, h.stored(t, l.ID).Returning); diff != "" {
		t.Errorf("returning (-want +got):\n%s", diff)
	}
	// A lead with nothing in common is not linked.
	other, _, err := h.svc.Submit(ctx, triage.LeadInput{Company: "Other", Email: "a@other.example"}, triage.Submission{Via: "webhook"})
	if err != nil || other.Returning != nil {
		t.Errorf("unrelated lead: %+v, %v", other.Returning, err)
	}
}

// A free-mail domain in common is no return: two gmail.com addresses are
// two people. The same free-mail address is.
func TestService_Submit_Returning_FreeMail(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := newHarness(t, deliberate)
	h.svc.FreeMail = func(d string) bool { return d == "gmail.com" }
	first, _, err := h.svc.Submit(ctx, triage.LeadInput{Company: "Bakker", Email: "jan@gmail.com"}, triage.Submission{Via: "webhook"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.svc.DecideByHand(ctx, first.ID, teamLead, triage.DecisionInput{Outcome: triage.StatusDisqualified, Reason: "Spam"}); err != nil {
		t.Fatal(err)
	}
	h.clock.Advance(time.Hour)
	other, _, err := h.svc.Submit(ctx, triage.LeadInput{Company: "De Vries", Email: "piet@gmail.com"}, triage.Submission{Via: "webhook"})
	if err != nil || other.Returning != nil {
		t.Errorf("another gmail.com address: returning %+v, %v", other.Returning, err)
	}
	again, _, err := h.svc.Submit(ctx, triage.LeadInput{Company: "Bakker & Zn", Email: "Jan@gmail.com"}, triage.Submission{Via: "webhook"})
	if err != nil || again.Returning == nil || again.Returning.Lead != first.ID {
		t.Errorf("the same gmail.com address: returning %+v, %v", again.Returning, err)
	}
}

func TestService_BuildDigest_Outcomes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := newHarness(t, blindAuto)
	var ids []triage.LeadID
	for i := range triage.MaxDigestOutcomes + 2 {
		l, _, err := h.svc.Submit(ctx, triage.LeadInput{Company: "Co", Email: "a@co" + string(rune('a'+i)) + ".example"}, triage.Submission{Via: "webhook"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := h.svc.DecideByHand(ctx, l.ID, teamLead, triage.DecisionInput{Outcome: triage.StatusQualified, Owner: "U1"}); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, l.ID)
		h.clock.Advance(time.Hour)
	}
	// One has its outcome; the rest are past ask_after.
	if _, err := h.svc.RecordOutcome(ctx, ids[0], triage.OutcomeInput{Kind: triage.OutcomeWon, By: "U1"}); err != nil {
		t.Fatal(err)
	}
	const after = 720 * time.Hour
	parts, _, err := h.svc.BuildDigest(ctx, h.clock.Now().Add(after), h.clock.Now().Add(after+time.Minute), triage.DigestOptions{AskAfter: after, SkipEmpty: true})
	if err != nil || len(parts) != 1 {
		t.Fatalf("BuildDigest = %d parts, %v", len(parts), err)
	}
	p := parts[0]
	var got []triage.LeadID
	for _, l := range p.Outcomes {
		got = append(got, l.ID)
	}
	if diff := cmp.Diff(ids[1:1+triage.MaxDigestOutcomes], got); diff != "" || p.OutcomesMore != 1 || p.Empty {
		t.Errorf("outcomes (-want +got):\n%s\nmore %d, empty %v", diff, p.OutcomesMore, p.Empty)
	}
	// ask_after "0s": no such part, and an empty digest is skipped.
	parts, _, err = h.svc.BuildDigest(ctx, h.clock.Now().Add(after), h.clock.Now().Add(after+time.Minute), triage.DigestOptions{SkipEmpty: true})
	if err != nil || len(parts) != 0 {
		t.Errorf("without ask_after: %+v, %v", parts, err)
	}
}
