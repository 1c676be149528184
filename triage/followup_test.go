package triage_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/leadtriage/leadtriage/triage"
	"github.com/leadtriage/leadtriage/triage/triagetest"
)

// followUpConfig is config.toml's [reminders] default with a team of three.
func followUpConfig(t testing.TB) triage.FollowUp {
	return triage.FollowUp{
		After:         4 * time.Hour,
		EscalateAfter: 24 * time.Hour,
		Hours:         mustHours(t, "09:00-17:30", "Mon-Fri", "Europe/Amsterdam"),
		Team:          []string{"U1", "U2", "U3"},
		TeamLead:      teamLead,
	}
}

func TestDueStages(t *testing.T) {
	t.Parallel()
	ams := mustLoad(t, "Europe/Amsterdam")
	f := followUpConfig(t)
	// Monday 30 November 2026, 09:00 in Amsterdam.
	mon := time.Date(2026, 11, 30, 9, 0, 0, 0, ams)
	open := triage.Lead{ID: 3, Status: triage.StatusPending, CreatedAt: mon}
	with := func(change func(*triage.Lead)) triage.Lead {
		l := open
		change(&l)
		return l
	}
	remind := []triage.Stage{triage.StageRemind}
	escalate := []triage.Stage{triage.StageEscalate}
	both := []triage.Stage{triage.StageRemind, triage.StageEscalate}
	// 24h of business time after Monday 09:00 is Wednesday 16:00.
	wed16 := time.Date(2026, 12, 2, 16, 0, 0, 0, ams)
	tests := []struct {
		name string
		lead triage.Lead
		f    func(*triage.FollowUp)
		now  time.Time
		want []triage.Stage
	}{
		{name: "fresh", lead: open, now: mon.Add(time.Hour)},
		{name: "a minute before After", lead: open, now: mon.Add(4*time.Hour - time.Minute)},
		{name: "at After", lead: open, now: mon.Add(4 * time.Hour), want: remind},
		{name: "created Friday afternoon: the weekend does not count", lead: with(func(l *triage.Lead) { l.CreatedAt = mon.Add(-3*24*time.Hour + 7*time.Hour) }),
			now: mon.Add(2*time.Hour + 29*time.Minute)},
		{name: "created Friday afternoon: due Monday 11:30", lead: with(func(l *triage.Lead) { l.CreatedAt = mon.Add(-3*24*time.Hour + 7*time.Hour) }),
			now: mon.Add(2*time.Hour + 30*time.Minute), want: remind},
		{name: "around the clock: the weekend counts", lead: with(func(l *triage.Lead) { l.CreatedAt = mon.Add(-2 * 24 * time.Hour) }),
			f: func(f *triage.FollowUp) { f.Hours = triage.BusinessHours{} }, now: mon, want: both},
		{name: "escalation due at 24h of business time", lead: with(func(l *triage.Lead) { l.Reminder.Reminded = mon.Add(4 * time.Hour) }),
			now: wed16, want: escalate},
		{name: "a minute before escalation", lead: with(func(l *triage.Lead) { l.Reminder.Reminded = mon.Add(4 * time.Hour) }),
			now: wed16.Add(-time.Minute)},
		{name: "both due after downtime", lead: open, now: wed16.Add(time.Hour), want: both},
		{name: "reminded: nothing until escalation", lead: with(func(l *triage.Lead) { l.Reminder.Reminded = mon.Add(4 * time.Hour) }),
			now: mon.Add(6 * time.Hour)},
		{name: "escalated: nothing more", lead: with(func(l *triage.Lead) {
			l.Reminder.Reminded, l.Reminder.Escalated = mon.Add(4*time.Hour), wed16
		}), now: wed16.Add(30 * 24 * time.Hour)},
		{name: "claimed: none", lead: with(func(l *triage.Lead) { l.Owner = "U1" }), now: wed16.Add(time.Hour)},
		{name: "decided: none", lead: with(func(l *triage.Lead) {
			l.Status = triage.StatusQualified
			l.Decision = &triage.Decision{Outcome: triage.StatusQualified, At: mon}
		}), now: wed16.Add(time.Hour)},
		{name: "votes alone do not stop it", lead: with(func(l *triage.Lead) { l.Votes = map[string]triage.Choice{"U1": triage.ChoiceQualify} }),
			now: mon.Add(4 * time.Hour), want: remind},
		{name: "snoozed: none", lead: with(func(l *triage.Lead) { l.Reminder.SnoozedUntil = wed16.Add(2 * time.Hour) }), now: wed16.Add(time.Hour)},
		{name: "snooze over: what came due is due", lead: with(func(l *triage.Lead) { l.Reminder.SnoozedUntil = wed16.Add(2 * time.Hour) }),
			now: wed16.Add(2 * time.Hour), want: both},
		{name: "snooze over, reminded before: the postponed escalation", lead: with(func(l *triage.Lead) {
			l.Reminder.Reminded, l.Reminder.SnoozedUntil = mon.Add(4*time.Hour), wed16.Add(2*time.Hour)
		}), now: wed16.Add(3 * time.Hour), want: escalate},
		{name: "no team lead: no escalation", lead: with(func(l *triage.Lead) { l.Reminder.Reminded = mon.Add(4 * time.Hour) }),
			f: func(f *triage.FollowUp) { f.TeamLead = "" }, now: wed16.Add(time.Hour)},
		{name: "EscalateAfter 0: no escalation", lead: open, f: func(f *triage.FollowUp) { f.EscalateAfter = 0 }, now: wed16.Add(time.Hour), want: remind},
		{name: "After 0: escalation only", lead: open, f: func(f *triage.FollowUp) { f.After = 0 }, now: wed16.Add(time.Hour), want: escalate},
		{name: "reopened: a new round starts at the reopen", lead: with(func(l *triage.Lead) {
			l.Reminder.Reminded, l.Reminder.Escalated = mon.Add(4*time.Hour), wed16
			l.Events = []triage.Event{{At: mon.Add(3 * 24 * time.Hour), Kind: triage.EventReopened}}
		}), now: mon.Add(3*24*time.Hour + 4*time.Hour), want: remind},
		{name: "reopened: not before After in the new round", lead: with(func(l *triage.Lead) {
			l.Reminder.Reminded, l.Reminder.Escalated = mon.Add(4*time.Hour), wed16
			l.Events = []triage.Event{{At: mon.Add(3 * 24 * time.Hour), Kind: triage.EventReopened}}
		}), now: mon.Add(3*24*time.Hour + time.Hour)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := f
			f.Team = append([]string(nil), f.Team...)
			if tt.f != nil {
				tt.f(&f)
			}
			got := triage.DueStages(tt.lead, f, tt.now)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("DueStages at %v (-want +got):\n%s", tt.now.In(ams), diff)
			}
		})
	}
}

