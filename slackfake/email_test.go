package slackfake_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/leadtriage/leadtriage/slackfake"
	"github.com/slack-go/slack"
)

// TestServer_MessageActionWithJSON_Email: the e-mail message parses with
// slack-go as Slack's does: a file_share without text whose file is an
// e-mail, inside a message_action with a live trigger.
func TestServer_MessageActionWithJSON_Email(t *testing.T) {
	t.Parallel()
	fake := slackfake.New(t)
	msg := slackfake.EmailMessage("1700000000.000100", "", slackfake.Email{
		FromName: "Jan Jansen", FromAddress: "jan@acme.example", Subject: "Offerte", PlainText: strings.Repeat("x", 400),
	})
	var ic slack.InteractionCallback
	if err := json.Unmarshal([]byte(fake.MessageActionWithForm("U1", "C1", "lead.from_message", msg).Get("payload")), &ic); err != nil {
		t.Fatal(err)
	}
	if ic.Type != slack.InteractionTypeMessageAction || ic.Message.SubType != "file_share" || ic.Message.Text != "" || len(ic.Message.Files) != 1 {
		t.Fatalf("parsed %+v", ic.Message)
	}
	f := ic.Message.Files[0]
	if f.Filetype != "email" || f.Subject != "Offerte" || len(f.From) != 1 || f.From[0].Address != "jan@acme.example" ||
		f.From[0].Original != "Jan Jansen <jan@acme.example>" || len(f.PlainText) != 400 || len(f.PreviewPlainText) != 300 ||
		f.PreviewIsTruncated == nil || !*f.PreviewIsTruncated {
		t.Errorf("e-mail file %+v", f)
	}
	if _, err := fake.Client().OpenViewContext(t.Context(), ic.TriggerID, slack.ModalViewRequest{
		Type: slack.VTModal, Title: slack.NewTextBlockObject("plain_text", "x", false, false),
		Blocks: slack.Blocks{BlockSet: []slack.Block{slack.NewSectionBlock(slack.NewTextBlockObject("mrkdwn", "hi", false, false), nil, nil)}},
	}); err != nil {
		t.Errorf("views.open with the trigger: %v", err)
	}
}
