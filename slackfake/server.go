package slackfake

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"
)

// Identity of the fake workspace and its bot.
const (
	BotToken  = "xoxb-fake-bot-token" // the only bot token the fake accepts
	AppToken  = "xapp-fake-app-token" // accepted only on apps.connections.open
	BotUserID = "UBOT"
	BotID     = "BBOT"
	TeamID    = "TFAKE"

	// AppID is the api_app_id the payload builders put in inbound requests.
	AppID = "AFAKE"
	// BotName is the bot user's name (auth.test "user", users.info UBOT).
	BotName = "leadbot"
	// TeamName is the workspace name auth.test reports.
	TeamName = "Fake Workspace"
	// WorkspaceURL is the workspace URL auth.test reports and permalinks start with.
	WorkspaceURL = "https://fake.slack.com/"
)

// tsBase is the second the fake's ts counter starts from. A fixed base keeps
// timestamps deterministic (golden files) while the microsecond counter keeps
// them unique and ordered, which Slack's second-resolution-plus-suffix ts is.
const tsBase = 1700000000

// maxBody bounds request bodies; Slack's own limits are far below this.
const maxBody = 8 << 20

// Server is a fake Slack: Web API under /api/, Socket Mode websocket under
// /link, and response_url endpoints under /hooks/. It is safe for concurrent
// use; every accessor returns copies.
type Server struct {
	srv       *httptest.Server
	transport *http.Transport

	mu      sync.Mutex
	closed  bool
	done    chan struct{} // closed by close(); unblocks delays and waiters
	changed chan struct{} // closed and replaced on every state change (broadcast)
	now     func() time.Time
	down    bool

	seq      int64 // call arrival counter
	pending  int   // Web API requests being handled
	tsSeq    int64 // microsecond counter behind ts values
	idSeq    int64 // counter for view ids, hashes, triggers, envelopes, urls
	calls    []Call
	callSeqs []int64 // arrival seq of calls[i], keeps calls in arrival order
	faults   []pendingFault
	refusals // lasting refusals: channels left or archived, Refuse (refusals.go)

	channels   map[string]*channelState
	ephemerals []Ephemeral
	users      map[string]string // id -> name
	scopes     string            // X-OAuth-Scopes of every answer; "" = none
	triggers   map[string]*trigger
	views      []View
	viewsByID  map[string]*viewState
	homeViews  map[string]string // user id -> view id
	responses  map[string]*responseURL
	usergroups map[string][]string // usergroup id -> member user ids

	// emulator (emulator.go)
	noCalls      bool                         // Start: a long-running fake keeps no call log
	modals       map[string][]string          // user id -> open modal view ids, bottom first
	viewErrors   map[string]map[string]string // view id -> block id -> inline error
	ephemeralsAt []string                     // ts of the newest message when ephemerals[i] arrived

	// socket mode
	wg        sync.WaitGroup // websocket goroutines
	tickets   map[string]bool
	conns     []*wsConn // live connections, newest last
	accepted  int
	envelopes map[string]*sentEnvelope
	acks      []Ack
}

type pendingFault struct {
	method string
	fault  Fault
	left   int
}

// New starts the fake on 127.0.0.1 and registers tb.Cleanup to close it,
// including its websocket connections and their goroutines.
func New(tb testing.TB) *Server {
	tb.Helper()
	s := newServer()
	s.srv = httptest.NewServer(s.mux())
	tb.Cleanup(s.close)
	return s
}

// newServer returns a fake with empty state and no listener yet.
func newServer() *Server {
	s := &Server{
		done:       make(chan struct{}),
		changed:    make(chan struct{}),
		now:        time.Now,
		channels:   map[string]*channelState{},
		users:      map[string]string{BotUserID: BotName},
		triggers:   map[string]*trigger{},
		viewsByID:  map[string]*viewState{},
		homeViews:  map[string]string{},
		responses:  map[string]*responseURL{},
		usergroups: map[string][]string{},
		tickets:    map[string]bool{},
		envelopes:  map[string]*sentEnvelope{},
		modals:     map[string][]string{},
		viewErrors: map[string]map[string]string{},
	}
	// A transport per fake, without proxy, so that closing it leaves no idle
	// keep-alive goroutines behind for goleak-style checks.
	s.transport = &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConnsPerHost: 16,
		IdleConnTimeout:     30 * time.Second,
	}
	return s
}

