package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
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

// Auth retry backoff while Slack is unreachable at start.
const (
	authRetryFirst = 500 * time.Millisecond
	authRetryMax   = time.Minute
	authTimeout    = 10 * time.Second
)

// Start prepares the bot to serve: it makes ctx the parent of handler
// contexts (for its values; see spawn) and learns the bot's own user id with
// auth.test, so that the bot ignores its own messages. A token Slack calls
// wrong (invalid_auth, not_authed) is returned as an error: that is a setup
// mistake, best said at once. A token that worked and was revoked
// (token_revoked, account_inactive: the app was uninstalled) is not: leads
// must still be accepted, so the outbox is blocked on the token, /healthz
// says so, and auth.test is tried every blockedRetry until a working token
// is configured (issue 17). Slack being unreachable is not an error either:
// auth.test is then retried in the background, with backoff, until it
// succeeds or ctx ends. Drain waits for that retry loop, so cancel ctx
// before draining.
func (b *Bot) Start(ctx context.Context) error {
	b.rootMu.Lock()
	b.rootCtx = ctx
	b.rootMu.Unlock()

	err := b.authTest(ctx)
	if err == nil {
		return nil
	}
	if code, revoked := revokedToken(err); revoked {
		b.outbox.blockToken(ctx, code)
		return nil
	}
	if isAuthError(err) {
		return fmt.Errorf("checking the slack bot token: %w", err)
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	b.log.Warn("slack unreachable at start, retrying auth.test in the background", "error", err)
	b.inflight.Add(1)
	go func() {
		defer b.inflight.Done()
		b.retryAuth(ctx)
	}()
	return nil
}

func (b *Bot) authTest(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, authTimeout)
	defer cancel()
	res, err := b.api.AuthTestContext(ctx)
	if err != nil {
		return fmt.Errorf("calling auth.test: %w", err)
	}
	b.setOwnUserID(res.UserID)
	if u, err := url.Parse(res.URL); err == nil && u.Scheme == "https" && u.Host != "" && u.User == nil {
		b.links.setWorkspaceURL(u.Scheme + "://" + u.Host + "/")
	}
	b.log.Info("connected to slack", "bot_user", res.UserID, "team", res.TeamID)
	b.outbox.tokenWorks(ctx) // issue 17: deliveries blocked on the token go again
	return nil
}

func (b *Bot) retryAuth(ctx context.Context) {
	wait := authRetryFirst
	for attempt := 2; ; attempt++ {
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		err := b.authTest(ctx)
		switch {
		case err == nil:
			return
		case ctx.Err() != nil:
			return
		case isAuthError(err):
			b.log.Error("slack rejected the bot token", "error", err)
			return
		}
		b.log.Warn("slack still unreachable", "attempt", attempt, "error", err)
		wait = min(wait*2, authRetryMax)
	}
}

// revokedToken reports whether err says the token was revoked (as opposed
// to never right), and Slack's code for it.
func revokedToken(err error) (string, bool) {
	var se slack.SlackErrorResponse
	if errors.As(err, &se) && (se.Err == "token_revoked" || se.Err == "account_inactive") {
		return se.Err, true
	}
	return "", false
}

// isAuthError reports whether Slack refused the token itself, as opposed to
// being unreachable or failing.
func isAuthError(err error) bool {
	var se slack.SlackErrorResponse
	if !errors.As(err, &se) {
		return false
	}
	switch se.Err {
	case "invalid_auth", "not_authed", "token_revoked", "account_inactive":
		return true
	}
	return false
}

