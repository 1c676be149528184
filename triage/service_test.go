package triage_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/leadtriage/leadtriage/triage"
	"github.com/leadtriage/leadtriage/triage/triagetest"
)

const (
	channel  = "CTRIAGE"
	teamLead = "TEAMLEAD"
	cardTS   = "1700000000.000100"
)

// harness is a Service over the in-memory store with a fixed clock.
type harness struct {
	svc   *triage.Service
	store *triagetest.Store
	clock *triagetest.Clock
	wakes atomic.Int32
}

func newHarness(t *testing.T, p triage.Policy) *harness {
	t.Helper()
	h := &harness{store: &triagetest.Store{}, clock: triagetest.NewClock(now)}
	h.svc = &triage.Service{Store: h.store, Policy: p, Channel: channel, Now: h.clock.Now, Wake: func() { h.wakes.Add(1) }}
	return h
}

// blindAuto is config.toml's default policy.
var blindAuto = triage.Policy{Quorum: 3, Blind: true, Auto: true, TeamLead: teamLead}

func input() triage.LeadInput {
	return triage.LeadInput{Company: "Acme", Email: "jan.jansen+CANARY@voorbeeld.nl", Website: "acme.nl"}
}

// mustSubmit submits a lead and delivers its card, as the worker would.
func (h *harness) mustSubmit(t *testing.T) triage.Lead {
	t.Helper()
	l, created, err := h.svc.Submit(context.Background(), input(), triage.Submission{Via: "webhook"})
	if err != nil || !created {
		t.Fatalf("Submit = %v, %v", created, err)
	}
	h.deliver(t)
	l, err = h.store.Lead(context.Background(), l.ID)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// deliver completes every live outbox item as a worker would (recording the
// card's ts for posts) and returns them.
func (h *harness) deliver(t *testing.T) []triage.OutboxItem {
	t.Helper()
	ctx := context.Background()
	due, err := h.store.DueOutbox(ctx, h.clock.Now(), 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range due {
		var fn func(*triage.Lead) error
		if it.Kind == triage.OutboxPostCard {
			fn = func(l *triage.Lead) error {
				l.Slack = triage.SlackRef{Channel: it.Channel, TS: cardTS}
				return nil
			}
		}
		if err := h.store.CompleteOutbox(ctx, it.ID, it.Seq, fn); err != nil {
			t.Fatal(err)
		}
	}
	return due
}

// vote votes and returns the result with the items it queued.
func (h *harness) vote(t *testing.T, id triage.LeadID, user string, c triage.Choice) (triage.VoteResult, []triage.OutboxItem) {
	t.Helper()
	res, err := h.svc.Vote(context.Background(), id, user, c)
	if err != nil {
		t.Fatalf("Vote(%s, %s, %s): %v", id, user, c, err)
	}
	return res, h.deliver(t)
}

// ignoreIDs compares outbox items by content only, and a notice by what
// the bot says for it in English (said), so that the tests read as the
// conversation; a draft, which the bot words, by its facts (drafted).
var ignoreIDs = cmp.Options{
	cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".ID" }, cmp.Ignore()),
	cmp.Transformer("said", func(it triage.OutboxItem) triage.OutboxItem {
		if n := it.Notice; n != nil {
			it.Text, it.Notice = said(it), nil
			if f := n.DraftFacts; f != nil {
				it.Plain = drafted(*f)
			}
		}
		return it
	}),
}

// drafted shows a draft's facts as text, the partner's too (not its address).
func drafted(f triage.DraftFacts) string {
	var p triage.Partner
	if f.Partner != nil {
		p = *f.Partner
	}
	f.Partner = nil
	return fmt.Sprintf("%+v, partner %+v", f, p)
}

func threadReplies(items []triage.OutboxItem) []string {
	var res []string
	for _, it := range items {
		if it.Kind == triage.OutboxThreadReply {
			res = append(res, said(it))
		}
	}
	return res
}

