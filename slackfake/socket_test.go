package slackfake_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"

	"github.com/leadtriage/leadtriage/slackfake"
)

// startSocketMode runs a real socketmode client against fake until the test
// ends and returns the stream of its events. The cleanup stops the client
// before the fake closes (cleanups run last-registered first).
func startSocketMode(t *testing.T, fake *slackfake.Server) (*socketmode.Client, <-chan socketmode.Event) {
	t.Helper()
	sm := socketmode.New(fake.Client())
	ctx, cancel := context.WithCancel(context.Background())
	events := make(chan socketmode.Event, 100)
	runDone := make(chan error, 1)
	drainDone := make(chan struct{})
	go func() { runDone <- sm.RunContext(ctx) }()
	go func() {
		defer close(drainDone)
		for {
			select {
			case evt := <-sm.Events:
				select {
				case events <- evt:
				default:
					t.Errorf("test event buffer full, dropped %s", evt.Type)
				}
			case <-ctx.Done():
				return
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-runDone; !errors.Is(err, context.Canceled) {
			t.Errorf("RunContext returned %v, want context.Canceled", err)
		}
		<-drainDone
	})
	return sm, events
}

// next returns the next event of type typ, skipping others.
func next(t *testing.T, events <-chan socketmode.Event, typ socketmode.EventType) socketmode.Event {
	t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case evt := <-events:
			if evt.Type == typ {
				return evt
			}
		case <-timeout:
			t.Fatalf("no %s event within 5s", typ)
		}
	}
}

func TestSocketMode_RoundTrip(t *testing.T) {
	t.Parallel()
	fake := slackfake.New(t)
	sm, events := startSocketMode(t, fake)

	hello := next(t, events, socketmode.EventTypeHello)
	if hello.Request == nil || hello.Request.NumConnections != 1 {
		t.Errorf("hello = %+v", hello.Request)
	}

	inner := slackfake.MessageEvent("C1", "U7", "a reply", "1700000000.000100", "1700000000.000001")
	id := fake.SendEnvelope(t, slackfake.Envelope{
		Type:         "events_api",
		Payload:      json.RawMessage(slackfake.EventCallbackJSON("Ev1", inner)),
		RetryAttempt: 1,
		RetryReason:  "timeout",
	})
	evt := next(t, events, socketmode.EventTypeEventsAPI)
	if evt.Request.EnvelopeID != id || evt.Request.RetryAttempt != 1 || evt.Request.RetryReason != "timeout" {
		t.Errorf("request = %+v, want envelope %s retry 1 timeout", evt.Request, id)
	}
	ev := evt.Data.(slackevents.EventsAPIEvent)
	msg, ok := ev.InnerEvent.Data.(*slackevents.MessageEvent)
	if !ok || msg.Text != "a reply" || msg.ThreadTimeStamp != "1700000000.000001" {
		t.Fatalf("inner event = %#v", ev.InnerEvent.Data)
	}
	if cb := ev.Data.(*slackevents.EventsAPICallbackEvent); cb.EventID != "Ev1" {
		t.Errorf("event_id = %q", cb.EventID)
	}
	if err := sm.Ack(*evt.Request); err != nil {
		t.Fatal(err)
	}
	ack := fake.WaitAck(t, id, 5*time.Second)
	if ack.SentAt.IsZero() || ack.At.Before(ack.SentAt) || ack.Payload != nil {
		t.Errorf("ack = %+v", ack)
	}

	// A slash command acked with a response payload.
	id = fake.SendEnvelope(t, slackfake.Envelope{
		Type:                   "slash_commands",
		Payload:                json.RawMessage(slackfake.SlashCommandJSON("U7", "C1", "/qualify", "L-1", fake.NewResponseURL(), fake.NewTriggerID())),
		AcceptsResponsePayload: true,
	})
	evt = next(t, events, socketmode.EventTypeSlashCommand)
	if cmd := evt.Data.(slack.SlashCommand); cmd.Command != "/qualify" || cmd.Text != "L-1" || cmd.UserID != "U7" {
		t.Errorf("slash command = %+v", cmd)
	}
	if err := sm.Ack(*evt.Request, map[string]any{"response_type": "ephemeral", "text": "on it"}); err != nil {
		t.Fatal(err)
	}
	if ack := fake.WaitAck(t, id, 5*time.Second); string(ack.Payload) != `{"response_type":"ephemeral","text":"on it"}` {
		t.Errorf("ack payload = %s", ack.Payload)
	}

	// Slack may deliver the same envelope again.
	fake.Resend(t, id, "timeout")
	evt = next(t, events, socketmode.EventTypeSlashCommand)
	if evt.Request.EnvelopeID != id || evt.Request.RetryAttempt != 1 {
		t.Errorf("resent request = %+v", evt.Request)
	}

	// A malformed payload surfaces as a bad message and is never acked.
	fake.SendRaw(t, []byte(`{"type":"events_api","envelope_id":"bad-1","payload":{"type":"event_callback","event":{"type":"no_such_event"}}}`))
	bad := next(t, events, socketmode.EventTypeErrorBadMessage)
	if _, ok := bad.Data.(*socketmode.ErrorBadMessage); !ok {
		t.Errorf("bad message data = %T", bad.Data)
	}
	if len(fake.Acks()) != 2 {
		t.Errorf("acks = %+v, want 2", fake.Acks())
	}
}

