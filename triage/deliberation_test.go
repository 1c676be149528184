package triage_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/leadtriage/leadtriage/triage"
)

// deliberate is a policy with every issue-4 feature switched on.
var deliberate = triage.Policy{
	Quorum: 3, Blind: true, Auto: true, TeamLead: teamLead,
	Criteria:      criteria,
	Reasons:       []string{"Budget too small", "Outside our region", "Spam"},
	Partners:      []triage.Partner{partner},
	DissentPrompt: true,
}

// answer answers as user and returns the lead and what was queued.
func (h *harness) answer(t *testing.T, id triage.LeadID, user string, kv ...string) (triage.Lead, []triage.OutboxItem) {
	t.Helper()
	var as []triage.ParsedAnswer
	for i := 0; i < len(kv); i += 2 {
		as = append(as, triage.ParsedAnswer{Criterion: kv[i], Value: kv[i+1]})
	}
	l, err := h.svc.Answer(context.Background(), id, user, as)
	if err != nil {
		t.Fatalf("Answer(%s, %s, %v): %v", id, user, kv, err)
	}
	return l, h.deliver(t)
}

func (h *harness) stored(t *testing.T, id triage.LeadID) triage.Lead {
	t.Helper()
	l, err := h.store.Lead(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// setResearch gives a lead research flags, as a finished research run would.
func (h *harness) setResearch(t *testing.T, id triage.LeadID, codes ...string) {
	t.Helper()
	if _, err := h.store.UpdateLead(context.Background(), id, func(l *triage.Lead) ([]triage.OutboxItem, error) {
		l.Research.At = now
		for _, c := range codes {
			l.Research.Flags = append(l.Research.Flags, triage.Flag{Code: c, Source: "test"})
		}
		return nil, nil
	}); err != nil {
		t.Fatal(err)
	}
}

func eventsOf(l triage.Lead, kind string) []triage.Event {
	var res []triage.Event
	for _, e := range l.Events {
		if e.Kind == kind {
			res = append(res, e)
		}
	}
	return res
}

func TestService_Submit_Checklist(t *testing.T) {
	t.Parallel()
	h := newHarness(t, deliberate)
	if _, _, err := h.svc.Submit(context.Background(), input(), triage.Submission{Via: "webhook"}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"post_card", "post_checklist"}, kindsOf(h.store.Outbox())); diff != "" {
		t.Errorf("queued (-want +got):\n%s", diff)
	}
}

func TestService_Answer(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("kept per person, the latest is the value", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, deliberate)
		l := h.mustSubmit(t)
		wakes := h.wakes.Load()
		_, out := h.answer(t, l.ID, "U1", "budget", "yes", "fit", "4")
		want := []triage.OutboxItem{
			{Kind: triage.OutboxUpdateChecklist, Lead: l.ID, Channel: channel, CreatedAt: now},
			{Kind: triage.OutboxUpdateCard, Lead: l.ID, Channel: channel, CreatedAt: now},
		}
		if diff := cmp.Diff(want, out, ignoreIDs); diff != "" {
			t.Errorf("queued (-want +got):\n%s", diff)
		}
		if got := h.wakes.Load() - wakes; got != 1 {
			t.Errorf("Wake called %d times, want 1", got)
		}
		h.clock.Advance(time.Minute)
		later := h.clock.Now()
		got, _ := h.answer(t, l.ID, "U2", "budget", "no")
		yes1 := triage.Answer{Value: "yes", By: "U1", At: now}
		no2 := triage.Answer{Value: "no", By: "U2", At: later}
		if diff := cmp.Diff(map[string]triage.Answer{"budget": no2, "fit": {Value: "4", By: "U1", At: now}}, got.Answers); diff != "" {
			t.Errorf("Answers (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(map[string]map[string]triage.Answer{
			"budget": {"U1": yes1, "U2": no2},
			"fit":    {"U1": {Value: "4", By: "U1", At: now}},
		}, got.AnswersBy); diff != "" {
			t.Errorf("AnswersBy (-want +got):\n%s", diff)
		}
		wantEvents := []triage.Event{
			{At: now, Kind: triage.EventAnswered, By: "U1", Detail: "budget: yes"},
			{At: now, Kind: triage.EventAnswered, By: "U1", Detail: "fit: 4"},
			{At: later, Kind: triage.EventAnswered, By: "U2", Detail: "budget: no"},
		}
		if diff := cmp.Diff(wantEvents, eventsOf(got, triage.EventAnswered)); diff != "" {
			t.Errorf("answered events (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(got, h.stored(t, l.ID)); diff != "" {
			t.Errorf("stored lead differs from the result (-result +stored):\n%s", diff)
		}
		if d := triage.EvaluateCriteria(&got, deliberate.Criteria).Disagree["budget"]; !slices.Equal(d, []triage.AnswerCount{{"no", 1}, {"yes", 1}}) {
			t.Errorf("Disagree[budget] = %v", d)
		}
		// Changing one's mind replaces one's own answer only.
		got, _ = h.answer(t, l.ID, "U1", "budget", "no")
		if n := len(got.AnswersBy["budget"]); n != 2 || got.Answers["budget"].By != "U1" {
			t.Errorf("after U1 changed: AnswersBy = %v, Answers = %v", got.AnswersBy["budget"], got.Answers["budget"])
		}
	})
	t.Run("unchanged answer is a no-op", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, deliberate)
		l := h.mustSubmit(t)
		h.answer(t, l.ID, "U1", "budget", "yes")
		before := h.stored(t, l.ID)
		wakes := h.wakes.Load()
		h.clock.Advance(time.Hour)
		got, out := h.answer(t, l.ID, "U1", "budget", "yes")
		if len(out) != 0 {
			t.Errorf("queued %v", kindsOf(out))
		}
		if diff := cmp.Diff(before, got); diff != "" {
			t.Errorf("lead changed (-before +after):\n%s", diff)
		}
		if n := h.wakes.Load() - wakes; n != 0 {
			t.Errorf("Wake called %d times", n)
		}
	})
	t.Run("no answers", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, deliberate)
		l := h.mustSubmit(t)
		got, out := h.answer(t, l.ID, "U1")
		if got.ID != l.ID || len(out) != 0 {
			t.Errorf("Answer with nothing = %v, queued %v", got.ID, kindsOf(out))
		}
	})
	t.Run("unknown criterion", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, deliberate)
		l := h.mustSubmit(t)
		_, err := h.svc.Answer(ctx, l.ID, "U1", []triage.ParsedAnswer{{Criterion: "budget", Value: "yes"}, {Criterion: "colour", Value: "red"}})
		if !errors.Is(err, triage.ErrUnknownCriteria) || triage.IsInternal(err) {
			t.Errorf("err = %v, want ErrUnknownCriteria", err)
		}
		if got := h.stored(t, l.ID); got.Answers != nil || len(h.store.Outbox()) != 0 {
			t.Errorf("stored %v, queued %v", got.Answers, kindsOf(h.store.Outbox()))
		}
	})
	t.Run("value not normalised", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, deliberate)
		l := h.mustSubmit(t)
		for _, a := range []triage.ParsedAnswer{{Criterion: "budget", Value: "Yes"}, {Criterion: "fit", Value: "9"}, {Criterion: "size", Value: "1,500"}} {
			_, err := h.svc.Answer(ctx, l.ID, "U1", []triage.ParsedAnswer{a})
			fe := wantFieldError(t, err, a.Criterion)
			if !strings.Contains(fe.Problem, "accepted: ") {
				t.Errorf("Problem = %q, want what is accepted", fe.Problem)
			}
		}
		if got := h.stored(t, l.ID); got.Answers != nil || len(h.store.Outbox()) != 0 {
			t.Errorf("stored %v, queued %v", got.Answers, kindsOf(h.store.Outbox()))
		}
	})
	t.Run("no user", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, deliberate)
		l := h.mustSubmit(t)
		_, err := h.svc.Answer(ctx, l.ID, "", []triage.ParsedAnswer{{Criterion: "budget", Value: "yes"}})
		wantFieldError(t, err, "user")
	})
	t.Run("missing lead", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, deliberate)
		_, err := h.svc.Answer(ctx, 9, "U1", []triage.ParsedAnswer{{Criterion: "budget", Value: "yes"}})
		if !errors.Is(err, triage.ErrNotFound) || !strings.HasPrefix(err.Error(), "answering on L-9: ") {
			t.Errorf("err = %v, want ErrNotFound wrapped with \"answering on L-9\"", err)
		}
	})
	t.Run("a decided lead takes answers but stays decided", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, triage.Policy{Quorum: 1, Auto: true, TeamLead: teamLead, Criteria: criteria})
		l := h.mustSubmit(t)
		h.vote(t, l.ID, "U1", triage.ChoiceDisqualify)
		got, out := h.answer(t, l.ID, "U2", "budget", "yes")
		if got.Status != triage.StatusDisqualified || got.Answers["budget"].Value != "yes" {
			t.Errorf("Status %q, Answers %v", got.Status, got.Answers)
		}
		if diff := cmp.Diff([]string{"update_checklist", "update_card"}, kindsOf(out)); diff != "" {
			t.Errorf("queued (-want +got):\n%s", diff)
		}
	})
}