func TestService_Submit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("stores the lead and queues one card", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, blindAuto)
		got, created, err := h.svc.Submit(ctx, input(), triage.Submission{Via: "webhook"})
		if err != nil || !created {
			t.Fatalf("Submit = %v, %v", created, err)
		}
		want := triage.Lead{
			ID: 1, Status: triage.StatusPending, Company: "Acme", Email: "jan.jansen+CANARY@voorbeeld.nl",
			Website: "https://acme.nl", Domain: "acme.nl", Source: "webhook", CreatedAt: now,
			Events: []triage.Event{{At: now, Kind: triage.EventCreated, By: "webhook", Detail: "via webhook", Args: map[string]string{triage.EvVia: "webhook"}}},
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Submit (-want +got):\n%s", diff)
		}
		stored, err := h.store.Lead(ctx, 1)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, stored); diff != "" {
			t.Errorf("stored (-want +got):\n%s", diff)
		}
		wantOut := []triage.OutboxItem{{ID: 1, Kind: triage.OutboxPostCard, Lead: 1, Channel: channel, CreatedAt: now}}
		if diff := cmp.Diff(wantOut, h.store.Outbox()); diff != "" {
			t.Errorf("Outbox (-want +got):\n%s", diff)
		}
		if n := h.wakes.Load(); n != 1 {
			t.Errorf("Wake called %d times, want 1", n)
		}
	})
	t.Run("added in Slack", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, blindAuto)
		got, _, err := h.svc.Submit(ctx, input(), triage.Submission{Via: "slack", CreatedBy: "U1"})
		if err != nil {
			t.Fatal(err)
		}
		if got.CreatedBy != "U1" || got.Source != "slack" {
			t.Errorf("CreatedBy, Source = %q, %q", got.CreatedBy, got.Source)
		}
		if diff := cmp.Diff([]triage.Event{{At: now, Kind: triage.EventCreated, By: "U1", Detail: "via slack", Args: map[string]string{triage.EvVia: "slack"}}}, got.Events); diff != "" {
			t.Errorf("Events (-want +got):\n%s", diff)
		}
	})
	t.Run("source given wins over Via", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, blindAuto)
		in := input()
		in.Source = "Trade fair"
		got, _, err := h.svc.Submit(ctx, in, triage.Submission{Via: "csv"})
		if err != nil {
			t.Fatal(err)
		}
		if got.Source != "Trade fair" {
			t.Errorf("Source = %q", got.Source)
		}
	})
	t.Run("invalid input stores nothing", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, blindAuto)
		_, created, err := h.svc.Submit(ctx, triage.LeadInput{Company: "Acme", Website: "http://127.0.0.1/"}, triage.Submission{Via: "webhook"})
		wantFieldError(t, err, "website")
		if created {
			t.Error("created = true")
		}
		if leads, _ := h.store.Leads(ctx, triage.LeadFilter{}); len(leads) != 0 {
			t.Errorf("%d leads stored", len(leads))
		}
		if n := len(h.store.Outbox()); n != 0 {
			t.Errorf("%d outbox items", n)
		}
		if n := h.wakes.Load(); n != 0 {
			t.Errorf("Wake called %d times", n)
		}
	})
	t.Run("same Idempotency-Key returns the first lead", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, blindAuto)
		sub := triage.Submission{Via: "webhook", IdempotencyKey: "req-1"}
		first, _, err := h.svc.Submit(ctx, input(), sub)
		if err != nil {
			t.Fatal(err)
		}
		h.clock.Advance(triage.ExplicitKeyTTL - time.Second)
		again, created, err := h.svc.Submit(ctx, input(), sub)
		if err != nil || created {
			t.Fatalf("repeat = %v, %v; want created=false", created, err)
		}
		if diff := cmp.Diff(first, again); diff != "" {
			t.Errorf("repeat (-first +got):\n%s", diff)
		}
		if leads, _ := h.store.Leads(ctx, triage.LeadFilter{}); len(leads) != 1 {
			t.Errorf("%d leads stored, want 1", len(leads))
		}
		if n := len(h.store.Outbox()); n != 1 {
			t.Errorf("%d outbox items, want 1", n)
		}
		if n := h.wakes.Load(); n != 1 {
			t.Errorf("Wake called %d times, want 1", n)
		}
	})
	t.Run("same Idempotency-Key, other body", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, blindAuto)
		sub := triage.Submission{Via: "webhook", IdempotencyKey: "req-1"}
		if _, _, err := h.svc.Submit(ctx, input(), sub); err != nil {
			t.Fatal(err)
		}
		other := input()
		other.Company = "Acme Two"
		_, created, err := h.svc.Submit(ctx, other, sub)
		if !errors.Is(err, triage.ErrIdempotencyKey) || created {
			t.Fatalf("err = %v, created = %v; want ErrIdempotencyKey", err, created)
		}
		if triage.IsInternal(err) {
			t.Error("IsInternal = true")
		}
		if leads, _ := h.store.Leads(ctx, triage.LeadFilter{}); len(leads) != 1 {
			t.Errorf("%d leads stored, want 1", len(leads))
		}
	})
	t.Run("Idempotency-Key length", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, blindAuto)
		if _, _, err := h.svc.Submit(ctx, input(), triage.Submission{Via: "webhook", IdempotencyKey: strings.Repeat("k", 255)}); err != nil {
			t.Errorf("255-character key: %v", err)
		}
		_, _, err := h.svc.Submit(ctx, input(), triage.Submission{Via: "webhook", IdempotencyKey: strings.Repeat("k", 256)})
		wantFieldError(t, err, "Idempotency-Key")
	})
	t.Run("identical body without a key", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, blindAuto)
		sub := triage.Submission{Via: "webhook"}
		first, _, err := h.svc.Submit(ctx, input(), sub)
		if err != nil {
			t.Fatal(err)
		}
		h.clock.Advance(triage.ImplicitKeyTTL - time.Second)
		again, created, err := h.svc.Submit(ctx, input(), sub)
		if err != nil || created || again.ID != first.ID {
			t.Errorf("within 10 minutes = %v, %v, %v; want %v, created=false", again.ID, created, err, first.ID)
		}
		h.clock.Advance(2 * time.Second)
		later, created, err := h.svc.Submit(ctx, input(), sub)
		if err != nil || !created || later.ID == first.ID {
			t.Errorf("after 10 minutes = %v, %v, %v; want a new lead", later.ID, created, err)
		}
		other := input()
		other.Message = "and another thing"
		if _, created, err := h.svc.Submit(ctx, other, sub); err != nil || !created {
			t.Errorf("a different body = %v, %v; want a new lead", created, err)
		}
		if n := h.wakes.Load(); n != 3 {
			t.Errorf("Wake called %d times, want 3", n)
		}
	})
}

