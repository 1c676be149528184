package triagetest_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/leadtriage/leadtriage/triage"
	"github.com/leadtriage/leadtriage/triage/triagetest"
)

var now = time.Date(2026, time.March, 10, 12, 0, 0, 0, time.UTC)

func mustCreate(t *testing.T, s *triagetest.Store, company string, out ...triage.OutboxItem) triage.Lead {
	t.Helper()
	l, created, err := s.CreateLead(context.Background(), triage.Lead{Company: company, Status: triage.StatusPending, CreatedAt: now}, triage.Idempotency{Now: now}, out)
	if err != nil || !created {
		t.Fatalf("CreateLead = %v, %v", created, err)
	}
	return l
}

func kinds(items []triage.OutboxItem) []string {
	var res []string
	for _, it := range items {
		res = append(res, fmt.Sprintf("%d:%s:%s:seq%d", it.ID, it.Kind, it.Lead, it.Seq))
	}
	return res
}

func TestStore_CreateLead(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := &triagetest.Store{}
	a := mustCreate(t, s, "A", triage.OutboxItem{Kind: triage.OutboxPostCard, Channel: "C1", Lead: 99})
	b := mustCreate(t, s, "B", triage.OutboxItem{Kind: triage.OutboxPostCard, Channel: "C1"})
	if a.ID != 1 || b.ID != 2 {
		t.Errorf("ids = %d, %d; want 1, 2", a.ID, b.ID)
	}
	got, err := s.Lead(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(b, got); diff != "" {
		t.Errorf("Lead(2) (-created +loaded):\n%s", diff)
	}
	want := []triage.OutboxItem{
		{ID: 1, Kind: triage.OutboxPostCard, Lead: 1, Channel: "C1"},
		{ID: 2, Kind: triage.OutboxPostCard, Lead: 2, Channel: "C1"},
	}
	if diff := cmp.Diff(want, s.Outbox()); diff != "" {
		t.Errorf("Outbox: items' Lead must be the new id (-want +got):\n%s", diff)
	}
	if _, err := s.Lead(ctx, 3); !errors.Is(err, triage.ErrNotFound) {
		t.Errorf("Lead(3) err = %v, want ErrNotFound", err)
	}
}

func TestStore_CreateLead_Idempotency(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	idem := func(key, fp string, at time.Time) triage.Idempotency {
		return triage.Idempotency{Key: key, Fingerprint: fp, Now: at, Expires: at.Add(time.Hour)}
	}
	post := []triage.OutboxItem{{Kind: triage.OutboxPostCard, Channel: "C1"}}
	s := &triagetest.Store{}
	first, created, err := s.CreateLead(ctx, triage.Lead{Company: "A"}, idem("k1", "fp1", now), post)
	if err != nil || !created {
		t.Fatalf("first CreateLead = %v, %v", created, err)
	}

	t.Run("repeat returns the first lead", func(t *testing.T) {
		got, created, err := s.CreateLead(ctx, triage.Lead{Company: "other"}, idem("k1", "fp1", now.Add(59*time.Minute)), post)
		if err != nil || created {
			t.Fatalf("repeat = %v, %v; want created=false", created, err)
		}
		if diff := cmp.Diff(first, got); diff != "" {
			t.Errorf("repeat (-first +got):\n%s", diff)
		}
	})
	t.Run("same key, other fingerprint", func(t *testing.T) {
		_, _, err := s.CreateLead(ctx, triage.Lead{Company: "A"}, idem("k1", "fp2", now), post)
		if !errors.Is(err, triage.ErrIdempotencyKey) {
			t.Errorf("err = %v, want ErrIdempotencyKey", err)
		}
	})
	t.Run("expired key makes a new lead", func(t *testing.T) {
		got, created, err := s.CreateLead(ctx, triage.Lead{Company: "A"}, idem("k1", "fp2", now.Add(time.Hour)), post)
		if err != nil || !created || got.ID == first.ID {
			t.Fatalf("after expiry = %v, %v, %v; want a new lead", got.ID, created, err)
		}
		// The key now belongs to the new lead.
		again, created, err := s.CreateLead(ctx, triage.Lead{}, idem("k1", "fp2", now.Add(90*time.Minute)), post)
		if err != nil || created || again.ID != got.ID {
			t.Errorf("repeat of the new lead = %v, %v, %v; want %v", again.ID, created, err, got.ID)
		}
	})
	t.Run("no key never dedupes", func(t *testing.T) {
		a, _, _ := s.CreateLead(ctx, triage.Lead{Company: "A"}, triage.Idempotency{Fingerprint: "fp1", Now: now}, post)
		b, created, err := s.CreateLead(ctx, triage.Lead{Company: "A"}, triage.Idempotency{Fingerprint: "fp1", Now: now}, post)
		if err != nil || !created || a.ID == b.ID {
			t.Errorf("without a key = %v, %v, %v", b.ID, created, err)
		}
	})
	leads, err := s.Leads(ctx, triage.LeadFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(leads) != 4 {
		t.Errorf("%d leads stored, want 4", len(leads))
	}
	if n := len(s.Outbox()); n != 4 {
		t.Errorf("%d outbox items, want 4 (none for repeats)", n)
	}
}

func TestStore_Leads(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := &triagetest.Store{}
	for _, c := range []string{"A", "B", "C", "D"} {
		mustCreate(t, s, c)
	}
	for _, id := range []triage.LeadID{2, 4} {
		if _, err := s.UpdateLead(ctx, id, func(l *triage.Lead) ([]triage.OutboxItem, error) {
			l.Status = triage.StatusQualified
			return nil, nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		filter triage.LeadFilter
		want   []string
	}{
		{triage.LeadFilter{}, []string{"A", "B", "C", "D"}},
		{triage.LeadFilter{Status: triage.StatusPending}, []string{"A", "C"}},
		{triage.LeadFilter{Status: triage.StatusQualified}, []string{"B", "D"}},
		{triage.LeadFilter{Status: triage.StatusQualified, Limit: 1}, []string{"B"}},
		{triage.LeadFilter{Limit: 3}, []string{"A", "B", "C"}},
		{triage.LeadFilter{Status: triage.StatusReferred}, nil},
	}
	for _, tt := range tests {
		leads, err := s.Leads(ctx, tt.filter)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, l := range leads {
			got = append(got, l.Company)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("Leads(%+v) (-want +got):\n%s", tt.filter, diff)
		}
	}
}

func TestStore_LeadByMessage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := &triagetest.Store{}
	mustCreate(t, s, "A")
	b := mustCreate(t, s, "B")
	if _, err := s.UpdateLead(ctx, b.ID, func(l *triage.Lead) ([]triage.OutboxItem, error) {
		l.Slack = triage.SlackRef{Channel: "C1", TS: "1700000000.000200"}
		return nil, nil
	}); err != nil {
		t.Fatal(err)
	}
	got, err := s.LeadByMessage(ctx, "C1", "1700000000.000200")
	if err != nil || got.ID != b.ID {
		t.Errorf("LeadByMessage = %v, %v; want %v", got.ID, err, b.ID)
	}
	for _, q := range [][2]string{{"C2", "1700000000.000200"}, {"C1", "1700000000.000100"}, {"", ""}} {
		if _, err := s.LeadByMessage(ctx, q[0], q[1]); !errors.Is(err, triage.ErrNotFound) {
			t.Errorf("LeadByMessage(%q, %q) err = %v, want ErrNotFound", q[0], q[1], err)
		}
	}
}

func TestStore_UpdateLead(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("stores the lead and its items", func(t *testing.T) {
		t.Parallel()
		s := &triagetest.Store{}
		l := mustCreate(t, s, "A")
		got, err := s.UpdateLead(ctx, l.ID, func(l *triage.Lead) ([]triage.OutboxItem, error) {
			l.Owner = "U1"
			l.ID = 77 // ignored: a lead keeps its id
			return []triage.OutboxItem{{Kind: triage.OutboxThreadReply, Lead: l.ID, Text: "hi"}}, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != l.ID || got.Owner != "U1" {
			t.Errorf("UpdateLead returned %+v", got)
		}
		loaded, _ := s.Lead(ctx, l.ID)
		if loaded.Owner != "U1" {
			t.Errorf("stored Owner = %q", loaded.Owner)
		}
		if diff := cmp.Diff([]string{"1:thread_reply:L-77:seq0"}, kinds(s.Outbox())); diff != "" {
			t.Errorf("Outbox (-want +got):\n%s", diff)
		}
	})
	t.Run("an error from fn writes nothing", func(t *testing.T) {
		t.Parallel()
		s := &triagetest.Store{}
		l := mustCreate(t, s, "A")
		boom := errors.New("boom")
		_, err := s.UpdateLead(ctx, l.ID, func(l *triage.Lead) ([]triage.OutboxItem, error) {
			l.Owner = "U1"
			l.Votes = map[string]triage.Choice{"U1": triage.ChoiceQualify}
			return []triage.OutboxItem{{Kind: triage.OutboxUpdateCard, Lead: l.ID}}, boom
		})
		if !errors.Is(err, boom) {
			t.Errorf("err = %v, want boom", err)
		}
		loaded, _ := s.Lead(ctx, l.ID)
		if diff := cmp.Diff(l, loaded); diff != "" {
			t.Errorf("lead changed (-before +after):\n%s", diff)
		}
		if n := len(s.Outbox()); n != 0 {
			t.Errorf("%d outbox items written", n)
		}
	})
	t.Run("missing lead", func(t *testing.T) {
		t.Parallel()
		s := &triagetest.Store{}
		called := false
		_, err := s.UpdateLead(ctx, 1, func(*triage.Lead) ([]triage.OutboxItem, error) { called = true; return nil, nil })
		if !errors.Is(err, triage.ErrNotFound) || called {
			t.Errorf("err = %v, fn called = %v; want ErrNotFound, not called", err, called)
		}
	})
	t.Run("copies in and out", func(t *testing.T) {
		t.Parallel()
		s := &triagetest.Store{}
		l := mustCreate(t, s, "A")
		var kept *triage.Lead
		got, err := s.UpdateLead(ctx, l.ID, func(l *triage.Lead) ([]triage.OutboxItem, error) {
			l.Votes = map[string]triage.Choice{"U1": triage.ChoiceQualify}
			l.Events = append(l.Events, triage.Event{Kind: "x"})
			l.Decision = &triage.Decision{Reason: "x"}
			l.Research.Flags = []triage.Flag{{Code: "x"}}
			l.Extra = map[string]string{"k": "x"}
			kept = l
			return nil, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		got.Votes["U2"] = triage.ChoiceUnsure
		kept.Votes["U3"] = triage.ChoiceUnsure
		kept.Events[0].Kind = "changed"
		kept.Decision.Reason = "changed"
		kept.Research.Flags[0].Code = "changed"
		got.Extra["k"] = "changed"
		loaded, _ := s.Lead(ctx, l.ID)
		loaded.Votes["U4"] = triage.ChoiceUnsure
		again, _ := s.Lead(ctx, l.ID)
		if diff := cmp.Diff(map[string]triage.Choice{"U1": triage.ChoiceQualify}, again.Votes); diff != "" {
			t.Errorf("stored votes changed through a returned copy (-want +got):\n%s", diff)
		}
		if again.Events[0].Kind != "x" || again.Decision.Reason != "x" || again.Research.Flags[0].Code != "x" || again.Extra["k"] != "x" {
			t.Errorf("stored lead changed through a kept pointer: %+v", again)
		}
	})
	t.Run("copies answers per person deeply", func(t *testing.T) {
		t.Parallel()
		s := &triagetest.Store{}
		l := mustCreate(t, s, "A")
		yes := triage.Answer{Value: "yes", By: "U1", At: now}
		if _, err := s.UpdateLead(ctx, l.ID, func(l *triage.Lead) ([]triage.OutboxItem, error) {
			l.Answers = map[string]triage.Answer{"budget": yes}
			l.AnswersBy = map[string]map[string]triage.Answer{"budget": {"U1": yes}}
			return nil, nil
		}); err != nil {
			t.Fatal(err)
		}
		// A failed update must not leave its changes to the inner maps behind.
		boom := errors.New("boom")
		if _, err := s.UpdateLead(ctx, l.ID, func(l *triage.Lead) ([]triage.OutboxItem, error) {
			l.AnswersBy["budget"]["U2"] = triage.Answer{Value: "no", By: "U2", At: now}
			return nil, boom
		}); !errors.Is(err, boom) {
			t.Fatalf("err = %v, want boom", err)
		}
		loaded, _ := s.Lead(ctx, l.ID)
		loaded.AnswersBy["budget"]["U3"] = triage.Answer{Value: "no"}
		again, _ := s.Lead(ctx, l.ID)
		if diff := cmp.Diff(map[string]map[string]triage.Answer{"budget": {"U1": yes}}, again.AnswersBy); diff != "" {
			t.Errorf("stored AnswersBy changed through a copy (-want +got):\n%s", diff)
		}
	})
}

func TestStore_UpdateLead_Concurrent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := &triagetest.Store{}
	l := mustCreate(t, s, "A")
	const n = 50
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			if _, err := s.UpdateLead(ctx, l.ID, func(l *triage.Lead) ([]triage.OutboxItem, error) {
				if l.Votes == nil {
					l.Votes = map[string]triage.Choice{}
				}
				l.Votes[fmt.Sprintf("U%d", i)] = triage.ChoiceQualify
				return []triage.OutboxItem{{Kind: triage.OutboxUpdateCard, Lead: l.ID}}, nil
			}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	got, _ := s.Lead(ctx, l.ID)
	if len(got.Votes) != n {
		t.Errorf("%d votes stored, want %d: an update was lost", len(got.Votes), n)
	}
	// All card updates fold into one item.
	if diff := cmp.Diff([]string{fmt.Sprintf("1:update_card:%s:seq%d", l.ID, n-1)}, kinds(s.Outbox())); diff != "" {
		t.Errorf("Outbox (-want +got):\n%s", diff)
	}
}

func TestStore_Coalescing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := &triagetest.Store{}
	a := mustCreate(t, s, "A", triage.OutboxItem{Kind: triage.OutboxPostCard, Channel: "C1"})
	b := mustCreate(t, s, "B", triage.OutboxItem{Kind: triage.OutboxPostCard, Channel: "C1"})
	update := func(id triage.LeadID, extra ...triage.OutboxItem) {
		t.Helper()
		if _, err := s.UpdateLead(ctx, id, func(l *triage.Lead) ([]triage.OutboxItem, error) {
			return append([]triage.OutboxItem{{Kind: triage.OutboxUpdateCard, Lead: id}}, extra...), nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	update(a.ID, triage.OutboxItem{Kind: triage.OutboxThreadReply, Lead: a.ID}, triage.OutboxItem{Kind: triage.OutboxEphemeral, Lead: a.ID})
	update(a.ID)
	if err := s.Enqueue(ctx, triage.OutboxItem{Kind: triage.OutboxUpdateCard, Lead: b.ID}, triage.OutboxItem{Kind: triage.OutboxUpdateCard}); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"1:post_card:L-1:seq2", // two updates folded in
		"2:post_card:L-2:seq1",
		"3:thread_reply:L-1:seq0",
		"4:ephemeral:L-1:seq0",
		"5:update_card:L-0:seq0", // about no lead: never folded
	}
	if diff := cmp.Diff(want, kinds(s.Outbox())); diff != "" {
		t.Errorf("Outbox (-want +got):\n%s", diff)
	}

	// Once the post is delivered, the next update is an item of its own, and
	// later ones fold into it; a dead item takes no more.
	if err := s.CompleteOutbox(ctx, 1, 2, nil); err != nil {
		t.Fatal(err)
	}
	update(a.ID)
	update(a.ID)
	if err := s.DeadLetter(ctx, 6, "invalid_blocks"); err != nil {
		t.Fatal(err)
	}
	update(a.ID)
	want = []string{"2:post_card:L-2:seq1", "3:thread_reply:L-1:seq0", "4:ephemeral:L-1:seq0", "5:update_card:L-0:seq0",
		"6:update_card:L-1:seq1", "7:update_card:L-1:seq0"}
	if diff := cmp.Diff(want, kinds(s.Outbox())); diff != "" {
		t.Errorf("Outbox (-want +got):\n%s", diff)
	}
}

func TestStore_CompleteOutbox(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	record := func(l *triage.Lead) error {
		l.Slack = triage.SlackRef{Channel: "C1", TS: "1.2"}
		return nil
	}

	t.Run("same seq deletes and applies fn", func(t *testing.T) {
		t.Parallel()
		s := &triagetest.Store{}
		l := mustCreate(t, s, "A", triage.OutboxItem{Kind: triage.OutboxPostCard, Channel: "C1"})
		if err := s.CompleteOutbox(ctx, 1, 0, record); err != nil {
			t.Fatal(err)
		}
		if n := len(s.Outbox()); n != 0 {
			t.Errorf("%d items left", n)
		}
		got, _ := s.Lead(ctx, l.ID)
		if got.Slack.TS != "1.2" {
			t.Errorf("fn not applied: %+v", got.Slack)
		}
	})
	t.Run("seq moved on keeps the item due and applies fn", func(t *testing.T) {
		t.Parallel()
		s := &triagetest.Store{}
		l := mustCreate(t, s, "A", triage.OutboxItem{Kind: triage.OutboxPostCard, Channel: "C1"})
		due, _ := s.DueOutbox(ctx, now, 10)
		rendered := due[0].Seq
		// A vote lands while the worker is posting the card.
		if _, err := s.UpdateLead(ctx, l.ID, func(l *triage.Lead) ([]triage.OutboxItem, error) {
			return []triage.OutboxItem{{Kind: triage.OutboxUpdateCard, Lead: l.ID}}, nil
		}); err != nil {
			t.Fatal(err)
		}
		if err := s.CompleteOutbox(ctx, due[0].ID, rendered, record); err != nil {
			t.Fatal(err)
		}
		due, _ = s.DueOutbox(ctx, now, 10)
		if diff := cmp.Diff([]string{"1:post_card:L-1:seq1"}, kinds(due)); diff != "" {
			t.Errorf("due (-want +got):\n%s", diff)
		}
		got, _ := s.Lead(ctx, l.ID)
		if got.Slack.TS != "1.2" {
			t.Errorf("fn not applied: %+v", got.Slack)
		}
		if err := s.CompleteOutbox(ctx, 1, 1, nil); err != nil {
			t.Fatal(err)
		}
		if n := len(s.Outbox()); n != 0 {
			t.Errorf("%d items left after completing the new seq", n)
		}
	})
	t.Run("fn error changes nothing", func(t *testing.T) {
		t.Parallel()
		s := &triagetest.Store{}
		l := mustCreate(t, s, "A", triage.OutboxItem{Kind: triage.OutboxPostCard, Channel: "C1"})
		boom := errors.New("boom")
		err := s.CompleteOutbox(ctx, 1, 0, func(l *triage.Lead) error { l.Owner = "U1"; return boom })
		if !errors.Is(err, boom) {
			t.Errorf("err = %v, want boom", err)
		}
		if n := len(s.Outbox()); n != 1 {
			t.Errorf("%d items, want the item kept", n)
		}
		got, _ := s.Lead(ctx, l.ID)
		if got.Owner != "" {
			t.Errorf("lead changed: Owner = %q", got.Owner)
		}
	})
	t.Run("item about no lead", func(t *testing.T) {
		t.Parallel()
		s := &triagetest.Store{}
		if err := s.Enqueue(ctx, triage.OutboxItem{Kind: triage.OutboxEphemeral, Channel: "C1", User: "U1"}); err != nil {
			t.Fatal(err)
		}
		if err := s.CompleteOutbox(ctx, 1, 0, record); err != nil {
			t.Fatal(err)
		}
		if n := len(s.Outbox()); n != 0 {
			t.Errorf("%d items left", n)
		}
	})
	t.Run("missing item", func(t *testing.T) {
		t.Parallel()
		s := &triagetest.Store{}
		if err := s.CompleteOutbox(ctx, 9, 0, nil); !errors.Is(err, triage.ErrNotFound) {
			t.Errorf("err = %v, want ErrNotFound", err)
		}
	})
}

func TestStore_DueOutbox(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := &triagetest.Store{}
	if _, ok, err := s.NextOutbox(ctx); ok || err != nil {
		t.Errorf("NextOutbox on an empty outbox = %v, %v", ok, err)
	}
	for range 4 {
		if err := s.Enqueue(ctx, triage.OutboxItem{Kind: triage.OutboxEphemeral, Channel: "C1", User: "U1"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.RetryOutbox(ctx, 1, now.Add(time.Minute), "ratelimited"); err != nil {
		t.Fatal(err)
	}
	if err := s.RetryOutbox(ctx, 1, now.Add(2*time.Minute), "ratelimited"); err != nil {
		t.Fatal(err)
	}
	if err := s.RetryOutbox(ctx, 3, now.Add(time.Second), "timeout"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeadLetter(ctx, 4, "channel_not_found"); err != nil {
		t.Fatal(err)
	}
	ids := func(items []triage.OutboxItem) []uint64 {
		var res []uint64
		for _, it := range items {
			res = append(res, it.ID)
		}
		return res
	}
	for _, tt := range []struct {
		at    time.Time
		limit int
		want  []uint64
	}{
		{now, 10, []uint64{2}},
		{now.Add(time.Second), 10, []uint64{2, 3}},
		{now.Add(2 * time.Minute), 10, []uint64{1, 2, 3}},
		{now.Add(2 * time.Minute), 2, []uint64{1, 2}},
		{now.Add(2 * time.Minute), 0, []uint64{1, 2, 3}},
	} {
		due, err := s.DueOutbox(ctx, tt.at, tt.limit)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(tt.want, ids(due)); diff != "" {
			t.Errorf("DueOutbox(%v, %d) (-want +got):\n%s", tt.at, tt.limit, diff)
		}
	}
	due, _ := s.DueOutbox(ctx, now.Add(time.Hour), 1)
	if due[0].Attempts != 2 || due[0].LastError != "ratelimited" || !due[0].NextAt.Equal(now.Add(2*time.Minute)) {
		t.Errorf("after two retries: %+v", due[0])
	}
	if at, ok, err := s.NextOutbox(ctx); err != nil || !ok || !at.IsZero() {
		t.Errorf("NextOutbox = %v, %v, %v; want the zero time (item 2 is due at once)", at, ok, err)
	}
	if err := s.CompleteOutbox(ctx, 2, 0, nil); err != nil {
		t.Fatal(err)
	}
	if at, ok, err := s.NextOutbox(ctx); err != nil || !ok || !at.Equal(now.Add(time.Second)) {
		t.Errorf("NextOutbox = %v, %v, %v; want %v", at, ok, err, now.Add(time.Second))
	}
	dead, err := s.DeadLetters(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(dead) != 1 || dead[0].ID != 4 || dead[0].LastError != "channel_not_found" || !dead[0].Dead {
		t.Errorf("DeadLetters = %+v", dead)
	}
	for _, err := range []error{
		s.RetryOutbox(ctx, 99, now, "x"),
		s.DeadLetter(ctx, 99, "x"),
	} {
		if !errors.Is(err, triage.ErrNotFound) {
			t.Errorf("err = %v, want ErrNotFound", err)
		}
	}
}

func TestStore_Inbox(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := &triagetest.Store{}
	for i, tt := range []struct {
		mark string
		dup  bool
	}{{"Ev1", false}, {"Ev1", true}, {"Ev2", false}, {"", false}, {"", false}} {
		_, dup, err := s.AdmitInbox(ctx, triage.InboxEntry{Kind: "event", Mark: tt.mark, Body: []byte("{}"), At: now})
		if err != nil || dup != tt.dup {
			t.Errorf("#%d AdmitInbox(%q) = dup %v, %v; want %v", i, tt.mark, dup, err, tt.dup)
		}
	}
	pending, err := s.Inbox(ctx)
	if err != nil || len(pending) != 4 {
		t.Fatalf("Inbox = %d entries, %v; want 4", len(pending), err)
	}
	// A change made under an entry's key takes the entry out with it.
	if err := s.Enqueue(triage.WithInboxKey(ctx, pending[0].Key), triage.OutboxItem{Kind: triage.OutboxEphemeral}); err != nil {
		t.Fatal(err)
	}
	if err := s.DoneInbox(ctx, pending[1].Key); err != nil {
		t.Fatal(err)
	}
	left, _ := s.Inbox(ctx)
	if len(left) != 2 || left[0].Key != pending[2].Key {
		t.Errorf("after one change and one DoneInbox the inbox holds %+v", left)
	}
}

func TestStore_Hooks(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	boom := errors.New("disk full")
	s := &triagetest.Store{
		CreateLeadFn: func(context.Context, triage.Lead, triage.Idempotency, []triage.OutboxItem) error { return boom },
		UpdateLeadFn: func(context.Context, triage.LeadID) error { return boom },
		EnqueueFn:    func(context.Context, ...triage.OutboxItem) error { return boom },
	}
	if _, _, err := s.CreateLead(ctx, triage.Lead{}, triage.Idempotency{}, []triage.OutboxItem{{Kind: triage.OutboxPostCard}}); !errors.Is(err, boom) {
		t.Errorf("CreateLead err = %v", err)
	}
	if _, err := s.UpdateLead(ctx, 1, func(*triage.Lead) ([]triage.OutboxItem, error) { return nil, nil }); !errors.Is(err, boom) {
		t.Errorf("UpdateLead err = %v", err)
	}
	if err := s.Enqueue(ctx, triage.OutboxItem{Kind: triage.OutboxEphemeral}); !errors.Is(err, boom) {
		t.Errorf("Enqueue err = %v", err)
	}
	if leads, _ := s.Leads(ctx, triage.LeadFilter{}); len(leads) != 0 {
		t.Errorf("%d leads stored despite the failure", len(leads))
	}
	if n := len(s.Outbox()); n != 0 {
		t.Errorf("%d items queued despite the failure", n)
	}
}

func TestStore_CancelledContext(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s := &triagetest.Store{}
	if _, _, err := s.CreateLead(ctx, triage.Lead{}, triage.Idempotency{}, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("CreateLead err = %v", err)
	}
	if err := s.Ping(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Ping err = %v", err)
	}
	if err := s.Ping(context.Background()); err != nil {
		t.Errorf("Ping err = %v", err)
	}
}

func TestClock(t *testing.T) {
	t.Parallel()
	c := triagetest.NewClock(now)
	if got := c.Now(); !got.Equal(now) {
		t.Errorf("Now = %v, want %v", got, now)
	}
	c.Advance(90 * time.Second)
	if got := c.Now(); !got.Equal(now.Add(90 * time.Second)) {
		t.Errorf("after Advance: %v", got)
	}
	c.Set(now)
	if got := c.Now(); !got.Equal(now) {
		t.Errorf("after Set: %v", got)
	}
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() { c.Advance(time.Second); _ = c.Now() })
	}
	wg.Wait()
	if got := c.Now(); !got.Equal(now.Add(10 * time.Second)) {
		t.Errorf("after concurrent Advance: %v", got)
	}
}
