package slackfake

import (
	"encoding/base64"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Message is the fake's stored copy of a channel message.
type Message struct {
	Channel, TS, ThreadTS, Text, User, BotID string
	Blocks                                   json.RawMessage // as last posted/updated
	Metadata                                 json.RawMessage
	Updates                                  int                 // how many chat.update calls hit it
	Reactions                                map[string][]string // name -> user ids
	Deleted                                  bool
}

// Ephemeral is a message only one user saw (chat.postEphemeral or an
// ephemeral response_url post).
type Ephemeral struct {
	Channel, User, Text, ThreadTS string
	Blocks                        json.RawMessage
}

type channelState struct {
	msgs []*message // ts order (ts values are issued in increasing order)
}

type message struct {
	Message
	reactionOrder []string // reaction names in first-added order, as Slack lists them
}

func (m *message) snapshot() Message {
	c := m.Message
	c.Blocks = cloneRaw(m.Blocks)
	c.Metadata = cloneRaw(m.Metadata)
	c.Reactions = nil // nil rather than empty, so cmp against a literal Message works
	for k, v := range m.Reactions {
		if c.Reactions == nil {
			c.Reactions = make(map[string][]string, len(m.Reactions))
		}
		c.Reactions[k] = slices.Clone(v)
	}
	return c
}

func cloneRaw(r json.RawMessage) json.RawMessage {
	if r == nil {
		return nil
	}
	return slices.Clone(r)
}

// Messages returns every message of channel (top-level and thread replies,
// deleted ones flagged) in ts order.
func (s *Server) Messages(channel string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := s.channels[channel]
	if ch == nil {
		return nil
	}
	out := make([]Message, 0, len(ch.msgs))
	for _, m := range ch.msgs {
		out = append(out, m.snapshot())
	}
	return out
}

// Message returns one message by channel and ts.
func (s *Server) Message(channel, ts string) (Message, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.findLocked(channel, ts)
	if m == nil {
		return Message{}, false
	}
	return m.snapshot(), true
}

// Ephemerals returns every ephemeral message, in posting order.
func (s *Server) Ephemerals() []Ephemeral {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Ephemeral, len(s.ephemerals))
	for i, e := range s.ephemerals {
		e.Blocks = cloneRaw(e.Blocks)
		out[i] = e
	}
	return out
}

// PostAsUser stores a message written by a human (for example a thread reply
// the bot must later read back with conversations.replies) and returns its
// ts. threadTS "" posts top-level. It does not emit any event: send one with
// SendEnvelope or an HTTP request if the bot should notice it.
func (s *Server) PostAsUser(channel, user, text, threadTS string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := &message{Message: Message{Channel: channel, User: user, Text: text}}
	s.insertLocked(m, threadTS)
	return m.TS
}

// AddReaction records that user reacted with name to a message, as if done
// in the Slack client. It reports whether the message exists.
func (s *Server) AddReaction(channel, ts, name, user string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.findLocked(channel, ts)
	if m == nil || m.Deleted {
		return false
	}
	addReaction(m, name, user)
	s.notifyLocked()
	return true
}

// RemoveReaction undoes AddReaction. It reports whether the reaction existed.
func (s *Server) RemoveReaction(channel, ts, name, user string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.findLocked(channel, ts)
	if m == nil {
		return false
	}
	users := m.Reactions[name]
	i := slices.Index(users, user)
	if i < 0 {
		return false
	}
	users = slices.Delete(users, i, i+1)
	if len(users) == 0 {
		delete(m.Reactions, name)
		m.reactionOrder = slices.DeleteFunc(m.reactionOrder, func(n string) bool { return n == name })
	} else {
		m.Reactions[name] = users
	}
	s.notifyLocked()
	return true
}

func addReaction(m *message, name, user string) bool {
	if m.Reactions == nil {
		m.Reactions = map[string][]string{}
	}
	users, ok := m.Reactions[name]
	if slices.Contains(users, user) {
		return false
	}
	if !ok {
		m.reactionOrder = append(m.reactionOrder, name)
	}
	m.Reactions[name] = append(users, user)
	return true
}

func (s *Server) findLocked(channel, ts string) *message {
	ch := s.channels[channel]
	if ch == nil {
		return nil
	}
	i, ok := slices.BinarySearchFunc(ch.msgs, ts, func(m *message, ts string) int { return strings.Compare(m.TS, ts) })
	if !ok {
		return nil
	}
	return ch.msgs[i]
}