func TestService_Vote(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("queues a card update and a blind confirmation", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, blindAuto)
		l := h.mustSubmit(t)
		wakes := h.wakes.Load()
		res, out := h.vote(t, l.ID, "U1", triage.ChoiceQualify)
		if !res.Changed || res.Lead.Votes["U1"] != triage.ChoiceQualify {
			t.Errorf("result = %+v", res)
		}
		if diff := cmp.Diff(triage.Verdict{Tally: triage.Tally{Qualify: 1}}, res.Verdict); diff != "" {
			t.Errorf("Verdict (-want +got):\n%s", diff)
		}
		want := []triage.OutboxItem{
			{Kind: triage.OutboxUpdateCard, Lead: l.ID, Channel: channel, CreatedAt: now},
			{Kind: triage.OutboxEphemeral, Lead: l.ID, Channel: channel, User: "U1", CreatedAt: now,
				Text: "Your vote on *L-1*: *qualify*. 1 of 3 votes so far; the votes stay hidden until the quorum."},
		}
		if diff := cmp.Diff(want, out, ignoreIDs); diff != "" {
			t.Errorf("queued (-want +got):\n%s", diff)
		}
		stored, _ := h.store.Lead(ctx, l.ID)
		if diff := cmp.Diff(res.Lead, stored); diff != "" {
			t.Errorf("stored lead differs from the result (-result +stored):\n%s", diff)
		}
		if got := h.wakes.Load() - wakes; got != 1 {
			t.Errorf("Wake called %d times, want 1", got)
		}
		_, out = h.vote(t, l.ID, "U2", triage.ChoiceUnsure)
		if got := said(out[1]); !strings.Contains(got, "2 of 3 votes so far; the votes stay hidden") {
			t.Errorf("second confirmation = %q", got)
		}
	})
	t.Run("card update goes to the card's channel", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, blindAuto)
		l := h.mustSubmit(t)
		if _, err := h.store.UpdateLead(ctx, l.ID, func(l *triage.Lead) ([]triage.OutboxItem, error) {
			l.Slack.Channel = "COLD"
			return nil, nil
		}); err != nil {
			t.Fatal(err)
		}
		_, out := h.vote(t, l.ID, "U1", triage.ChoiceQualify)
		for _, it := range out {
			if it.Channel != "COLD" {
				t.Errorf("%s went to %q, want the card's channel COLD", it.Kind, it.Channel)
			}
		}
	})
	t.Run("before the card is posted the update folds into the post", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, blindAuto)
		l, _, err := h.svc.Submit(ctx, input(), triage.Submission{Via: "webhook"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := h.svc.Vote(ctx, l.ID, "U1", triage.ChoiceQualify); err != nil {
			t.Fatal(err)
		}
		want := []triage.OutboxItem{
			{Kind: triage.OutboxPostCard, Lead: l.ID, Channel: channel, CreatedAt: now, Seq: 1},
			{Kind: triage.OutboxEphemeral, Lead: l.ID, Channel: channel, User: "U1", CreatedAt: now,
				Text: "Your vote on *L-1*: *qualify*. 1 of 3 votes so far; the votes stay hidden until the quorum."},
		}
		if diff := cmp.Diff(want, h.store.Outbox(), ignoreIDs); diff != "" {
			t.Errorf("Outbox (-want +got):\n%s", diff)
		}
	})
	t.Run("not blind: no hidden notice", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, triage.Policy{Quorum: 3, Auto: true, TeamLead: teamLead})
		l := h.mustSubmit(t)
		_, out := h.vote(t, l.ID, "U1", triage.ChoiceDisqualify)
		if diff := cmp.Diff([]string{"update_card", "ephemeral"}, kindsOf(out)); diff != "" {
			t.Fatalf("queued kinds (-want +got):\n%s", diff)
		}
		if got, want := said(out[1]), "Your vote on *L-1*: *disqualify*."; got != want {
			t.Errorf("confirmation = %q, want %q", got, want)
		}
	})
	t.Run("same vote again changes nothing but answers", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, blindAuto)
		l := h.mustSubmit(t)
		h.vote(t, l.ID, "U1", triage.ChoiceQualify)
		before, _ := h.store.Lead(ctx, l.ID)
		res, out := h.vote(t, l.ID, "U1", triage.ChoiceQualify)
		if res.Changed {
			t.Error("Changed = true")
		}
		after, _ := h.store.Lead(ctx, l.ID)
		if diff := cmp.Diff(before, after); diff != "" {
			t.Errorf("lead changed (-before +after):\n%s", diff)
		}
		// The answer belongs to the lead: purging the lead takes it along.
		want := []triage.OutboxItem{{Kind: triage.OutboxEphemeral, Lead: l.ID, Channel: channel, User: "U1", CreatedAt: now,
			Text: "You already voted *qualify* on *L-1*; nothing changed."}}
		if diff := cmp.Diff(want, out, ignoreIDs); diff != "" {
			t.Errorf("queued (-want +got):\n%s", diff)
		}
	})
	t.Run("quorum with a majority decides", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, blindAuto)
		l := h.mustSubmit(t)
		h.vote(t, l.ID, "U1", triage.ChoiceQualify)
		h.clock.Advance(time.Minute)
		h.vote(t, l.ID, "U2", triage.ChoiceDisqualify)
		h.clock.Advance(time.Minute)
		at := h.clock.Now()
		res, out := h.vote(t, l.ID, "U3", triage.ChoiceQualify)
		if diff := cmp.Diff(triage.Verdict{Tally: triage.Tally{Qualify: 2, Disqualify: 1}, Quorum: true, Outcome: triage.StatusQualified, Majority: triage.StatusQualified}, res.Verdict); diff != "" {
			t.Errorf("Verdict (-want +got):\n%s", diff)
		}
		stored, _ := h.store.Lead(ctx, l.ID)
		if stored.Status != triage.StatusQualified {
			t.Errorf("Status = %q", stored.Status)
		}
		wantDecision := &triage.Decision{Outcome: triage.StatusQualified, By: triage.DecidedByPolicy, At: at,
			Reason: "qualified by vote (2 qualify, 1 disqualify, 0 unsure)"}
		if diff := cmp.Diff(wantDecision, stored.Decision); diff != "" {
			t.Errorf("Decision (-want +got):\n%s", diff)
		}
		if last := stored.Events[len(stored.Events)-1]; last.Kind != triage.EventDecided || last.By != "auto" {
			t.Errorf("last event = %+v, want decided by auto", last)
		}
		want := []triage.OutboxItem{
			{Kind: triage.OutboxUpdateCard, Lead: l.ID, Channel: channel, CreatedAt: at},
			{Kind: triage.OutboxThreadReply, Lead: l.ID, Channel: channel, CreatedAt: at,
				Text: "*L-1* is qualified by the team's vote: 2 qualify, 1 disqualify, 0 unsure."},
			{Kind: triage.OutboxEphemeral, Lead: l.ID, Channel: channel, User: "U3", CreatedAt: at,
				Text: "Your vote on *L-1*: *qualify*."},
		}
		if diff := cmp.Diff(want, out, ignoreIDs); diff != "" {
			t.Errorf("queued (-want +got):\n%s", diff)
		}
	})
	t.Run("majority disqualify decides", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, triage.Policy{Quorum: 2, Auto: true, TeamLead: teamLead})
		l := h.mustSubmit(t)
		h.vote(t, l.ID, "U1", triage.ChoiceDisqualify)
		res, out := h.vote(t, l.ID, "U2", triage.ChoiceUnsure)
		if res.Lead.Status != triage.StatusDisqualified || res.Lead.Decision == nil || res.Lead.Decision.By != "auto" {
			t.Errorf("lead = %+v", res.Lead)
		}
		if diff := cmp.Diff([]string{"*L-1* is disqualified by the team's vote: 0 qualify, 1 disqualify, 1 unsure."}, threadReplies(out)); diff != "" {
			t.Errorf("thread replies (-want +got):\n%s", diff)
		}
	})
	t.Run("tie mentions the team lead once", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, triage.Policy{Quorum: 2, Blind: true, Auto: true, TeamLead: teamLead})
		l := h.mustSubmit(t)
		var replies []string
		for _, v := range []struct {
			user string
			c    triage.Choice
		}{{"U1", triage.ChoiceQualify}, {"U2", triage.ChoiceDisqualify}, {"U3", triage.ChoiceUnsure}, {"U4", triage.ChoiceUnsure}} {
			res, out := h.vote(t, l.ID, v.user, v.c)
			if !res.Verdict.Tie && v.user != "U1" {
				t.Errorf("after %s: Verdict = %+v, want a tie", v.user, res.Verdict)
			}
			replies = append(replies, threadReplies(out)...)
		}
		want := []string{"Quorum reached on *L-1* without a majority (1 qualify, 1 disqualify, 0 unsure). <@TEAMLEAD>, your call."}
		if diff := cmp.Diff(want, replies); diff != "" {
			t.Errorf("thread replies (-want +got):\n%s", diff)
		}
		stored, _ := h.store.Lead(ctx, l.ID)
		if stored.Status != triage.StatusPending || stored.Decision != nil {
			t.Errorf("a tie decided the lead: %q %+v", stored.Status, stored.Decision)
		}
		ties := 0
		for _, e := range stored.Events {
			if e.Kind == triage.EventTie {
				ties++
			}
		}
		if ties != 1 {
			t.Errorf("%d tie events, want 1", ties)
		}
	})
	t.Run("decide=lead asks the team lead once", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, triage.Policy{Quorum: 2, Blind: true, TeamLead: teamLead})
		l := h.mustSubmit(t)
		var replies []string
		for _, u := range []string{"U1", "U2", "U3"} {
			_, out := h.vote(t, l.ID, u, triage.ChoiceQualify)
			replies = append(replies, threadReplies(out)...)
		}
		want := []string{"Quorum reached on *L-1* (2 qualify, 0 disqualify, 0 unsure): the vote recommends *qualify*. <@TEAMLEAD>, please decide."}
		if diff := cmp.Diff(want, replies); diff != "" {
			t.Errorf("thread replies (-want +got):\n%s", diff)
		}
		stored, _ := h.store.Lead(ctx, l.ID)
		if stored.Status != triage.StatusPending || stored.Decision != nil {
			t.Errorf("decide=lead decided the lead: %q %+v", stored.Status, stored.Decision)
		}
	})
	t.Run("no team lead configured", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, triage.Policy{Quorum: 1})
		l := h.mustSubmit(t)
		_, out := h.vote(t, l.ID, "U1", triage.ChoiceQualify)
		if diff := cmp.Diff([]string{"Quorum reached on *L-1* (1 qualify, 0 disqualify, 0 unsure): the vote recommends *qualify*. Team lead, please decide."}, threadReplies(out)); diff != "" {
			t.Errorf("thread replies (-want +got):\n%s", diff)
		}
	})
	t.Run("decided lead", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, triage.Policy{Quorum: 1, Auto: true, TeamLead: teamLead})
		l := h.mustSubmit(t)
		h.vote(t, l.ID, "U1", triage.ChoiceQualify)
		before, _ := h.store.Lead(ctx, l.ID)
		wakes := h.wakes.Load()
		for _, u := range []string{"U1", "U2"} {
			_, err := h.svc.Vote(ctx, l.ID, u, triage.ChoiceDisqualify)
			if !errors.Is(err, triage.ErrLeadClosed) {
				t.Errorf("%s: err = %v, want ErrLeadClosed", u, err)
			}
		}
		if out := h.store.Outbox(); len(out) != 0 {
			t.Errorf("queued %v", kindsOf(out))
		}
		if got := h.wakes.Load() - wakes; got != 0 {
			t.Errorf("Wake called %d times", got)
		}
		after, _ := h.store.Lead(ctx, l.ID)
		if diff := cmp.Diff(before, after); diff != "" {
			t.Errorf("lead changed (-before +after):\n%s", diff)
		}
	})
	t.Run("invalid choice", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, blindAuto)
		l := h.mustSubmit(t)
		_, err := h.svc.Vote(ctx, l.ID, "U1", "maybe")
		wantFieldError(t, err, "vote")
		if out := h.store.Outbox(); len(out) != 0 {
			t.Errorf("queued %v", kindsOf(out))
		}
	})
	t.Run("missing lead", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, blindAuto)
		_, err := h.svc.Vote(ctx, 9, "U1", triage.ChoiceQualify)
		if !errors.Is(err, triage.ErrNotFound) || !strings.HasPrefix(err.Error(), "voting on L-9: ") {
			t.Errorf("err = %v, want ErrNotFound wrapped with \"voting on L-9\"", err)
		}
	})
}

