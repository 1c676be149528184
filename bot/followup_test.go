package bot

// White-box: the Snooze buttons go through handleInteraction like every
// other button, without a transport.

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/leadtriage/leadtriage/triage"
)

func TestBot_SnoozeButtons(t *testing.T) {
	t.Parallel()
	ams, err := time.LoadLocation("Europe/Amsterdam")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		action string
		loc    *time.Location
		until  time.Time
		told   string
	}{
		// dispatchNow is Sat 28 Nov 10:00 UTC, 11:00 in Amsterdam.
		{actionSnoozeDay, ams, dispatchNow.Add(24 * time.Hour), "Snoozed *L-1* until Sun 29 Nov 11:00."},
		{actionSnoozeWeek, nil, dispatchNow.Add(7 * 24 * time.Hour), "Snoozed *L-1* until Sat 5 Dec 10:00."},
	} {
		t.Run(tt.action, func(t *testing.T) {
			t.Parallel()
			f := newDispatchFixture(t, false)
			f.bot.cfg.Location = tt.loc
			f.bot.handleInteraction(t.Context(), click("UALICE", dispatchChannel, tt.action, f.lead.ID.String()))

			l, err := f.db.Lead(t.Context(), f.lead.ID)
			if err != nil {
				t.Fatal(err)
			}
			if !l.Reminder.SnoozedUntil.Equal(tt.until) {
				t.Errorf("snoozed until %v, want %v", l.Reminder.SnoozedUntil, tt.until)
			}
			if diff := cmp.Diff([]string{dispatchChannel + ": " + tt.told}, f.told(t, "UALICE")); diff != "" {
				t.Errorf("confirmation (-want +got):\n%s", diff)
			}
			// Snoozed: nothing is due until the snooze ends.
			fu := triage.FollowUp{After: time.Hour}
			if due := triage.DueStages(l, fu, tt.until.Add(-time.Minute)); len(due) != 0 {
				t.Errorf("due while snoozed: %v", due)
			}
		})
	}
}

func TestBot_SnoozeButtons_Refused(t *testing.T) {
	t.Parallel()
	t.Run("Decided", func(t *testing.T) {
		t.Parallel()
		f := newDispatchFixture(t, false)
		if _, err := f.bot.svc.DecideByHand(t.Context(), f.lead.ID, "ULEAD", triage.DecisionInput{Outcome: triage.StatusDisqualified, Reason: "No budget"}); err != nil {
			t.Fatal(err)
		}
		f.bot.handleInteraction(t.Context(), click("UALICE", dispatchChannel, actionSnoozeDay, f.lead.ID.String()))
		assertNotSnoozed(t, f, f.lead.ID)
		if told := f.told(t, "UALICE"); len(told) != 1 || strings.Contains(told[0], "Snoozed") {
			t.Errorf("told = %q, want one refusal", told)
		}
	})
	t.Run("BadValue", func(t *testing.T) {
		t.Parallel()
		f := newDispatchFixture(t, false)
		f.bot.handleInteraction(t.Context(), click("UALICE", dispatchChannel, actionSnoozeWeek, "<!channel>"))
		assertNotSnoozed(t, f, f.lead.ID)
		told := f.told(t, "UALICE")
		if len(told) != 1 || strings.Contains(told[0], "<!channel>") {
			t.Errorf("told = %q, want one escaped refusal", told)
		}
	})
	t.Run("UnknownSnooze", func(t *testing.T) {
		t.Parallel()
		f := newDispatchFixture(t, false)
		f.bot.handleInteraction(t.Context(), click("UALICE", dispatchChannel, actionSnoozePrefix+"year", f.lead.ID.String()))
		assertNotSnoozed(t, f, f.lead.ID)
		if told := f.told(t, "UALICE"); len(told) != 0 {
			t.Errorf("told = %q, want nothing", told)
		}
	})
	t.Run("Access", func(t *testing.T) {
		t.Parallel()
		f := newDispatchFixture(t, false)
		f.bot.cfg.Access = Access{Users: []string{"UFRIEND"}}
		f.bot.handleInteraction(t.Context(), click("USTRANGER", dispatchChannel, actionSnoozeDay, f.lead.ID.String()))
		assertNotSnoozed(t, f, f.lead.ID)
		if told := f.told(t, "USTRANGER"); len(told) != 1 || !strings.Contains(told[0], "not on the list") {
			t.Errorf("told = %q, want the access refusal", told)
		}
	})
}

func assertNotSnoozed(t *testing.T, f *dispatchFixture, id triage.LeadID) {
	t.Helper()
	l, err := f.db.Lead(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	if !l.Reminder.SnoozedUntil.IsZero() {
		t.Errorf("lead snoozed until %v, want not snoozed", l.Reminder.SnoozedUntil)
	}
}

func TestRenderReminder(t *testing.T) {
	t.Parallel()
	text, blocks := renderReminder(triage.LeadID(7), "*L-7* has waited 4h. Not voted yet: <@UALICE>.")
	if text != "*L-7* has waited 4h. Not voted yet: <@UALICE>." {
		t.Errorf("fallback = %q", text)
	}
	if diff := cmp.Diff([]string{actionSnoozeDay + "=L-7", actionSnoozeWeek + "=L-7"}, actionIDs(blocks)); diff != "" {
		t.Errorf("action ids and values (-want +got):\n%s", diff)
	}
}
