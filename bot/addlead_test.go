package bot_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/leadtriage/leadtriage/slackfake"
	"github.com/slack-go/slack"
)

// forwardedEmail is a forwarded e-mail as Slack shows it in a message.
const forwardedEmail = "---------- Forwarded message ---------\n" +
	"From: Jan Jansen <<mailto:jan@voorbeeld-bouw.nl|jan@voorbeeld-bouw.nl>>\n" +
	"Subject: Offerte\n\n" +
	"Hallo, wij zoeken een partner voor onze nieuwe website. Zie <https://voorbeeld-bouw.nl|voorbeeld-bouw.nl>.\n" +
	"Groet, Jan"

// openedView is the part of a views.open call the tests look at.
type openedView struct {
	CallbackID      string `json:"callback_id"`
	PrivateMetadata string `json:"private_metadata"`
	Title           struct {
		Text string `json:"text"`
	} `json:"title"`
	Submit struct {
		Text string `json:"text"`
	} `json:"submit"`
	Blocks []struct {
		Type     string `json:"type"`
		BlockID  string `json:"block_id"`
		Optional bool   `json:"optional"`
		Element  struct {
			Type          string `json:"type"`
			ActionID      string `json:"action_id"`
			InitialValue  string `json:"initial_value"`
			InitialOption *struct {
				Value string `json:"value"`
			} `json:"initial_option"`
		} `json:"element"`
	} `json:"blocks"`
}

func decodeView(t *testing.T, raw json.RawMessage) openedView {
	t.Helper()
	var v openedView
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("view %s: %v", raw, err)
	}
	return v
}

// inputs maps each input block id to its element's type and initial value,
// and checks that action ids equal block ids.
func (v openedView) inputs(t *testing.T) (ids []string, initial map[string]string) {
	t.Helper()
	initial = map[string]string{}
	for _, b := range v.Blocks {
		if b.Type != "input" {
			continue
		}
		if b.Element.ActionID != b.BlockID {
			t.Errorf("block %q: action_id %q, want the block id", b.BlockID, b.Element.ActionID)
		}
		ids = append(ids, b.BlockID+":"+b.Element.Type)
		if b.Element.InitialValue != "" {
			initial[b.BlockID] = b.Element.InitialValue
		}
		if b.Element.InitialOption != nil {
			initial[b.BlockID] = b.Element.InitialOption.Value
		}
	}
	return ids, initial
}

var wantAddBlocks = []string{
	"company:plain_text_input", "name:plain_text_input", "email:email_text_input",
	"website:url_text_input", "phone:plain_text_input", "message:plain_text_input",
	"source:static_select", "founded:number_input", "employees:number_input",
}

// shortcut sends "Qualify this message" on the stored message ts in ch,
// signed, through the HTTP handler, and waits for its work.
func (h *harness) shortcut(t *testing.T, user, ch, ts string) (responseURL string) {
	t.Helper()
	form := h.slack.MessageActionForm(user, ch, ts, "lead.from_message")
	var p struct {
		ResponseURL string `json:"response_url"`
	}
	if err := json.Unmarshal([]byte(form.Get("payload")), &p); err != nil {
		t.Fatal(err)
	}
	rec := h.serve(signedAt("/slack/interactions", secretNew, formType, []byte(form.Encode()), now))
	if rec.Code != http.StatusOK || rec.Body.Len() != 0 {
		t.Fatalf("shortcut: %d %q, want an empty 200", rec.Code, rec.Body.String())
	}
	h.drain(t)
	return p.ResponseURL
}

// submitAdd posts the add-lead dialog's submission and returns the answer.
func (h *harness) submitAdd(t *testing.T, user, metadata string, values map[string]map[string]slack.BlockAction) submissionResponse {
	t.Helper()
	body := []byte(slackfake.ViewSubmissionForm(user, "lead.add", metadata, values).Encode())
	rec := h.serve(signedAt("/slack/interactions", secretOld, formType, body, now))
	if rec.Code != http.StatusOK {
		t.Fatalf("submission: status %d: %s", rec.Code, rec.Body.String())
	}
	var got submissionResponse
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatalf("submission answer %q: %v", rec.Body.String(), err)
	}
	return got
}

func textValue(typ, v string) slack.BlockAction {
	return slack.BlockAction{Type: slack.ActionType(typ), Value: v}
}

