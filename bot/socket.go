package bot

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/leadtriage/leadtriage/triage"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"
)

// ackTimeout bounds how long the Socket Mode consumer waits to queue an ack.
// The queue only fills while the connection is down, and then an ack is of
// no use anyway; the consumer must keep draining events.
const ackTimeout = 2 * time.Second

// RunSocket serves Slack over Socket Mode until ctx ends; it then returns
// nil. It returns an error if Slack refuses the app-level token (the
// *slack.Client given to New must carry it, via slack.OptionAppLevelToken).
// Every envelope that can change state is written to the inbox and then
// acknowledged before any work, except a view_submission and a slash
// command, whose ack carries the answer; all of it runs in goroutines that
// Drain waits for.
func (b *Bot) RunSocket(ctx context.Context) error {
	return b.socket.run(ctx)
}

// socketTransport serves Slack over Socket Mode: it reads envelopes from
// the socket, writes them to the inbox, acknowledges them and hands them
// to the handlers.
type socketTransport struct {
	receiver
	api *slack.Client // carries the app-level token
}

func (t *socketTransport) run(ctx context.Context) error {
	sm := socketmode.New(t.api)
	runCtx, cancel := context.WithCancel(ctx)
	consumed := make(chan struct{})
	go func() {
		defer close(consumed)
		t.consume(runCtx, sm)
	}()
	err := sm.RunContext(runCtx)
	cancel()
	<-consumed
	if ctx.Err() != nil {
		return nil
	}
	return fmt.Errorf("running socket mode: %w", err)
}

// consume drains sm.Events. It never waits on the store or the Web
// API: slack-go stops reading the socket (and so answering pings) while
// Events is full, which ends in a reconnect storm.
func (t *socketTransport) consume(ctx context.Context, sm *socketmode.Client) {
	for {
		select {
		case <-ctx.Done():
			return
		case evt := <-sm.Events:
			t.onEvent(ctx, sm, evt)
		}
	}
}