func TestService_AnswerReply(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("not our thread", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, deliberate)
		h.mustSubmit(t)
		for _, loc := range [][2]string{{channel, "1700000000.999999"}, {"COTHER", cardTS}, {channel, ""}} {
			res, err := h.svc.AnswerReply(ctx, triage.Reply{Channel: loc[0], ThreadTS: loc[1], TS: "1700000001.000100", User: "U1", Text: "budget: yes"})
			if err != nil || res.Ours {
				t.Errorf("AnswerReply(%s, %s) = %+v, %v; want not ours", loc[0], loc[1], res, err)
			}
		}
		if out := h.store.Outbox(); len(out) != 0 {
			t.Errorf("queued %v", kindsOf(out))
		}
	})
	t.Run("chatter is left alone", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, deliberate)
		l := h.mustSubmit(t)
		res, err := h.svc.AnswerReply(ctx, triage.Reply{Channel: channel, ThreadTS: cardTS, TS: "1700000001.000001", User: "U1", Text: "Spoke to them: nice people. See https://acme.nl"})
		if err != nil || !res.Ours || res.Answered != 0 || res.Problems != nil || res.Lead.ID != l.ID {
			t.Errorf("AnswerReply = %+v, %v", res, err)
		}
		if out := h.store.Outbox(); len(out) != 0 {
			t.Errorf("queued %v", kindsOf(out))
		}
	})
	t.Run("several answers", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, deliberate)
		l := h.mustSubmit(t)
		res, err := h.svc.AnswerReply(ctx, triage.Reply{Channel: channel, ThreadTS: cardTS, TS: "1700000001.000002", User: "U1", Text: "Had a call.\n- budget: ja\n- Is the contact the one who decides: nee\n- size: € 10.000"})
		if err != nil || !res.Ours || res.Answered != 3 || res.Problems != nil {
			t.Fatalf("AnswerReply = %+v, %v", res, err)
		}
		got := h.stored(t, l.ID)
		want := map[string]triage.Answer{
			"budget":    {Value: "yes", By: "U1", At: now},
			"authority": {Value: "no", By: "U1", At: now},
			"size":      {Value: "10000", By: "U1", At: now},
		}
		if diff := cmp.Diff(want, got.Answers); diff != "" {
			t.Errorf("Answers (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(got, res.Lead); diff != "" {
			t.Errorf("result differs from the stored lead (-stored +result):\n%s", diff)
		}
		if diff := cmp.Diff([]string{"update_checklist", "update_card"}, kindsOf(h.deliver(t))); diff != "" {
			t.Errorf("queued (-want +got):\n%s", diff)
		}
	})
	t.Run("an edit updates the answer", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, deliberate)
		l := h.mustSubmit(t)
		for _, text := range []string{"budget: yes", "budget: no"} {
			if _, err := h.svc.AnswerReply(ctx, triage.Reply{Channel: channel, ThreadTS: cardTS, TS: "1700000001.000200", User: "U1", Text: text}); err != nil {
				t.Fatal(err)
			}
		}
		if got := h.stored(t, l.ID).Answers["budget"].Value; got != "no" {
			t.Errorf("budget = %q after the edit, want no", got)
		}
		if n := len(eventsOf(h.stored(t, l.ID), triage.EventAnswered)); n != 2 {
			t.Errorf("%d answered events, want 2", n)
		}
	})
	t.Run("a bad answer gets one hint", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, deliberate)
		l := h.mustSubmit(t)
		res, err := h.svc.AnswerReply(ctx, triage.Reply{Channel: channel, ThreadTS: cardTS, TS: "1700000001.000004", User: "U1", Text: "budget: maybe\nfit: 4\nwhen: someday"})
		if err != nil || res.Answered != 1 || len(res.Problems) != 2 {
			t.Fatalf("AnswerReply = %+v, %v", res, err)
		}
		out := h.deliver(t)
		want := []string{"<@U1>, I could not read that answer. Accepted: `budget`: yes, no or don't know; " +
			"`timing`: one of: this month, this quarter, this year, later. Write one per line, e.g. `budget: yes`; " +
			"words after the answer are kept as a note."}
		if diff := cmp.Diff(want, threadReplies(out)); diff != "" {
			t.Errorf("thread replies (-want +got):\n%s", diff)
		}
		if got := h.stored(t, l.ID).Answers; got["fit"].Value != "4" || got["budget"].Value != "" {
			t.Errorf("Answers = %v, want fit only", got)
		}
	})
	t.Run("only a bad answer", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, deliberate)
		l := h.mustSubmit(t)
		if _, err := h.svc.AnswerReply(ctx, triage.Reply{Channel: channel, ThreadTS: cardTS, TS: "1700000001.000005", User: "U1", Text: "size: loads"}); err != nil {
			t.Fatal(err)
		}
		out := h.deliver(t)
		if diff := cmp.Diff([]string{"thread_reply"}, kindsOf(out)); diff != "" {
			t.Errorf("queued (-want +got):\n%s", diff)
		}
		if out[0].Lead != l.ID || out[0].Channel != channel {
			t.Errorf("hint = %+v, want it in the lead's thread", out[0])
		}
	})
}

