package bot_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/leadtriage/leadtriage/slackfake"
	"github.com/leadtriage/leadtriage/triage"
	"github.com/slack-go/slack"
	"go.uber.org/goleak"
)

// runSocket starts RunSocket and waits for its connection. The returned
// stop cancels it and returns its error; it also runs at cleanup, before the
// harness drains and closes the database.
func runSocket(t *testing.T, h *harness) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.bot.RunSocket(ctx) }()
	var stopped bool
	var err error
	stop = func() error {
		if stopped {
			return err
		}
		stopped = true
		cancel()
		select {
		case err = <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("RunSocket did not return within 10 s of cancel")
		}
		return err
	}
	t.Cleanup(func() { _ = stop() })
	h.slack.WaitConnections(t, 1, 10*time.Second)
	return stop
}

// waitFor polls cond until it holds or the deadline passes. Socket Mode work
// starts after the ack the test waits for, so Drain cannot be the barrier
// here.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestBot_RunSocket(t *testing.T) {
	t.Parallel()
	t.Run("Click", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		runSocket(t, h)
		id := h.slack.SendEnvelope(t, slackfake.Envelope{
			Type:    "interactive",
			Payload: json.RawMessage(slackfake.BlockActionJSON("UVOTER", channel, "1700000000.000100", "lead.vote.qualify", h.lead.ID.String())),
		})
		ack := h.slack.WaitAck(t, id, 5*time.Second)
		if len(ack.Payload) != 0 && string(ack.Payload) != "null" {
			t.Errorf("click ack payload = %s, want none", ack.Payload)
		}
		waitFor(t, "the vote to be stored", func() bool { return h.stored(t).Votes["UVOTER"] == triage.ChoiceQualify })
	})
	t.Run("Event", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		stop := runSocket(t, h)
		payload := json.RawMessage(slackfake.EventCallbackJSON("Ev0SOCKET", slackfake.MessageEvent(channel, "UHUMAN", "hello", "1700000001.000200", "")))
		first := h.slack.SendEnvelope(t, slackfake.Envelope{Type: "events_api", Payload: payload})
		retry := h.slack.SendEnvelope(t, slackfake.Envelope{Type: "events_api", Payload: payload, RetryAttempt: 1, RetryReason: "timeout"})
		h.slack.WaitAck(t, first, 5*time.Second)
		h.slack.WaitAck(t, retry, 5*time.Second)
		// Once RunSocket returned, every ack's work has been spawned, so
		// Drain is a barrier.
		if err := stop(); err != nil {
			t.Fatalf("RunSocket = %v", err)
		}
		h.drain(t)
		if n := h.logs.count("message event ignored"); n != 1 {
			t.Errorf("the message event was handled %d times, want once", n)
		}
		if !markSeen(t, h.db, "Ev0SOCKET") {
			t.Error("event id not recorded")
		}
	})
	t.Run("SlashCommand", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		runSocket(t, h)
		id := h.slack.SendEnvelope(t, slackfake.Envelope{
			Type:                   "slash_commands",
			Payload:                json.RawMessage(slackfake.SlashCommandJSON("UASKER", channel, "/qualify", "help", slackfake.PlaceholderResponseURL, slackfake.PlaceholderTriggerID)),
			AcceptsResponsePayload: true,
		})
		ack := h.slack.WaitAck(t, id, 5*time.Second)
		var reply struct {
			ResponseType string `json:"response_type"`
			Text         string `json:"text"`
		}
		if err := json.Unmarshal(ack.Payload, &reply); err != nil {
			t.Fatalf("ack payload %s: %v", ack.Payload, err)
		}
		if reply.ResponseType != "ephemeral" || !strings.Contains(reply.Text, "`/qualify help`") {
			t.Errorf("ack payload = %+v, want the ephemeral help", reply)
		}
	})
	t.Run("ViewSubmission", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, withDeliberation)
		runSocket(t, h)
		submit := func(values map[string]map[string]slack.BlockAction) submissionResponse {
			t.Helper()
			id := h.slack.SendEnvelope(t, slackfake.Envelope{
				Type:                   "interactive",
				Payload:                json.RawMessage(slackfake.ViewSubmissionJSON("ULEAD", "lead.decide", h.lead.ID.String(), values)),
				AcceptsResponsePayload: true,
			})
			ack := h.slack.WaitAck(t, id, 5*time.Second)
			var got submissionResponse
			if err := json.Unmarshal(ack.Payload, &got); err != nil {
				t.Fatalf("ack payload %s: %v", ack.Payload, err)
			}
			return got
		}
		// The ack carries the answer, so the decision is made by the time
		// it arrives.
		if got := submit(decideValues("disqualified", "")); got.ResponseAction != "errors" || got.Errors["reason"] == "" {
			t.Errorf("without a reason: ack %+v, want an error under reason", got)
		}
		if l := h.stored(t); l.Status != triage.StatusPending {
			t.Fatalf("refused submission changed the lead to %s", l.Status)
		}
		if got := submit(decideValues("disqualified", "Not our market")); got.ResponseAction != "clear" {
			t.Errorf("valid: ack %+v, want clear", got)
		}
		if l := h.stored(t); l.Status != triage.StatusDisqualified || l.Decision == nil || l.Decision.Reason != "Not our market" {
			t.Errorf("after the ack: %s %+v", l.Status, l.Decision)
		}
	})
	t.Run("Reaction", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, withDeliberation)
		h.postCard(t)
		stop := runSocket(t, h)
		payload := json.RawMessage(slackfake.EventCallbackJSON("Ev0REACT", slackfake.ReactionEvent(true, "UVOTER", "-1", channel, cardTS, slackfake.BotUserID)))
		first := h.slack.SendEnvelope(t, slackfake.Envelope{Type: "events_api", Payload: payload})
		retry := h.slack.SendEnvelope(t, slackfake.Envelope{Type: "events_api", Payload: payload, RetryAttempt: 1, RetryReason: "timeout"})
		h.slack.WaitAck(t, first, 5*time.Second)
		h.slack.WaitAck(t, retry, 5*time.Second)
		if err := stop(); err != nil {
			t.Fatalf("RunSocket = %v", err)
		}
		h.drain(t)
		if got := h.stored(t).Votes["UVOTER"]; got != triage.ChoiceDisqualify {
			t.Errorf("vote = %q, want disqualify", got)
		}
		if told := h.told(t, "UVOTER"); len(told) != 1 {
			t.Errorf("told %q, want one confirmation for a retried event", told)
		}
	})
	t.Run("MalformedEnvelope", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		runSocket(t, h)
		h.slack.SendRaw(t, []byte(`{"envelope_id":"bad-envelope-1","type":"interactive","accepts_response_payload":false,"payload":[1,2,3]}`))
		h.slack.WaitAck(t, "bad-envelope-1", 5*time.Second)
		// The connection survives it: the next envelope is served as usual.
		id := h.slack.SendEnvelope(t, slackfake.Envelope{
			Type:    "interactive",
			Payload: json.RawMessage(slackfake.BlockActionJSON("UVOTER", channel, "1700000000.000100", "lead.claim", h.lead.ID.String())),
		})
		h.slack.WaitAck(t, id, 5*time.Second)
		waitFor(t, "the claim", func() bool { return h.stored(t).Owner == "UVOTER" })
	})
	t.Run("Reconnect", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		runSocket(t, h)
		h.slack.Disconnect("refresh_requested")
		h.slack.WaitConnections(t, 2, 10*time.Second)
		if n := h.slack.Connections(); n != 2 {
			t.Errorf("connections = %d, want 2", n)
		}
		id := h.slack.SendEnvelope(t, slackfake.Envelope{
			Type:    "interactive",
			Payload: json.RawMessage(slackfake.BlockActionJSON("UAFTER", channel, "1700000000.000100", "lead.vote.unsure", h.lead.ID.String())),
		})
		h.slack.WaitAck(t, id, 5*time.Second)
		waitFor(t, "the vote after the reconnect", func() bool { return h.stored(t).Votes["UAFTER"] == triage.ChoiceUnsure })
	})
	t.Run("InvalidAppToken", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		h.slack.Fail("apps.connections.open", slackfake.Fault{Error: "invalid_auth"})
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		err := h.bot.RunSocket(ctx)
		var se slack.SlackErrorResponse
		if !errors.As(err, &se) || se.Err != "invalid_auth" {
			t.Errorf("RunSocket with a refused token = %v, want invalid_auth", err)
		}
		if ctx.Err() != nil {
			t.Error("RunSocket waited for the context instead of failing")
		}
	})
}

