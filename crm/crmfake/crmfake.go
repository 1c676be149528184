// Package crmfake serves fakes of the HubSpot and Pipedrive APIs on
// loopback for tests. Each checks every request against the documented
// shape (method, path, auth header, required fields and their JSON types)
// and answers 400 as the real API does when it is wrong; it keeps records
// in memory, logs requests, and can answer 429 with the CRM's rate-limit
// headers once.
package crmfake

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// Request is one logged request.
type Request struct {
	Method string
	Path   string // without the query
	Query  string
	Body   map[string]any // the JSON body, nil for none
}

// String is "METHOD /path" (the query and body left out), for comparing
// request sequences.
func (r Request) String() string { return r.Method + " " + r.Path }

// server is what both fakes share: the httptest server, the log and the
// one-shot 429.
type server struct {
	*httptest.Server
	mu       sync.Mutex
	log      []Request
	limitOne bool
	nextID   int64
}

// Requests returns the requests so far.
func (s *server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.log...)
}

// Sequence returns the requests so far as "METHOD /path".
func (s *server) Sequence() []string {
	var out []string
	for _, r := range s.Requests() {
		out = append(out, r.String())
	}
	return out
}

// ResetLog forgets the requests so far (the records stay).
func (s *server) ResetLog() {
	s.mu.Lock()
	s.log = nil
	s.mu.Unlock()
}

// RateLimitOnce makes the next request answer 429.
func (s *server) RateLimitOnce() {
	s.mu.Lock()
	s.limitOne = true
	s.mu.Unlock()
}

func (s *server) id() int64 {
	s.nextID++
	return s.nextID
}

// start serves h, logging each request and decoding its JSON body first.
// h runs under s.mu.
func (s *server) start(t testing.TB, h func(w http.ResponseWriter, r *http.Request, body map[string]any, limited bool)) {
	s.nextID = 100
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		var body map[string]any
		if len(bytes.TrimSpace(raw)) > 0 {
			dec := json.NewDecoder(bytes.NewReader(raw))
			dec.UseNumber()
			if err := dec.Decode(&body); err != nil {
				body = map[string]any{"_invalid": string(raw)}
			}
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		s.log = append(s.log, Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Body: body})
		limited := s.limitOne
		s.limitOne = false
		h(w, r, body, limited)
	}))
	t.Cleanup(s.Close)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// shape errors: what a check found wrong, "" when nothing.

func str(m map[string]any, key string, required bool) (string, string) {
	v, ok := m[key]
	if !ok || v == nil {
		if required {
			return "", key + " is required"
		}
		return "", ""
	}
	s, ok := v.(string)
	if !ok {
		return "", fmt.Sprintf("%s must be a string, not %T", key, v)
	}
	return s, ""
}

func integer(m map[string]any, key string) (int64, bool, string) {
	v, ok := m[key]
	if !ok || v == nil {
		return 0, false, ""
	}
	n, ok := v.(json.Number)
	if !ok {
		return 0, false, fmt.Sprintf("%s must be an integer, not %T", key, v)
	}
	i, err := n.Int64()
	if err != nil {
		return 0, false, fmt.Sprintf("%s must be an integer, not %s", key, n)
	}
	return i, true, ""
}

func boolean(m map[string]any, key string) string {
	v, ok := m[key]
	if !ok || v == nil {
		return ""
	}
	if _, ok := v.(bool); !ok {
		return fmt.Sprintf("%s must be a boolean, not %T", key, v)
	}
	return ""
}

func objects(m map[string]any, key string) ([]map[string]any, string) {
	v, ok := m[key]
	if !ok || v == nil {
		return nil, ""
	}
	list, ok := v.([]any)
	if !ok {
		return nil, fmt.Sprintf("%s must be an array, not %T", key, v)
	}
	var out []map[string]any
	for i, e := range list {
		o, ok := e.(map[string]any)
		if !ok {
			return nil, fmt.Sprintf("%s[%d] must be an object, not %T", key, i, e)
		}
		out = append(out, o)
	}
	return out, ""
}

func lower(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

func sortedIDs[V any](m map[string]V) []string {
	ids := make([]string, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	// Ids are decimal numbers of growing length: shorter first, then by text.
	for i := 1; i < len(ids); i++ {
		for j := i; j > 0 && (len(ids[j]) < len(ids[j-1]) || len(ids[j]) == len(ids[j-1]) && ids[j] < ids[j-1]); j-- {
			ids[j], ids[j-1] = ids[j-1], ids[j]
		}
	}
	return ids
}