func TestService_MustHaveVeto(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := newHarness(t, deliberate)
	l := h.mustSubmit(t)
	h.answer(t, l.ID, "U1", "budget", "no")
	h.vote(t, l.ID, "U1", triage.ChoiceQualify)
	h.vote(t, l.ID, "U2", triage.ChoiceDisqualify)
	res, out := h.vote(t, l.ID, "U3", triage.ChoiceQualify)
	wantVerdict := triage.Verdict{Tally: triage.Tally{Qualify: 2, Disqualify: 1}, Quorum: true, Vetoed: []string{"budget"}, Majority: triage.StatusQualified}
	if diff := cmp.Diff(wantVerdict, res.Verdict); diff != "" {
		t.Errorf("Verdict (-want +got):\n%s", diff)
	}
	if res.Lead.Status != triage.StatusPending || res.Lead.Decision != nil {
		t.Errorf("a vetoed majority decided: %q %+v", res.Lead.Status, res.Lead.Decision)
	}
	want := []string{"The vote on *L-1* says qualify (2 qualify, 1 disqualify, 0 unsure), but must-have `budget` is answered *no*. <@TEAMLEAD>, your call."}
	if diff := cmp.Diff(want, threadReplies(out)); diff != "" {
		t.Errorf("thread replies (-want +got):\n%s", diff)
	}
	// More votes and answers do not repeat the notice.
	_, out = h.vote(t, l.ID, "U4", triage.ChoiceQualify)
	_, out2 := h.answer(t, l.ID, "U2", "need", "yes")
	if r := threadReplies(append(out, out2...)); len(r) != 0 {
		t.Errorf("repeated notices: %q", r)
	}
	vetoes := eventsOf(h.stored(t, l.ID), triage.EventVetoed)
	if diff := cmp.Diff([]triage.Event{{At: now, Kind: triage.EventVetoed, By: "auto", Detail: "must-have answered no: budget", Args: map[string]string{triage.EvCriteria: "budget"}}}, vetoes); diff != "" {
		t.Errorf("vetoed events (-want +got):\n%s", diff)
	}
	// The veto lifts when the must-have turns yes, and the vote qualifies at once.
	got, out := h.answer(t, l.ID, "U2", "budget", "yes")
	if got.Status != triage.StatusQualified || got.Decision == nil || got.Decision.By != triage.DecidedByPolicy {
		t.Fatalf("after the must-have turned yes: %q %+v", got.Status, got.Decision)
	}
	if diff := cmp.Diff([]string{"*L-1* is qualified by the team's vote: 3 qualify, 1 disqualify, 0 unsure."}, threadReplies(out)); diff != "" {
		t.Errorf("thread replies (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"update_checklist", "update_card", "thread_reply"}, kindsOf(out)); diff != "" {
		t.Errorf("queued (-want +got):\n%s", diff)
	}
	_ = ctx
}

func TestService_MustHaveVeto_OnlyForQualify(t *testing.T) {
	t.Parallel()
	h := newHarness(t, deliberate)
	l := h.mustSubmit(t)
	h.answer(t, l.ID, "U1", "budget", "no")
	for _, u := range []string{"U1", "U2", "U3"} {
		h.vote(t, l.ID, u, triage.ChoiceDisqualify)
	}
	if got := h.stored(t, l.ID); got.Status != triage.StatusDisqualified || len(eventsOf(got, triage.EventVetoed)) != 0 {
		t.Errorf("Status %q, vetoed events %v; a must-have no does not stop a disqualify", got.Status, eventsOf(got, triage.EventVetoed))
	}
}

func TestService_DecideLeadRecommends(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		votes []triage.Choice
		want  string
	}{
		{"qualify", []triage.Choice{triage.ChoiceQualify, triage.ChoiceQualify},
			"Quorum reached on *L-1* (2 qualify, 0 disqualify, 0 unsure): the vote recommends *qualify*. <@TEAMLEAD>, please decide."},
		{"disqualify", []triage.Choice{triage.ChoiceDisqualify, triage.ChoiceUnsure},
			"Quorum reached on *L-1* (0 qualify, 1 disqualify, 1 unsure): the vote recommends *disqualify*. <@TEAMLEAD>, please decide."},
		{"no majority", []triage.Choice{triage.ChoiceQualify, triage.ChoiceDisqualify},
			"Quorum reached on *L-1* (1 qualify, 1 disqualify, 0 unsure): no majority. <@TEAMLEAD>, please decide."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, triage.Policy{Quorum: 2, Blind: true, TeamLead: teamLead, Criteria: criteria})
			l := h.mustSubmit(t)
			var replies []string
			var last triage.VoteResult
			for i, c := range tt.votes {
				res, out := h.vote(t, l.ID, "U"+string(rune('1'+i)), c)
				replies, last = append(replies, threadReplies(out)...), res
			}
			if diff := cmp.Diff([]string{tt.want}, replies); diff != "" {
				t.Errorf("thread replies (-want +got):\n%s", diff)
			}
			if last.Lead.Status != triage.StatusPending || last.Verdict.Outcome != "" {
				t.Errorf("decide=lead decided: %q, %+v", last.Lead.Status, last.Verdict)
			}
		})
	}
}

