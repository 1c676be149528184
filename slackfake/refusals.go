package slackfake

import (
	"net/url"
	"slices"
	"strings"
)

// Lasting refusals, as a workspace gives them until a person acts: the bot
// was never invited to a channel (or was removed), the channel is archived,
// the token was revoked. Unlike a Fault they are not used up: every call
// gets the same answer until the cause is lifted, so tests can count how
// often the bot asks. The answers are Slack's {"ok":false,"error":…} with
// the codes of Slack's Web API reference for chat.postMessage, chat.update,
// chat.postEphemeral, chat.delete and conversations.*.

// Refusal answers Error to every call of Method ("*" = any) whose channel
// param is Channel ("" = any channel, or none, as for auth.test).
type Refusal struct {
	Method, Channel, Error string
}

type refusals struct {
	refuse   []Refusal
	outside  map[string]bool // channels the bot is not a member of
	archived map[string]bool
}

// methodsInChannel are the methods a channel's membership and archive state
// apply to.
var methodsInChannel = []string{
	"chat.postMessage", "chat.update", "chat.postEphemeral", "chat.delete",
	"conversations.history", "conversations.replies",
}

// Refuse makes the fake answer r.Error to r's calls until Lift(r).
func (s *Server) Refuse(r Refusal) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refuse = append(s.refuse, r)
}

// Lift ends the refusal r (given as to Refuse).
func (s *Server) Lift(r Refusal) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refuse = slices.DeleteFunc(s.refuse, func(x Refusal) bool { return x == r })
}

// RemoveBot takes the bot out of channel (or never lets it in): posts,
// updates, deletes and history reads there answer not_in_channel, and
// conversations.info says is_member false.
func (s *Server) RemoveBot(channel string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.outside == nil {
		s.outside = map[string]bool{}
	}
	s.outside[channel] = true
}

// InviteBot puts the bot (back) into channel, as /invite @leadtriage does.
// The fake sends no member_joined_channel event itself: tests deliver it
// through the bot's endpoints as Slack would.
func (s *Server) InviteBot(channel string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.outside, channel)
	s.notifyLocked()
}

// Archive archives channel: posts and updates there answer is_archived.
func (s *Server) Archive(channel string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.archived == nil {
		s.archived = map[string]bool{}
	}
	s.archived[channel] = true
}

// Unarchive undoes Archive.
func (s *Server) Unarchive(channel string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.archived, channel)
	s.notifyLocked()
}

// refused returns the error code a lasting refusal answers to a call of
// method with params; "" = none.
func (s *Server) refused(method string, params url.Values) string {
	channel := params.Get("channel")
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.refuse {
		if (r.Method == "*" || r.Method == method) && (r.Channel == "" || r.Channel == channel) {
			return r.Error
		}
	}
	if !slices.Contains(methodsInChannel, method) {
		return ""
	}
	switch {
	case s.archived[channel]:
		return "is_archived"
	case s.outside[channel]:
		return "not_in_channel"
	}
	return ""
}

// conversationsInfo answers a channel's info the way Slack's
// conversations.info does (the fields the bot reads: id, name, is_member,
// is_archived, is_private); channel_not_found for ids that are no channel.
func (s *Server) conversationsInfo(r *apiRequest) apiResponse {
	id := r.params.Get("channel")
	if id == "" || !strings.ContainsAny(id[:1], "CG") {
		return errResp("channel_not_found")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return okResp(map[string]any{"channel": map[string]any{
		"id":          id,
		"name":        strings.ToLower(id),
		"is_channel":  id[0] == 'C',
		"is_group":    false,
		"is_im":       false,
		"is_private":  id[0] == 'G',
		"is_archived": s.archived[id],
		"is_member":   !s.outside[id],
	}})
}