// followUpHarness has one pending lead, created Monday 30 November 2026 at
// 09:00 in Amsterdam, with its card posted.
func followUpHarness(t *testing.T) (*harness, triage.Lead) {
	t.Helper()
	h := newHarness(t, triage.Policy{Quorum: 2, Blind: false, Auto: true, TeamLead: teamLead})
	h.clock.Set(time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC))
	l := h.mustSubmit(t)
	return h, l
}

func TestService_SweepReminders(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h, l := followUpHarness(t)
	f := followUpConfig(t)
	if _, err := h.svc.Vote(ctx, l.ID, "U2", triage.ChoiceQualify); err != nil {
		t.Fatal(err)
	}
	h.deliver(t)
	start := h.clock.Now()
	type sweep struct {
		at       time.Duration // after the lead was created (wall time)
		want     triage.SweepResult
		wantKind []string
	}
	id := []triage.LeadID{l.ID}
	sweeps := []sweep{
		{at: time.Hour, want: triage.SweepResult{}},
		{at: 4 * time.Hour, want: triage.SweepResult{Reminded: id}, wantKind: []string{"reminder"}},
		{at: 4*time.Hour + time.Minute, want: triage.SweepResult{}},
		{at: 5 * time.Hour, want: triage.SweepResult{}},
		{at: 24 * time.Hour, want: triage.SweepResult{}},                                                          // Tuesday 09:00: 8.5h of business time
		{at: 2*24*time.Hour + 7*time.Hour, want: triage.SweepResult{Escalated: id}, wantKind: []string{"direct"}}, // Wednesday 16:00
		{at: 2*24*time.Hour + 7*time.Hour, want: triage.SweepResult{}},
		{at: 10 * 24 * time.Hour, want: triage.SweepResult{}},
	}
	for _, sw := range sweeps {
		now := start.Add(sw.at)
		h.clock.Set(now)
		got, err := h.svc.SweepReminders(ctx, f, now)
		if err != nil {
			t.Fatalf("sweep at +%v: %v", sw.at, err)
		}
		if diff := cmp.Diff(sw.want, got); diff != "" {
			t.Errorf("sweep at +%v (-want +got):\n%s", sw.at, diff)
		}
		if diff := cmp.Diff(sw.wantKind, kindsOf(h.deliver(t))); diff != "" {
			t.Errorf("sweep at +%v queued (-want +got):\n%s", sw.at, diff)
		}
	}
	stored := h.stored(t, l.ID)
	if len(eventsOf(stored, triage.EventReminded)) != 1 || len(eventsOf(stored, triage.EventEscalated)) != 1 {
		t.Errorf("events = %+v; want one reminded and one escalated", stored.Events)
	}
	if want := (triage.ReminderState{Reminded: start.Add(4 * time.Hour), Escalated: start.Add(2*24*time.Hour + 7*time.Hour)}); stored.Reminder != want {
		t.Errorf("Reminder = %+v, want %+v", stored.Reminder, want)
	}
}

