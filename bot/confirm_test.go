package bot_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/leadtriage/leadtriage/bot"
	"github.com/leadtriage/leadtriage/triage"
	"github.com/leadtriage/leadtriage/triage/triagetest"
)

// withClock makes the harness's service and bot read c instead of the fixed
// now, so a test can move time on.
func withClock(c *triagetest.Clock) harnessOpt {
	return func(cfg *bot.Config, svc *triage.Service) {
		cfg.Now, svc.Now = c.Now, c.Now
	}
}

// TestBot_QuickVotes_ConfirmedAtOnce is issue 9's "confirmations within a
// second": fifteen people click a vote button on the same card within a
// second. The clicks are signed block_actions payloads in Slack's shape
// (slackfake.Server.BlockActionForm, modelled on slackapi/bolt-python
// tests/scenario_tests/test_block_actions.py: user, team, container,
// channel, message, response_url, trigger_id, actions) through the real
// HTTP handler; the real outbox worker delivers them to the fake Slack on an
// injected clock. Each voter's private confirmation goes out in the pass
// that follows the click, while the card updates, paced at one message per
// second per channel, coalesce into a few.
func TestBot_QuickVotes_ConfirmedAtOnce(t *testing.T) {
	t.Parallel()
	clk := triagetest.NewClock(now)
	h := newHarness(t, withClock(clk))
	ctx := context.Background()
	pass := func() {
		t.Helper()
		if _, err := h.bot.DeliverDue(ctx, clk.Now()); err != nil {
			t.Fatalf("DeliverDue: %v", err)
		}
	}
	pass() // the card
	card := h.stored(t).Slack
	if card.TS == "" {
		t.Fatal("card not posted")
	}
	confirmed := func(user string) bool {
		for _, e := range h.slack.Ephemerals() {
			if e.User == user && strings.Contains(e.Text, "Your vote on *"+h.lead.ID.String()+"*") {
				return true
			}
		}
		return false
	}

	const voters = 15
	start := clk.Now()
	for i := range voters {
		user := fmt.Sprintf("UVOTER%02d", i)
		clk.Set(start.Add(time.Duration(i) * 60 * time.Millisecond)) // 15 clicks in 0.84 s
		body := []byte(h.slack.BlockActionForm(user, card.Channel, card.TS, "lead.vote.qualify", h.lead.ID.String()).Encode())
		if rec := h.serve(signedAt("/slack/interactions", secretOld, formType, body, clk.Now())); rec.Code != 200 {
			t.Fatalf("click by %s: status %d", user, rec.Code)
		}
		h.drain(t) // the vote is stored and its items queued
		pass()     // the worker, woken by the vote, at the same instant
		if !confirmed(user) {
			t.Fatalf("vote %d: %s has no confirmation in the pass right after the click", i+1, user)
		}
	}
	// The worker goes on; the card catches up at the channel's pace.
	for range 50 {
		if len(h.outbox(t)) == 0 {
			break
		}
		clk.Advance(100 * time.Millisecond)
		pass()
	}
	if left := h.outbox(t); len(left) != 0 {
		t.Fatalf("outbox not empty 5 s after the votes: %+v", left)
	}
	if took := clk.Now().Sub(start); took > 3*time.Second {
		t.Errorf("card current %v after the first vote, want within a couple of seconds", took)
	}

	// The order of the calls Slack saw: every confirmation before the
	// fifteenth card update (there are far fewer), and before the update
	// that shows the final state.
	var updates, lastUpdate int
	firstUpdate := map[int]int{} // update number -> call index
	confirmAt := map[string]int{}
	calls := h.slack.Calls("chat.update", "chat.postEphemeral")
	for i, c := range calls {
		if !c.OK() {
			t.Fatalf("call %d %s failed: %s", i, c.Method, c.Error)
		}
		switch c.Method {
		case "chat.update":
			if c.Params.Get("ts") != card.TS {
				continue
			}
			updates++
			firstUpdate[updates] = i
			lastUpdate = i
		case "chat.postEphemeral":
			confirmAt[c.Params.Get("user")] = i
		}
	}
	if len(confirmAt) != voters {
		t.Fatalf("%d voters got a confirmation, want %d", len(confirmAt), voters)
	}
	t.Logf("%d card updates, card current after %v", updates, clk.Now().Sub(start))
	if updates >= voters/3 {
		t.Errorf("%d chat.update calls for 15 quick votes, want far fewer (coalesced)", updates)
	}
	for user, at := range confirmAt {
		if fifteenth, ok := firstUpdate[voters]; ok && at > fifteenth {
			t.Errorf("%s confirmed after the fifteenth card update", user)
		}
		if at > lastUpdate {
			t.Errorf("%s confirmed (call %d) after the last card update (call %d)", user, at, lastUpdate)
		}
	}
	final := calls[lastUpdate].Params.Get("blocks")
	if want := fmt.Sprintf("%d of 50 votes", voters); !strings.Contains(final, want) {
		t.Errorf("last card update does not show %q: %s", want, final)
	}
	if got := len(h.stored(t).Votes); got != voters {
		t.Errorf("%d votes stored, want %d", got, voters)
	}
}