// TestBot_RunSocket_Shutdown is not parallel: goleak looks at every
// goroutine of the process.
func TestBot_RunSocket_Shutdown(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t, goleak.IgnoreCurrent()) }) // runs last
	h := newHarness(t)
	stop := runSocket(t, h)
	id := h.slack.SendEnvelope(t, slackfake.Envelope{
		Type:    "interactive",
		Payload: json.RawMessage(slackfake.BlockActionJSON("UVOTER", channel, "1700000000.000100", "lead.vote.qualify", h.lead.ID.String())),
	})
	h.slack.WaitAck(t, id, 5*time.Second)
	if err := stop(); err != nil {
		t.Errorf("RunSocket after cancel = %v, want nil", err)
	}
	h.drain(t)
	if got := h.stored(t).Votes["UVOTER"]; got != triage.ChoiceQualify {
		t.Errorf("vote acknowledged before shutdown = %q, want qualify", got)
	}
}

func TestBot_Start(t *testing.T) {
	t.Parallel()
	t.Run("OK", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		if err := h.bot.Start(t.Context()); err != nil {
			t.Fatalf("Start = %v", err)
		}
		if n := len(h.slack.Calls("auth.test")); n != 1 {
			t.Errorf("auth.test calls = %d, want 1", n)
		}
	})
	t.Run("InvalidAuth", func(t *testing.T) {
		t.Parallel()
		// A token that was never right is a setup mistake: said at once.
		for _, code := range []string{"invalid_auth", "not_authed"} {
			h := newHarness(t)
			h.slack.Fail("auth.test", slackfake.Fault{Error: code})
			err := h.bot.Start(t.Context())
			var se slack.SlackErrorResponse
			if !errors.As(err, &se) || se.Err != code {
				t.Errorf("Start with %s = %v, want that error", code, err)
			}
		}
	})
	t.Run("RevokedKeepsServing", func(t *testing.T) {
		t.Parallel()
		// A token that was revoked (the app uninstalled) must not stop lead
		// intake: the bot starts, holds every delivery back, says why, and
		// delivers once auth.test passes again (issue 17).
		for _, code := range []string{"token_revoked", "account_inactive"} {
			h := newHarness(t)
			h.slack.Fail("auth.test", slackfake.Fault{Error: code})
			if err := h.bot.Start(t.Context()); err != nil {
				t.Fatalf("Start with %s = %v, want nil", code, err)
			}
			if _, err := h.bot.DeliverDue(t.Context(), now); err != nil {
				t.Fatal(err)
			}
			if n := len(h.slack.Calls("chat.postMessage")); n != 0 {
				t.Errorf("%s: %d chat.postMessage calls while the token is refused, want 0", code, n)
			}
			if p := h.bot.HealthProblems(t.Context()); len(p) != 1 || !strings.Contains(p[0], code) || !strings.Contains(p[0], "SLACK_BOT_TOKEN") {
				t.Errorf("%s: health problems = %q, want the cause and the fix", code, p)
			}
			// The token works again (a reinstall): the next try finds out.
			if _, err := h.bot.DeliverDue(t.Context(), now.Add(5*time.Minute)); err != nil {
				t.Fatal(err)
			}
			if n := len(h.slack.Calls("chat.postMessage")); n != 1 {
				t.Errorf("%s: %d cards after the token works again, want 1", code, n)
			}
			if p := h.bot.HealthProblems(t.Context()); len(p) != 0 {
				t.Errorf("%s: health problems after recovery = %q, want none", code, p)
			}
		}
	})
	t.Run("SlackDown", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		h.slack.SetDown(true)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		if err := h.bot.Start(ctx); err != nil {
			t.Fatalf("Start while Slack is down = %v, want nil", err)
		}
		// It keeps trying...
		h.slack.WaitUntil(t, 10*time.Second, "a retried auth.test", func() bool { return len(h.slack.Calls("auth.test")) >= 2 })
		// ...and gets through once Slack is back.
		h.slack.SetDown(false)
		h.slack.WaitCalls(t, "auth.test", 1, 30*time.Second)
		cancel()
		h.drain(t)
	})
	t.Run("SlackDownThenShutdown", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		h.slack.SetDown(true)
		ctx, cancel := context.WithCancel(context.Background())
		if err := h.bot.Start(ctx); err != nil {
			t.Fatalf("Start while Slack is down = %v, want nil", err)
		}
		cancel()
		// The retry loop ends with ctx, so Drain returns.
		h.drain(t)
	})
}
