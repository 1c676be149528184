package triage_test

import (
	"slices"
	"testing"

	"github.com/leadtriage/leadtriage/triage"
)

func TestOutboxItem_Coalesces(t *testing.T) {
	t.Parallel()
	item := func(kind triage.OutboxKind, lead triage.LeadID) triage.OutboxItem {
		return triage.OutboxItem{Kind: kind, Lead: lead, Channel: "C1"}
	}
	dead := item(triage.OutboxUpdateCard, 1)
	dead.Dead = true
	tests := []struct {
		name         string
		earlier, new triage.OutboxItem
		want         bool
	}{
		{"update into pending post", item(triage.OutboxPostCard, 1), item(triage.OutboxUpdateCard, 1), true},
		{"update into pending update", item(triage.OutboxUpdateCard, 1), item(triage.OutboxUpdateCard, 1), true},
		{"other lead", item(triage.OutboxUpdateCard, 1), item(triage.OutboxUpdateCard, 2), false},
		{"no lead", item(triage.OutboxUpdateCard, 0), item(triage.OutboxUpdateCard, 0), false},
		{"dead item", dead, item(triage.OutboxUpdateCard, 1), false},
		{"a post is never folded", item(triage.OutboxPostCard, 1), item(triage.OutboxPostCard, 1), false},
		{"thread reply is never folded", item(triage.OutboxUpdateCard, 1), item(triage.OutboxThreadReply, 1), false},
		{"ephemeral is never folded", item(triage.OutboxUpdateCard, 1), item(triage.OutboxEphemeral, 1), false},
		{"nothing folds into a thread reply", item(triage.OutboxThreadReply, 1), item(triage.OutboxUpdateCard, 1), false},
		{"nothing folds into an ephemeral", item(triage.OutboxEphemeral, 1), item(triage.OutboxUpdateCard, 1), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.earlier.Coalesces(tt.new); got != tt.want {
				t.Errorf("Coalesces = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestOutboxKind_Lanes(t *testing.T) {
	t.Parallel()
	kinds := []triage.OutboxKind{
		triage.OutboxPostCard, triage.OutboxUpdateCard, triage.OutboxThreadReply, triage.OutboxEphemeral,
		triage.OutboxPostChecklist, triage.OutboxUpdateChecklist, triage.OutboxReminder, triage.OutboxDirect,
		triage.OutboxDigest, triage.OutboxDeleteMessage,
	}
	var urgent, marked []triage.OutboxKind
	for _, k := range kinds {
		if k.Urgent() {
			urgent = append(urgent, k)
		}
		if k.MarksAttempt() {
			marked = append(marked, k)
		}
	}
	// Only a confirmation someone waits for skips the queue; only posts the
	// bot can find again by metadata pay for a durable attempt mark.
	if want := []triage.OutboxKind{triage.OutboxEphemeral}; !slices.Equal(urgent, want) {
		t.Errorf("urgent kinds = %v, want %v", urgent, want)
	}
	if want := []triage.OutboxKind{triage.OutboxPostCard, triage.OutboxPostChecklist, triage.OutboxDigest}; !slices.Equal(marked, want) {
		t.Errorf("kinds marked attempted = %v, want %v", marked, want)
	}
}
