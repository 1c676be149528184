package triage_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/leadtriage/leadtriage/triage"
	"github.com/leadtriage/leadtriage/triage/triagetest"
)

func decided(created time.Time, outcome triage.Status, after time.Duration) triage.Lead {
	return triage.Lead{Status: outcome, CreatedAt: created, Decision: &triage.Decision{Outcome: outcome, At: created.Add(after)}}
}

func TestComputeStats(t *testing.T) {
	t.Parallel()
	since := now.Add(-triage.StatsWindow)
	pending := func(created time.Time) triage.Lead {
		return triage.Lead{Status: triage.StatusPending, CreatedAt: created}
	}
	tests := []struct {
		name  string
		leads []triage.Lead
		want  triage.Stats
	}{
		{"no leads", nil, triage.Stats{Since: since}},
		{
			name:  "none decided",
			leads: []triage.Lead{pending(now), pending(now.Add(-time.Hour))},
			want:  triage.Stats{Since: since, Received: 2},
		},
		{
			name: "window boundary: at since counts, a nanosecond before does not",
			leads: []triage.Lead{
				decided(since, triage.StatusQualified, time.Hour),
				decided(since.Add(-time.Nanosecond), triage.StatusDisqualified, time.Hour),
				pending(since.Add(-48 * time.Hour)),
			},
			want: triage.Stats{Since: since, Received: 1, Qualified: 1, Decided: 1, MedianDecision: time.Hour},
		},
		{
			name: "median of an odd count is the middle one",
			leads: []triage.Lead{
				decided(now.Add(-72*time.Hour), triage.StatusQualified, 10*time.Hour),
				decided(now.Add(-72*time.Hour), triage.StatusDisqualified, time.Hour),
				decided(now.Add(-72*time.Hour), triage.StatusReferred, 3*time.Hour),
				pending(now),
			},
			want: triage.Stats{Since: since, Received: 4, Qualified: 1, Disqualified: 1, Referred: 1, Decided: 3, MedianDecision: 3 * time.Hour},
		},
		{
			name: "median of an even count is the mean of the middle two",
			leads: []triage.Lead{
				decided(now.Add(-72*time.Hour), triage.StatusQualified, 100*time.Hour),
				decided(now.Add(-72*time.Hour), triage.StatusDisqualified, time.Hour),
				decided(now.Add(-72*time.Hour), triage.StatusDisqualified, 2*time.Hour),
				decided(now.Add(-72*time.Hour), triage.StatusQualified, 4*time.Hour),
			},
			want: triage.Stats{Since: since, Received: 4, Qualified: 2, Disqualified: 2, Decided: 4, MedianDecision: 3 * time.Hour},
		},
		{
			name: "a reopened lead (pending with an old decision) is not decided",
			leads: []triage.Lead{{
				Status: triage.StatusPending, CreatedAt: now.Add(-time.Hour),
				Decision: &triage.Decision{Outcome: triage.StatusQualified, At: now},
			}},
			want: triage.Stats{Since: since, Received: 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tt.want, triage.ComputeStats(tt.leads, since)); diff != "" {
				t.Errorf("ComputeStats (-want +got):\n%s", diff)
			}
		})
	}
}