func TestService_DissentPrompt(t *testing.T) {
	t.Parallel()
	const prompt = "Everyone said no to *L-1*, and research found no red flag. What would change your mind? " +
		"A 15-minute call costs little, and a no can be a missed big deal."
	tests := []struct {
		name   string
		policy triage.Policy
		flags  []string
		votes  []triage.Choice
		want   int // dissent prompts posted
	}{
		{"everyone no, no research", deliberate, nil,
			[]triage.Choice{triage.ChoiceDisqualify, triage.ChoiceDisqualify, triage.ChoiceDisqualify}, 1},
		{"only research_incomplete is no red flag", deliberate, []string{triage.FlagResearchIncomplete},
			[]triage.Choice{triage.ChoiceDisqualify, triage.ChoiceDisqualify, triage.ChoiceDisqualify}, 1},
		{"a red flag", deliberate, []string{triage.FlagResearchIncomplete, triage.FlagFreeEmail},
			[]triage.Choice{triage.ChoiceDisqualify, triage.ChoiceDisqualify, triage.ChoiceDisqualify}, 0},
		{"not everyone", deliberate, nil,
			[]triage.Choice{triage.ChoiceDisqualify, triage.ChoiceDisqualify, triage.ChoiceUnsure}, 0},
		{"switched off", func() triage.Policy { p := deliberate; p.DissentPrompt = false; return p }(), nil,
			[]triage.Choice{triage.ChoiceDisqualify, triage.ChoiceDisqualify, triage.ChoiceDisqualify}, 0},
		{"before the quorum", deliberate, nil,
			[]triage.Choice{triage.ChoiceDisqualify, triage.ChoiceDisqualify}, 0},
		{"decide=lead: asks once, over more votes", func() triage.Policy { p := deliberate; p.Auto, p.Quorum = false, 2; return p }(), nil,
			[]triage.Choice{triage.ChoiceDisqualify, triage.ChoiceDisqualify, triage.ChoiceDisqualify, triage.ChoiceDisqualify}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, tt.policy)
			l := h.mustSubmit(t)
			if tt.flags != nil {
				h.setResearch(t, l.ID, tt.flags...)
			}
			prompts := 0
			for i, c := range tt.votes {
				_, out := h.vote(t, l.ID, "U"+string(rune('1'+i)), c)
				for _, r := range threadReplies(out) {
					if r == prompt {
						prompts++
					} else if strings.Contains(r, "What would change") {
						t.Errorf("dissent prompt reads %q", r)
					}
				}
			}
			if prompts != tt.want {
				t.Errorf("%d dissent prompts, want %d", prompts, tt.want)
			}
			if n := len(eventsOf(h.stored(t, l.ID), triage.EventDissent)); n != tt.want {
				t.Errorf("%d dissent events, want %d", n, tt.want)
			}
		})
	}
}