// insertLocked assigns m a fresh ts and stores it, threading it under
// threadTS the way Slack does: a reply to a reply joins the parent's thread,
// and a reply to a missing or deleted parent is posted top-level.
func (s *Server) insertLocked(m *message, threadTS string) {
	m.TS = s.nextTSLocked()
	if threadTS != "" {
		if parent := s.findLocked(m.Channel, threadTS); parent != nil && !parent.Deleted {
			root := parent
			if parent.ThreadTS != "" && parent.ThreadTS != parent.TS {
				root = s.findLocked(m.Channel, parent.ThreadTS)
			}
			if root != nil {
				root.ThreadTS = root.TS
				m.ThreadTS = root.TS
			}
		}
	}
	ch := s.channels[m.Channel]
	if ch == nil {
		ch = &channelState{}
		s.channels[m.Channel] = ch
	}
	ch.msgs = append(ch.msgs, m)
	s.notifyLocked()
}

// resolveChannelLocked maps the channel param to a conversation id: C/G/D
// ids are taken as they are, a known user id means the DM with that user.
func (s *Server) resolveChannelLocked(id string) (string, bool) {
	if id == "" {
		return "", false
	}
	switch id[0] {
	case 'C', 'G', 'D':
		return id, true
	}
	if _, ok := s.users[id]; ok {
		return "D" + id, true
	}
	return "", false
}

// replies returns the live replies of the thread rooted at ts.
func (ch *channelState) replies(ts string) []*message {
	var out []*message
	for _, m := range ch.msgs {
		if m.ThreadTS == ts && m.TS != ts && !m.Deleted {
			out = append(out, m)
		}
	}
	return out
}

// wire renders a message the way conversations.* and chat.* return it.
func (s *Server) wireLocked(m *message, withMetadata bool) map[string]any {
	w := map[string]any{"type": "message", "ts": m.TS, "text": m.Text}
	if m.User != "" {
		w["user"] = m.User
	}
	if m.BotID != "" {
		w["bot_id"] = m.BotID
		w["app_id"] = AppID
	}
	if m.ThreadTS != "" {
		w["thread_ts"] = m.ThreadTS
	}
	if len(m.Blocks) > 0 {
		w["blocks"] = m.Blocks
	}
	if withMetadata && len(m.Metadata) > 0 {
		w["metadata"] = m.Metadata
	}
	if m.Updates > 0 {
		w["edited"] = map[string]any{"user": m.User, "ts": m.TS}
	}
	if m.Deleted {
		// Slack keeps a deleted thread parent as a tombstone.
		w["subtype"] = "tombstone"
		w["text"] = "This message was deleted."
		delete(w, "blocks")
	}
	if len(m.reactionOrder) > 0 {
		var rs []map[string]any
		for _, name := range m.reactionOrder {
			users := m.Reactions[name]
			rs = append(rs, map[string]any{"name": name, "users": users, "count": len(users)})
		}
		w["reactions"] = rs
	}
	if m.ThreadTS == m.TS {
		if ch := s.channels[m.Channel]; ch != nil {
			reps := ch.replies(m.TS)
			if len(reps) > 0 {
				var users []string
				for _, r := range reps {
					u := r.User
					if !slices.Contains(users, u) {
						users = append(users, u)
					}
				}
				w["reply_count"] = len(reps)
				w["reply_users"] = users
				w["reply_users_count"] = len(users)
				w["latest_reply"] = reps[len(reps)-1].TS
			}
		}
	}
	return w
}

// ---------------------------------------------------------------------------
// Method handlers

var methods = map[string]handlerFunc{
	"auth.test":             (*Server).authTest,
	"chat.postMessage":      (*Server).chatPostMessage,
	"chat.update":           (*Server).chatUpdate,
	"chat.postEphemeral":    (*Server).chatPostEphemeral,
	"chat.delete":           (*Server).chatDelete,
	"chat.getPermalink":     (*Server).chatGetPermalink,
	"conversations.replies": (*Server).conversationsReplies,
	"conversations.history": (*Server).conversationsHistory,
	"conversations.info":    (*Server).conversationsInfo,
	"users.info":            (*Server).usersInfo,
	"reactions.add":         (*Server).reactionsAdd,
	"reactions.remove":      (*Server).reactionsRemove,
	"reactions.get":         (*Server).reactionsGet,
	"views.open":            (*Server).viewsOpen,
	"views.push":            (*Server).viewsPush,
	"views.update":          (*Server).viewsUpdate,
	"views.publish":         (*Server).viewsPublish,
	"usergroups.users.list": (*Server).usergroupsUsersList,
	"apps.connections.open": (*Server).appsConnectionsOpen,
}

