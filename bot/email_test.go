package bot_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/leadtriage/leadtriage/bot"
	"github.com/leadtriage/leadtriage/slackfake"
	"github.com/leadtriage/leadtriage/triage"
	"github.com/slack-go/slack"
)

// withFreeMail gives the bot a free-mail check, as main does with
// research's list.
func withFreeMail(c *bot.Config, _ *triage.Service) {
	c.FreeMail = func(d string) bool { return d == "gmail.com" || d == "hotmail.com" }
}

// emailShortcut sends "Qualify this message" on message (not stored in the
// fake), signed, through the HTTP interactions handler, waits for its
// work and returns the dialog views.open received, checked against Block
// Kit's limits.
func (h *harness) emailShortcut(t *testing.T, user, ch string, message map[string]any) (openedView, json.RawMessage) {
	t.Helper()
	before := len(h.slack.Calls())
	viewsBefore := len(h.slack.Views())
	form := h.slack.MessageActionWithForm(user, ch, "lead.from_message", message)
	rec := h.serve(signedAt("/slack/interactions", secretNew, formType, []byte(form.Encode()), now))
	if rec.Code != http.StatusOK || rec.Body.Len() != 0 {
		t.Fatalf("shortcut: %d %q, want an empty 200", rec.Code, rec.Body.String())
	}
	h.drain(t)
	calls := h.slack.Calls()[before:]
	if len(calls) != 1 || calls[0].Method != "views.open" || !calls[0].OK() {
		t.Fatalf("calls after the shortcut: %+v, want views.open only, and ok", calls)
	}
	views := h.slack.Views()[viewsBefore:]
	if len(views) != 1 || views[0].UserID != user {
		t.Fatalf("views %+v, want one for %s", views, user)
	}
	if problems := slackfake.ValidateView(views[0].JSON); len(problems) > 0 {
		t.Errorf("the dialog breaks Block Kit limits: %v", problems)
	}
	return decodeView(t, views[0].JSON), views[0].JSON
}

// mrkdwnTexts collects every mrkdwn text object in a Block Kit JSON tree.
func mrkdwnTexts(raw json.RawMessage) []string {
	var tree any
	if json.Unmarshal(raw, &tree) != nil {
		return nil
	}
	var out []string
	var walk func(any)
	walk = func(x any) {
		switch v := x.(type) {
		case map[string]any:
			if v["type"] == "mrkdwn" {
				if s, ok := v["text"].(string); ok {
					out = append(out, s)
				}
			}
			for _, c := range v {
				walk(c)
			}
		case []any:
			for _, c := range v {
				walk(c)
			}
		}
	}
	walk(tree)
	return out
}

// TestBot_QualifyForwardedEmail: "Qualify this message" on an e-mail
// forwarded into Slack (a file_share message with an e-mail file and no
// text, in the shape slackfake.EmailMessage documents) opens the dialog
// prefilled from the e-mail; what the e-mail says lands in plain-text inputs
// as it is and in no mrkdwn; the submitted lead's card escapes it.
func TestBot_QualifyForwardedEmail(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withFreeMail)
	const sales = "CSALES"
	email := slackfake.Email{
		FromName:    "Jan <!channel> Jansen & Zn",
		FromAddress: "jan@voorbeeld-bouw.nl",
		Subject:     "Fwd: Offerte <https://evil.example|klik hier>",
		PlainText: "Hallo,\r\n\r\nWij zoeken een partner voor 3 < 5 sites & meer. <@U0ADMIN> weet ervan.\r\n\r\n" +
			"Met vriendelijke groet,\r\nJan Jansen\r\nVoorbeeld Bouw & Zn B.V.\r\nwww.voorbeeld-bouw.nl\r\n",
	}
	v, raw := h.emailShortcut(t, "USELLER", sales, slackfake.EmailMessage("1700000000.000500", "", email))

	ids, initial := v.inputs(t)
	if strings.Join(ids, ",") != strings.Join(wantAddBlocks, ",") {
		t.Errorf("input blocks %v, want %v", ids, wantAddBlocks)
	}
	want := map[string]string{
		"name":    "Jan <!channel> Jansen & Zn",
		"email":   "jan@voorbeeld-bouw.nl",
		"company": "Voorbeeld Bouw & Zn B.V.",
		"website": "https://voorbeeld-bouw.nl",
		"source":  "e-mail",
	}
	for k, w := range want {
		if initial[k] != w {
			t.Errorf("prefilled %s = %q, want %q", k, initial[k], w)
		}
	}
	msg := initial["message"]
	if !strings.HasPrefix(msg, "Offerte <https://evil.example|klik hier>\n\nHallo,") || !strings.Contains(msg, "3 < 5 sites & meer. <@U0ADMIN>") {
		t.Errorf("prefilled message %q, want the subject and the body as they are", msg)
	}
	for _, s := range mrkdwnTexts(raw) {
		for _, bad := range []string{"<!channel>", "<@U0ADMIN>", "evil.example", "Jansen"} {
			if strings.Contains(s, bad) {
				t.Errorf("mrkdwn %q carries %q from the e-mail", s, bad)
			}
		}
	}

	// Submitting the prefill as it is stores that lead; its card escapes
	// the e-mail's characters.
	values := map[string]map[string]slack.BlockAction{}
	for _, b := range v.Blocks {
		if b.Type != "input" || initial[b.BlockID] == "" {
			continue
		}
		a := textValue(b.Element.Type, initial[b.BlockID])
		if b.Element.Type == "static_select" {
			a = slack.BlockAction{Type: "static_select", SelectedOption: slack.OptionBlockObject{Value: initial[b.BlockID]}}
		}
		values[b.BlockID] = map[string]slack.BlockAction{b.BlockID: a}
	}
	got := h.submitAdd(t, "USELLER", v.PrivateMetadata, values)
	if got.ResponseAction != "clear" {
		t.Fatalf("submission: %+v, want clear", got)
	}
	h.drain(t)
	leads, err := h.svc.Leads(context.Background(), "")
	if err != nil || len(leads) != 2 {
		t.Fatalf("%d leads (%v), want the harness's and the e-mail's", len(leads), err)
	}
	l := leads[1]
	if l.Name != want["name"] || l.Email != want["email"] || l.Company != want["company"] || l.Domain != "voorbeeld-bouw.nl" || l.Source != "e-mail" || l.CreatedBy != "USELLER" {
		t.Errorf("stored lead %+v", l)
	}
	if _, err := h.bot.DeliverDue(context.Background(), now); err != nil {
		t.Fatal(err)
	}
	var card *slackfake.Message
	for _, m := range h.slack.Messages(channel) {
		if strings.Contains(string(m.Blocks), l.ID.String()) {
			card = &m
		}
	}
	if card == nil {
		t.Fatalf("no card for %s in the triage channel", l.ID)
	}
	texts := strings.Join(mrkdwnTexts(card.Blocks), "\n")
	for _, bad := range []string{"<!channel>", "<@U0ADMIN>", "<https://evil.example"} {
		if strings.Contains(texts, bad) {
			t.Errorf("the card's mrkdwn carries %q unescaped", bad)
		}
	}
	if !strings.Contains(texts, "Jan &lt;!channel&gt; Jansen &amp; Zn") {
		t.Errorf("card mrkdwn %q, want the sender's name escaped", texts)
	}
}