func TestService_Unvote(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("withdraws only the matching choice", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, deliberate)
		l := h.mustSubmit(t)
		h.vote(t, l.ID, "U1", triage.ChoiceQualify)
		wakes := h.wakes.Load()
		got, err := h.svc.Unvote(ctx, l.ID, "U1", triage.ChoiceDisqualify)
		if err != nil || got.Votes["U1"] != triage.ChoiceQualify {
			t.Fatalf("Unvote other choice = %v, %v; want the vote kept", got.Votes, err)
		}
		if out := h.deliver(t); len(out) != 0 || h.wakes.Load() != wakes {
			t.Errorf("queued %v", kindsOf(out))
		}
		if _, err := h.svc.Unvote(ctx, l.ID, "U2", triage.ChoiceQualify); err != nil {
			t.Errorf("Unvote without a vote: %v", err)
		}
		got, err = h.svc.Unvote(ctx, l.ID, "U1", triage.ChoiceQualify)
		if err != nil {
			t.Fatal(err)
		}
		if _, had := got.Votes["U1"]; had {
			t.Errorf("Votes = %v, want U1's withdrawn", got.Votes)
		}
		if diff := cmp.Diff([]triage.Event{{At: now, Kind: triage.EventUnvoted, By: "U1", Detail: "qualify", Args: map[string]string{triage.EvChoice: "qualify"}}}, eventsOf(got, triage.EventUnvoted)); diff != "" {
			t.Errorf("unvoted events (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]string{"update_card"}, kindsOf(h.deliver(t))); diff != "" {
			t.Errorf("queued (-want +got):\n%s", diff)
		}
		if h.wakes.Load() != wakes+1 {
			t.Errorf("Wake called %d times, want 1", h.wakes.Load()-wakes)
		}
	})
	t.Run("decided lead", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, triage.Policy{Quorum: 1, Auto: true})
		l := h.mustSubmit(t)
		h.vote(t, l.ID, "U1", triage.ChoiceQualify)
		_, err := h.svc.Unvote(ctx, l.ID, "U1", triage.ChoiceQualify)
		if !errors.Is(err, triage.ErrLeadClosed) || !strings.HasPrefix(err.Error(), "withdrawing a vote on L-1: ") {
			t.Errorf("err = %v, want ErrLeadClosed", err)
		}
		if got := h.stored(t, l.ID); got.Votes["U1"] != triage.ChoiceQualify {
			t.Errorf("Votes = %v", got.Votes)
		}
	})
}

