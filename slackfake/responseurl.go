package slackfake

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// response_url limits (SLACK-NOTES §4.7).
const (
	ResponseURLMaxUses = 5
	ResponseURLTTL     = 30 * time.Minute
)

type responseURL struct {
	issued                  time.Time
	uses                    int
	posts                   []json.RawMessage
	channel, messageTS, usr string
}

// NewResponseURL returns a fresh response_url served by the fake. It accepts
// ResponseURLMaxUses posts within ResponseURLTTL of issue (SetNow clock);
// later posts get 404 {"ok":false,"error":"used_url"|"expired_url"}. Posts to
// an unbound URL are only recorded.
func (s *Server) NewResponseURL() string { return s.NewResponseURLFor("", "", "") }

// NewResponseURLFor returns a response_url bound to the message (channel,
// messageTS) a user interacted with, so posts act like Slack's:
// replace_original updates the message, delete_original deletes it,
// response_type "in_channel" posts a new bot message, anything else becomes
// an Ephemeral for user.
func (s *Server) NewResponseURLFor(channel, messageTS, user string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.nextIDLocked()
	path := fmt.Sprintf("/hooks/actions/%s/%d/%016x", TeamID, n, uint64(n)*0xbf58476d1ce4e5b9)
	s.responses[path] = &responseURL{issued: s.now(), channel: channel, messageTS: messageTS, usr: user}
	return s.srv.URL + path
}

// ResponsePosts returns the JSON bodies accepted by a response_url, in order.
// Rejected posts (used, expired, malformed) are not included; see the
// status codes the client got for those.
func (s *Server) ResponsePosts(rawURL string) []json.RawMessage {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ru := s.responses[u.Path]
	if ru == nil {
		return nil
	}
	out := make([]json.RawMessage, len(ru.posts))
	for i, p := range ru.posts {
		out[i] = cloneRaw(p)
	}
	return out
}

type responsePost struct {
	Text            string          `json:"text"`
	Blocks          json.RawMessage `json:"blocks"`
	ResponseType    string          `json:"response_type"`
	ReplaceOriginal bool            `json:"replace_original"`
	DeleteOriginal  bool            `json:"delete_original"`
	ThreadTS        string          `json:"thread_ts"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func (s *Server) serveResponseURL(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, maxBody))
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.down {
		drop(w)
		return
	}
	if r.Method != http.MethodPost {
		writeJSON(w, http.StatusMethodNotAllowed, map[string]any{"ok": false, "error": "invalid_method"})
		return
	}
	ru := s.responses[r.URL.Path]
	switch {
	case ru == nil:
		writeJSON(w, http.StatusNotFound, map[string]any{"ok": false, "error": "no_service"})
		return
	case s.now().Sub(ru.issued) >= ResponseURLTTL:
		writeJSON(w, http.StatusNotFound, map[string]any{"ok": false, "error": "expired_url"})
		return
	case ru.uses >= ResponseURLMaxUses:
		writeJSON(w, http.StatusNotFound, map[string]any{"ok": false, "error": "used_url"})
		return
	}
	var p responsePost
	if err := json.Unmarshal(body, &p); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"ok": false, "error": "invalid_payload"})
		return
	}
	if string(p.Blocks) == "null" {
		p.Blocks = nil
	}
	if p.Blocks != nil {
		if problems := ValidateBlocks(p.Blocks, MaxMessageBlocks); len(problems) > 0 {
			writeJSON(w, http.StatusBadRequest, map[string]any{"ok": false, "error": "invalid_blocks",
				"response_metadata": map[string]any{"messages": problems}})
			return
		}
		if BlocksTextLen(p.Blocks) > MaxMessageBlocksText {
			writeJSON(w, http.StatusBadRequest, map[string]any{"ok": false, "error": "msg_blocks_too_long"})
			return
		}
	}
	if !p.DeleteOriginal && p.Text == "" && (p.Blocks == nil || isEmptyArray(p.Blocks)) {
		writeJSON(w, http.StatusBadRequest, map[string]any{"ok": false, "error": "no_text"})
		return
	}
	ru.uses++
	ru.posts = append(ru.posts, json.RawMessage(body))
	s.applyResponseLocked(ru, p)
	s.notifyLocked()
	writeJSON(w, http.StatusOK, map[string]any{"ok": true})
}

func (s *Server) applyResponseLocked(ru *responseURL, p responsePost) {
	if ru.channel == "" {
		return
	}
	orig := s.findLocked(ru.channel, ru.messageTS)
	switch {
	case p.DeleteOriginal:
		if orig != nil {
			orig.Deleted = true
		}
	case p.ReplaceOriginal:
		if orig != nil && !orig.Deleted {
			orig.Text = p.Text
			orig.Blocks = cloneRaw(p.Blocks)
			orig.Updates++
		}
	case p.ResponseType == "in_channel":
		m := &message{Message: Message{Channel: ru.channel, Text: p.Text, User: BotUserID, BotID: BotID, Blocks: cloneRaw(p.Blocks)}}
		s.insertLocked(m, p.ThreadTS)
	default:
		s.ephemeralsAt = append(s.ephemeralsAt, s.lastTSLocked())
		s.ephemerals = append(s.ephemerals, Ephemeral{Channel: ru.channel, User: ru.usr, Text: p.Text, ThreadTS: p.ThreadTS, Blocks: cloneRaw(p.Blocks)})
	}
}