func (s *Server) mux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("/api/", s.serveAPI)
	mux.HandleFunc("/link", s.serveWS)
	mux.HandleFunc("/hooks/", s.serveResponseURL)
	return mux
}

func (s *Server) close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	close(s.done)
	conns := slices.Clone(s.conns)
	s.conns = nil
	s.notifyLocked()
	s.mu.Unlock()

	for _, c := range conns {
		c.close()
	}
	s.srv.Close()
	s.wg.Wait()
	s.transport.CloseIdleConnections()
}

// URL is the root URL of the fake, e.g. "http://127.0.0.1:1234".
func (s *Server) URL() string { return s.srv.URL }

// APIURL is the Web API base for slack.OptionAPIURL; it ends with "/".
func (s *Server) APIURL() string { return s.srv.URL + "/api/" }

// HTTPClient returns an http.Client with the given timeout that shares the
// fake's transport (whose idle connections are closed on cleanup).
func (s *Server) HTTPClient(timeout time.Duration) *http.Client {
	return &http.Client{Timeout: timeout, Transport: s.transport}
}

// Client returns a real slack-go client pointed at the fake, authenticated
// with BotToken and AppToken, with a 5 s HTTP timeout. opts are applied last,
// so they can override any of these.
func (s *Server) Client(opts ...slack.Option) *slack.Client {
	base := []slack.Option{
		slack.OptionHTTPClient(s.HTTPClient(5 * time.Second)),
		slack.OptionAPIURL(s.APIURL()),
		slack.OptionAppLevelToken(AppToken),
	}
	return slack.New(BotToken, append(base, opts...)...)
}

// SetNow replaces the clock used for trigger_id and response_url ages (not
// for Call.At, which is always real time). nil restores time.Now.
func (s *Server) SetNow(now func() time.Time) {
	if now == nil {
		now = time.Now
	}
	s.mu.Lock()
	s.now = now
	s.mu.Unlock()
}

// SetDown simulates an outage: while down every Web API request, socket
// connection attempt and response_url post is dropped (connection closed
// without an answer). Already open websocket connections are left alone; use
// Disconnect for those.
func (s *Server) SetDown(down bool) {
	s.mu.Lock()
	s.down = down
	s.mu.Unlock()
}

// SetScopes makes every Web API answer carry "X-OAuth-Scopes: a,b,…", as
// Slack's do (https://api.slack.com/authentication/oauth-v2: the header
// lists the scopes the token has); none by default.
func (s *Server) SetScopes(scopes ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.scopes = strings.Join(scopes, ",")
}

// AddUser registers a user for users.info and for DMs (chat.postMessage to a
// user id).
func (s *Server) AddUser(id, name string) {
	s.mu.Lock()
	s.users[id] = name
	s.mu.Unlock()
}

// notifyLocked wakes every waiter; callers hold s.mu.
func (s *Server) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *Server) nextIDLocked() int64 {
	s.idSeq++
	return s.idSeq
}

// nextTSLocked issues a unique, strictly increasing message ts.
func (s *Server) nextTSLocked() string {
	s.tsSeq++
	return fmt.Sprintf("%d.%06d", tsBase+s.tsSeq/1000000, s.tsSeq%1000000)
}

// wait blocks until cond (evaluated under s.mu) returns true, the timeout
// passes or the server closes. It reports whether cond became true.
func (s *Server) wait(timeout time.Duration, cond func() bool) bool {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		s.mu.Lock()
		ok := cond()
		ch := s.changed
		s.mu.Unlock()
		if ok {
			return true
		}
		select {
		case <-ch:
		case <-timer.C:
			s.mu.Lock()
			ok = cond()
			s.mu.Unlock()
			return ok
		case <-s.done:
			return false
		}
	}
}

// WaitUntil waits until cond returns true, re-evaluating it after every
// change of the fake's state (calls, messages, acks, connections), and fails
// tb with what on timeout. cond runs without the fake's lock, so it may call
// any accessor, e.g. func() bool { return len(fake.Messages("C1")) == 2 }.
func (s *Server) WaitUntil(tb testing.TB, timeout time.Duration, what string, cond func() bool) {
	tb.Helper()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		s.mu.Lock()
		ch := s.changed
		s.mu.Unlock()
		if cond() {
			return
		}
		select {
		case <-ch:
		case <-timer.C:
			if cond() {
				return
			}
			tb.Fatalf("slackfake: waited %v for %s; calls:\n%s", timeout, what, describeCalls(s.Calls()))
			return
		case <-s.done:
			tb.Fatalf("slackfake: server closed while waiting for %s", what)
			return
		}
	}
}

