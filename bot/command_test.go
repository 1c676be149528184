package bot_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/leadtriage/leadtriage/slackfake"
)

// /qualify over Socket Mode: the reply is the ack's payload, computed
// outside the socket's event loop; the dialog's ack carries none.
func TestBot_RunSocket_Qualify(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	runSocket(t, h)

	send := func(text, trigger string) slackfake.Ack {
		t.Helper()
		id := h.slack.SendEnvelope(t, slackfake.Envelope{
			Type:                   "slash_commands",
			Payload:                json.RawMessage(slackfake.SlashCommandJSON("UASKER", channel, "/qualify", text, h.slack.NewResponseURL(), trigger)),
			AcceptsResponsePayload: true,
		})
		return h.slack.WaitAck(t, id, 5*time.Second)
	}

	ack := send(h.lead.ID.String(), slackfake.PlaceholderTriggerID)
	var reply struct {
		ResponseType string            `json:"response_type"`
		Text         string            `json:"text"`
		Blocks       []json.RawMessage `json:"blocks"`
	}
	if err := json.Unmarshal(ack.Payload, &reply); err != nil {
		t.Fatalf("ack payload %s: %v", ack.Payload, err)
	}
	if reply.ResponseType != "ephemeral" || !strings.Contains(reply.Text, "Acme Widgets") || len(reply.Blocks) == 0 {
		t.Errorf("ack payload = %s, want the lead", ack.Payload)
	}

	ack = send("", h.slack.NewTriggerID())
	if len(ack.Payload) != 0 && string(ack.Payload) != "null" {
		t.Errorf("dialog ack payload = %s, want none", ack.Payload)
	}
	h.slack.WaitUntil(t, 5*time.Second, "the add-lead dialog", func() bool { return len(h.slack.Views()) == 1 })
	if v := h.slack.Views()[0]; v.Method != "views.open" || !strings.Contains(string(v.JSON), `"lead.add"`) {
		t.Errorf("view = %s %s", v.Method, v.JSON)
	}
}
