package slackfake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// PingInterval is how often the fake pings each websocket connection, well
// inside slack-go's 30 s deadman so clients never reconnect on their own.
const PingInterval = time.Second

// connectWait is how long SendEnvelope and friends wait for a connection.
const connectWait = 5 * time.Second

// Envelope is a Socket Mode request the fake pushes to the client.
type Envelope struct {
	Type                   string // "events_api" (default) | "interactive" | "slash_commands"
	Payload                any    // marshalled to JSON; json.RawMessage and []byte are sent as they are
	AcceptsResponsePayload bool
	RetryAttempt           int
	RetryReason            string
}

// Ack is an acknowledgement the client sent back.
type Ack struct {
	EnvelopeID string
	Payload    json.RawMessage // nil when the ack had no payload
	At         time.Time       // when the fake read it
	SentAt     time.Time       // when the envelope was (last) sent; zero for unknown ids
}

type sentEnvelope struct {
	env     Envelope
	payload json.RawMessage
	sentAt  time.Time
}

type wsConn struct {
	ws        *websocket.Conn
	wmu       sync.Mutex // gorilla allows one concurrent writer
	closeOnce sync.Once
	closed    chan struct{}
}

func (c *wsConn) write(data []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.ws.SetWriteDeadline(time.Now().Add(5 * time.Second))
	return c.ws.WriteMessage(websocket.TextMessage, data)
}

func (c *wsConn) close() {
	c.closeOnce.Do(func() {
		close(c.closed)
		_ = c.ws.Close()
	})
}

func (s *Server) appsConnectionsOpen(*apiRequest) apiResponse {
	s.mu.Lock()
	ticket := fmt.Sprintf("%016x", uint64(s.nextIDLocked())*0x94d049bb133111eb)
	s.tickets[ticket] = true
	s.mu.Unlock()
	wsURL := "ws" + strings.TrimPrefix(s.srv.URL, "http") + "/link?ticket=" + ticket + "&app_id=" + AppID
	return okResp(map[string]any{"url": wsURL})
}

func (s *Server) serveWS(w http.ResponseWriter, r *http.Request) {
	ticket := r.URL.Query().Get("ticket")
	s.mu.Lock()
	down, closed, valid := s.down, s.closed, s.tickets[ticket]
	if valid {
		delete(s.tickets, ticket) // tickets are single-use, like Slack's
	}
	ok := !down && !closed && valid
	if ok {
		s.wg.Add(1)
	}
	s.mu.Unlock()
	switch {
	case down:
		drop(w)
		return
	case closed:
		http.Error(w, "server closed", http.StatusServiceUnavailable)
		return
	case !valid:
		http.Error(w, "invalid or used ticket", http.StatusUnauthorized)
		return
	}
	defer s.wg.Done()

	// slack-go sends Origin: https://api.slack.com, which the default check
	// rejects as cross-origin.
	up := websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
	ws, err := up.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	c := &wsConn{ws: ws, closed: make(chan struct{})}
	defer c.close()

	// The connection becomes visible (Connections, SendEnvelope, Disconnect)
	// before hello is written, but its write lock is held until hello is out,
	// so no envelope can overtake hello and a client that has seen hello
	// always finds the connection counted.
	c.wmu.Lock()
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		c.wmu.Unlock()
		return
	}
	s.accepted++
	s.conns = append(s.conns, c)
	num := len(s.conns)
	s.wg.Add(1) // for the pinger below
	s.notifyLocked()
	s.mu.Unlock()
	defer s.removeConn(c)
	hello, _ := json.Marshal(map[string]any{
		"type":            "hello",
		"num_connections": num,
		"debug_info":      map[string]any{"host": "slackfake", "build_number": 1, "approximate_connection_time": 18060},
		"connection_info": map[string]any{"app_id": AppID},
	})
	_ = c.ws.SetWriteDeadline(time.Now().Add(5 * time.Second))
	err = c.ws.WriteMessage(websocket.TextMessage, hello)
	c.wmu.Unlock()
	if err != nil {
		s.wg.Done()
		return
	}

	go func() {
		defer s.wg.Done()
		s.pingLoop(c)
	}()
	s.readLoop(c)
}

func (s *Server) pingLoop(c *wsConn) {
	t := time.NewTicker(PingInterval)
	defer t.Stop()
	for {
		select {
		case <-c.closed:
			return
		case <-s.done:
			return
		case <-t.C:
			if err := c.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(5*time.Second)); err != nil {
				c.close()
				return
			}
		}
	}
}

func (s *Server) readLoop(c *wsConn) {
	for {
		_, data, err := c.ws.ReadMessage()
		if err != nil {
			return
		}
		var res struct {
			EnvelopeID string          `json:"envelope_id"`
			Payload    json.RawMessage `json:"payload"`
		}
		if json.Unmarshal(data, &res) != nil || res.EnvelopeID == "" {
			continue // not an ack; Slack ignores such frames too
		}
		ack := Ack{EnvelopeID: res.EnvelopeID, Payload: res.Payload, At: time.Now()}
		s.mu.Lock()
		if e := s.envelopes[res.EnvelopeID]; e != nil {
			ack.SentAt = e.sentAt
		}
		s.acks = append(s.acks, ack)
		s.notifyLocked()
		s.mu.Unlock()
	}
}

func (s *Server) removeConn(c *wsConn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.conns = slices.DeleteFunc(s.conns, func(x *wsConn) bool { return x == c })
	s.notifyLocked()
}

