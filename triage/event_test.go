package triage_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/leadtriage/leadtriage/triage"
)

// events returns the pending domain events of the crm lane as "type status".
func (h *harness) events(t *testing.T) []string {
	t.Helper()
	due, err := h.store.DueCRM(context.Background(), h.clock.Now(), 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, it := range due {
		if it.Kind != triage.OutboxEvent || it.Snapshot == nil {
			t.Fatalf("crm lane holds %+v, want events with a snapshot", it)
		}
		out = append(out, it.Text+" "+string(it.Snapshot.Status))
	}
	return out
}

func allEvents() map[string]bool {
	m := map[string]bool{}
	for _, e := range triage.EventTypes {
		m[e] = true
	}
	return m
}

func TestEvents_EveryDecisionPath(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := newHarness(t, blindAuto)
	h.svc.Events = allEvents()
	l := h.mustSubmit(t) // delivers the Slack lane only: the event stays

	// The auto decision at the quorum.
	for _, u := range []string{"U1", "U2", "U3"} {
		if _, err := h.svc.Vote(ctx, l.ID, u, triage.ChoiceQualify); err != nil {
			t.Fatal(err)
		}
	}
	// The team lead reopens and decides by hand.
	if _, err := h.svc.Reopen(ctx, l.ID, teamLead, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := h.svc.DecideByHand(ctx, l.ID, teamLead, triage.DecisionInput{Outcome: triage.StatusDisqualified, Reason: "too small"}); err != nil {
		t.Fatal(err)
	}
	want := []string{"lead.created pending", "lead.decided qualified", "lead.reopened pending", "lead.decided disqualified"}
	if diff := cmp.Diff(want, h.events(t)); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	// The Slack worker never sees them.
	for _, it := range h.deliver(t) {
		if it.Kind.Lane() != triage.LaneSlack {
			t.Errorf("the Slack lane delivered a %s item", it.Kind)
		}
	}
	if got := h.events(t); len(got) != 4 {
		t.Errorf("after the Slack worker ran, %d events are pending, want 4", len(got))
	}
}

func TestEvents_SnapshotIsTheLeadAtTheEvent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := newHarness(t, blindAuto)
	h.svc.Events = allEvents()
	l := h.mustSubmit(t)
	if _, err := h.svc.DecideByHand(ctx, l.ID, teamLead, triage.DecisionInput{Outcome: triage.StatusQualified, Owner: "U7"}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.svc.Reopen(ctx, l.ID, teamLead, "new facts"); err != nil {
		t.Fatal(err)
	}
	due, err := h.store.DueCRM(ctx, h.clock.Now(), 0)
	if err != nil || len(due) != 3 {
		t.Fatalf("DueCRM = %d items, %v; want 3", len(due), err)
	}
	decided := due[1]
	if decided.Text != triage.EventTypeDecided || decided.Snapshot.Decision == nil || decided.Snapshot.Decision.Outcome != triage.StatusQualified || decided.Snapshot.Owner != "U7" {
		t.Errorf("lead.decided delivered after the reopen shows %+v, want the qualified lead owned by U7", decided.Snapshot)
	}
	if decided.Lead != l.ID || !decided.CreatedAt.Equal(h.clock.Now()) {
		t.Errorf("lead.decided is about %s at %v, want %s at %v", decided.Lead, decided.CreatedAt, l.ID, h.clock.Now())
	}
}

func TestEvents_OnlyWhatSomethingListensTo(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for name, events := range map[string]map[string]bool{
		"none configured": nil,
		"decided only":    {triage.EventTypeDecided: true},
	} {
		h := newHarness(t, blindAuto)
		h.svc.Events = events
		l := h.mustSubmit(t)
		if _, err := h.svc.DecideByHand(ctx, l.ID, teamLead, triage.DecisionInput{Outcome: triage.StatusQualified, Owner: "U7"}); err != nil {
			t.Fatal(err)
		}
		var want []string
		if events != nil {
			want = []string{"lead.decided qualified"}
		}
		if diff := cmp.Diff(want, h.events(t)); diff != "" {
			t.Errorf("%s: events (-want +got):\n%s", name, diff)
		}
	}
}

func TestEvents_ErasureDropsPendingEvents(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := newHarness(t, blindAuto)
	h.svc.Events = allEvents()
	l := h.mustSubmit(t)
	other := h.mustSubmitInput(t, triage.LeadInput{Company: "Other BV", Email: "piet@ander.nl"})
	if _, _, err := h.svc.Forget(ctx, triage.ForgetRequest{ID: l.ID.String()}, "admin", []byte("salt")); err != nil {
		t.Fatal(err)
	}
	due, err := h.store.DueCRM(ctx, h.clock.Now(), 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range due {
		if it.Lead == l.ID {
			t.Errorf("an event of the erased lead is still pending: %s", it.Text)
		}
	}
	if len(due) != 1 || due[0].Lead != other.ID {
		t.Errorf("pending events = %d, want the other lead's lead.created only", len(due))
	}
}

// mustSubmitInput submits in and delivers its card, as mustSubmit does.
func (h *harness) mustSubmitInput(t *testing.T, in triage.LeadInput) triage.Lead {
	t.Helper()
	l, created, err := h.svc.Submit(context.Background(), in, triage.Submission{Via: "webhook"})
	if err != nil || !created {
		t.Fatalf("Submit = %v, %v", created, err)
	}
	h.deliver(t)
	return l
}

// An outcome recorded through any use case is a lead.outcome event, once.
func TestEvents_Outcome(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := newHarness(t, blindAuto)
	h.svc.Events = allEvents()
	l := h.mustSubmitInput(t, input())
	if _, err := h.svc.DecideByHand(ctx, l.ID, teamLead, triage.DecisionInput{Outcome: triage.StatusQualified, Owner: "U7"}); err != nil {
		t.Fatal(err)
	}
	setOutcome := func(o *triage.Outcome) {
		t.Helper()
		// As the outcome use case will: a change of the lead through the service.
		if _, err := h.svc.UpdateLeadForTest(ctx, l.ID, func(l *triage.Lead) ([]triage.OutboxItem, error) {
			l.Outcome = o
			return nil, nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	won := &triage.Outcome{Kind: triage.OutcomeWon, Value: 12000, By: "U7", At: now}
	setOutcome(won)
	setOutcome(won) // the same again: no event
	want := []string{"lead.created pending", "lead.decided qualified", "lead.outcome qualified"}
	if diff := cmp.Diff(want, h.events(t)); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}

// An event's snapshot shares nothing with the lead: a change made in place
// afterwards (an outcome's note, a CRM record found gone, a flag) does not
// reach what a late delivery says.
func TestEventItem_SnapshotSharesNothing(t *testing.T) {
	t.Parallel()
	l := triage.Lead{ID: 1, Status: triage.StatusQualified,
		Outcome:  &triage.Outcome{Kind: triage.OutcomeWon, Note: "signed"},
		CRM:      []triage.CRMRecord{{System: "hubspot", Kind: "deal", ID: "7"}},
		Research: triage.Research{Flags: []triage.Flag{{Code: triage.FlagFreeEmail}}},
		Extra:    map[string]string{"k": "v"}}
	it := triage.EventItem(triage.EventTypeOutcome, l, now)
	want := l.Clone()
	l.Outcome.Note = "changed"
	l.CRM[0].ID = "8"
	l.Research.Flags[0].Code = triage.FlagDuplicate
	l.Extra["k"] = "w"
	if diff := cmp.Diff(want, *it.Snapshot); diff != "" {
		t.Errorf("snapshot changed with the lead (-want +got):\n%s", diff)
	}
}
