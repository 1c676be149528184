package triage_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/leadtriage/leadtriage/triage"
)

func TestService_RecordCRM(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := newHarness(t, blindAuto)
	l := h.mustSubmit(t)
	at := h.clock.Now()
	company := triage.CRMRecord{System: "hubspot", Kind: "company", ID: "101", URL: "https://app.hubspot.com/contacts/1/record/0-2/101"}
	deal := triage.CRMRecord{System: "hubspot", Kind: "deal", ID: "103", URL: "https://app.hubspot.com/contacts/1/record/0-3/103"}

	got, err := h.svc.RecordCRM(ctx, l.ID, []triage.CRMRecord{company, deal}, at)
	if err != nil {
		t.Fatal(err)
	}
	company.At, deal.At = at, at
	if diff := cmp.Diff([]triage.CRMRecord{company, deal}, got.CRM); diff != "" {
		t.Errorf("records (-want +got):\n%s", diff)
	}
	ev := got.Events[len(got.Events)-1]
	if diff := cmp.Diff(triage.Event{At: at, Kind: triage.EventCRM, By: "hubspot", Detail: "hubspot company 101, hubspot deal 103",
		Args: map[string]string{triage.EvRecords: "hubspot company 101; hubspot deal 103"}}, ev); diff != "" {
		t.Errorf("event (-want +got):\n%s", diff)
	}
	items := h.deliver(t)
	kinds := map[triage.OutboxKind]int{}
	var notice *triage.Notice
	for _, it := range items {
		kinds[it.Kind]++
		if it.Notice != nil {
			notice = it.Notice
		}
	}
	if kinds[triage.OutboxUpdateCard] != 1 || kinds[triage.OutboxThreadReply] != 1 || len(items) != 2 {
		t.Errorf("queued %v, want a card update and a thread reply", kinds)
	}
	if want := (&triage.Notice{Kind: triage.NoticeCRM, Lead: l.ID, TeamLead: teamLead, System: "hubspot", URL: deal.URL}); !cmp.Equal(want, notice) {
		t.Errorf("notice = %+v, want %+v", notice, want)
	}

	t.Run("repeat adds nothing", func(t *testing.T) {
		again, err := h.svc.RecordCRM(ctx, l.ID, []triage.CRMRecord{company, deal}, at.Add(time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		if len(again.CRM) != 2 || len(again.Events) != len(got.Events) {
			t.Errorf("after a repeat: %d records, %d events; want 2 and %d", len(again.CRM), len(again.Events), len(got.Events))
		}
		if items := h.deliver(t); len(items) != 0 {
			t.Errorf("a repeat queued %+v", items)
		}
	})
	t.Run("a note later: card, no second notice", func(t *testing.T) {
		note := triage.CRMRecord{System: "hubspot", Kind: "note", ID: "104"}
		if _, err := h.svc.RecordCRM(ctx, l.ID, []triage.CRMRecord{note}, at); err != nil {
			t.Fatal(err)
		}
		items := h.deliver(t)
		if len(items) != 1 || items[0].Kind != triage.OutboxUpdateCard {
			t.Errorf("queued %+v, want only a card update", items)
		}
	})
	t.Run("deal gone", func(t *testing.T) {
		gone := deal
		gone.Gone = at.Add(time.Hour)
		l, err := h.svc.RecordCRM(ctx, l.ID, []triage.CRMRecord{gone}, gone.Gone)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := l.Deal(); ok {
			t.Error("a deal deleted in the CRM is still the lead's deal")
		}
		if items := h.deliver(t); len(items) != 1 || items[0].Kind != triage.OutboxUpdateCard {
			t.Errorf("queued %+v, want only a card update (the link goes)", items)
		}
	})
	t.Run("invalid", func(t *testing.T) {
		before, _ := h.store.Lead(ctx, l.ID)
		_, err := h.svc.RecordCRM(ctx, l.ID, []triage.CRMRecord{{System: "hubspot", Kind: "deal"}}, at)
		if !errors.Is(err, triage.ErrInvalid) {
			t.Errorf("err = %v, want ErrInvalid", err)
		}
		after, _ := h.store.Lead(ctx, l.ID)
		if !cmp.Equal(before, after) {
			t.Error("an invalid record changed the lead")
		}
	})
	t.Run("unknown lead", func(t *testing.T) {
		if _, err := h.svc.RecordCRM(ctx, 999, []triage.CRMRecord{deal}, at); !errors.Is(err, triage.ErrNotFound) {
			t.Errorf("err = %v, want ErrNotFound", err)
		}
	})
}