// ---------------------------------------------------------------------------
// Calls

// Call is one recorded Web API request.
type Call struct {
	Method string     // "chat.postMessage"
	Params url.Values // form params, query params, or top-level JSON fields rendered as strings
	Body   []byte     // raw request body
	Token  string     // from form "token" or "Authorization: Bearer"
	At     time.Time  // real arrival time
	Status int        // HTTP status the fake answered (0 when it answered nothing)
	// Error is "" when the fake answered ok:true, else the Slack error code
	// it answered, "http_<status>" for status faults, "dropped" for Drop and
	// outages, "dropped_after" for DropAfter (applied but unanswered) and
	// "canceled" when the client went away during a Delay.
	Error string
}

// OK reports whether the client received ok:true.
func (c Call) OK() bool { return c.Error == "" && c.Status == http.StatusOK }

func (c Call) clone() Call {
	c.Params = cloneValues(c.Params)
	c.Body = slices.Clone(c.Body)
	return c
}

func cloneValues(v url.Values) url.Values {
	if v == nil {
		return nil
	}
	out := make(url.Values, len(v))
	for k, vs := range v {
		out[k] = slices.Clone(vs)
	}
	return out
}

// Calls returns the answered Web API calls in arrival order, optionally only
// those of the given methods. In-flight calls (e.g. delayed) appear once
// answered.
func (s *Server) Calls(methods ...string) []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Call
	for _, c := range s.calls {
		if len(methods) == 0 || slices.Contains(methods, c.Method) {
			out = append(out, c.clone())
		}
	}
	return out
}

// Pending is the number of Web API requests the fake is handling right now,
// e.g. held by a Delay fault.
func (s *Server) Pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pending
}

// WaitCalls waits until at least n successful (ok:true) calls of method were
// recorded ("" means any method) and returns all successful calls of it. On
// timeout it fails tb with what it saw. Call it from the test goroutine.
func (s *Server) WaitCalls(tb testing.TB, method string, n int, timeout time.Duration) []Call {
	tb.Helper()
	var got []Call
	collect := func() bool {
		got = got[:0]
		for _, c := range s.calls {
			if (method == "" || c.Method == method) && c.OK() {
				got = append(got, c.clone())
			}
		}
		return len(got) >= n
	}
	if !s.wait(timeout, collect) {
		tb.Fatalf("slackfake: waited %v for %d successful %q calls, got %d; all calls:\n%s",
			timeout, n, method, len(got), describeCalls(s.Calls()))
	}
	return got
}

func describeCalls(calls []Call) string {
	if len(calls) == 0 {
		return "  (none)"
	}
	var b strings.Builder
	for _, c := range calls {
		res := "ok"
		if !c.OK() {
			res = c.Error
		}
		fmt.Fprintf(&b, "  %s %s status=%d %s\n", c.At.Format("15:04:05.000"), c.Method, c.Status, res)
	}
	return b.String()
}

// recordLocked inserts a finished call at its arrival position.
func (s *Server) recordLocked(seq int64, c Call) {
	if s.noCalls {
		s.notifyLocked()
		return
	}
	i, _ := slices.BinarySearch(s.callSeqs, seq)
	s.callSeqs = slices.Insert(s.callSeqs, i, seq)
	s.calls = slices.Insert(s.calls, i, c)
	s.notifyLocked()
}

// ---------------------------------------------------------------------------
// Faults

// Fault describes how the fake misbehaves on a call. Faults for a method are
// consumed in FIFO order, one per call.
type Fault struct {
	Status     int           // HTTP status to answer (e.g. 429, 500, 503); 0 = 200
	RetryAfter string        // Retry-After header value for 429 ("" = header absent)
	Error      string        // answer 200 {"ok":false,"error":Error}
	Delay      time.Duration // wait before answering (respects request ctx and server close)
	Drop       bool          // close the connection without answering, WITHOUT applying the call
	DropAfter  bool          // apply the call, then close the connection without answering
	// DelayAfter applies the call, then waits before answering: a client
	// killed meanwhile never learns that Slack accepted it (RELIABILITY D12).
	DelayAfter time.Duration
	Times      int // how many calls it applies to; 0 means 1
}