// TestBot_AddLeadFromMessage runs the shortcut on a forwarded e-mail: the
// prefilled dialog opens with views.open as the first call, a submission
// with a bad e-mail is refused under the field and stores nothing, the
// fixed one creates the lead, its card goes out and the submitter is told.
func TestBot_AddLeadFromMessage(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	const sales = "CSALES"
	msgTS := h.slack.PostAsUser(sales, "USELLER", forwardedEmail, "")
	before := len(h.slack.Calls())

	responseURL := h.shortcut(t, "USELLER", sales, msgTS)

	calls := h.slack.Calls()[before:]
	if len(calls) != 1 || calls[0].Method != "views.open" || !calls[0].OK() {
		t.Fatalf("calls after the shortcut: %+v, want views.open only, and ok", calls)
	}
	views := h.slack.Views()
	if len(views) != 1 || views[0].UserID != "USELLER" {
		t.Fatalf("views %+v, want one, for USELLER", views)
	}
	if problems := slackfake.ValidateView(views[0].JSON); len(problems) > 0 {
		t.Errorf("the dialog breaks Block Kit limits: %v", problems)
	}
	v := decodeView(t, views[0].JSON)
	if v.CallbackID != "lead.add" || v.Title.Text != "New lead" || v.Submit.Text != "Add lead" {
		t.Errorf("callback %q, title %q, submit %q", v.CallbackID, v.Title.Text, v.Submit.Text)
	}
	ids, initial := v.inputs(t)
	if diff := cmp.Diff(wantAddBlocks, ids); diff != "" {
		t.Errorf("input blocks (-want +got):\n%s", diff)
	}
	if initial["email"] != "jan@voorbeeld-bouw.nl" || initial["name"] != "Jan Jansen" ||
		!strings.Contains(initial["website"], "voorbeeld-bouw.nl") || !strings.Contains(initial["message"], "nieuwe website") {
		t.Errorf("prefill = %q", initial)
	}
	var meta struct {
		Channel     string `json:"channel"`
		ResponseURL string `json:"response_url"`
	}
	if err := json.Unmarshal([]byte(v.PrivateMetadata), &meta); err != nil || meta.Channel != sales || meta.ResponseURL != responseURL {
		t.Errorf("private_metadata %q (%v), want the channel and response URL", v.PrivateMetadata, err)
	}

	leadsBefore, err := h.svc.Leads(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	values := map[string]map[string]slack.BlockAction{
		"company":   {"company": textValue("plain_text_input", "Voorbeeld Bouw")},
		"email":     {"email": textValue("email_text_input", "jan@@voorbeeld-bouw")},
		"website":   {"website": textValue("url_text_input", "https://voorbeeld-bouw.nl")},
		"message":   {"message": textValue("plain_text_input", "Wants a new website.")},
		"founded":   {"founded": textValue("number_input", "2019")},
		"employees": {"employees": textValue("number_input", "12")},
	}
	got := h.submitAdd(t, "USELLER", v.PrivateMetadata, values)
	if got.ResponseAction != "errors" || got.Errors["email"] == "" || len(got.Errors) != 1 {
		t.Fatalf("bad e-mail: %+v, want one error under email", got)
	}
	if leads, _ := h.svc.Leads(context.Background(), ""); len(leads) != len(leadsBefore) {
		t.Fatalf("a refused submission stored a lead: %d leads, want %d", len(leads), len(leadsBefore))
	}

	values["email"] = map[string]slack.BlockAction{"email": textValue("email_text_input", "jan@voorbeeld-bouw.nl")}
	got = h.submitAdd(t, "USELLER", v.PrivateMetadata, values)
	if got.ResponseAction != "clear" || len(got.Errors) != 0 {
		t.Fatalf("fixed submission: %+v, want clear", got)
	}
	h.drain(t)
	leads, err := h.svc.Leads(context.Background(), "")
	if err != nil || len(leads) != len(leadsBefore)+1 {
		t.Fatalf("%d leads (%v), want one more", len(leads), err)
	}
	l := leads[len(leads)-1]
	if l.Company != "Voorbeeld Bouw" || l.Email != "jan@voorbeeld-bouw.nl" || l.Source != "slack" || l.CreatedBy != "USELLER" || l.Founded != 2019 || l.Employees != 12 {
		t.Errorf("stored lead %+v", l)
	}

	// The confirmation went through the shortcut's response_url, an
	// ephemeral in the channel the shortcut was used in.
	posts := h.slack.ResponsePosts(responseURL)
	if len(posts) != 1 || !strings.Contains(string(posts[0]), "Added *"+l.ID.String()+"*") || !strings.Contains(string(posts[0]), `"ephemeral"`) {
		t.Errorf("response_url posts %s, want one ephemeral confirmation", posts)
	}
	if eph := h.slack.Ephemerals(); len(eph) != 1 || eph[0].User != "USELLER" || eph[0].Channel != sales {
		t.Errorf("ephemerals %+v", eph)
	}

	// The card is posted by the outbox worker.
	if _, err := h.bot.DeliverDue(context.Background(), now); err != nil {
		t.Fatal(err)
	}
	var cards int
	for _, m := range h.slack.Messages(channel) {
		if strings.Contains(string(m.Blocks), "Voorbeeld Bouw") {
			cards++
		}
	}
	if cards != 1 {
		t.Errorf("%d cards for the new lead in the triage channel, want 1", cards)
	}

	// The same submission again is the same lead.
	got = h.submitAdd(t, "USELLER", `{"channel":"`+channel+`"}`, values)
	if got.ResponseAction != "clear" {
		t.Fatalf("repeat: %+v", got)
	}
	h.drain(t)
	if leads, _ := h.svc.Leads(context.Background(), ""); len(leads) != len(leadsBefore)+1 {
		t.Errorf("a repeat stored another lead")
	}
	told := h.told(t, "USELLER")
	if len(told) != 1 || !strings.Contains(told[0], "already in triage as *<https://slack.com/app_redirect?channel="+channel+"|"+l.ID.String()+">*") {
		t.Errorf("told %q, want the repeat linked to its card", told)
	}
}

// TestBot_AddLeadSubmission_Errors: every FieldError lands under an input
// block; the field names of the domain are the dialog's block ids.
func TestBot_AddLeadSubmission_Errors(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	tests := []struct {
		name      string
		values    map[string]map[string]slack.BlockAction
		wantBlock string
	}{
		{"Empty", nil, "company"},
		{"BadWebsite", map[string]map[string]slack.BlockAction{"website": {"website": textValue("url_text_input", "ftp://x")}}, "website"},
		{"BadYear", map[string]map[string]slack.BlockAction{
			"company": {"company": textValue("plain_text_input", "Acme")},
			"founded": {"founded": textValue("number_input", "1200")},
		}, "founded"},
		{"BadEmployees", map[string]map[string]slack.BlockAction{
			"company":   {"company": textValue("plain_text_input", "Acme")},
			"employees": {"employees": textValue("number_input", "2.5")},
		}, "employees"},
		{"BadPhone", map[string]map[string]slack.BlockAction{
			"company": {"company": textValue("plain_text_input", "Acme")},
			"phone":   {"phone": textValue("plain_text_input", "call me <@U123>")},
		}, "phone"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := h.submitAdd(t, "USELLER", "", tc.values)
			if got.ResponseAction != "errors" || len(got.Errors) != 1 || got.Errors[tc.wantBlock] == "" {
				t.Errorf("answer %+v, want one error under %q", got, tc.wantBlock)
			}
		})
	}
	if leads, _ := h.svc.Leads(context.Background(), ""); len(leads) != 1 {
		t.Errorf("%d leads, want only the harness's", len(leads))
	}
}