// TestBot_DeliverDue_ConfirmationBeforeBacklog: 150 cards wait for the
// channel's pace (an import); a vote's confirmation does not wait behind
// them, although more than a pass's worth of items came before it.
func TestBot_DeliverDue_ConfirmationBeforeBacklog(t *testing.T) {
	t.Parallel()
	h := newOBHarness(t, obBlindPolicy)
	l := h.submit("Acme")
	h.deliver()
	for i := range 150 {
		h.submit(fmt.Sprintf("Imported %d", i))
	}
	h.deliver() // the channel's burst goes; the rest waits
	h.clock.Advance(100 * time.Millisecond)
	h.vote(l.ID, "UALICE", triage.ChoiceQualify)
	h.deliver()
	eph := h.fake.Ephemerals()
	if len(eph) != 1 || eph[0].User != "UALICE" {
		t.Fatalf("ephemerals after one pass = %+v, want UALICE's confirmation", eph)
	}
}

// interleavingStore queues a vote's confirmation while the worker records
// its first card post: a click that arrives in the middle of a pass.
type interleavingStore struct {
	fullStore
	once func()
}

func (s *interleavingStore) CompleteOutbox(ctx context.Context, id uint64, seq int, fn func(*triage.Lead) error) error {
	err := s.fullStore.CompleteOutbox(ctx, id, seq, fn)
	if s.once != nil {
		f := s.once
		s.once = nil
		f()
	}
	return err
}

// TestBot_DeliverDue_ConfirmationMidPass: a confirmation queued during a
// pass goes out before the pass's remaining Slack calls.
func TestBot_DeliverDue_ConfirmationMidPass(t *testing.T) {
	t.Parallel()
	h := newOBHarness(t, obBlindPolicy)
	h.submit("Acme")
	h.submit("Beta")
	st := &interleavingStore{fullStore: h.db}
	st.once = func() {
		if err := h.svc.Tell(context.Background(), obChannel, "UALICE", "Your vote is in."); err != nil {
			t.Error(err)
		}
	}
	svc := &triage.Service{Store: st, Policy: h.pol, Channel: obChannel, Now: h.clock.Now} // records the posts through st
	b := bot.New(bot.Config{Channel: obChannel, Policy: h.pol, Now: h.clock.Now}, h.fake.Client(), svc, st, nil)
	if _, err := b.DeliverDue(context.Background(), h.clock.Now()); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range h.fake.Calls("chat.postMessage", "chat.postEphemeral") {
		got = append(got, c.Method)
	}
	want := []string{"chat.postMessage", "chat.postEphemeral", "chat.postMessage"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("calls in one pass (-want +got):\n%s", diff)
	}
}