func TestService_DecideByHand(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("only deciders", func(t *testing.T) {
		t.Parallel()
		for _, tt := range []struct {
			deciders []string
			user     string
		}{{nil, "U1"}, {nil, ""}, {[]string{"U7"}, teamLead}} {
			p := deliberate
			p.Deciders = tt.deciders
			h := newHarness(t, p)
			l := h.mustSubmit(t)
			_, err := h.svc.DecideByHand(ctx, l.ID, tt.user, triage.DecisionInput{Outcome: triage.StatusQualified, Owner: "U1"})
			if !errors.Is(err, triage.ErrNotAllowed) || triage.IsInternal(err) {
				t.Errorf("deciders %v, user %q: err = %v, want ErrNotAllowed", tt.deciders, tt.user, err)
			}
			if got := h.stored(t, l.ID); got.Status != triage.StatusPending || len(h.store.Outbox()) != 0 {
				t.Errorf("Status %q, queued %v", got.Status, kindsOf(h.store.Outbox()))
			}
		}
		p := deliberate
		p.Deciders = []string{"U7", "U8"}
		h := newHarness(t, p)
		l := h.mustSubmit(t)
		if _, err := h.svc.DecideByHand(ctx, l.ID, "U8", triage.DecisionInput{Outcome: triage.StatusQualified, Owner: "U1"}); err != nil {
			t.Errorf("a configured decider: %v", err)
		}
	})
	t.Run("validation", func(t *testing.T) {
		t.Parallel()
		tests := []struct {
			name  string
			in    triage.DecisionInput
			field string
		}{
			{"no outcome", triage.DecisionInput{}, "outcome"},
			{"pending is no outcome", triage.DecisionInput{Outcome: triage.StatusPending}, "outcome"},
			{"unknown outcome", triage.DecisionInput{Outcome: "reopen"}, "outcome"},
			{"qualify without an owner", triage.DecisionInput{Outcome: triage.StatusQualified}, "owner"},
			{"disqualify without a reason", triage.DecisionInput{Outcome: triage.StatusDisqualified, Reason: "  "}, "reason"},
			{"disqualify with an unlisted reason", triage.DecisionInput{Outcome: triage.StatusDisqualified, Reason: "Gut feeling"}, "reason"},
			{"refer without a partner", triage.DecisionInput{Outcome: triage.StatusReferred}, "partner"},
			{"refer to an unknown partner", triage.DecisionInput{Outcome: triage.StatusReferred, Partner: "Nobody"}, "partner"},
			{"note too long", triage.DecisionInput{Outcome: triage.StatusQualified, Owner: "U1", Note: strings.Repeat("n", triage.MaxNote+1)}, "note"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				h := newHarness(t, deliberate)
				l := h.mustSubmit(t)
				wakes := h.wakes.Load()
				_, err := h.svc.DecideByHand(ctx, l.ID, teamLead, tt.in)
				wantFieldError(t, err, tt.field)
				if got := h.stored(t, l.ID); got.Status != triage.StatusPending || got.Decision != nil || got.Owner != "" {
					t.Errorf("lead changed: %q %+v owner %q", got.Status, got.Decision, got.Owner)
				}
				if out := h.store.Outbox(); len(out) != 0 || h.wakes.Load() != wakes {
					t.Errorf("queued %v", kindsOf(out))
				}
			})
		}
	})
	t.Run("note of exactly the maximum", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, deliberate)
		l := h.mustSubmit(t)
		got, err := h.svc.DecideByHand(ctx, l.ID, teamLead, triage.DecisionInput{Outcome: triage.StatusQualified, Owner: "U1", Note: strings.Repeat("é", triage.MaxNote)})
		if err != nil || len([]rune(got.Decision.Note)) != triage.MaxNote {
			t.Errorf("DecideByHand = %v", err)
		}
	})
	t.Run("qualify sets the owner", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, deliberate)
		l := h.mustSubmit(t)
		h.vote(t, l.ID, "U1", triage.ChoiceQualify)
		got, err := h.svc.DecideByHand(ctx, l.ID, teamLead, triage.DecisionInput{Outcome: triage.StatusQualified, Owner: "U5", Note: "  big one  "})
		if err != nil {
			t.Fatal(err)
		}
		wantDecision := &triage.Decision{Outcome: triage.StatusQualified, By: teamLead, At: now, Note: "big one"}
		if diff := cmp.Diff(wantDecision, got.Decision); diff != "" {
			t.Errorf("Decision (-want +got):\n%s", diff)
		}
		if got.Owner != "U5" || got.Status != triage.StatusQualified {
			t.Errorf("Owner %q, Status %q", got.Owner, got.Status)
		}
		wantEvents := []triage.Event{
			{At: now, Kind: triage.EventClaimed, By: teamLead, Detail: "owner set to U5 by the decision", Args: map[string]string{triage.EvOwner: "U5"}},
			{At: now, Kind: triage.EventDecided, By: teamLead, Detail: "qualified", Args: map[string]string{triage.EvOutcome: "qualified"}},
		}
		if diff := cmp.Diff(wantEvents, got.Events[len(got.Events)-2:]); diff != "" {
			t.Errorf("last events (-want +got):\n%s", diff)
		}
		want := []triage.OutboxItem{
			{Kind: triage.OutboxUpdateCard, Lead: l.ID, Channel: channel, CreatedAt: now},
			{Kind: triage.OutboxThreadReply, Lead: l.ID, Channel: channel, CreatedAt: now, Text: "<@TEAMLEAD> decided: *L-1* is *qualified*, owner <@U5>."},
		}
		if diff := cmp.Diff(want, h.deliver(t), ignoreIDs); diff != "" {
			t.Errorf("queued (-want +got):\n%s", diff)
		}
	})
	t.Run("qualify keeps the current owner", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, deliberate)
		l := h.mustSubmit(t)
		if _, err := h.svc.Claim(ctx, l.ID, "U3"); err != nil {
			t.Fatal(err)
		}
		got, err := h.svc.DecideByHand(ctx, l.ID, teamLead, triage.DecisionInput{Outcome: triage.StatusQualified})
		if err != nil || got.Owner != "U3" || len(eventsOf(got, triage.EventClaimed)) != 1 {
			t.Errorf("DecideByHand = owner %q, claims %v, %v", got.Owner, eventsOf(got, triage.EventClaimed), err)
		}
	})
	t.Run("disqualify queues a decline draft", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, deliberate)
		l := h.mustSubmit(t)
		got, err := h.svc.DecideByHand(ctx, l.ID, teamLead, triage.DecisionInput{Outcome: triage.StatusDisqualified, Reason: "Budget too small", Note: "ask again in autumn"})
		if err != nil {
			t.Fatal(err)
		}
		wantDecision := &triage.Decision{Outcome: triage.StatusDisqualified, Reason: "Budget too small", Note: "ask again in autumn", By: teamLead, At: now}
		if diff := cmp.Diff(wantDecision, got.Decision); diff != "" {
			t.Errorf("Decision (-want +got):\n%s", diff)
		}
		d := triage.DeclineFacts(got, "Budget too small", nil)
		if d.Language != "nl" || d.Reason != "budget too small" {
			t.Fatalf("decline draft = %+v", d)
		}
		want := []triage.OutboxItem{
			{Kind: triage.OutboxUpdateCard, Lead: l.ID, Channel: channel, CreatedAt: now},
			{Kind: triage.OutboxThreadReply, Lead: l.ID, Channel: channel, CreatedAt: now, Text: "<@TEAMLEAD> decided: *L-1* is *disqualified* (Budget too small)."},
			{Kind: triage.OutboxThreadReply, Lead: l.ID, Channel: channel, CreatedAt: now,
				Text: "A decline to send them, if you like (nothing is sent automatically):", Plain: drafted(d)},
		}
		if diff := cmp.Diff(want, h.deliver(t), ignoreIDs); diff != "" {
			t.Errorf("queued (-want +got):\n%s", diff)
		}
	})
	t.Run("an internal reason is recorded but not told", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, deliberate)
		l := h.mustSubmit(t)
		got, err := h.svc.DecideByHand(ctx, l.ID, teamLead, triage.DecisionInput{Outcome: triage.StatusDisqualified, Reason: "spam"})
		// The configured spelling is recorded, whatever case the decider used.
		if err != nil || got.Decision.Reason != "Spam" {
			t.Fatalf("DecideByHand = %+v, %v", got.Decision, err)
		}
		for _, it := range h.deliver(t) {
			if strings.Contains(strings.ToLower(it.Plain), "spam") {
				t.Errorf("the draft tells the lead it is spam:\n%s", it.Plain)
			}
		}
	})
	t.Run("free-text reason is escaped in the thread", func(t *testing.T) {
		t.Parallel()
		p := deliberate
		p.Reasons = nil
		h := newHarness(t, p)
		l := h.mustSubmit(t)
		if _, err := h.svc.DecideByHand(ctx, l.ID, teamLead, triage.DecisionInput{Outcome: triage.StatusDisqualified, Reason: "<!channel> & co"}); err != nil {
			t.Fatal(err)
		}
		replies := threadReplies(h.deliver(t))
		if len(replies) != 2 || replies[0] != "<@TEAMLEAD> decided: *L-1* is *disqualified* (&lt;!channel&gt; &amp; co)." {
			t.Errorf("thread replies = %q", replies)
		}
	})
	t.Run("refer queues a decline and an introduction", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, deliberate)
		l := h.mustSubmit(t)
		got, err := h.svc.DecideByHand(ctx, l.ID, teamLead, triage.DecisionInput{Outcome: triage.StatusReferred, Partner: "shopbouwers"})
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != triage.StatusReferred || got.Decision.Partner != "Shopbouwers" || got.Decision.Reason != "referred to Shopbouwers" {
			t.Errorf("Status %q, Decision %+v", got.Status, got.Decision)
		}
		decline, intro := triage.DeclineFacts(got, "", &partner), triage.ReferralFacts(got, partner)
		want := []triage.OutboxItem{
			{Kind: triage.OutboxUpdateCard, Lead: l.ID, Channel: channel, CreatedAt: now},
			{Kind: triage.OutboxThreadReply, Lead: l.ID, Channel: channel, CreatedAt: now, Text: "<@TEAMLEAD> decided: *L-1* is *referred* to Shopbouwers."},
			{Kind: triage.OutboxThreadReply, Lead: l.ID, Channel: channel, CreatedAt: now,
				Text: "A decline that points them to Shopbouwers (nothing is sent automatically):", Plain: drafted(decline)},
			{Kind: triage.OutboxThreadReply, Lead: l.ID, Channel: channel, CreatedAt: now,
				Text: "And an introduction for Shopbouwers:", Plain: drafted(intro)},
		}
		if diff := cmp.Diff(want, h.deliver(t), ignoreIDs); diff != "" {
			t.Errorf("queued (-want +got):\n%s", diff)
		}
		if decline.Partner == nil || decline.Partner.Name != "Shopbouwers" || intro.Company != "Acme" || intro.Partner == nil {
			t.Errorf("drafts do not name partner and lead:\n%+v\n\n%+v", decline, intro)
		}
	})
	t.Run("decided lead", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, deliberate)
		l := h.mustSubmit(t)
		if _, err := h.svc.DecideByHand(ctx, l.ID, teamLead, triage.DecisionInput{Outcome: triage.StatusQualified, Owner: "U1"}); err != nil {
			t.Fatal(err)
		}
		h.deliver(t)
		before := h.stored(t, l.ID)
		_, err := h.svc.DecideByHand(ctx, l.ID, teamLead, triage.DecisionInput{Outcome: triage.StatusQualified, Owner: "U2"})
		if !errors.Is(err, triage.ErrLeadClosed) {
			t.Errorf("err = %v, want ErrLeadClosed", err)
		}
		if diff := cmp.Diff(before, h.stored(t, l.ID)); diff != "" {
			t.Errorf("lead changed (-before +after):\n%s", diff)
		}
	})
}