// TestBot_AddLeadFromMessage_Socket: the shortcut over Socket Mode is
// acknowledged with no payload and opens the dialog.
func TestBot_AddLeadFromMessage_Socket(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	runSocket(t, h)
	ts := h.slack.PostAsUser("CSALES", "USELLER", forwardedEmail, "")
	id := h.slack.SendEnvelope(t, slackfake.Envelope{Type: "interactive", Payload: json.RawMessage(h.slack.MessageActionJSON("USELLER", "CSALES", ts, "lead.from_message"))})
	ack := h.slack.WaitAck(t, id, 5*time.Second)
	if len(ack.Payload) != 0 && string(ack.Payload) != "null" {
		t.Errorf("ack payload %s, want none", ack.Payload)
	}
	h.slack.WaitCalls(t, "views.open", 1, 5*time.Second)
	v := decodeView(t, h.slack.Views()[0].JSON)
	_, initial := v.inputs(t)
	if initial["email"] != "jan@voorbeeld-bouw.nl" {
		t.Errorf("prefill %q", initial)
	}

	// The submission's answer is the ack's payload.
	submit := func(email string) string {
		t.Helper()
		values := map[string]map[string]slack.BlockAction{
			"company": {"company": textValue("plain_text_input", "Voorbeeld Bouw")},
			"email":   {"email": textValue("email_text_input", email)},
		}
		id := h.slack.SendEnvelope(t, slackfake.Envelope{
			Type:                   "interactive",
			Payload:                json.RawMessage(slackfake.ViewSubmissionJSON("USELLER", "lead.add", v.PrivateMetadata, values)),
			AcceptsResponsePayload: true,
		})
		return string(h.slack.WaitAck(t, id, 5*time.Second).Payload)
	}
	if got := submit("not-an-address"); !strings.Contains(got, `"response_action":"errors"`) || !strings.Contains(got, `"email":`) {
		t.Errorf("bad e-mail ack %s, want an error under email", got)
	}
	if got := submit("jan@voorbeeld-bouw.nl"); !strings.Contains(got, `"response_action":"clear"`) {
		t.Errorf("valid ack %s, want clear", got)
	}
	if leads, _ := h.svc.Leads(context.Background(), ""); len(leads) != 2 || leads[1].CreatedBy != "USELLER" {
		t.Errorf("leads %+v, want the harness's and USELLER's", leads)
	}
}