func TestSocketMode_Disconnect(t *testing.T) {
	t.Parallel()
	fake := slackfake.New(t)
	_, events := startSocketMode(t, fake)
	next(t, events, socketmode.EventTypeHello)
	if n := fake.Connections(); n != 1 {
		t.Fatalf("Connections() = %d, want 1", n)
	}

	fake.Disconnect("refresh_requested")
	fake.WaitConnections(t, 2, 10*time.Second)
	next(t, events, socketmode.EventTypeHello)
	if n := fake.Connections(); n != 2 {
		t.Errorf("Connections() = %d after reconnect, want 2", n)
	}
	if c := fake.Calls("apps.connections.open"); len(c) != 2 {
		t.Errorf("apps.connections.open called %d times, want 2", len(c))
	}

	// Envelopes go to the new connection.
	id := fake.SendEnvelope(t, slackfake.Envelope{
		Type:    "interactive",
		Payload: json.RawMessage(slackfake.BlockActionJSON("U7", "C1", "1700000000.000001", "lead.vote.yes", "L-1")),
	})
	evt := next(t, events, socketmode.EventTypeInteractive)
	cb := evt.Data.(slack.InteractionCallback)
	if evt.Request.EnvelopeID != id || cb.Type != slack.InteractionTypeBlockActions || cb.ActionCallback.BlockActions[0].ActionID != "lead.vote.yes" {
		t.Errorf("interactive event = %+v", cb)
	}
}

func TestSocketMode_NoConnectionFails(t *testing.T) {
	t.Parallel()
	fake := slackfake.New(t)
	// Without a client, SendEnvelope must give up (after 5 s) and fail the
	// test; run it on a fake TB to observe that.
	ftb := &fatalTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer func() { _ = recover() }()
		fake.SendEnvelope(ftb, slackfake.Envelope{Payload: map[string]any{}})
	}()
	<-done
	if !ftb.failed {
		t.Error("SendEnvelope without a connection did not fail")
	}
}

// fatalTB records Fatalf instead of stopping the real test.
type fatalTB struct {
	testing.TB
	failed bool
}

func (f *fatalTB) Helper() {}

func (f *fatalTB) Fatalf(string, ...any) {
	f.failed = true
	panic("fatal")
}

// TestSocketMode_Protocol drives the websocket with a bare gorilla client to
// pin down the wire protocol: single-use URLs, hello first, pings, acks, and
// the fake closing its side on cleanup.
func TestSocketMode_Protocol(t *testing.T) {
	t.Parallel()
	var conn *websocket.Conn
	pings := make(chan struct{}, 1)
	frames := make(chan []byte, 10)
	readErr := make(chan error, 1)
	origin := http.Header{"Origin": {"https://api.slack.com"}}

	t.Run("Open", func(t *testing.T) {
		fake := slackfake.New(t)
		_, wsURL, err := fake.Client().StartSocketModeContext(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		var resp *http.Response
		conn, resp, err = websocket.DefaultDialer.Dial(wsURL, origin)
		if err != nil {
			t.Fatalf("dial: %v", err)
		}
		resp.Body.Close()
		if _, resp, err := websocket.DefaultDialer.Dial(wsURL, origin); err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("second dial with the same URL: err %v, want 401", err)
		} else {
			resp.Body.Close()
		}
		conn.SetPingHandler(func(string) error {
			select {
			case pings <- struct{}{}:
			default:
			}
			return nil
		})
		go func() {
			for {
				_, b, err := conn.ReadMessage()
				if err != nil {
					readErr <- err
					return
				}
				frames <- b
			}
		}()
		read := func() map[string]any {
			t.Helper()
			select {
			case b := <-frames:
				var m map[string]any
				if err := json.Unmarshal(b, &m); err != nil {
					t.Fatalf("frame %s: %v", b, err)
				}
				return m
			case <-time.After(5 * time.Second):
				t.Fatal("no frame within 5s")
				return nil
			}
		}
		if hello := read(); hello["type"] != "hello" || hello["num_connections"] != 1.0 {
			t.Errorf("first frame = %v, want hello", hello)
		}
		select {
		case <-pings:
		case <-time.After(3 * slackfake.PingInterval):
			t.Errorf("no ping within %v", 3*slackfake.PingInterval)
		}

		id := fake.SendEnvelope(t, slackfake.Envelope{Payload: map[string]any{"k": "v"}, AcceptsResponsePayload: true})
		env := read()
		if env["envelope_id"] != id || env["type"] != "events_api" || env["accepts_response_payload"] != true || env["payload"].(map[string]any)["k"] != "v" {
			t.Errorf("envelope frame = %v", env)
		}
		if err := conn.WriteJSON(map[string]any{"envelope_id": id, "payload": map[string]any{"ok": 1}}); err != nil {
			t.Fatal(err)
		}
		if ack := fake.WaitAck(t, id, 5*time.Second); string(ack.Payload) != `{"ok":1}` {
			t.Errorf("ack payload = %s", ack.Payload)
		}
	})

	// The fake is closed now: its end of the websocket must be gone too.
	select {
	case <-readErr:
	case <-time.After(5 * time.Second):
		t.Error("websocket still open after the fake's cleanup")
	}
	conn.Close()
}