func TestService_SweepReminders_Messages(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := newHarness(t, triage.Policy{Quorum: 3, Blind: true, Auto: true, TeamLead: teamLead})
	created := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC) // 09:00 in Amsterdam
	h.clock.Set(created)
	in := input()
	in.Company = "Acme <!channel> & *Co*"
	l, _, err := h.svc.Submit(ctx, in, triage.Submission{Via: "webhook"})
	if err != nil {
		t.Fatal(err)
	}
	h.deliver(t)
	for _, u := range []string{"U2", "U9"} {
		if _, err := h.svc.Vote(ctx, l.ID, u, triage.ChoiceQualify); err != nil {
			t.Fatal(err)
		}
	}
	h.deliver(t)
	f := followUpConfig(t)
	now := created.Add(3*24*time.Hour + 30*time.Minute) // Thursday 09:30: both due
	h.clock.Set(now)
	if _, err := h.svc.SweepReminders(ctx, f, now); err != nil {
		t.Fatal(err)
	}
	want := []triage.OutboxItem{
		{Kind: triage.OutboxReminder, Lead: l.ID, Channel: channel, CreatedAt: now,
			Text: "*L-1* has waited 26h (business hours) without a claim or a decision. Not voted yet: <@U1>, <@U3>."},
		{Kind: triage.OutboxDirect, Lead: l.ID, User: teamLead, CreatedAt: now,
			Text: "*L-1* (Acme &lt;!channel&gt; &amp; *Co*) has waited 26h (business hours) without a decision. Votes so far: 2 (hidden until the quorum). Not voted yet: <@U1>, <@U3>."},
	}
	if diff := cmp.Diff(want, h.deliver(t), ignoreIDs); diff != "" {
		t.Errorf("queued (-want +got):\n%s", diff)
	}
	stored := h.stored(t, l.ID)
	if got := eventsOf(stored, triage.EventReminded); len(got) != 1 || got[0].Detail != "not voted: U1, U3" {
		t.Errorf("reminded events = %+v", got)
	}
	if got := eventsOf(stored, triage.EventEscalated); len(got) != 1 || got[0].Detail != "told "+teamLead+"; not voted: U1, U3" {
		t.Errorf("escalated events = %+v", got)
	}
	if h.wakes.Load() == 0 {
		t.Error("the sweep did not wake the worker")
	}

	t.Run("NoTeamAroundTheClock", func(t *testing.T) {
		t.Parallel()
		h, l := followUpHarness(t)
		f := triage.FollowUp{After: 4 * time.Hour}
		now := l.CreatedAt.Add(4 * time.Hour)
		if _, err := h.svc.SweepReminders(ctx, f, now); err != nil {
			t.Fatal(err)
		}
		want := []string{"*L-1* has waited 4h without a claim or a decision. Who takes it? Claim it or vote."}
		var got []string
		for _, it := range h.deliver(t) {
			got = append(got, said(it))
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
	t.Run("EveryoneVoted", func(t *testing.T) {
		t.Parallel()
		h, l := followUpHarness(t)
		f := triage.FollowUp{After: 4 * time.Hour, Team: []string{"U1"}}
		if _, err := h.svc.Vote(ctx, l.ID, "U1", triage.ChoiceUnsure); err != nil {
			t.Fatal(err)
		}
		h.deliver(t)
		if _, err := h.svc.SweepReminders(ctx, f, l.CreatedAt.Add(4*time.Hour)); err != nil {
			t.Fatal(err)
		}
		due := h.deliver(t)
		if len(due) != 1 || !strings.HasSuffix(said(due[0]), "Everyone has voted: who takes it? Claim it or decide.") {
			t.Errorf("queued %+v", due)
		}
	})
}

// Only pending leads are read: a decided lead's state is never looked at.
func TestService_SweepReminders_ReadsPendingOnly(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h, l := followUpHarness(t)
	var filters []triage.LeadFilter
	counting := &filterSpy{Store: h.store, filters: &filters}
	svc := &triage.Service{Store: counting, Policy: h.svc.Policy, Channel: channel, Now: h.clock.Now}
	if _, err := svc.SweepReminders(ctx, followUpConfig(t), l.CreatedAt.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]triage.LeadFilter{{Status: triage.StatusPending}}, filters); diff != "" {
		t.Errorf("Leads filters (-want +got):\n%s", diff)
	}
}

// submitCompany submits another lead and delivers its card.
func submitCompany(t *testing.T, h *harness, company string) triage.Lead {
	t.Helper()
	in := input()
	in.Company, in.Email, in.Website = company, "info@"+strings.ToLower(company)+".example", strings.ToLower(company)+".example"
	l, created, err := h.svc.Submit(context.Background(), in, triage.Submission{Via: "webhook"})
	if err != nil || !created {
		t.Fatalf("Submit(%s) = %v, %v", company, created, err)
	}
	h.deliver(t)
	return h.stored(t, l.ID)
}

type filterSpy struct {
	*triagetest.Store
	filters *[]triage.LeadFilter
}

func (s *filterSpy) Leads(ctx context.Context, f triage.LeadFilter) ([]triage.Lead, error) {
	*s.filters = append(*s.filters, f)
	return s.Store.Leads(ctx, f)
}

// The due-ness is checked again inside the transaction: a sweep that read
// the lead before another sweep recorded the stage sends nothing.
func TestService_SweepReminders_RecheckInTransaction(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h, l := followUpHarness(t)
	f := followUpConfig(t)
	now := l.CreatedAt.Add(4 * time.Hour)
	// A concurrent sweep gets in between this sweep's read and its update.
	h.store.UpdateLeadFn = func(ctx context.Context, id triage.LeadID) error {
		h.store.UpdateLeadFn = nil
		if _, err := h.svc.SweepReminders(ctx, f, now); err != nil {
			t.Errorf("inner sweep: %v", err)
		}
		return nil
	}
	res, err := h.svc.SweepReminders(ctx, f, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Reminded) != 0 {
		t.Errorf("outer sweep reminded %v; the inner one did already", res.Reminded)
	}
	if got := kindsOf(h.deliver(t)); !cmp.Equal(got, []string{"reminder"}) {
		t.Errorf("queued %v, want one reminder", got)
	}
}

func TestService_SweepReminders_ErrorsDoNotStopTheSweep(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h, l := followUpHarness(t)
	second := submitCompany(t, h, "Globex")
	boom := errors.New("disk full")
	h.store.UpdateLeadFn = func(ctx context.Context, id triage.LeadID) error {
		if id == l.ID {
			return boom
		}
		return nil
	}
	res, err := h.svc.SweepReminders(ctx, followUpConfig(t), l.CreatedAt.Add(4*time.Hour))
	if !errors.Is(err, boom) {
		t.Errorf("err = %v, want %v", err, boom)
	}
	if diff := cmp.Diff([]triage.LeadID{second.ID}, res.Reminded); diff != "" {
		t.Errorf("Reminded (-want +got):\n%s", diff)
	}
}

func TestService_Snooze(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := followUpConfig(t)

	t.Run("HoldsOffTheReminder", func(t *testing.T) {
		t.Parallel()
		h, l := followUpHarness(t)
		// Monday 30 November 2026 09:00 in Amsterdam + 1 day.
		got, err := h.svc.Snooze(ctx, l.ID, "U1", 24*time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		until := l.CreatedAt.Add(24 * time.Hour)
		if !got.Reminder.SnoozedUntil.Equal(until) {
			t.Errorf("SnoozedUntil = %v, want %v", got.Reminder.SnoozedUntil, until)
		}
		want := []triage.OutboxItem{
			{Kind: triage.OutboxUpdateCard, Lead: l.ID, Channel: channel, CreatedAt: l.CreatedAt},
			{Kind: triage.OutboxEphemeral, Lead: l.ID, Channel: channel, User: "U1", CreatedAt: l.CreatedAt, Text: "Snoozed *L-1* until Tue 1 Dec 09:00."},
		}
		if diff := cmp.Diff(want, h.deliver(t), ignoreIDs); diff != "" {
			t.Errorf("queued (-want +got):\n%s", diff)
		}
		if ev := eventsOf(h.stored(t, l.ID), triage.EventSnoozed); len(ev) != 1 || ev[0].By != "U1" {
			t.Errorf("snoozed events = %+v", ev)
		}
		// The reminder, due Monday 13:00, waits for the snooze to end.
		for _, at := range []time.Duration{4 * time.Hour, 24*time.Hour - time.Minute} {
			if res, err := h.svc.SweepReminders(ctx, f, l.CreatedAt.Add(at)); err != nil || len(res.Reminded) != 0 {
				t.Errorf("sweep at +%v while snoozed = %+v, %v", at, res, err)
			}
		}
		if res, err := h.svc.SweepReminders(ctx, f, until); err != nil || len(res.Reminded) != 1 {
			t.Errorf("sweep when the snooze ends = %+v, %v; want the reminder", res, err)
		}
	})
	t.Run("KeepsALongerSnooze", func(t *testing.T) {
		t.Parallel()
		h, l := followUpHarness(t)
		if _, err := h.svc.Snooze(ctx, l.ID, "U1", 7*24*time.Hour); err != nil {
			t.Fatal(err)
		}
		h.deliver(t)
		got, err := h.svc.Snooze(ctx, l.ID, "U2", 24*time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if want := l.CreatedAt.Add(7 * 24 * time.Hour); !got.Reminder.SnoozedUntil.Equal(want) {
			t.Errorf("SnoozedUntil = %v, want the longer %v", got.Reminder.SnoozedUntil, want)
		}
		due := h.deliver(t)
		if len(due) != 1 || said(due[0]) != "*L-1* is already snoozed until Mon 7 Dec 09:00." || due[0].User != "U2" {
			t.Errorf("queued %+v; want one note to U2", due)
		}
		if ev := eventsOf(h.stored(t, l.ID), triage.EventSnoozed); len(ev) != 1 {
			t.Errorf("snoozed events = %+v; want the first only", ev)
		}
	})
	t.Run("FieldErrorOutOfRange", func(t *testing.T) {
		t.Parallel()
		h, l := followUpHarness(t)
		for _, d := range []time.Duration{0, 59 * time.Minute, 31 * 24 * time.Hour, -time.Hour} {
			_, err := h.svc.Snooze(ctx, l.ID, "U1", d)
			var fe *triage.FieldError
			if !errors.As(err, &fe) || fe.Field != "snooze" {
				t.Errorf("Snooze(%v) err = %v, want a FieldError on snooze", d, err)
			}
		}
		if due := h.deliver(t); len(due) != 0 {
			t.Errorf("queued %+v", due)
		}
	})
	t.Run("ErrLeadClosed", func(t *testing.T) {
		t.Parallel()
		h, l := followUpHarness(t)
		for _, u := range []string{"U1", "U2"} {
			h.vote(t, l.ID, u, triage.ChoiceQualify)
		}
		if _, err := h.svc.Snooze(ctx, l.ID, "U1", time.Hour); !errors.Is(err, triage.ErrLeadClosed) {
			t.Errorf("err = %v, want ErrLeadClosed", err)
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		t.Parallel()
		h, _ := followUpHarness(t)
		if _, err := h.svc.Snooze(ctx, 99, "U1", time.Hour); !errors.Is(err, triage.ErrNotFound) {
			t.Errorf("err = %v, want ErrNotFound", err)
		}
	})
}