// Fail queues a fault for method ("*" = any Web API method). Faults are
// matched in the order they were queued.
func (s *Server) Fail(method string, f Fault) {
	n := max(f.Times, 1)
	s.mu.Lock()
	s.faults = append(s.faults, pendingFault{method: method, fault: f, left: n})
	s.mu.Unlock()
}

// ClearFaults drops all queued faults.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	s.faults = nil
	s.mu.Unlock()
}

func (s *Server) takeFaultLocked(method string) (Fault, bool) {
	for i := range s.faults {
		pf := &s.faults[i]
		if pf.method != "*" && pf.method != method {
			continue
		}
		f := pf.fault
		pf.left--
		if pf.left <= 0 {
			s.faults = slices.Delete(s.faults, i, i+1)
		}
		return f, true
	}
	return Fault{}, false
}

// ---------------------------------------------------------------------------
// Web API dispatch

// apiRequest is what a method handler sees.
type apiRequest struct {
	method string
	params url.Values
}

// apiResponse is what a method handler answers; the dispatcher decides
// whether and how it reaches the client.
type apiResponse struct {
	status int
	header http.Header
	body   []byte
	err    string // Slack error code, "" for ok:true
}

type handlerFunc func(s *Server, r *apiRequest) apiResponse

// okResp answers {"ok":true, ...fields}.
func okResp(fields map[string]any) apiResponse {
	m := map[string]any{"ok": true}
	for k, v := range fields {
		m[k] = v
	}
	return jsonResp(http.StatusOK, m, "")
}

// errResp answers 200 {"ok":false,"error":code} plus optional messages.
func errResp(code string, messages ...string) apiResponse {
	m := map[string]any{"ok": false, "error": code}
	if len(messages) > 0 {
		m["response_metadata"] = map[string]any{"messages": messages}
	}
	return jsonResp(http.StatusOK, m, code)
}

func jsonResp(status int, v any, code string) apiResponse {
	b, err := json.Marshal(v)
	if err != nil {
		// Only the fake's own maps are marshalled here; failing is a bug.
		panic(fmt.Sprintf("slackfake: marshalling response: %v", err))
	}
	h := http.Header{"Content-Type": {"application/json; charset=utf-8"}}
	return apiResponse{status: status, header: h, body: b, err: code}
}

func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	at := time.Now()
	method := strings.TrimPrefix(r.URL.Path, "/api/")
	body, _ := io.ReadAll(io.LimitReader(r.Body, maxBody))
	params := parseParams(r, body)
	token := bearer(r)
	if token == "" {
		token = params.Get("token")
	}

	s.mu.Lock()
	if s.scopes != "" {
		// Slack names the token's scopes on every Web API answer.
		w.Header().Set("X-OAuth-Scopes", s.scopes)
	}
	s.seq++
	seq := s.seq
	s.pending++
	s.notifyLocked()
	down := s.down
	var fault Fault
	var hasFault bool
	_, known := methods[method]
	if !down && known {
		fault, hasFault = s.takeFaultLocked(method)
	}
	s.mu.Unlock()

	call := Call{Method: method, Params: params, Body: body, Token: token, At: at}
	// finish records the call; it runs before the answer is written (or the
	// connection dropped) so a client never sees an answer the fake has not
	// recorded yet.
	finish := func(status int, code string) {
		call.Status, call.Error = status, code
		s.mu.Lock()
		s.pending--
		s.recordLocked(seq, call)
		s.mu.Unlock()
	}

	if down {
		finish(0, "dropped")
		drop(w)
		return
	}
	h, ok := methods[method]
	if !ok {
		// Slack answers unknown methods with a 404, which slack-go turns into
		// a StatusCodeError.
		finish(http.StatusNotFound, "unknown_method")
		http.Error(w, "404 Not Found", http.StatusNotFound)
		return
	}

	if hasFault && fault.Delay > 0 {
		timer := time.NewTimer(fault.Delay)
		select {
		case <-timer.C:
		case <-r.Context().Done():
			timer.Stop()
			finish(0, "canceled")
			return
		case <-s.done:
			timer.Stop()
			finish(0, "canceled")
			drop(w) // an empty 200 would look like a broken answer, not a closed server
			return
		}
	}
	if hasFault {
		switch {
		case fault.Drop:
			finish(0, "dropped")
			drop(w)
			return
		case fault.Status != 0 && fault.Status != http.StatusOK:
			finish(fault.Status, fmt.Sprintf("http_%d", fault.Status))
			writeStatusFault(w, fault)
			return
		case fault.Error != "" && !fault.DropAfter:
			resp := errResp(fault.Error)
			finish(resp.status, resp.err)
			writeResp(w, resp)
			return
		}
	}

	req := &apiRequest{method: method, params: params}
	var resp apiResponse
	if code := s.checkToken(method, r, token); code != "" {
		resp = errResp(code)
	} else if code := s.refused(method, params); code != "" {
		resp = errResp(code)
	} else {
		resp = h(s, req)
	}
	if hasFault && fault.DropAfter {
		finish(0, "dropped_after")
		drop(w)
		return
	}
	if hasFault && fault.DelayAfter > 0 {
		timer := time.NewTimer(fault.DelayAfter)
		select {
		case <-timer.C:
		case <-r.Context().Done():
			timer.Stop()
			finish(0, "canceled_after")
			return
		case <-s.done:
			timer.Stop()
			finish(0, "canceled_after")
			drop(w)
			return
		}
	}
	finish(resp.status, resp.err)
	writeResp(w, resp)
}