func (s *Server) authTest(*apiRequest) apiResponse {
	return okResp(map[string]any{
		"url":     WorkspaceURL,
		"team":    TeamName,
		"user":    BotName,
		"team_id": TeamID,
		"user_id": BotUserID,
		"bot_id":  BotID,
	})
}

// maxMessageText is where Slack rejects chat text (it truncates a little
// below; rejecting makes the overflow visible in tests).
const maxMessageText = 40000

// checkContent validates the text and blocks params of a message method and
// returns the parsed blocks, or an error response.
func checkContent(p map[string][]string, needContent bool) (json.RawMessage, *apiResponse) {
	text := first(p, "text")
	if utf8.RuneCountInString(text) > maxMessageText {
		r := errResp("msg_too_long")
		return nil, &r
	}
	raw, hasBlocks := p["blocks"]
	if !hasBlocks {
		if needContent && text == "" && first(p, "attachments") == "" {
			r := errResp("no_text")
			return nil, &r
		}
		return nil, nil
	}
	blocks := json.RawMessage(raw[0])
	if !json.Valid(blocks) {
		r := errResp("invalid_blocks_format", "[ERROR] blocks is not valid JSON [json-pointer:/blocks]")
		return nil, &r
	}
	if problems := ValidateBlocks(blocks, MaxMessageBlocks); len(problems) > 0 {
		r := errResp("invalid_blocks", problems...)
		return nil, &r
	}
	if BlocksTextLen(blocks) > MaxMessageBlocksText {
		r := errResp("msg_blocks_too_long")
		return nil, &r
	}
	if needContent && text == "" && isEmptyArray(blocks) && first(p, "attachments") == "" {
		r := errResp("no_text")
		return nil, &r
	}
	return blocks, nil
}

func isEmptyArray(raw json.RawMessage) bool {
	var a []json.RawMessage
	return json.Unmarshal(raw, &a) == nil && len(a) == 0
}

func first(p map[string][]string, k string) string {
	if v := p[k]; len(v) > 0 {
		return v[0]
	}
	return ""
}

func metadataParam(p map[string][]string) json.RawMessage {
	md := first(p, "metadata")
	if md == "" || !json.Valid([]byte(md)) {
		return nil
	}
	return json.RawMessage(md)
}