// deliver writes frame to the newest live connection, waiting up to
// connectWait for one. before runs under s.mu just before the write.
func (s *Server) deliver(tb testing.TB, frame []byte, before func()) {
	tb.Helper()
	deadline := time.Now().Add(connectWait)
	for {
		var c *wsConn
		s.wait(time.Until(deadline), func() bool { return len(s.conns) > 0 })
		s.mu.Lock()
		if n := len(s.conns); n > 0 {
			c = s.conns[n-1]
			if before != nil {
				before()
			}
		}
		s.mu.Unlock()
		if c == nil {
			tb.Fatalf("slackfake: no socket mode connection within %v (accepted so far: %d)", connectWait, s.Connections())
			return
		}
		if err := c.write(frame); err == nil {
			return
		}
		// The connection died under us; try the next one until the deadline.
		c.close()
		s.removeConn(c)
		if time.Now().After(deadline) {
			tb.Fatalf("slackfake: writing to socket mode connection failed until %v passed", connectWait)
			return
		}
	}
}

func marshalPayload(p any) (json.RawMessage, error) {
	switch v := p.(type) {
	case json.RawMessage:
		return v, nil
	case []byte:
		return v, nil
	case nil:
		return json.RawMessage("{}"), nil
	}
	return json.Marshal(p)
}

func envelopeFrame(id string, e Envelope, payload json.RawMessage) []byte {
	b, _ := json.Marshal(map[string]any{
		"envelope_id":              id,
		"type":                     e.Type,
		"accepts_response_payload": e.AcceptsResponsePayload,
		"retry_attempt":            e.RetryAttempt,
		"retry_reason":             e.RetryReason,
		"payload":                  payload,
	})
	return b
}

// SendEnvelope assigns a unique envelope_id to e, writes it to the newest
// Socket Mode connection (waiting up to 5 s for one) and returns the id.
// Call it from the test goroutine: it fails tb on error.
func (s *Server) SendEnvelope(tb testing.TB, e Envelope) string {
	tb.Helper()
	if e.Type == "" {
		e.Type = "events_api"
	}
	payload, err := marshalPayload(e.Payload)
	if err != nil {
		tb.Fatalf("slackfake: marshalling envelope payload: %v", err)
	}
	s.mu.Lock()
	n := s.nextIDLocked()
	id := fmt.Sprintf("%08x-fa4e-4000-8000-%012x", n, n) // shaped like Slack's UUIDs
	s.mu.Unlock()
	s.deliver(tb, envelopeFrame(id, e, payload), func() {
		s.envelopes[id] = &sentEnvelope{env: e, payload: payload, sentAt: time.Now()}
	})
	return id
}

// Resend delivers an envelope again with the same envelope_id and
// retry_attempt+1, the way Slack retries envelopes that were not acked in
// time (reason is e.g. "timeout").
func (s *Server) Resend(tb testing.TB, envelopeID, reason string) {
	tb.Helper()
	s.mu.Lock()
	se := s.envelopes[envelopeID]
	var e Envelope
	var payload json.RawMessage
	if se != nil {
		se.env.RetryAttempt++
		se.env.RetryReason = reason
		e, payload = se.env, se.payload
	}
	s.mu.Unlock()
	if se == nil {
		tb.Fatalf("slackfake: Resend of unknown envelope %q", envelopeID)
		return
	}
	s.deliver(tb, envelopeFrame(envelopeID, e, payload), func() { se.sentAt = time.Now() })
}

// SendRaw writes raw as a text frame to the newest connection, for
// malformed-payload tests.
func (s *Server) SendRaw(tb testing.TB, raw []byte) {
	tb.Helper()
	s.deliver(tb, raw, nil)
}

// Acks returns every ack received, in arrival order.
func (s *Server) Acks() []Ack {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Ack, len(s.acks))
	for i, a := range s.acks {
		a.Payload = cloneRaw(a.Payload)
		out[i] = a
	}
	return out
}

// WaitAck waits for the first ack of envelopeID and fails tb on timeout.
func (s *Server) WaitAck(tb testing.TB, envelopeID string, timeout time.Duration) Ack {
	tb.Helper()
	var got Ack
	found := s.wait(timeout, func() bool {
		for _, a := range s.acks {
			if a.EnvelopeID == envelopeID {
				got = a
				got.Payload = cloneRaw(a.Payload)
				return true
			}
		}
		return false
	})
	if !found {
		var ids []string
		for _, a := range s.Acks() {
			ids = append(ids, a.EnvelopeID)
		}
		tb.Fatalf("slackfake: no ack for envelope %q within %v; acks seen: %q", envelopeID, timeout, ids)
	}
	return got
}

// Disconnect sends {"type":"disconnect","reason":reason} on the newest
// connection and closes it, as Slack does when it refreshes a connection.
// It is a no-op without a connection.
func (s *Server) Disconnect(reason string) {
	s.mu.Lock()
	var c *wsConn
	if n := len(s.conns); n > 0 {
		c = s.conns[n-1]
		s.conns = s.conns[:n-1]
		s.notifyLocked()
	}
	s.mu.Unlock()
	if c == nil {
		return
	}
	msg, _ := json.Marshal(map[string]any{
		"type":       "disconnect",
		"reason":     reason,
		"debug_info": map[string]any{"host": "slackfake"},
	})
	_ = c.write(msg)
	c.close()
}

// Connections is how many websocket connections the fake has accepted in
// total.
func (s *Server) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.accepted
}

// WaitConnections waits until at least n connections were accepted in total
// and a connection is live, failing tb on timeout.
func (s *Server) WaitConnections(tb testing.TB, n int, timeout time.Duration) {
	tb.Helper()
	if !s.wait(timeout, func() bool { return s.accepted >= n && len(s.conns) > 0 }) {
		tb.Fatalf("slackfake: waited %v for %d socket mode connections, accepted %d", timeout, n, s.Connections())
	}
}