// RunSocket serves Slack over Socket Mode until ctx ends; it then returns
// nil. It returns an error if Slack refuses the app-level token (the
// *slack.Client given to New must carry it, via slack.OptionAppLevelToken).
// Every envelope that can change state is written to the inbox and then
// acknowledged before any work, except a view_submission and a slash
// command, whose ack carries the answer; all of it runs in goroutines that
// Drain waits for.
func (b *Bot) RunSocket(ctx context.Context) error {
	sm := socketmode.New(b.api)
	runCtx, cancel := context.WithCancel(ctx)
	consumed := make(chan struct{})
	go func() {
		defer close(consumed)
		b.consumeSocket(runCtx, sm)
	}()
	err := sm.RunContext(runCtx)
	cancel()
	<-consumed
	if ctx.Err() != nil {
		return nil
	}
	return fmt.Errorf("running socket mode: %w", err)
}

// consumeSocket drains sm.Events. It never waits on the store or the Web
// API: slack-go stops reading the socket (and so answering pings) while
// Events is full, which ends in a reconnect storm.
func (b *Bot) consumeSocket(ctx context.Context, sm *socketmode.Client) {
	for {
		select {
		case <-ctx.Done():
			return
		case evt := <-sm.Events:
			b.onSocketEvent(ctx, sm, evt)
		}
	}
}

