package bot

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"sync"
	"time"

	"github.com/leadtriage/leadtriage/triage"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
)

// The durable inbox: every Slack request that can change state is written to
// the store (InboxStore.AdmitInbox) with its de-duplication mark before
// Slack gets its acknowledgement, and acted on from there. Slack never
// resends an interaction or a command that got its 200, nor an event, so
// without the inbox a crash right after the ack would lose the click.
//
// An entry leaves the inbox in the same transaction as its effect: the
// handler runs with the entry's key in its context (triage.WithInboxKey),
// and the store removes the entry with the first change the handler makes.
// A handler that changes nothing durable (an ignored event, a query, a
// refusal shown inline) gets its entry removed after it returns; a crash in
// between replays it, which only repeats what it showed. Effects outside
// the store are made safe to repeat instead: views.open with a trigger that
// expired fails harmlessly, views.publish replaces the App Home, and a
// command's reply goes once more to its response_url. A second change made
// by the same handler (a confirmation after the vote) is not covered: the
// first change took the entry.
//
// At start, before serving, ReplayInbox acts on what a previous run left.

// Kinds of inbox entries: the shape of the stored body.
const (
	inboxEvent           = "slack_event"            // an Events API event_callback, JSON (an HTTP body or a Socket Mode payload: the same shape)
	inboxInteractionForm = "slack_interaction_form" // HTTP: the form body, with the JSON in its payload field
	inboxInteraction     = "slack_interaction"      // Socket Mode: the interaction JSON
	inboxCommandForm     = "slack_command_form"     // HTTP: the slash command form body
	inboxCommand         = "slack_command"          // Socket Mode: the slash command JSON
)

// inboxUnavailableText is answered (503) when a request could not be made
// durable: Slack retries events, and a person retries a click.
const inboxUnavailableText = "cannot record the request right now"

// interactionMark is an interaction's de-duplication mark: the hash of its
// raw payload. Slack does not retry interactions, but a signed request
// replayed within the signature window must not act twice; two real clicks
// differ in action_ts and trigger_id, so their hashes differ.
func interactionMark(payload []byte) string {
	sum := sha256.Sum256(payload)
	return "interaction:" + hex.EncodeToString(sum[:16])
}

// commandMark is a slash command's de-duplication mark: its trigger_id,
// unique per invocation; the payload hash when it has none.
func commandMark(triggerID string, payload []byte) string {
	if triggerID != "" {
		return "command:" + triggerID
	}
	sum := sha256.Sum256(payload)
	return "command:" + hex.EncodeToString(sum[:16])
}

// inbox keeps Slack's requests durable from their acknowledgement until
// they are acted on. It knows the entries, not what they say: the bot
// decodes an entry into its handler (Bot.entryHandler).
type inbox struct {
	store InboxStore
	log   *slog.Logger
	now   func() time.Time
	// root is the bot's parent of handler contexts, and inflight its
	// handlers in flight: a retry stops with the one and Drain waits for it.
	root     func() context.Context
	inflight *sync.WaitGroup
}

// admit makes a request durable before its ack. dup reports a request
// whose mark was seen before: it is acknowledged and not acted on again.
func (in *inbox) admit(ctx context.Context, kind, mark string, body []byte) (key string, dup bool, err error) {
	key, dup, err = in.store.AdmitInbox(ctx, triage.InboxEntry{Kind: kind, Mark: mark, Body: body, At: in.now()})
	if err != nil {
		in.log.ErrorContext(ctx, "writing a slack request to the inbox", "kind", kind, "error", err)
		return "", false, fmt.Errorf("writing to the inbox: %w", err)
	}
	if dup {
		in.log.DebugContext(ctx, "repeated slack request ignored", "kind", kind, "mark", mark)
	}
	return key, dup, nil
}

// refuseUnrecorded answers an HTTP request that could not be made durable.
func refuseUnrecorded(w http.ResponseWriter) string {
	w.Header().Set("Retry-After", "1")
	http.Error(w, inboxUnavailableText, http.StatusServiceUnavailable)
	return "unavailable"
}

// run runs handle for the inbox entry key, with the key in its context,
// and then finishes the entry (finish) — unless the store failed to
// take its effect (a full disk): then the entry stays and is tried again,
// so that a click acknowledged before the disk filled still counts.
func (in *inbox) run(ctx context.Context, key string, handle func(ctx context.Context)) {
	hctx := triage.WithInboxKey(ctx, key)
	handle(hctx)
	if key != "" && triage.InboxFailed(hctx) {
		in.retry(key, handle)
		return
	}
	in.finish(ctx, key)
}

// Backoff of a Slack request whose effect the store could not take.
const (
	entryRetryFirst = time.Second
	entryRetryMax   = time.Minute
)

// retry runs handle for key again, with backoff, until the store takes
// its effect or the bot stops; a stop leaves the entry for the next start's
// ReplayInbox. It runs on real time: it waits for a disk, not for the
// domain's clock.
func (in *inbox) retry(key string, handle func(ctx context.Context)) {
	root := in.root()
	in.log.Warn("the database could not store a slack request's effect; it stays in the inbox and is tried again", "inbox_key", key)
	in.inflight.Add(1)
	go func() {
		defer in.inflight.Done()
		wait := entryRetryFirst
		for {
			t := time.NewTimer(wait)
			select {
			case <-root.Done():
				t.Stop()
				return
			case <-t.C:
			}
			ctx, cancel := context.WithTimeout(context.WithoutCancel(root), handlerTimeout)
			hctx := triage.WithInboxKey(ctx, key)
			handle(hctx)
			failed := triage.InboxFailed(hctx)
			if !failed {
				in.finish(ctx, key)
			}
			cancel()
			if !failed {
				in.log.Info("a slack request kept in the inbox is done", "inbox_key", key)
				return
			}
			wait = min(wait*2, entryRetryMax)
		}
	}()
}

