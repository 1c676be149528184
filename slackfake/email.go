package slackfake

import (
	"net/url"
	"strings"
)

// Email is what a test says about an e-mail forwarded into Slack; EmailFile
// turns it into the file object Slack puts in the message.
type Email struct {
	ID          string // file id; "F0EMAIL0001" when empty
	FromName    string
	FromAddress string
	To          string // address; "inbox@fake.slack.example" when empty
	Subject     string
	PlainText   string // the body; Slack also sends its start as preview_plain_text
	Date        string // RFC 5322 date header; a fixed one when empty
}

// emailPreviewLen is roughly how much of the body Slack puts in
// preview_plain_text.
const emailPreviewLen = 300

// EmailFile is the file object of type "email" Slack attaches to a message
// when an e-mail is sent to a channel's or the Slack app's e-mail address.
// Its shape follows an Events API capture kept as a golden test in
// MercuryTechnologies/slack-web (tests/golden/SlackWebhookEvent/
// email_message.json) and the e-mail fields in slackapi/java-slack-sdk
// json-logs/samples/events/MessageFileSharePayload.json: subject, to/from/cc
// as [{address, name, original}], plain_text, preview (HTML),
// preview_plain_text, headers.
func EmailFile(e Email) map[string]any {
	if e.ID == "" {
		e.ID = "F0EMAIL0001"
	}
	if e.To == "" {
		e.To = "inbox@fake.slack.example"
	}
	if e.Date == "" {
		e.Date = "Fri, 16 Dec 2022 18:58:30 +0000"
	}
	party := func(name, addr string) map[string]any {
		original := "<" + addr + ">"
		if name != "" {
			original = name + " " + original
		}
		return map[string]any{"address": addr, "name": name, "original": original}
	}
	preview, truncated := e.PlainText, false
	if r := []rune(preview); len(r) > emailPreviewLen {
		preview, truncated = string(r[:emailPreviewLen]), true
	}
	title := e.Subject
	if title == "" {
		title = "(no subject)"
	}
	return map[string]any{
		"id":                        e.ID,
		"created":                   1671217113,
		"timestamp":                 1671217110,
		"name":                      title,
		"title":                     title,
		"mimetype":                  "text/html",
		"filetype":                  "email",
		"pretty_type":               "Email",
		"user":                      "USLACKBOT",
		"user_team":                 TeamID,
		"editable":                  true,
		"size":                      len(e.PlainText) + 512,
		"mode":                      "email",
		"is_external":               false,
		"external_type":             "",
		"is_public":                 true,
		"public_url_shared":         false,
		"display_as_bot":            true,
		"username":                  "Email",
		"url_private":               "https://files.slack.com/files-pri/" + TeamID + "-" + e.ID + "/email",
		"url_private_download":      "https://files.slack.com/files-pri/" + TeamID + "-" + e.ID + "/download/email",
		"permalink":                 "https://fake.slack.com/files/USLACKBOT/" + e.ID + "/email",
		"permalink_public":          "https://slack-files.com/" + TeamID + "-" + e.ID + "-0000000000",
		"subject":                   e.Subject,
		"to":                        []any{party("", e.To)},
		"from":                      []any{party(e.FromName, e.FromAddress)},
		"cc":                        []any{},
		"attachments":               []any{},
		"original_attachment_count": 0,
		"plain_text":                e.PlainText,
		"preview":                   "<div>" + htmlEscaper.Replace(preview) + "</div>",
		"preview_plain_text":        preview,
		"preview_is_truncated":      truncated,
		"headers": map[string]any{
			"date":        e.Date,
			"in_reply_to": nil,
			"reply_to":    nil,
			"message_id":  "<" + strings.ToLower(e.ID) + "@mail.fake.example>",
		},
		"has_more":         truncated,
		"sent_to_self":     false,
		"bot_id":           "B0EMAIL0001",
		"has_rich_preview": false,
		"file_access":      "visible",
	}
}

var htmlEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;")

// EmailMessage is the file_share message an e-mail makes in a channel
// (same sources as EmailFile): posted by Slackbot on the e-mail's behalf,
// with no text of its own. text is what a person added when sharing it
// again ("" for a straight forward).
func EmailMessage(ts, text string, e Email) map[string]any {
	m := map[string]any{
		"type":           "message",
		"subtype":        "file_share",
		"text":           text,
		"files":          []any{EmailFile(e)},
		"upload":         true,
		"user":           "USLACKBOT",
		"display_as_bot": true,
		"bot_id":         "B0EMAIL0001",
		"ts":             ts,
	}
	return m
}

// MessageActionWithJSON is the message_action payload for the message
// shortcut callbackID used by userID on message (e.g. EmailMessage) in
// channelID, with a live trigger_id and response_url like
// Server.MessageActionJSON. The message need not be stored in the fake.
func (s *Server) MessageActionWithJSON(userID, channelID, callbackID string, message map[string]any) []byte {
	ts, _ := message["ts"].(string)
	return messageAction{
		user: userID, channel: channelID, messageTS: ts, callbackID: callbackID,
		triggerID:   s.NewTriggerIDFor(userID),
		responseURL: s.NewResponseURLFor(channelID, ts, userID),
		message:     message,
	}.payload()
}

// MessageActionWithForm is MessageActionWithJSON as an HTTP-mode form body.
func (s *Server) MessageActionWithForm(userID, channelID, callbackID string, message map[string]any) url.Values {
	return url.Values{"payload": {string(s.MessageActionWithJSON(userID, channelID, callbackID, message))}}
}