func (s *Server) chatPostMessage(r *apiRequest) apiResponse {
	blocks, bad := checkContent(r.params, true)
	if bad != nil {
		return *bad
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	channel, ok := s.resolveChannelLocked(r.params.Get("channel"))
	if !ok {
		return errResp("channel_not_found")
	}
	m := &message{Message: Message{
		Channel:  channel,
		Text:     r.params.Get("text"),
		User:     BotUserID,
		BotID:    BotID,
		Blocks:   blocks,
		Metadata: metadataParam(r.params),
	}}
	s.insertLocked(m, r.params.Get("thread_ts"))
	return okResp(map[string]any{
		"channel": channel,
		"ts":      m.TS,
		"message": s.wireLocked(m, true),
	})
}

func (s *Server) chatUpdate(r *apiRequest) apiResponse {
	blocks, bad := checkContent(r.params, false)
	if bad != nil {
		return *bad
	}
	if !r.params.Has("text") && !r.params.Has("blocks") && !r.params.Has("attachments") {
		return errResp("no_text")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	channel, m, refused := s.ownMessageLocked(r, "cant_update_message")
	if refused != nil {
		return *refused
	}
	if _, ok := r.params["text"]; ok {
		m.Text = r.params.Get("text")
	}
	// Like Slack: absent blocks keep the old ones, "[]" clears them.
	if blocks != nil {
		if isEmptyArray(blocks) {
			m.Blocks = nil
		} else {
			m.Blocks = blocks
		}
	}
	if md := metadataParam(r.params); md != nil {
		m.Metadata = md
	}
	m.Updates++
	s.notifyLocked()
	return okResp(map[string]any{
		"channel": channel,
		"ts":      m.TS,
		"text":    m.Text,
		"message": s.wireLocked(m, true),
	})
}

// ownMessageLocked finds the live message at the request's channel and ts
// that the bot posted, as chat.update and chat.delete need it, or the error
// Slack answers: refusal (e.g. "cant_update_message") for another's.
func (s *Server) ownMessageLocked(r *apiRequest, refusal string) (channel string, m *message, refused *apiResponse) {
	channel, ok := s.resolveChannelLocked(r.params.Get("channel"))
	if !ok {
		e := errResp("channel_not_found")
		return "", nil, &e
	}
	m = s.findLocked(channel, r.params.Get("ts"))
	var code string
	switch {
	case m == nil || m.Deleted:
		code = "message_not_found"
	case m.BotID != BotID:
		code = refusal
	default:
		return channel, m, nil
	}
	e := errResp(code)
	return "", nil, &e
}

func (s *Server) chatPostEphemeral(r *apiRequest) apiResponse {
	blocks, bad := checkContent(r.params, true)
	if bad != nil {
		return *bad
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	channel, ok := s.resolveChannelLocked(r.params.Get("channel"))
	if !ok {
		return errResp("channel_not_found")
	}
	user := r.params.Get("user")
	if user == "" {
		return errResp("user_not_found")
	}
	s.ephemeralsAt = append(s.ephemeralsAt, s.lastTSLocked())
	s.ephemerals = append(s.ephemerals, Ephemeral{
		Channel:  channel,
		User:     user,
		Text:     r.params.Get("text"),
		ThreadTS: r.params.Get("thread_ts"),
		Blocks:   blocks,
	})
	ts := s.nextTSLocked()
	s.notifyLocked()
	return okResp(map[string]any{"message_ts": ts})
}

func (s *Server) chatDelete(r *apiRequest) apiResponse {
	s.mu.Lock()
	defer s.mu.Unlock()
	channel, m, refused := s.ownMessageLocked(r, "cant_delete_message")
	if refused != nil {
		return *refused
	}
	m.Deleted = true
	s.notifyLocked()
	return okResp(map[string]any{"channel": channel, "ts": m.TS})
}

func (s *Server) chatGetPermalink(r *apiRequest) apiResponse {
	s.mu.Lock()
	defer s.mu.Unlock()
	channel, ok := s.resolveChannelLocked(r.params.Get("channel"))
	if !ok {
		return errResp("channel_not_found")
	}
	m := s.findLocked(channel, r.params.Get("message_ts"))
	if m == nil || m.Deleted {
		return errResp("message_not_found")
	}
	return okResp(map[string]any{"channel": channel, "permalink": Permalink(channel, m.TS, m.ThreadTS)})
}

// Permalink is the URL chat.getPermalink returns for a message; threadTS is
// "" for top-level messages.
func Permalink(channel, ts, threadTS string) string {
	link := WorkspaceURL + "archives/" + channel + "/p" + strings.ReplaceAll(ts, ".", "")
	if threadTS != "" && threadTS != ts {
		link += "?thread_ts=" + threadTS + "&cid=" + channel
	}
	return link
}

// page slices items by the cursor/limit params. Cursors are opaque offsets.
func page[T any](p map[string][]string, items []T, defLimit int) (out []T, next string, bad *apiResponse) {
	limit := defLimit
	if l := first(p, "limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 0 {
			r := errResp("invalid_limit")
			return nil, "", &r
		}
		if n > 0 {
			limit = min(n, 1000)
		}
	}
	off := 0
	if c := first(p, "cursor"); c != "" {
		dec, err := base64.StdEncoding.DecodeString(c)
		rest, ok := strings.CutPrefix(string(dec), "offset:")
		n, err2 := strconv.Atoi(rest)
		if err != nil || !ok || err2 != nil || n < 0 || n > len(items) {
			r := errResp("invalid_cursor")
			return nil, "", &r
		}
		off = n
	}
	end := min(off+limit, len(items))
	if end < len(items) {
		next = base64.StdEncoding.EncodeToString([]byte("offset:" + strconv.Itoa(end)))
	}
	return items[off:end], next, nil
}

// inRange applies the oldest/latest/inclusive filters.
func inRange(p map[string][]string, ts string) bool {
	inclusive := first(p, "inclusive") == "1" || first(p, "inclusive") == "true"
	if o := first(p, "oldest"); o != "" && o != "0" {
		if ts < o || (ts == o && !inclusive) {
			return false
		}
	}
	if l := first(p, "latest"); l != "" {
		if ts > l || (ts == l && !inclusive) {
			return false
		}
	}
	return true
}

func wantMetadata(p map[string][]string) bool {
	v := first(p, "include_all_metadata")
	return v == "1" || v == "true"
}

func (s *Server) conversationsReplies(r *apiRequest) apiResponse {
	s.mu.Lock()
	defer s.mu.Unlock()
	channel, ok := s.resolveChannelLocked(r.params.Get("channel"))
	if !ok {
		return errResp("channel_not_found")
	}
	ts := r.params.Get("ts")
	m := s.findLocked(channel, ts)
	if m == nil {
		return errResp("thread_not_found")
	}
	var thread []*message
	switch {
	case m.ThreadTS != "" && m.ThreadTS != m.TS:
		// A reply's ts yields just that reply.
		if m.Deleted {
			return errResp("thread_not_found")
		}
		thread = []*message{m}
	default:
		reps := s.channels[channel].replies(m.TS)
		if m.Deleted && len(reps) == 0 {
			return errResp("thread_not_found")
		}
		thread = append(thread, m) // the parent always comes first
		for _, rep := range reps {
			if inRange(r.params, rep.TS) {
				thread = append(thread, rep)
			}
		}
	}
	items, next, bad := page(r.params, thread, 1000)
	if bad != nil {
		return *bad
	}
	return s.messageList(items, next, wantMetadata(r.params))
}

func (s *Server) conversationsHistory(r *apiRequest) apiResponse {
	s.mu.Lock()
	defer s.mu.Unlock()
	channel, ok := s.resolveChannelLocked(r.params.Get("channel"))
	if !ok {
		return errResp("channel_not_found")
	}
	var top []*message
	if ch := s.channels[channel]; ch != nil {
		// Newest first, top-level only, like Slack.
		for i := len(ch.msgs) - 1; i >= 0; i-- {
			m := ch.msgs[i]
			if m.Deleted || (m.ThreadTS != "" && m.ThreadTS != m.TS) || !inRange(r.params, m.TS) {
				continue
			}
			top = append(top, m)
		}
	}
	items, next, bad := page(r.params, top, 100)
	if bad != nil {
		return *bad
	}
	return s.messageList(items, next, wantMetadata(r.params))
}

func (s *Server) messageList(items []*message, next string, withMetadata bool) apiResponse {
	msgs := make([]map[string]any, 0, len(items))
	for _, m := range items {
		msgs = append(msgs, s.wireLocked(m, withMetadata))
	}
	return okResp(map[string]any{
		"messages":          msgs,
		"has_more":          next != "",
		"response_metadata": map[string]any{"next_cursor": next},
	})
}

func (s *Server) wireUserLocked(id string) (map[string]any, bool) {
	name, ok := s.users[id]
	if !ok {
		return nil, false
	}
	return map[string]any{
		"id":        id,
		"team_id":   TeamID,
		"name":      name,
		"real_name": name,
		"is_bot":    id == BotUserID,
		"deleted":   false,
		"tz":        "UTC",
		"tz_label":  "Coordinated Universal Time",
		"locale":    "en-US",
		"profile": map[string]any{
			"real_name":    name,
			"display_name": name,
			"team":         TeamID,
		},
	}, true
}

func (s *Server) usersInfo(r *apiRequest) apiResponse {
	s.mu.Lock()
	defer s.mu.Unlock()
	if many := r.params.Get("users"); many != "" {
		var users []map[string]any
		for _, id := range strings.Split(many, ",") {
			if u, ok := s.wireUserLocked(strings.TrimSpace(id)); ok {
				users = append(users, u)
			}
		}
		if len(users) == 0 {
			return errResp("users_not_found")
		}
		return okResp(map[string]any{"users": users})
	}
	u, ok := s.wireUserLocked(r.params.Get("user"))
	if !ok {
		return errResp("user_not_found")
	}
	return okResp(map[string]any{"user": u})
}

func (s *Server) reactionTargetLocked(r *apiRequest) (*message, *apiResponse) {
	channel, ok := s.resolveChannelLocked(r.params.Get("channel"))
	if !ok {
		e := errResp("channel_not_found")
		return nil, &e
	}
	m := s.findLocked(channel, r.params.Get("timestamp"))
	if m == nil || m.Deleted {
		e := errResp("message_not_found")
		return nil, &e
	}
	return m, nil
}

func (s *Server) reactionsAdd(r *apiRequest) apiResponse {
	s.mu.Lock()
	defer s.mu.Unlock()
	name := r.params.Get("name")
	if name == "" {
		return errResp("invalid_name")
	}
	m, bad := s.reactionTargetLocked(r)
	if bad != nil {
		return *bad
	}
	if !addReaction(m, name, BotUserID) {
		return errResp("already_reacted")
	}
	s.notifyLocked()
	return okResp(nil)
}

func (s *Server) reactionsRemove(r *apiRequest) apiResponse {
	s.mu.Lock()
	m, bad := s.reactionTargetLocked(r)
	s.mu.Unlock()
	if bad != nil {
		return *bad
	}
	if !s.RemoveReaction(m.Channel, m.TS, r.params.Get("name"), BotUserID) {
		return errResp("no_reaction")
	}
	return okResp(nil)
}

func (s *Server) reactionsGet(r *apiRequest) apiResponse {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, bad := s.reactionTargetLocked(r)
	if bad != nil {
		return *bad
	}
	return okResp(map[string]any{
		"type":    "message",
		"channel": m.Channel,
		"message": s.wireLocked(m, false),
	})
}
