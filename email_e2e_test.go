package main

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/leadtriage/leadtriage/slackfake"
)

// initialValues maps a dialog's input blocks to their initial values.
func initialValues(tb testing.TB, view json.RawMessage) map[string]string {
	tb.Helper()
	var v struct {
		Blocks []struct {
			BlockID string `json:"block_id"`
			Element struct {
				InitialValue  string `json:"initial_value"`
				InitialOption *struct {
					Value string `json:"value"`
				} `json:"initial_option"`
			} `json:"element"`
		} `json:"blocks"`
	}
	if err := json.Unmarshal(view, &v); err != nil {
		tb.Fatalf("the dialog is not JSON: %v", err)
	}
	out := map[string]string{}
	for _, b := range v.Blocks {
		out[b.BlockID] = b.Element.InitialValue
		if b.Element.InitialOption != nil {
			out[b.BlockID] = b.Element.InitialOption.Value
		}
	}
	return out
}

// TestQualify_MessageShortcut_Email: through the real wiring, "Qualify this
// message" on e-mails forwarded into Slack takes the sender's domain for the
// website, except for a free-mail domain on research's list (main passes
// that check to the bot).
func TestQualify_MessageShortcut_Email(t *testing.T) {
	t.Parallel()
	fake := slackfake.New(t)
	app := MustRunMain(t, appOptions{fake: fake})
	tests := []struct {
		from, wantWebsite, wantCompany string
	}{
		{"jan@voorbeeld-bouw.nl", "https://voorbeeld-bouw.nl", "Voorbeeld Bouw"},
		{"jan.jansen1970@gmail.com", "", ""},
		{"piet@hotmail.nl", "", ""},
	}
	for i, tc := range tests {
		msg := slackfake.EmailMessage("1700000000.00020"+string(rune('0'+i)), "", slackfake.Email{
			FromName: "Jan Jansen", FromAddress: tc.from, Subject: "Offerte", PlainText: "Graag een offerte.\n\nJan Jansen",
		})
		status, body := app.signedPost(t, "/slack/interactions", fake.MessageActionWithForm("USALES", testChannel, "lead.from_message", msg))
		if status != http.StatusOK {
			t.Fatalf("shortcut = %d %s", status, body)
		}
		fake.WaitCalls(t, "views.open", i+1, 5*time.Second)
		got := initialValues(t, fake.Views()[i].JSON)
		if got["email"] != tc.from || got["name"] != "Jan Jansen" || got["website"] != tc.wantWebsite ||
			got["company"] != tc.wantCompany || got["source"] != "e-mail" || got["message"] != "Offerte\n\nGraag een offerte.\n\nJan Jansen" {
			t.Errorf("e-mail from %s: prefill %q, want website %q and company %q", tc.from, got, tc.wantWebsite, tc.wantCompany)
		}
	}
}