// TestBot_QualifyEmail_Cases: the other shapes a shared e-mail comes in.
func TestBot_QualifyEmail_Cases(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withFreeMail)
	tests := []struct {
		name  string
		text  string // the message's own text
		email slackfake.Email
		want  map[string]string // initial values; "" = none
		body  []string          // the message prefill contains these, in order
	}{
		{
			name:  "FreeMail",
			email: slackfake.Email{FromName: "Piet", FromAddress: "piet1970@gmail.com", Subject: "Vraag", PlainText: "Kunnen jullie bellen?\n\nPiet"},
			want:  map[string]string{"name": "Piet", "email": "piet1970@gmail.com", "company": "", "website": ""},
			body:  []string{"Vraag", "Kunnen jullie bellen?"},
		},
		{
			name:  "CompanyFromDomain",
			email: slackfake.Email{FromName: "Sarah Smith", FromAddress: "sarah@widget-works.co.uk", Subject: "Pricing", PlainText: "Please call.\n\nSarah"},
			want:  map[string]string{"name": "Sarah Smith", "company": "Widget Works", "website": "https://widget-works.co.uk"},
			body:  []string{"Pricing", "Please call."},
		},
		{
			// Shared again with a comment: the comment is a note above the
			// e-mail, the contact is the e-mail's sender.
			name: "WithText",
			text: "Lead from the fair, <@U0BOSS> met him &amp; liked it",
			email: slackfake.Email{FromName: "Sam Seller", FromAddress: "sam@ours.example", Subject: "Fwd: Intro",
				PlainText: "---------- Forwarded message ---------\nFrom: Amy Lee <amy@rocketlabs.example>\nSubject: Intro\n\nHi, we need help.\n\nAmy Lee\nVP Sales at Rocket Labs Inc."},
			want: map[string]string{"name": "Amy Lee", "email": "amy@rocketlabs.example", "company": "Rocket Labs Inc.", "website": "https://rocketlabs.example"},
			body: []string{"Lead from the fair, <@U0BOSS> met him & liked it", "Intro", "Hi, we need help."},
		},
		{
			name:  "LongBody",
			email: slackfake.Email{FromName: "Jan", FromAddress: "jan@acme.example", PlainText: strings.Repeat("Lange mail. ", 3000)},
			want:  map[string]string{"company": "Acme", "website": "https://acme.example"},
			body:  []string{"Lange mail."},
		},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ts := "1700000001.00010" + string(rune('0'+i))
			v, _ := h.emailShortcut(t, "USELLER", "CSALES", slackfake.EmailMessage(ts, tc.text, tc.email))
			_, initial := v.inputs(t)
			for k, w := range tc.want {
				if initial[k] != w {
					t.Errorf("prefilled %s = %q, want %q", k, initial[k], w)
				}
			}
			msg, at := initial["message"], 0
			for _, part := range tc.body {
				i := strings.Index(msg[at:], part)
				if i < 0 {
					t.Errorf("prefilled message %q, want %q after position %d", msg, part, at)
					break
				}
				at += i + len(part)
			}
			if n := len([]rune(msg)); n > bot.MaxMessageFromSlack {
				t.Errorf("message prefill of %d characters, want at most %d", n, bot.MaxMessageFromSlack)
			}
		})
	}
}
