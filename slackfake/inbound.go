package slackfake

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/slack-go/slack"
)

// Values the package-level payload builders use where a live server would
// issue one. The trigger id is unknown to every fake (views.open answers
// invalid_trigger_id); the response URL points at a closed loopback port so
// a stray post fails fast instead of leaving the machine.
const (
	PlaceholderTriggerID   = "0000000000.0.placeholder"
	PlaceholderResponseURL = "http://127.0.0.1:9/slackfake/placeholder-response-url"
	// VerificationToken is the legacy "token" field inbound payloads carry.
	VerificationToken = "fake-verification-token"
)

// Sign returns the headers Slack sets on an inbound request:
// X-Slack-Request-Timestamp (unix seconds of at) and X-Slack-Signature,
// "v0=" + hex(HMAC-SHA256(secret, "v0:"+ts+":"+body)).
func Sign(secret string, body []byte, at time.Time) http.Header {
	ts := strconv.FormatInt(at.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte("v0:" + ts + ":"))
	mac.Write(body)
	h := http.Header{}
	h.Set("X-Slack-Request-Timestamp", ts)
	h.Set("X-Slack-Signature", "v0="+hex.EncodeToString(mac.Sum(nil)))
	return h
}

// NewSignedRequest builds a POST of body to url with the content type and
// the signature headers for now. It works both with http.Client.Do and when
// handed straight to a handler with an httptest.ResponseRecorder.
func NewSignedRequest(tb testing.TB, url, secret, contentType string, body []byte) *http.Request {
	tb.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		tb.Fatalf("slackfake: building signed request: %v", err)
	}
	req.Header.Set("Content-Type", contentType)
	for k, vs := range Sign(secret, body, time.Now()) {
		req.Header[k] = vs
	}
	return req
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		// The builders marshal their own maps plus caller values; a failure
		// is a programming error in the test.
		panic(fmt.Sprintf("slackfake: marshalling payload: %v", err))
	}
	return b
}

func actionTS() string {
	now := time.Now()
	return fmt.Sprintf("%d.%06d", now.Unix(), now.Nanosecond()/1000)
}

func userObject(userID string) map[string]any {
	return map[string]any{"id": userID, "username": "user-" + userID, "name": "user-" + userID, "team_id": TeamID}
}

func teamObject() map[string]any {
	return map[string]any{"id": TeamID, "domain": "fake"}
}

type blockAction struct {
	user, channel, messageTS, actionID, blockID, value, triggerID, responseURL string
	actionText                                                                 json.RawMessage
	message                                                                    map[string]any
}

func (a blockAction) payload() []byte {
	msg := a.message
	if msg == nil {
		msg = map[string]any{"type": "message", "ts": a.messageTS, "user": BotUserID, "bot_id": BotID, "text": ""}
	}
	action := map[string]any{
		"type":      "button",
		"action_id": a.actionID,
		"block_id":  a.blockID,
		"value":     a.value,
		"action_ts": actionTS(),
	}
	if a.actionText != nil {
		action["text"] = a.actionText
	}
	return mustJSON(map[string]any{
		"type":       "block_actions",
		"token":      VerificationToken,
		"api_app_id": AppID,
		"user":       userObject(a.user),
		"team":       teamObject(),
		"enterprise": nil,
		"container": map[string]any{
			"type":         "message",
			"message_ts":   a.messageTS,
			"channel_id":   a.channel,
			"is_ephemeral": false,
		},
		"channel":               map[string]any{"id": a.channel, "name": "channel-" + a.channel},
		"message":               msg,
		"state":                 map[string]any{"values": map[string]any{}},
		"trigger_id":            a.triggerID,
		"response_url":          a.responseURL,
		"is_enterprise_install": false,
		"actions":               []any{action},
	})
}

// BlockActionJSON is the block_actions payload Slack sends when userID
// clicks the button actionID (value) on the message (channelID, messageTS).
// It parses with slack.InteractionCallback; use it as the Payload of an
// "interactive" Envelope. It carries PlaceholderTriggerID and
// PlaceholderResponseURL; Server.BlockActionJSON issues live ones.
func BlockActionJSON(userID, channelID, messageTS, actionID, value string) []byte {
	return blockAction{
		user: userID, channel: channelID, messageTS: messageTS, actionID: actionID,
		blockID: "fake_block", value: value,
		triggerID: PlaceholderTriggerID, responseURL: PlaceholderResponseURL,
	}.payload()
}