// TestService_Vote_Concurrent checks that the once-only notices are decided
// inside the store's transaction: many voters at once still give one
// "please decide" and every vote counts.
func TestService_Vote_Concurrent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const voters = 20
	h := newHarness(t, triage.Policy{Quorum: voters / 2, Blind: true, TeamLead: teamLead})
	l := h.mustSubmit(t)
	var wg sync.WaitGroup
	for i := range voters {
		wg.Go(func() {
			if _, err := h.svc.Vote(ctx, l.ID, fmt.Sprintf("U%d", i), triage.ChoiceQualify); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	out := h.deliver(t)
	if n := len(threadReplies(out)); n != 1 {
		t.Errorf("%d thread replies, want 1: %q", n, threadReplies(out))
	}
	stored, _ := h.store.Lead(ctx, l.ID)
	if len(stored.Votes) != voters {
		t.Errorf("%d votes stored, want %d", len(stored.Votes), voters)
	}
	ephemerals := 0
	for _, it := range out {
		if it.Kind == triage.OutboxEphemeral {
			ephemerals++
		}
	}
	if ephemerals != voters {
		t.Errorf("%d confirmations, want %d", ephemerals, voters)
	}
	if n := h.wakes.Load(); n != voters+1 {
		t.Errorf("Wake called %d times, want %d", n, voters+1)
	}
}

func kindsOf(items []triage.OutboxItem) []string {
	var res []string
	for _, it := range items {
		res = append(res, string(it.Kind))
	}
	return res
}

func TestService_Claim(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("new owner", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, blindAuto)
		l := h.mustSubmit(t)
		got, err := h.svc.Claim(ctx, l.ID, "U1")
		if err != nil {
			t.Fatal(err)
		}
		if got.Owner != "U1" {
			t.Errorf("Owner = %q", got.Owner)
		}
		if last := got.Events[len(got.Events)-1]; last.Kind != triage.EventClaimed || last.By != "U1" {
			t.Errorf("last event = %+v", last)
		}
		want := []triage.OutboxItem{
			{Kind: triage.OutboxUpdateCard, Lead: l.ID, Channel: channel, CreatedAt: now},
			{Kind: triage.OutboxEphemeral, Lead: l.ID, Channel: channel, User: "U1", CreatedAt: now, Text: "You own *L-1* now."},
		}
		if diff := cmp.Diff(want, h.deliver(t), ignoreIDs); diff != "" {
			t.Errorf("queued (-want +got):\n%s", diff)
		}
	})
	t.Run("same owner again", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, blindAuto)
		l := h.mustSubmit(t)
		if _, err := h.svc.Claim(ctx, l.ID, "U1"); err != nil {
			t.Fatal(err)
		}
		h.deliver(t)
		before, _ := h.store.Lead(ctx, l.ID)
		got, err := h.svc.Claim(ctx, l.ID, "U1")
		if err != nil || got.Owner != "U1" {
			t.Fatalf("Claim again = %q, %v", got.Owner, err)
		}
		after, _ := h.store.Lead(ctx, l.ID)
		if diff := cmp.Diff(before, after); diff != "" {
			t.Errorf("lead changed (-before +after):\n%s", diff)
		}
		if out := h.store.Outbox(); len(out) != 0 {
			t.Errorf("queued %v", kindsOf(out))
		}
	})
	t.Run("no wake when nothing was queued", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, blindAuto)
		l := h.mustSubmit(t)
		if _, err := h.svc.Claim(ctx, l.ID, "U1"); err != nil {
			t.Fatal(err)
		}
		wakes := h.wakes.Load()
		if _, err := h.svc.Claim(ctx, l.ID, "U1"); err != nil {
			t.Fatal(err)
		}
		if _, err := h.svc.Claim(ctx, l.ID, "U2"); err == nil {
			t.Fatal("claiming someone else's lead succeeded")
		}
		if got := h.wakes.Load() - wakes; got != 0 {
			t.Errorf("Wake called %d times with nothing queued", got)
		}
	})
	t.Run("someone else's lead", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, blindAuto)
		l := h.mustSubmit(t)
		if _, err := h.svc.Claim(ctx, l.ID, "U1"); err != nil {
			t.Fatal(err)
		}
		h.deliver(t)
		_, err := h.svc.Claim(ctx, l.ID, "U2")
		if !errors.Is(err, triage.ErrAlreadyClaimed) {
			t.Fatalf("err = %v, want ErrAlreadyClaimed", err)
		}
		var ce *triage.ClaimedError
		if !errors.As(err, &ce) || ce.Owner != "U1" || ce.Lead != l.ID {
			t.Errorf("ClaimedError = %+v", ce)
		}
		stored, _ := h.store.Lead(ctx, l.ID)
		if stored.Owner != "U1" {
			t.Errorf("Owner = %q, want U1 kept", stored.Owner)
		}
		if out := h.store.Outbox(); len(out) != 0 {
			t.Errorf("queued %v", kindsOf(out))
		}
	})
	t.Run("disqualified lead", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, triage.Policy{Quorum: 1, Auto: true})
		l := h.mustSubmit(t)
		h.vote(t, l.ID, "U1", triage.ChoiceDisqualify)
		_, err := h.svc.Claim(ctx, l.ID, "U1")
		if !errors.Is(err, triage.ErrLeadClosed) || !strings.HasPrefix(err.Error(), "claiming L-1: ") {
			t.Errorf("err = %v, want ErrLeadClosed wrapped with \"claiming L-1\"", err)
		}
	})
	t.Run("missing lead", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, blindAuto)
		if _, err := h.svc.Claim(ctx, 3, "U1"); !errors.Is(err, triage.ErrNotFound) {
			t.Errorf("err = %v, want ErrNotFound", err)
		}
	})
}