func (t *socketTransport) onEvent(ctx context.Context, sm *socketmode.Client, evt socketmode.Event) {
	switch evt.Type {
	case socketmode.EventTypeEventsAPI:
		ev, ok := evt.Data.(slackevents.EventsAPIEvent)
		req := evt.Request
		if !ok || req == nil || req.EnvelopeID == "" {
			t.ack(ctx, sm, req, nil)
			t.inbound("event", "bad_request")
			return
		}
		cb, isCallback := ev.Data.(*slackevents.EventsAPICallbackEvent)
		if ev.Type != slackevents.CallbackEvent || !isCallback || cb.EventID == "" {
			// app_rate_limited and the like change nothing: only logged.
			t.ack(ctx, sm, req, nil)
			t.inbound("event", "ok")
			t.spawn("event", func(ctx context.Context) { t.h.handleEvent(ctx, ev) })
			return
		}
		// The inbox write comes before the ack, in a goroutine: this loop
		// must never wait on the store. An envelope that could not be
		// written is not acknowledged, so Slack delivers it again.
		t.spawn("event", func(hctx context.Context) {
			key, dup, err := t.inbox.admit(hctx, inboxEvent, cb.EventID, req.Payload)
			if err != nil {
				t.inbound("event", "unavailable")
				return
			}
			t.ack(hctx, sm, req, nil)
			if dup {
				t.inbound("event", "duplicate")
				return
			}
			t.inbound("event", "ok")
			t.inbox.run(hctx, key, func(ctx context.Context) { t.h.handleEvent(ctx, ev) })
		})
	case socketmode.EventTypeInteractive:
		ic, ok := evt.Data.(slack.InteractionCallback)
		req := evt.Request
		if !ok || req == nil || req.EnvelopeID == "" {
			t.ack(ctx, sm, req, nil)
			t.inbound("interaction", "bad_request")
			return
		}
		// As for events: inbox, then the ack, off this loop. A
		// view_submission's answer goes in the ack, so its work comes
		// before the ack too.
		t.spawn("interaction", func(hctx context.Context) {
			key, dup, err := t.inbox.admit(hctx, inboxInteraction, interactionMark(req.Payload), req.Payload)
			if err != nil {
				t.inbound("interaction", "unavailable")
				return
			}
			if dup {
				t.ack(hctx, sm, req, nil)
				t.inbound("interaction", "duplicate")
				return
			}
			t.inbound("interaction", "ok")
			if ic.Type != slack.InteractionTypeViewSubmission {
				t.ack(hctx, sm, req, nil)
				t.inbox.run(hctx, key, func(ctx context.Context) { t.h.handleInteraction(ctx, ic) })
				return
			}
			var payload any
			if resp := t.h.handleViewSubmission(triage.WithInboxKey(hctx, key), ic); resp != nil {
				payload = resp
			}
			t.ack(hctx, sm, req, payload)
			t.inbox.finish(hctx, key) // cleanup after the answer
		})
	case socketmode.EventTypeSlashCommand:
		cmd, ok := evt.Data.(slack.SlashCommand)
		req := evt.Request
		if !ok || req == nil || req.EnvelopeID == "" {
			t.ack(ctx, sm, req, nil)
			t.inbound("command", "bad_request")
			return
		}
		// The reply goes in the ack and takes up to runCommand's wait:
		// inbox and reply in a goroutine, because this loop must never wait.
		t.spawn("command", func(hctx context.Context) {
			key, dup, err := t.inbox.admit(hctx, inboxCommand, commandMark(cmd.TriggerID, req.Payload), req.Payload)
			var payload any
			switch {
			case err != nil:
				t.inbound("command", "unavailable")
				payload = ephemeralReply(t.words.t("command.unrecorded"))
			case dup:
				t.inbound("command", "duplicate")
			default:
				t.inbound("command", "ok")
				if reply := t.h.runCommand(triage.WithInboxKey(hctx, key), cmd); reply != nil {
					payload = reply
				}
			}
			t.ack(hctx, sm, req, payload)
		})
	case socketmode.EventTypeErrorBadMessage:
		// slack-go could not parse the envelope and will not ack it; Slack
		// would deliver it again and again, failing the same way each time.
		bad, _ := evt.Data.(*socketmode.ErrorBadMessage)
		if bad == nil {
			return
		}
		var env struct {
			EnvelopeID string `json:"envelope_id"`
			Type       string `json:"type"`
		}
		_ = json.Unmarshal(bad.Message, &env)
		t.log.Warn("slack envelope not understood, acknowledged and dropped", "envelope_id", env.EnvelopeID, "type", env.Type, "error", bad.Cause)
		t.inbound("envelope", "unparsed")
		if env.EnvelopeID != "" {
			t.ack(ctx, sm, &socketmode.Request{EnvelopeID: env.EnvelopeID}, nil)
		}
	case socketmode.EventTypeConnecting:
		t.log.Debug("connecting to slack socket mode")
	case socketmode.EventTypeConnected:
		if c, ok := evt.Data.(*socketmode.ConnectedEvent); ok {
			t.log.Info("connected to slack socket mode", "connection", c.ConnectionCount)
		}
	case socketmode.EventTypeConnectionError:
		if c, ok := evt.Data.(*slack.ConnectionErrorEvent); ok {
			t.log.Warn("slack socket mode connection failed", "attempt", c.Attempt, "backoff", c.Backoff, "error", c.ErrorObj)
		}
	case socketmode.EventTypeInvalidAuth:
		t.log.Error("slack refused the app-level token")
	case socketmode.EventTypeIncomingError:
		if e, ok := evt.Data.(*slack.IncomingEventError); ok {
			t.log.Warn("reading from slack socket mode", "error", e.ErrorObj)
		}
	case socketmode.EventTypeErrorWriteFailed:
		if e, ok := evt.Data.(*socketmode.ErrorWriteFailed); ok {
			t.log.Warn("writing to slack socket mode", "error", e.Cause)
		}
	default:
		// hello and the like: nothing to do, and never acked (no envelope).
		t.log.Debug("slack socket mode event", "type", string(evt.Type))
	}
}

// ack acknowledges one envelope, waiting at most ackTimeout to queue
// it. It reports whether there was an envelope to acknowledge.
func (t *socketTransport) ack(ctx context.Context, sm *socketmode.Client, req *socketmode.Request, payload any) bool {
	if req == nil || req.EnvelopeID == "" {
		return false
	}
	ctx, cancel := context.WithTimeout(ctx, ackTimeout)
	defer cancel()
	if err := sm.AckCtx(ctx, req.EnvelopeID, payload); err != nil {
		t.log.Warn("acknowledging a slack envelope", "envelope_id", req.EnvelopeID, "error", err)
	}
	return true
}