// BlockActionForm is BlockActionJSON as the form body Slack POSTs in HTTP
// mode (payload=<json>).
func BlockActionForm(userID, channelID, messageTS, actionID, value string) url.Values {
	return url.Values{"payload": {string(BlockActionJSON(userID, channelID, messageTS, actionID, value))}}
}

// BlockActionJSON is like the package-level BlockActionJSON, but with a live
// trigger_id (NewTriggerIDFor userID), a response_url bound to the message
// (NewResponseURLFor), the stored message (text, blocks) and the block_id
// and button text the action really has in it.
func (s *Server) BlockActionJSON(userID, channelID, messageTS, actionID, value string) []byte {
	a := blockAction{
		user: userID, channel: channelID, messageTS: messageTS, actionID: actionID,
		blockID: "fake_block", value: value,
		triggerID:   s.NewTriggerIDFor(userID),
		responseURL: s.NewResponseURLFor(channelID, messageTS, userID),
	}
	s.mu.Lock()
	if m := s.findLocked(channelID, messageTS); m != nil {
		a.message = s.wireLocked(m, false)
		if id, text := findAction(m.Blocks, actionID, value); id != "" {
			a.blockID, a.actionText = id, text
		}
	}
	s.mu.Unlock()
	return a.payload()
}

// BlockActionForm is Server.BlockActionJSON as an HTTP-mode form body.
func (s *Server) BlockActionForm(userID, channelID, messageTS, actionID, value string) url.Values {
	return url.Values{"payload": {string(s.BlockActionJSON(userID, channelID, messageTS, actionID, value))}}
}

// findAction returns the block_id and text of the element with actionID,
// preferring the one whose value is value too: several blocks may hold the
// same action_id (a checklist's yes buttons), and Slack reports the block of
// the element clicked.
func findAction(blocks json.RawMessage, actionID, value string) (string, json.RawMessage) {
	type element struct {
		ActionID string          `json:"action_id"`
		Value    string          `json:"value"`
		Text     json.RawMessage `json:"text"`
	}
	var bs []struct {
		BlockID   string    `json:"block_id"`
		Accessory *element  `json:"accessory"`
		Elements  []element `json:"elements"`
	}
	if json.Unmarshal(blocks, &bs) != nil {
		return "", nil
	}
	var id string
	var text json.RawMessage
	for _, b := range bs {
		els := b.Elements
		if b.Accessory != nil {
			els = append([]element{*b.Accessory}, els...)
		}
		for _, e := range els {
			if e.ActionID != actionID {
				continue
			}
			if e.Value == value {
				return b.BlockID, e.Text
			}
			if id == "" {
				id, text = b.BlockID, e.Text
			}
		}
	}
	return id, text
}

// SlashCommandForm is the form body Slack POSTs for a slash command.
func SlashCommandForm(userID, channelID, command, text, responseURL, triggerID string) url.Values {
	return url.Values{
		"token":                 {VerificationToken},
		"team_id":               {TeamID},
		"team_domain":           {"fake"},
		"channel_id":            {channelID},
		"channel_name":          {"channel-" + channelID},
		"user_id":               {userID},
		"user_name":             {"user-" + userID},
		"command":               {command},
		"text":                  {text},
		"api_app_id":            {AppID},
		"is_enterprise_install": {"false"},
		"response_url":          {responseURL},
		"trigger_id":            {triggerID},
	}
}

// SlashCommandJSON is the slash_commands payload of a Socket Mode envelope:
// the same fields as SlashCommandForm, as a JSON object of strings.
func SlashCommandJSON(userID, channelID, command, text, responseURL, triggerID string) []byte {
	m := map[string]string{}
	for k, v := range SlashCommandForm(userID, channelID, command, text, responseURL, triggerID) {
		m[k] = v[0]
	}
	return mustJSON(m)
}