// finish removes the entry key once its handler returned: an effect
// has removed it already, or there was none. A handler that ran out of time
// may have been cut off before its effect, so its entry stays for the next
// start.
func (in *inbox) finish(ctx context.Context, key string) {
	if key == "" {
		return
	}
	if ctx.Err() != nil {
		in.log.Warn("slack request not finished in time, kept in the inbox for the next start", "inbox_key", key)
		return
	}
	if err := in.store.DoneInbox(context.WithoutCancel(ctx), key); err != nil {
		in.log.Error("removing a handled slack request from the inbox", "inbox_key", key, "error", err)
	}
}

// ReplayInbox acts on every entry a previous run accepted but did not
// finish (a crash, a kill, a handler cut off), oldest first, one at a time,
// and returns how many it replayed. Call it after Start and before serving,
// so that nothing new overtakes them. An entry whose body cannot be decoded,
// or whose handler panics, is logged and dropped: it would fail the same
// way at every start.
func (b *Bot) ReplayInbox(ctx context.Context) (int, error) {
	return b.inbox.replayAll(ctx, b.entryHandler)
}

// entryDecoder turns an inbox entry into what acts on it.
type entryDecoder func(triage.InboxEntry) (func(ctx context.Context), error)

// replayAll replays every entry left in the inbox, oldest first (see
// Bot.ReplayInbox).
func (in *inbox) replayAll(ctx context.Context, handler entryDecoder) (int, error) {
	entries, err := in.store.Inbox(ctx)
	if err != nil {
		return 0, fmt.Errorf("reading the inbox: %w", err)
	}
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return 0, fmt.Errorf("replaying the inbox: %w", err)
		}
		in.replay(ctx, e, handler)
	}
	if len(entries) > 0 {
		in.log.Info("replayed slack requests left in the inbox", "count", len(entries))
	}
	return len(entries), nil
}

// replay acts on one entry, with its own deadline; handler decodes it.
func (in *inbox) replay(parent context.Context, e triage.InboxEntry, handler entryDecoder) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(parent), handlerTimeout)
	defer cancel()
	log := in.log.With("inbox_key", e.Key, "kind", e.Kind)
	defer func() {
		if r := recover(); r != nil {
			log.Error("panic replaying a slack request, dropped", "panic", r, "stack", string(debug.Stack()))
			in.finish(ctx, e.Key)
		}
	}()
	handle, err := handler(e)
	if err != nil {
		log.Warn("slack request in the inbox not understood, dropped", "error", err)
		in.finish(ctx, e.Key)
		return
	}
	log.Debug("replaying a slack request")
	in.run(ctx, e.Key, handle)
}

// entryHandler decodes an entry into what acts on it. A replay has nobody
// to answer inline: a view submission's answer is dropped (its effect is
// what counts), and a command's reply goes to its response_url.
func (b *Bot) entryHandler(e triage.InboxEntry) (func(ctx context.Context), error) {
	switch e.Kind {
	case inboxEvent:
		ev, err := slackevents.ParseEvent(json.RawMessage(e.Body), slackevents.OptionNoVerifyToken())
		if err != nil {
			return nil, fmt.Errorf("decoding the event: %w", err)
		}
		return func(ctx context.Context) { b.handleEvent(ctx, ev) }, nil
	case inboxInteractionForm, inboxInteraction:
		var ic slack.InteractionCallback
		var err error
		if e.Kind == inboxInteractionForm {
			ic, err = parseInteraction(e.Body)
		} else {
			err = json.Unmarshal(e.Body, &ic)
		}
		if err != nil {
			return nil, fmt.Errorf("decoding the interaction: %w", err)
		}
		if ic.Type == slack.InteractionTypeViewSubmission {
			return func(ctx context.Context) { _ = b.handleViewSubmission(ctx, ic) }, nil
		}
		return func(ctx context.Context) { b.handleInteraction(ctx, ic) }, nil
	case inboxCommandForm, inboxCommand:
		var cmd slack.SlashCommand
		var err error
		if e.Kind == inboxCommandForm {
			cmd, err = parseCommandForm(e.Body)
		} else {
			err = json.Unmarshal(e.Body, &cmd)
		}
		if err != nil {
			return nil, fmt.Errorf("decoding the command: %w", err)
		}
		return func(ctx context.Context) { b.commands.replay(ctx, cmd) }, nil
	}
	return nil, errors.New("unknown kind")
}

// parseCommandForm decodes a slash command's form body.
func parseCommandForm(body []byte) (slack.SlashCommand, error) {
	r, err := http.NewRequest(http.MethodPost, "/slack/commands", bytes.NewReader(body))
	if err != nil {
		return slack.SlashCommand{}, fmt.Errorf("reading the command form: %w", err)
	}
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	cmd, err := slack.SlashCommandParse(r)
	if err != nil {
		return slack.SlashCommand{}, fmt.Errorf("parsing the command form: %w", err)
	}
	return cmd, nil
}