// checkToken returns "" when the request carries the token the method needs.
func (s *Server) checkToken(method string, r *http.Request, token string) string {
	if method == "apps.connections.open" {
		// Slack takes the app-level token only as a bearer header.
		switch b := bearer(r); b {
		case "":
			return "not_authed"
		case AppToken:
			return ""
		default:
			return "invalid_auth"
		}
	}
	switch token {
	case "":
		return "not_authed"
	case BotToken:
		return ""
	default:
		return "invalid_auth"
	}
}

func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if t, ok := strings.CutPrefix(h, "Bearer "); ok {
		return strings.TrimSpace(t)
	}
	return ""
}

// parseParams merges query parameters with form fields or top-level JSON
// fields (strings as-is, other values as their JSON text).
func parseParams(r *http.Request, body []byte) url.Values {
	params := cloneValues(r.URL.Query())
	if params == nil {
		params = url.Values{}
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch {
	case ct == "application/json":
		var m map[string]json.RawMessage
		if err := json.Unmarshal(body, &m); err == nil {
			for k, raw := range m {
				var str string
				if err := json.Unmarshal(raw, &str); err == nil {
					params.Set(k, str)
				} else {
					params.Set(k, string(bytes.TrimSpace(raw)))
				}
			}
		}
	case r.Method != http.MethodGet && len(body) > 0:
		if form, err := url.ParseQuery(string(body)); err == nil {
			for k, vs := range form {
				params[k] = append(params[k], vs...)
			}
		}
	}
	return params
}

func writeResp(w http.ResponseWriter, resp apiResponse) {
	for k, vs := range resp.header {
		w.Header()[k] = vs
	}
	w.WriteHeader(resp.status)
	_, _ = w.Write(resp.body)
}

func writeStatusFault(w http.ResponseWriter, f Fault) {
	if f.RetryAfter != "" {
		w.Header().Set("Retry-After", f.RetryAfter)
	}
	if f.Status == http.StatusTooManyRequests || f.Error != "" {
		code := f.Error
		if code == "" {
			code = "ratelimited"
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(f.Status)
		_, _ = fmt.Fprintf(w, `{"ok":false,"error":%q}`, code)
		return
	}
	// Slack's 5xx pages are HTML, which slack-go does not parse.
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(f.Status)
	_, _ = fmt.Fprintf(w, "<html><body><h1>%d %s</h1></body></html>", f.Status, http.StatusText(f.Status))
}

// drop closes the connection without writing a response.
func drop(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		// Not hijackable (never the case with httptest's HTTP/1.1); the
		// closest thing is aborting the handler, which resets the stream.
		panic(http.ErrAbortHandler)
	}
	_ = conn.Close()
}