func TestService_Reopen(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("only deciders", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, triage.Policy{Quorum: 1, Auto: true, TeamLead: teamLead})
		l := h.mustSubmit(t)
		h.vote(t, l.ID, "U1", triage.ChoiceQualify)
		_, err := h.svc.Reopen(ctx, l.ID, "U1", "")
		if !errors.Is(err, triage.ErrNotAllowed) {
			t.Errorf("err = %v, want ErrNotAllowed", err)
		}
		if got := h.stored(t, l.ID); got.Status != triage.StatusQualified {
			t.Errorf("Status = %q", got.Status)
		}
	})
	t.Run("only decided leads", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, deliberate)
		l := h.mustSubmit(t)
		_, err := h.svc.Reopen(ctx, l.ID, teamLead, "")
		wantFieldError(t, err, "outcome")
		if out := h.store.Outbox(); len(out) != 0 {
			t.Errorf("queued %v", kindsOf(out))
		}
	})
	t.Run("note too long", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, triage.Policy{Quorum: 1, Auto: true, TeamLead: teamLead})
		l := h.mustSubmit(t)
		h.vote(t, l.ID, "U1", triage.ChoiceQualify)
		_, err := h.svc.Reopen(ctx, l.ID, teamLead, strings.Repeat("x", triage.MaxNote+1))
		wantFieldError(t, err, "note")
	})
	t.Run("clears the votes and keeps the history", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, triage.Policy{Quorum: 2, Auto: true, TeamLead: teamLead, Criteria: criteria})
		l := h.mustSubmit(t)
		h.answer(t, l.ID, "U1", "budget", "yes")
		h.vote(t, l.ID, "U2", triage.ChoiceDisqualify)
		h.vote(t, l.ID, "U1", triage.ChoiceDisqualify)
		h.clock.Advance(24 * time.Hour)
		later := h.clock.Now()
		got, err := h.svc.Reopen(ctx, l.ID, teamLead, "they called back")
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != triage.StatusPending || got.Decision != nil || got.Votes != nil {
			t.Errorf("Status %q, Decision %+v, Votes %v", got.Status, got.Decision, got.Votes)
		}
		if got.Answers["budget"].Value != "yes" {
			t.Errorf("Answers = %v, want them kept", got.Answers)
		}
		wantEvent := triage.Event{At: later, Kind: triage.EventReopened, By: teamLead,
			Detail: "was disqualified by auto on 2026-03-10: disqualified by vote (0 qualify, 2 disqualify, 0 unsure); they called back; votes were U1=disqualify, U2=disqualify",
			Args: map[string]string{triage.EvAt: "2026-03-10T12:00:00Z", triage.EvBy: "auto", triage.EvNote: "they called back",
				triage.EvOutcome: "disqualified", triage.EvReason: "disqualified by vote (0 qualify, 2 disqualify, 0 unsure)",
				triage.EvVotes: "U1=disqualify; U2=disqualify"}}
		if diff := cmp.Diff(wantEvent, got.Events[len(got.Events)-1]); diff != "" {
			t.Errorf("last event (-want +got):\n%s", diff)
		}
		if n := len(eventsOf(got, triage.EventDecided)); n != 1 {
			t.Errorf("%d decided events, want the old one kept", n)
		}
		want := []triage.OutboxItem{
			{Kind: triage.OutboxUpdateCard, Lead: l.ID, Channel: channel, CreatedAt: later},
			{Kind: triage.OutboxThreadReply, Lead: l.ID, Channel: channel, CreatedAt: later, Text: "<@TEAMLEAD> reopened *L-1* (it was disqualified). Votes start afresh."},
			{Kind: triage.OutboxUpdateChecklist, Lead: l.ID, Channel: channel, CreatedAt: later},
		}
		if diff := cmp.Diff(want, h.deliver(t), ignoreIDs); diff != "" {
			t.Errorf("queued (-want +got):\n%s", diff)
		}
		// The team votes afresh, and the vote can decide again.
		h.vote(t, l.ID, "U1", triage.ChoiceQualify)
		res, _ := h.vote(t, l.ID, "U2", triage.ChoiceQualify)
		if res.Lead.Status != triage.StatusQualified {
			t.Errorf("after reopening, the vote did not decide: %q", res.Lead.Status)
		}
	})
	t.Run("notices can fire again", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, triage.Policy{Quorum: 1, TeamLead: teamLead})
		l := h.mustSubmit(t)
		quorum := "Quorum reached on *L-1* (1 qualify, 0 disqualify, 0 unsure): the vote recommends *qualify*. <@TEAMLEAD>, please decide."
		for round := range 2 {
			_, out := h.vote(t, l.ID, "U1", triage.ChoiceQualify)
			if diff := cmp.Diff([]string{quorum}, threadReplies(out)); diff != "" {
				t.Errorf("round %d: thread replies (-want +got):\n%s", round, diff)
			}
			if _, err := h.svc.DecideByHand(ctx, l.ID, teamLead, triage.DecisionInput{Outcome: triage.StatusQualified, Owner: "U1"}); err != nil {
				t.Fatal(err)
			}
			if _, err := h.svc.Reopen(ctx, l.ID, teamLead, ""); err != nil {
				t.Fatal(err)
			}
			h.deliver(t)
		}
		if n := len(eventsOf(h.stored(t, l.ID), triage.EventQuorum)); n != 2 {
			t.Errorf("%d quorum events, want 2", n)
		}
	})
	t.Run("tie notice can fire again", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, triage.Policy{Quorum: 2, Auto: true, TeamLead: teamLead})
		l := h.mustSubmit(t)
		for round := range 2 {
			h.vote(t, l.ID, "U1", triage.ChoiceQualify)
			_, out := h.vote(t, l.ID, "U2", triage.ChoiceDisqualify)
			if r := threadReplies(out); len(r) != 1 || !strings.Contains(r[0], "without a majority") {
				t.Errorf("round %d: thread replies %q, want the tie notice", round, r)
			}
			if _, err := h.svc.DecideByHand(ctx, l.ID, teamLead, triage.DecisionInput{Outcome: triage.StatusDisqualified, Reason: "x"}); err != nil {
				t.Fatal(err)
			}
			if _, err := h.svc.Reopen(ctx, l.ID, teamLead, ""); err != nil {
				t.Fatal(err)
			}
			h.deliver(t)
		}
	})
}

