package slackfake

import "net/url"

type messageAction struct {
	user, channel, messageTS, callbackID, triggerID, responseURL string
	message                                                      map[string]any
}

func (a messageAction) payload() []byte {
	return mustJSON(map[string]any{
		"type":                  "message_action",
		"token":                 VerificationToken,
		"api_app_id":            AppID,
		"action_ts":             actionTS(),
		"team":                  teamObject(),
		"user":                  userObject(a.user),
		"channel":               map[string]any{"id": a.channel, "name": "channel-" + a.channel},
		"is_enterprise_install": false,
		"enterprise":            nil,
		"callback_id":           a.callbackID,
		"trigger_id":            a.triggerID,
		"response_url":          a.responseURL,
		"message_ts":            a.messageTS,
		"message":               a.message,
	})
}

// MessageActionJSON is the message_action payload Slack sends when userID
// picks the message shortcut callbackID on the message (channelID,
// messageTS), written by userID, whose text is text. It parses with
// slack.InteractionCallback; use it as the Payload of an "interactive"
// Envelope. It carries PlaceholderTriggerID and PlaceholderResponseURL;
// Server.MessageActionJSON issues live ones.
func MessageActionJSON(userID, channelID, messageTS, callbackID, text string) []byte {
	return messageAction{
		user: userID, channel: channelID, messageTS: messageTS, callbackID: callbackID,
		triggerID: PlaceholderTriggerID, responseURL: PlaceholderResponseURL,
		message: map[string]any{"type": "message", "ts": messageTS, "user": userID, "text": text},
	}.payload()
}

// MessageActionForm is MessageActionJSON as the form body Slack POSTs in
// HTTP mode (payload=<json>).
func MessageActionForm(userID, channelID, messageTS, callbackID, text string) url.Values {
	return url.Values{"payload": {string(MessageActionJSON(userID, channelID, messageTS, callbackID, text))}}
}

// MessageActionJSON is like the package-level MessageActionJSON for the
// stored message (channelID, messageTS), e.g. one PostAsUser wrote, with a
// live trigger_id (NewTriggerIDFor userID) and a response_url bound to the
// message (NewResponseURLFor: an ephemeral posted to it lands in
// Ephemerals). A message the fake does not hold is sent with empty text.
func (s *Server) MessageActionJSON(userID, channelID, messageTS, callbackID string) []byte {
	a := messageAction{
		user: userID, channel: channelID, messageTS: messageTS, callbackID: callbackID,
		triggerID:   s.NewTriggerIDFor(userID),
		responseURL: s.NewResponseURLFor(channelID, messageTS, userID),
	}
	s.mu.Lock()
	if m := s.findLocked(channelID, messageTS); m != nil {
		a.message = s.wireLocked(m, false)
	}
	s.mu.Unlock()
	if a.message == nil {
		a.message = map[string]any{"type": "message", "ts": messageTS, "text": ""}
	}
	return a.payload()
}

// MessageActionForm is Server.MessageActionJSON as an HTTP-mode form body.
func (s *Server) MessageActionForm(userID, channelID, messageTS, callbackID string) url.Values {
	return url.Values{"payload": {string(s.MessageActionJSON(userID, channelID, messageTS, callbackID))}}
}
