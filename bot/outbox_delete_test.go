package bot_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/leadtriage/leadtriage/slackfake"
	"github.com/leadtriage/leadtriage/triage"
)

// deletes lists the ts of the chat.delete calls Slack accepted, in order.
func (h *obHarness) deletes() []string {
	var out []string
	for _, c := range h.okCalls("chat.delete") {
		out = append(out, c.Params.Get("channel")+"/"+c.Params.Get("ts"))
	}
	return out
}

// A purged lead's messages are deleted: the thread replies the bot
// remembered, then the checklist, then the card; the worker does not look
// for the lead, which is gone.
func TestBot_DeliverDue_DeleteMessage(t *testing.T) {
	t.Parallel()
	pol := obCriteriaPolicy
	pol.Quorum = 1
	h := newOBHarness(t, pol)
	l := h.submit("Acme")
	h.drain(10)
	h.vote(l.ID, "U1", triage.ChoiceQualify)
	h.drain(10)
	ref := h.lead(l.ID).Slack
	if ref.TS == "" || ref.ChecklistTS == "" {
		t.Fatalf("slack ref = %+v, want a card and a checklist", ref)
	}
	var want []string
	for _, m := range h.lead(l.ID).Posted {
		want = append(want, m.Channel+"/"+m.TS)
	}
	if len(want) == 0 {
		t.Fatal("the decision's thread reply was not remembered")
	}

	h.clock.Advance(48 * time.Hour)
	purged, err := h.svc.PurgeExpired(context.Background(), 24*time.Hour, h.clock.Now())
	if err != nil || len(purged) != 1 {
		t.Fatalf("PurgeExpired = %v, %v", purged, err)
	}
	h.drain(10)

	want = append(want, obChannel+"/"+ref.ChecklistTS, obChannel+"/"+ref.TS)
	if diff := cmp.Diff(want, h.deletes()); diff != "" {
		t.Errorf("chat.delete calls (-want +got):\n%s", diff)
	}
	for _, ts := range []string{ref.TS, ref.ChecklistTS} {
		if m, ok := h.fake.Message(obChannel, ts); !ok || !m.Deleted {
			t.Errorf("message %s: found %v, deleted %v; want it deleted", ts, ok, m.Deleted)
		}
	}
	if n, d := len(h.due()), len(h.deadLetters()); n+d != 0 {
		t.Errorf("outbox holds %d items and %d dead letters, want none", n, d)
	}
}

func TestBot_DeliverDue_DeleteMessageOutcomes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		fault *slackfake.Fault
		ts    string
		calls int    // chat.delete calls after a day of retries
		dead  string // LastError of the dead letter; "" = delivered
	}{
		{name: "gone already counts as deleted", ts: "999.000001", calls: 1},
		{name: "cant_delete_message is permanent", fault: &slackfake.Fault{Error: "cant_delete_message", Times: 5}, ts: "999.000001", calls: 1, dead: "cant_delete_message"},
		{name: "channel_not_found is permanent", fault: &slackfake.Fault{Error: "channel_not_found", Times: 5}, ts: "999.000001", calls: 1, dead: "channel_not_found"},
		{name: "a server error is retried", fault: &slackfake.Fault{Status: 500, Times: 2}, ts: "999.000001", calls: 3},
		{name: "no ts", calls: 0, dead: "delete without a channel or ts"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newOBHarness(t, obBlindPolicy)
			if tt.fault != nil {
				h.fake.Fail("chat.delete", *tt.fault)
			}
			// Lead 42 never existed here: the item must not need it.
			h.enqueue(triage.OutboxItem{Kind: triage.OutboxDeleteMessage, Lead: 42, Channel: obChannel, Payload: []byte(tt.ts), CreatedAt: obT0})
			h.drain(10)
			h.clock.Advance(24 * time.Hour)
			h.drain(3)
			if n := len(h.fake.Calls("chat.delete")); n != tt.calls {
				t.Errorf("chat.delete calls = %d, want %d", n, tt.calls)
			}
			dead := h.deadLetters()
			switch {
			case tt.dead == "" && len(dead) != 0:
				t.Errorf("dead letters = %+v, want none", dead)
			case tt.dead != "" && (len(dead) != 1 || !strings.Contains(dead[0].LastError, tt.dead)):
				t.Errorf("dead letters = %+v, want one with %q", dead, tt.dead)
			}
			if n := len(h.due()); n != 0 {
				t.Errorf("outbox holds %d items, want 0", n)
			}
		})
	}
}