func TestService_AnswerReply_Notes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	reply := func(ts, text string) triage.Reply {
		return triage.Reply{Channel: channel, ThreadTS: cardTS, TS: ts, User: "U1", Text: text}
	}
	h := newHarness(t, deliberate)
	l := h.mustSubmit(t)
	if _, err := h.svc.AnswerReply(ctx, reply("1700000001.000100", "budget: ja, CFO akkoord")); err != nil {
		t.Fatal(err)
	}
	want := triage.Answer{Value: "yes", Note: "CFO akkoord", By: "U1", At: now}
	got := h.stored(t, l.ID)
	if diff := cmp.Diff(want, got.Answers["budget"]); diff != "" {
		t.Errorf("answer (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, got.AnswersBy["budget"]["U1"]); diff != "" {
		t.Errorf("U1's answer (-want +got):\n%s", diff)
	}
	h.deliver(t)

	// A click repeating the value keeps the note and changes nothing.
	h.answer(t, l.ID, "U1", "budget", "yes")
	if n := h.stored(t, l.ID).Answers["budget"].Note; n != "CFO akkoord" {
		t.Errorf("note after a repeating click = %q", n)
	}
	// An edit of the reply that changes only the note updates it.
	if _, err := h.svc.AnswerReply(ctx, reply("1700000001.000100", "budget: ja, CFO en CEO akkoord")); err != nil {
		t.Fatal(err)
	}
	if n := h.stored(t, l.ID).Answers["budget"].Note; n != "CFO en CEO akkoord" {
		t.Errorf("note after the edit = %q", n)
	}
	if diff := cmp.Diff([]string{"update_checklist", "update_card"}, kindsOf(h.deliver(t))); diff != "" {
		t.Errorf("queued after a note edit (-want +got):\n%s", diff)
	}
	// And an edit that drops the note drops it.
	if _, err := h.svc.AnswerReply(ctx, reply("1700000001.000100", "budget: ja")); err != nil {
		t.Fatal(err)
	}
	if n := h.stored(t, l.ID).Answers["budget"].Note; n != "" {
		t.Errorf("note after an edit without one = %q", n)
	}
	// A click with another value starts without a note.
	h.answer(t, l.ID, "U1", "budget", "no")
	if a := h.stored(t, l.ID).Answers["budget"]; a.Value != "no" || a.Note != "" {
		t.Errorf("after a click on no: %+v", a)
	}
}

func TestService_AnswerReply_HintOncePerReply(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := newHarness(t, deliberate)
	l := h.mustSubmit(t)
	hints := 0
	for i, text := range []string{"budget: maybe", "budget: maybe", "budget: perhaps"} {
		// The same reply delivered twice, then edited: still one hint.
		res, err := h.svc.AnswerReply(ctx, triage.Reply{Channel: channel, ThreadTS: cardTS, TS: "1700000001.000100", User: "U1", Text: text})
		if err != nil || len(res.Problems) != 1 || res.Hinted != (i == 0) {
			t.Fatalf("reply %d: %+v, %v", i, res, err)
		}
		hints += len(threadReplies(h.deliver(t)))
	}
	if hints != 1 {
		t.Errorf("%d hints for one reply, want 1", hints)
	}
	// Another reply is another message: it gets its own hint.
	if _, err := h.svc.AnswerReply(ctx, triage.Reply{Channel: channel, ThreadTS: cardTS, TS: "1700000002.000100", User: "U2", Text: "fit: great"}); err != nil {
		t.Fatal(err)
	}
	if got := threadReplies(h.deliver(t)); len(got) != 1 || !strings.Contains(got[0], "<@U2>") {
		t.Errorf("second reply's hints = %q", got)
	}
	if a := h.stored(t, l.ID).Answers; len(a) != 0 {
		t.Errorf("unreadable replies answered %v", a)
	}
}