// ViewSubmissionJSON is the view_submission payload for a modal with
// callbackID and privateMetadata, submitted by userID with the state values
// (block_id -> action_id -> value; e.g. slack.BlockAction{Type:
// "plain_text_input", Value: "x"} or {Type: "static_select",
// SelectedOption: slack.OptionBlockObject{Value: "y"}}).
func ViewSubmissionJSON(userID, callbackID, privateMetadata string, values map[string]map[string]slack.BlockAction) []byte {
	if values == nil {
		values = map[string]map[string]slack.BlockAction{}
	}
	return mustJSON(map[string]any{
		"type":       "view_submission",
		"token":      VerificationToken,
		"api_app_id": AppID,
		"trigger_id": PlaceholderTriggerID,
		"user":       userObject(userID),
		"team":       teamObject(),
		"enterprise": nil,
		"view": map[string]any{
			"id":               "VFAKESUBMIT",
			"team_id":          TeamID,
			"type":             "modal",
			"callback_id":      callbackID,
			"private_metadata": privateMetadata,
			"hash":             "1700000000.fakehash",
			"app_id":           AppID,
			"bot_id":           BotID,
			"title":            map[string]any{"type": "plain_text", "text": "Form"},
			"blocks":           []any{},
			"state":            map[string]any{"values": values},
		},
		"response_urls":         []any{},
		"is_enterprise_install": false,
	})
}

// ViewSubmissionForm is ViewSubmissionJSON as an HTTP-mode form body.
func ViewSubmissionForm(userID, callbackID, privateMetadata string, values map[string]map[string]slack.BlockAction) url.Values {
	return url.Values{"payload": {string(ViewSubmissionJSON(userID, callbackID, privateMetadata, values))}}
}

// EventCallbackJSON wraps an inner event the way the Events API delivers it
// (HTTP body, or the payload of an events_api envelope). It parses with
// slackevents.ParseEvent(..., slackevents.OptionNoVerifyToken()).
func EventCallbackJSON(eventID string, inner any) []byte {
	return mustJSON(map[string]any{
		"token":      VerificationToken,
		"team_id":    TeamID,
		"api_app_id": AppID,
		"type":       "event_callback",
		"event_id":   eventID,
		"event_time": time.Now().Unix(),
		"event":      inner,
		"authorizations": []any{map[string]any{
			"enterprise_id": nil, "team_id": TeamID, "user_id": BotUserID,
			"is_bot": true, "is_enterprise_install": false,
		}},
		"is_ext_shared_channel": false,
		"event_context":         "4-fake-event-context",
	})
}

// URLVerificationJSON is the body of Slack's url_verification handshake.
func URLVerificationJSON(challenge string) []byte {
	return mustJSON(map[string]any{"token": VerificationToken, "challenge": challenge, "type": "url_verification"})
}

// MessageEvent is an inner "message" event; threadTS "" for top-level.
func MessageEvent(channel, user, text, ts, threadTS string) map[string]any {
	ev := map[string]any{
		"type":         "message",
		"channel":      channel,
		"user":         user,
		"text":         text,
		"ts":           ts,
		"event_ts":     ts,
		"channel_type": channelType(channel),
		"team":         TeamID,
	}
	if threadTS != "" {
		ev["thread_ts"] = threadTS
	}
	return ev
}

func channelType(channel string) string {
	if channel != "" {
		switch channel[0] {
		case 'D':
			return "im"
		case 'G':
			return "group"
		}
	}
	return "channel"
}

// ReactionEvent is an inner "reaction_added" (added) or "reaction_removed"
// event by user on the message (channel, ts) written by itemUser.
func ReactionEvent(added bool, user, reaction, channel, ts, itemUser string) map[string]any {
	typ := "reaction_removed"
	if added {
		typ = "reaction_added"
	}
	return map[string]any{
		"type":      typ,
		"user":      user,
		"reaction":  reaction,
		"item_user": itemUser,
		"item":      map[string]any{"type": "message", "channel": channel, "ts": ts},
		"event_ts":  actionTS(),
	}
}

// AppHomeOpenedEvent is an inner "app_home_opened" event for the Home tab.
func AppHomeOpenedEvent(user string) map[string]any {
	return map[string]any{
		"type":     "app_home_opened",
		"user":     user,
		"channel":  "D" + user,
		"tab":      "home",
		"event_ts": actionTS(),
	}
}
