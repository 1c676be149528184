package triage_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/leadtriage/leadtriage/triage"
)

func TestService_RecordPosted(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("Card", func(t *testing.T) {
		t.Parallel()
		h, l, post := submitted(t)
		at := now.Add(time.Minute)
		if err := h.svc.RecordPosted(ctx, post, triage.Posted{Message: triage.PostedCard, Channel: channel, TS: cardTS, At: at, Detail: "found"}); err != nil {
			t.Fatal(err)
		}
		got, err := h.store.Lead(ctx, l.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(triage.SlackRef{Channel: channel, TS: cardTS}, got.Slack); diff != "" {
			t.Errorf("card place (-want +got):\n%s", diff)
		}
		last := got.Events[len(got.Events)-1]
		if want := (triage.Event{At: at, Kind: triage.EventCardPosted, By: "bot", Detail: "found"}); !cmp.Equal(want, last) {
			t.Errorf("last event = %+v, want %+v", last, want)
		}
		for _, it := range h.store.Outbox() {
			if it.ID == post.ID {
				t.Errorf("the posted item %d is still in the outbox", it.ID)
			}
		}
	})

	t.Run("Checklist", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, blindAuto)
		l := h.mustSubmit(t)
		item := triage.OutboxItem{Kind: triage.OutboxPostChecklist, Lead: l.ID, CreatedAt: now}
		if err := h.store.Enqueue(ctx, item); err != nil {
			t.Fatal(err)
		}
		item = h.store.Outbox()[0]
		if err := h.svc.RecordPosted(ctx, item, triage.Posted{Message: triage.PostedChecklist, TS: "1700000000.000200"}); err != nil {
			t.Fatal(err)
		}
		got, err := h.store.Lead(ctx, l.ID)
		if err != nil {
			t.Fatal(err)
		}
		if want := (triage.SlackRef{Channel: channel, TS: cardTS, ChecklistTS: "1700000000.000200"}); got.Slack != want {
			t.Errorf("slack = %+v, want %+v", got.Slack, want)
		}
		if len(got.Events) != len(l.Events) {
			t.Errorf("a checklist added events: %+v", got.Events[len(l.Events):])
		}
	})

	t.Run("ErrInvalid", func(t *testing.T) {
		t.Parallel()
		h, l, post := submitted(t)
		if err := h.svc.RecordPosted(ctx, post, triage.Posted{Message: "banner", TS: cardTS}); !errors.Is(err, triage.ErrInvalid) {
			t.Fatalf("RecordPosted(banner) = %v, want ErrInvalid", err)
		}
		got, _ := h.store.Lead(ctx, l.ID)
		if got.Slack != (triage.SlackRef{}) || len(h.store.Outbox()) != 1 {
			t.Errorf("an invalid record changed something: slack %+v, outbox %d", got.Slack, len(h.store.Outbox()))
		}
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, blindAuto)
		err := h.svc.RecordPosted(ctx, triage.OutboxItem{ID: 99, Lead: 1}, triage.Posted{Message: triage.PostedCard, Channel: channel, TS: cardTS})
		if !errors.Is(err, triage.ErrNotFound) {
			t.Fatalf("RecordPosted(unknown item) = %v, want ErrNotFound", err)
		}
	})
}

// submitted is a harness with a lead submitted and its card's post item
// not yet delivered.
func submitted(t *testing.T) (*harness, triage.Lead, triage.OutboxItem) {
	t.Helper()
	h := newHarness(t, blindAuto)
	l, _, err := h.svc.Submit(context.Background(), input(), triage.Submission{Via: "webhook"})
	if err != nil {
		t.Fatal(err)
	}
	post := h.store.Outbox()[0]
	if post.Kind != triage.OutboxPostCard {
		t.Fatalf("first outbox item %+v, want the card's post", post)
	}
	return h, l, post
}

// A digest part is remembered once on each lead it names, a lead gone
// meanwhile is reported, and an erasure re-renders the part (redaction)
// instead of deleting it.
func TestService_RememberDigest(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := newHarness(t, blindAuto)
	l := h.mustSubmit(t)
	const digestChannel, partTS = "C0DIGEST", "1700000000.000900"
	for range 2 {
		gone, err := h.svc.RememberDigest(ctx, []triage.LeadID{l.ID, 99}, digestChannel, partTS)
		if err != nil || len(gone) != 1 || gone[0] != 99 {
			t.Fatalf("RememberDigest = %v, %v; want L-99 gone", gone, err)
		}
	}
	want := []triage.MessageRef{{Channel: digestChannel, TS: partTS, Digest: true}}
	if got := h.stored(t, l.ID).Posted; !cmp.Equal(want, got) {
		t.Fatalf("Posted = %+v, want %+v", got, want)
	}
	if _, err := h.svc.RememberDigest(ctx, []triage.LeadID{l.ID}, "", partTS); !errors.Is(err, triage.ErrInvalid) {
		t.Errorf("RememberDigest without a channel = %v, want ErrInvalid", err)
	}

	if _, _, err := h.svc.Forget(ctx, triage.ForgetRequest{ID: l.ID.String()}, "test", nil); err != nil {
		t.Fatal(err)
	}
	var kinds []triage.OutboxKind
	for _, it := range h.store.Outbox() {
		kinds = append(kinds, it.Kind)
		if it.Kind == triage.OutboxRedactDigest && (it.Lead != l.ID || it.Channel != digestChannel || string(it.Payload) != partTS) {
			t.Errorf("redaction %+v, want %s in %s/%s", it, l.ID, digestChannel, partTS)
		}
	}
	if wantKinds := []triage.OutboxKind{triage.OutboxRedactDigest, triage.OutboxDeleteMessage}; !cmp.Equal(wantKinds, kinds) {
		t.Errorf("outbox after the erasure = %v, want %v", kinds, wantKinds)
	}
}