func TestService_Home(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := &triagetest.Store{}
	svc := &triage.Service{Store: store, Policy: blindAuto, Channel: channel, Now: triagetest.NewClock(now).Now}
	add := func(l triage.Lead) triage.LeadID {
		t.Helper()
		got, _, err := store.CreateLead(ctx, l, triage.Idempotency{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return got.ID
	}
	day := 24 * time.Hour
	voted := add(triage.Lead{Company: "Voted", Status: triage.StatusPending, CreatedAt: now.Add(-5 * day),
		Votes: map[string]triage.Choice{"UME": triage.ChoiceQualify}})
	mineOld := add(triage.Lead{Company: "Mine old", Status: triage.StatusPending, CreatedAt: now.Add(-4 * day), Owner: "UME"})
	other := add(triage.Lead{Company: "Other", Status: triage.StatusPending, CreatedAt: now.Add(-3 * day),
		Votes: map[string]triage.Choice{"UYOU": triage.ChoiceDisqualify}})
	mineQualified := add(triage.Lead{Company: "Mine qualified", Status: triage.StatusQualified, CreatedAt: now.Add(-2 * day), Owner: "UME",
		Decision: &triage.Decision{Outcome: triage.StatusQualified, At: now.Add(-2*day + 6*time.Hour)}})
	add(triage.Lead{Company: "Theirs qualified", Status: triage.StatusQualified, CreatedAt: now.Add(-2 * day), Owner: "UYOU",
		Decision: &triage.Decision{Outcome: triage.StatusQualified, At: now.Add(-2*day + 2*time.Hour)}})
	add(triage.Lead{Company: "Mine declined", Status: triage.StatusDisqualified, CreatedAt: now.Add(-day), Owner: "UME",
		Decision: &triage.Decision{Outcome: triage.StatusDisqualified, At: now.Add(-day + 4*time.Hour)}})
	add(triage.Lead{Company: "Ancient", Status: triage.StatusReferred, CreatedAt: now.Add(-60 * day),
		Decision: &triage.Decision{Outcome: triage.StatusReferred, At: now.Add(-59 * day)}})
	mineNew := add(triage.Lead{Company: "Mine new", Status: triage.StatusPending, CreatedAt: now.Add(-time.Hour), Owner: "UME"})

	ids := func(ls []triage.Lead) []triage.LeadID {
		var res []triage.LeadID
		for _, l := range ls {
			res = append(res, l.ID)
		}
		return res
	}

	h, err := svc.Home(ctx, "UME", now)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]triage.LeadID{mineOld, other, mineNew}, ids(h.AwaitingVote)); diff != "" {
		t.Errorf("AwaitingVote (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]triage.LeadID{mineNew, mineQualified, mineOld}, ids(h.Owned)); diff != "" {
		t.Errorf("Owned, newest first (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]triage.LeadID{voted, mineOld, other, mineNew}, ids(h.Pending)); diff != "" {
		t.Errorf("Pending, oldest first (-want +got):\n%s", diff)
	}
	wantStats := triage.Stats{Since: now.Add(-30 * day), Received: 7, Qualified: 2, Disqualified: 1, Decided: 3, MedianDecision: 4 * time.Hour}
	if diff := cmp.Diff(wantStats, h.Stats); diff != "" {
		t.Errorf("Stats (-want +got):\n%s", diff)
	}

	t.Run("another user", func(t *testing.T) {
		t.Parallel()
		h, err := svc.Home(ctx, "UYOU", now)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]triage.LeadID{voted, mineOld, mineNew}, ids(h.AwaitingVote)); diff != "" {
			t.Errorf("AwaitingVote (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]triage.LeadID{mineQualified + 1}, ids(h.Owned)); diff != "" {
			t.Errorf("Owned (-want +got):\n%s", diff)
		}
	})

	t.Run("after voting the lead is no longer awaited", func(t *testing.T) {
		t.Parallel()
		store := &triagetest.Store{}
		svc := &triage.Service{Store: store, Policy: blindAuto, Channel: channel, Now: triagetest.NewClock(now).Now}
		l, _, err := svc.AddFromSlack(ctx, "UADD", triage.LeadInput{Company: "Acme"})
		if err != nil {
			t.Fatal(err)
		}
		h, err := svc.Home(ctx, "UME", now)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]triage.LeadID{l.ID}, ids(h.AwaitingVote)); diff != "" {
			t.Errorf("AwaitingVote before voting (-want +got):\n%s", diff)
		}
		if _, err := svc.Vote(ctx, l.ID, "UME", triage.ChoiceUnsure); err != nil {
			t.Fatal(err)
		}
		h, err = svc.Home(ctx, "UME", now)
		if err != nil {
			t.Fatal(err)
		}
		if len(h.AwaitingVote) != 0 {
			t.Errorf("AwaitingVote after voting = %v, want none", ids(h.AwaitingVote))
		}
		if diff := cmp.Diff([]triage.LeadID{l.ID}, ids(h.Pending)); diff != "" {
			t.Errorf("Pending (-want +got):\n%s", diff)
		}
	})

	t.Run("store error", func(t *testing.T) {
		t.Parallel()
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := svc.Home(cctx, "UME", now); !errors.Is(err, context.Canceled) {
			t.Errorf("Home with a cancelled context = %v, want context.Canceled", err)
		}
	})
}

func TestService_AddFromSlack(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("source slack and created by the user", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, blindAuto)
		l, created, err := h.svc.AddFromSlack(ctx, "UADD", triage.LeadInput{Email: "jan@acme.nl"})
		if err != nil || !created {
			t.Fatalf("AddFromSlack = %v, %v", created, err)
		}
		want := triage.Lead{
			ID: 1, Status: triage.StatusPending, Email: "jan@acme.nl", Domain: "acme.nl", Source: "slack",
			CreatedAt: now, CreatedBy: "UADD",
			Events: []triage.Event{{At: now, Kind: triage.EventCreated, By: "UADD", Detail: "via slack", Args: map[string]string{triage.EvVia: "slack"}}},
		}
		if diff := cmp.Diff(want, l); diff != "" {
			t.Errorf("AddFromSlack (-want +got):\n%s", diff)
		}
		if out := h.store.Outbox(); len(out) != 1 || out[0].Kind != triage.OutboxPostCard || out[0].Channel != channel {
			t.Errorf("Outbox = %+v, want one card for %s", out, channel)
		}
	})

	t.Run("a source given is kept", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, blindAuto)
		l, _, err := h.svc.AddFromSlack(ctx, "UADD", triage.LeadInput{Company: "Acme", Source: "event"})
		if err != nil {
			t.Fatal(err)
		}
		if l.Source != "event" {
			t.Errorf("Source = %q, want event", l.Source)
		}
	})

	t.Run("invalid input is a FieldError and stores nothing", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, blindAuto)
		_, _, err := h.svc.AddFromSlack(ctx, "UADD", triage.LeadInput{Company: "Acme", Email: "jan@"})
		var fe *triage.FieldError
		if !errors.As(err, &fe) || fe.Field != "email" {
			t.Fatalf("AddFromSlack = %v, want a FieldError on email", err)
		}
		if ls, _ := h.store.Leads(ctx, triage.LeadFilter{}); len(ls) != 0 {
			t.Errorf("stored %d leads, want none", len(ls))
		}
		if out := h.store.Outbox(); len(out) != 0 {
			t.Errorf("Outbox = %+v, want empty", out)
		}
	})

	t.Run("a repeat returns the first lead", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, blindAuto)
		first, created, err := h.svc.AddFromSlack(ctx, "UADD", triage.LeadInput{Company: "Acme"})
		if err != nil || !created {
			t.Fatalf("first AddFromSlack = %v, %v", created, err)
		}
		again, created, err := h.svc.AddFromSlack(ctx, "UADD", triage.LeadInput{Company: "Acme"})
		if err != nil || created || again.ID != first.ID {
			t.Errorf("repeat AddFromSlack = %s, %v, %v; want %s, false, nil", again.ID, created, err, first.ID)
		}
	})
}