func TestService_Tell(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tests := []struct {
		name           string
		serviceChannel string
		channel, user  string
		want           []triage.OutboxItem
	}{
		{"to the triage channel by default", channel, "", "U1",
			[]triage.OutboxItem{{Kind: triage.OutboxEphemeral, Channel: channel, User: "U1", Text: "hi", CreatedAt: now}}},
		{"to the given channel", channel, "CDM", "U1",
			[]triage.OutboxItem{{Kind: triage.OutboxEphemeral, Channel: "CDM", User: "U1", Text: "hi", CreatedAt: now}}},
		{"nobody to tell", channel, "CDM", "", nil},
		{"nowhere to tell", "", "", "U1", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, blindAuto)
			h.svc.Channel = tt.serviceChannel
			if err := h.svc.Tell(ctx, tt.channel, tt.user, "hi"); err != nil {
				t.Fatal(err)
			}
			out := h.store.Outbox()
			if diff := cmp.Diff(tt.want, out, ignoreIDs); diff != "" {
				t.Errorf("queued (-want +got):\n%s", diff)
			}
			if got, want := h.wakes.Load(), int32(len(tt.want)); got != want {
				t.Errorf("Wake called %d times, want %d", got, want)
			}
		})
	}
}

func TestService_Leads(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := newHarness(t, triage.Policy{Quorum: 1, Auto: true})
	a := h.mustSubmit(t)
	in := input()
	in.Company = "Beta"
	b, _, err := h.svc.Submit(ctx, in, triage.Submission{Via: "csv"})
	if err != nil {
		t.Fatal(err)
	}
	h.vote(t, a.ID, "U1", triage.ChoiceQualify)
	ids := func(status triage.Status) []triage.LeadID {
		t.Helper()
		leads, err := h.svc.Leads(ctx, status)
		if err != nil {
			t.Fatalf("Leads(%q): %v", status, err)
		}
		var res []triage.LeadID
		for _, l := range leads {
			res = append(res, l.ID)
		}
		return res
	}
	if diff := cmp.Diff([]triage.LeadID{a.ID, b.ID}, ids("")); diff != "" {
		t.Errorf("all (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]triage.LeadID{b.ID}, ids(triage.StatusPending)); diff != "" {
		t.Errorf("pending (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]triage.LeadID{a.ID}, ids(triage.StatusQualified)); diff != "" {
		t.Errorf("qualified (-want +got):\n%s", diff)
	}
	_, err = h.svc.Leads(ctx, "bogus")
	wantFieldError(t, err, "status")
	got, err := h.svc.Lead(ctx, b.ID)
	if err != nil || got.Company != "Beta" {
		t.Errorf("Lead(%s) = %q, %v", b.ID, got.Company, err)
	}
	if _, err := h.svc.Lead(ctx, 99); !errors.Is(err, triage.ErrNotFound) {
		t.Errorf("Lead(99) err = %v, want ErrNotFound", err)
	}
}

func TestService_StoreFailure(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	diskFull := errors.New("write /data/leadtriage.db: no space left on device")
	tests := []struct {
		name   string
		inject func(*triagetest.Store)
		call   func(*harness, triage.LeadID) error
		prefix string
	}{
		{"Submit", func(s *triagetest.Store) {
			s.CreateLeadFn = func(context.Context, triage.Lead, triage.Idempotency, []triage.OutboxItem) error { return diskFull }
		}, func(h *harness, _ triage.LeadID) error {
			_, _, err := h.svc.Submit(ctx, input(), triage.Submission{Via: "webhook", IdempotencyKey: "other"})
			return err
		}, "storing lead: "},
		{"Vote", func(s *triagetest.Store) {
			s.UpdateLeadFn = func(context.Context, triage.LeadID) error { return diskFull }
		}, func(h *harness, id triage.LeadID) error {
			_, err := h.svc.Vote(ctx, id, "U1", triage.ChoiceQualify)
			return err
		}, "voting on L-1: "},
		{"Vote again answers through the outbox", func(s *triagetest.Store) {
			s.EnqueueFn = func(context.Context, ...triage.OutboxItem) error { return diskFull }
		}, func(h *harness, id triage.LeadID) error {
			_, err := h.svc.Vote(ctx, id, "U9", triage.ChoiceUnsure)
			return err
		}, "queueing a reply to U9: "},
		{"Claim", func(s *triagetest.Store) {
			s.UpdateLeadFn = func(context.Context, triage.LeadID) error { return diskFull }
		}, func(h *harness, id triage.LeadID) error {
			_, err := h.svc.Claim(ctx, id, "U1")
			return err
		}, "claiming L-1: "},
		{"Tell", func(s *triagetest.Store) {
			s.EnqueueFn = func(context.Context, ...triage.OutboxItem) error { return diskFull }
		}, func(h *harness, _ triage.LeadID) error {
			return h.svc.Tell(ctx, "", "U1", "hi")
		}, "queueing a reply to U1: "},
		{"store full", func(s *triagetest.Store) {
			s.UpdateLeadFn = func(context.Context, triage.LeadID) error { return triage.ErrStoreFull }
		}, func(h *harness, id triage.LeadID) error {
			_, err := h.svc.Vote(ctx, id, "U1", triage.ChoiceQualify)
			return err
		}, "voting on L-1: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, blindAuto)
			l := h.mustSubmit(t)
			h.vote(t, l.ID, "U9", triage.ChoiceUnsure)
			before, _ := h.store.Lead(ctx, l.ID)
			wakes := h.wakes.Load()
			tt.inject(h.store)
			err := tt.call(h, l.ID)
			if err == nil {
				t.Fatal("no error")
			}
			if !errors.Is(err, diskFull) && !errors.Is(err, triage.ErrStoreFull) {
				t.Errorf("err = %v, want the store's error wrapped", err)
			}
			if !strings.HasPrefix(err.Error(), tt.prefix) {
				t.Errorf("err = %q, want it to start with %q", err, tt.prefix)
			}
			if !triage.IsInternal(err) {
				t.Error("IsInternal = false")
			}
			if out := h.store.Outbox(); len(out) != 0 {
				t.Errorf("queued %v", kindsOf(out))
			}
			if got := h.wakes.Load() - wakes; got != 0 {
				t.Errorf("Wake called %d times", got)
			}
			after, _ := h.store.Lead(ctx, l.ID)
			if diff := cmp.Diff(before, after); diff != "" {
				t.Errorf("lead changed (-before +after):\n%s", diff)
			}
		})
	}
}