func (b *Bot) onSocketEvent(ctx context.Context, sm *socketmode.Client, evt socketmode.Event) {
	switch evt.Type {
	case socketmode.EventTypeEventsAPI:
		ev, ok := evt.Data.(slackevents.EventsAPIEvent)
		req := evt.Request
		if !ok || req == nil || req.EnvelopeID == "" {
			b.ackSocket(ctx, sm, req, nil)
			b.metrics.inbound.WithLabelValues("event", "bad_request").Inc()
			return
		}
		cb, isCallback := ev.Data.(*slackevents.EventsAPICallbackEvent)
		if ev.Type != slackevents.CallbackEvent || !isCallback || cb.EventID == "" {
			// app_rate_limited and the like change nothing: only logged.
			b.ackSocket(ctx, sm, req, nil)
			b.metrics.inbound.WithLabelValues("event", "ok").Inc()
			b.spawn("event", func(ctx context.Context) { b.handleEvent(ctx, ev) })
			return
		}
		// The inbox write comes before the ack, in a goroutine: this loop
		// must never wait on the store. An envelope that could not be
		// written is not acknowledged, so Slack delivers it again.
		b.spawn("event", func(hctx context.Context) {
			key, dup, err := b.inbox.admit(hctx, inboxEvent, cb.EventID, req.Payload)
			if err != nil {
				b.metrics.inbound.WithLabelValues("event", "unavailable").Inc()
				return
			}
			b.ackSocket(hctx, sm, req, nil)
			if dup {
				b.metrics.inbound.WithLabelValues("event", "duplicate").Inc()
				return
			}
			b.metrics.inbound.WithLabelValues("event", "ok").Inc()
			b.inbox.run(hctx, key, func(ctx context.Context) { b.handleEvent(ctx, ev) })
		})
	case socketmode.EventTypeInteractive:
		ic, ok := evt.Data.(slack.InteractionCallback)
		req := evt.Request
		if !ok || req == nil || req.EnvelopeID == "" {
			b.ackSocket(ctx, sm, req, nil)
			b.metrics.inbound.WithLabelValues("interaction", "bad_request").Inc()
			return
		}
		// As for events: inbox, then the ack, off this loop. A
		// view_submission's answer goes in the ack, so its work comes
		// before the ack too.
		b.spawn("interaction", func(hctx context.Context) {
			key, dup, err := b.inbox.admit(hctx, inboxInteraction, interactionMark(req.Payload), req.Payload)
			if err != nil {
				b.metrics.inbound.WithLabelValues("interaction", "unavailable").Inc()
				return
			}
			if dup {
				b.ackSocket(hctx, sm, req, nil)
				b.metrics.inbound.WithLabelValues("interaction", "duplicate").Inc()
				return
			}
			b.metrics.inbound.WithLabelValues("interaction", "ok").Inc()
			if ic.Type != slack.InteractionTypeViewSubmission {
				b.ackSocket(hctx, sm, req, nil)
				b.inbox.run(hctx, key, func(ctx context.Context) { b.handleInteraction(ctx, ic) })
				return
			}
			var payload any
			if resp := b.handleViewSubmission(triage.WithInboxKey(hctx, key), ic); resp != nil {
				payload = resp
			}
			b.ackSocket(hctx, sm, req, payload)
			b.inbox.finish(hctx, key) // cleanup after the answer
		})
	case socketmode.EventTypeSlashCommand:
		cmd, ok := evt.Data.(slack.SlashCommand)
		req := evt.Request
		if !ok || req == nil || req.EnvelopeID == "" {
			b.ackSocket(ctx, sm, req, nil)
			b.metrics.inbound.WithLabelValues("command", "bad_request").Inc()
			return
		}
		// The reply goes in the ack and takes up to runCommand's wait:
		// inbox and reply in a goroutine, because this loop must never wait.
		b.spawn("command", func(hctx context.Context) {
			key, dup, err := b.inbox.admit(hctx, inboxCommand, commandMark(cmd.TriggerID, req.Payload), req.Payload)
			var payload any
			switch {
			case err != nil:
				b.metrics.inbound.WithLabelValues("command", "unavailable").Inc()
				payload = ephemeralReply(b.words.t("command.unrecorded"))
			case dup:
				b.metrics.inbound.WithLabelValues("command", "duplicate").Inc()
			default:
				b.metrics.inbound.WithLabelValues("command", "ok").Inc()
				if reply := b.runCommand(triage.WithInboxKey(hctx, key), cmd); reply != nil {
					payload = reply
				}
			}
			b.ackSocket(hctx, sm, req, payload)
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
		b.log.Warn("slack envelope not understood, acknowledged and dropped", "envelope_id", env.EnvelopeID, "type", env.Type, "error", bad.Cause)
		b.metrics.inbound.WithLabelValues("envelope", "unparsed").Inc()
		if env.EnvelopeID != "" {
			b.ackSocket(ctx, sm, &socketmode.Request{EnvelopeID: env.EnvelopeID}, nil)
		}
	case socketmode.EventTypeConnecting:
		b.log.Debug("connecting to slack socket mode")
	case socketmode.EventTypeConnected:
		if c, ok := evt.Data.(*socketmode.ConnectedEvent); ok {
			b.log.Info("connected to slack socket mode", "connection", c.ConnectionCount)
		}
	case socketmode.EventTypeConnectionError:
		if c, ok := evt.Data.(*slack.ConnectionErrorEvent); ok {
			b.log.Warn("slack socket mode connection failed", "attempt", c.Attempt, "backoff", c.Backoff, "error", c.ErrorObj)
		}
	case socketmode.EventTypeInvalidAuth:
		b.log.Error("slack refused the app-level token")
	case socketmode.EventTypeIncomingError:
		if e, ok := evt.Data.(*slack.IncomingEventError); ok {
			b.log.Warn("reading from slack socket mode", "error", e.ErrorObj)
		}
	case socketmode.EventTypeErrorWriteFailed:
		if e, ok := evt.Data.(*socketmode.ErrorWriteFailed); ok {
			b.log.Warn("writing to slack socket mode", "error", e.Cause)
		}
	default:
		// hello and the like: nothing to do, and never acked (no envelope).
		b.log.Debug("slack socket mode event", "type", string(evt.Type))
	}
}

// ackSocket acknowledges one envelope, waiting at most ackTimeout to queue
// it. It reports whether there was an envelope to acknowledge.
func (b *Bot) ackSocket(ctx context.Context, sm *socketmode.Client, req *socketmode.Request, payload any) bool {
	if req == nil || req.EnvelopeID == "" {
		return false
	}
	ctx, cancel := context.WithTimeout(ctx, ackTimeout)
	defer cancel()
	if err := sm.AckCtx(ctx, req.EnvelopeID, payload); err != nil {
		b.log.Warn("acknowledging a slack envelope", "envelope_id", req.EnvelopeID, "error", err)
	}
	return true
}
