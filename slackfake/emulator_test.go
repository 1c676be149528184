package slackfake_test

import (
	"encoding/json"
	"net/url"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/slack-go/slack"

	"github.com/leadtriage/leadtriage/slackfake"
)

func TestStart_ServesWithoutATest(t *testing.T) {
	t.Parallel()
	s, err := slackfake.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	api := s.Client()
	changed := s.Changed()
	if _, _, err := api.PostMessage("C1", slack.MsgOptionText("hi", false)); err != nil {
		t.Fatalf("PostMessage: %v", err)
	}
	select {
	case <-changed:
	default:
		t.Error("Changed was not closed by a new message")
	}
	if got := len(s.Messages("C1")); got != 1 {
		t.Errorf("messages = %d, want 1", got)
	}
	if calls := s.Calls(); len(calls) != 0 {
		t.Errorf("a started fake keeps no call log, got %d calls", len(calls))
	}
	s.Close()
	s.Close() // harmless
}

func openModal(t *testing.T, s *slackfake.Server, api *slack.Client, user, title string) string {
	t.Helper()
	v, err := api.OpenView(s.NewTriggerIDFor(user), modal(title))
	if err != nil {
		t.Fatalf("OpenView: %v", err)
	}
	return v.ID
}

func modalTitles(s *slackfake.Server, user string) []string {
	var out []string
	for _, m := range s.Modals(user) {
		var v slack.ModalViewRequest
		_ = json.Unmarshal(m.JSON, &v)
		out = append(out, v.Title.Text)
	}
	return out
}

// TestServer_ViewResponse plays Slack's modal stack: views.open, views.push
// and the response_action answers to a view_submission.
func TestServer_ViewResponse(t *testing.T) {
	t.Parallel()
	s := slackfake.New(t)
	api := s.Client()
	first := openModal(t, s, api, "U1", "First")
	if _, err := api.PushView(s.NewTriggerIDFor("U1"), modal("Second")); err != nil {
		t.Fatalf("PushView: %v", err)
	}
	if diff := cmp.Diff([]string{"First", "Second"}, modalTitles(s, "U1")); diff != "" {
		t.Fatalf("stack after push (-want +got):\n%s", diff)
	}
	if got := s.Modals("U2"); got != nil {
		t.Errorf("another user sees modals: %v", got)
	}
	top := s.Modals("U1")[1].ID

	if err := s.ViewResponse("U1", top, []byte(`{"response_action":"errors","errors":{"title":"Too short"}}`)); err != nil {
		t.Fatal(err)
	}
	if got := s.Modals("U1")[1].Errors; !cmp.Equal(got, map[string]string{"title": "Too short"}) {
		t.Errorf("errors = %v", got)
	}
	upd, _ := json.Marshal(map[string]any{"response_action": "update", "view": modal("Second, again")})
	if err := s.ViewResponse("U1", top, upd); err != nil {
		t.Fatal(err)
	}
	if m := s.Modals("U1")[1]; m.Errors != nil || m.ID != top {
		t.Errorf("after update: id %s errors %v, want %s and none", m.ID, m.Errors, top)
	}
	if err := s.ViewResponse("U1", top, []byte(`{"response_action":"errors"}`)); err == nil {
		t.Error(`"errors" without errors was accepted`)
	}
	if err := s.ViewResponse("U1", top, []byte(`{"response_action":"update","view":{"type":"modal"}}`)); err == nil {
		t.Error("an update with an invalid view was accepted")
	}
	if diff := cmp.Diff([]string{"First", "Second, again"}, modalTitles(s, "U1")); diff != "" {
		t.Errorf("refused answers changed the stack (-want +got):\n%s", diff)
	}
	if err := s.ViewResponse("U1", top, nil); err != nil { // empty body: close the top view
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"First"}, modalTitles(s, "U1")); diff != "" {
		t.Errorf("after an empty answer (-want +got):\n%s", diff)
	}
	push, _ := json.Marshal(map[string]any{"response_action": "push", "view": modal("Pushed")})
	if err := s.ViewResponse("U1", first, push); err != nil {
		t.Fatal(err)
	}
	if err := s.ViewResponse("U1", first, []byte(`{"response_action":"clear"}`)); err != nil {
		t.Fatal(err)
	}
	if got := s.Modals("U1"); got != nil {
		t.Errorf("after clear: %v", got)
	}
}

// TestServer_ActionForm builds block_actions from a message and from a view;
// both parse with slack-go as the bot parses them.
func TestServer_ActionForm(t *testing.T) {
	t.Parallel()
	s := slackfake.New(t)
	api := s.Client()
	_, ts, err := api.PostMessage("C1", slack.MsgOptionBlocks(slack.NewActionBlock("acts",
		slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, plain("Choose"), "pick",
			slack.NewOptionBlockObject("a", plain("A"), nil)))))
	if err != nil {
		t.Fatal(err)
	}
	decode := func(f url.Values) slack.InteractionCallback {
		t.Helper()
		var ic slack.InteractionCallback
		if err := json.Unmarshal([]byte(f.Get("payload")), &ic); err != nil {
			t.Fatalf("payload does not parse: %v", err)
		}
		return ic
	}
	f, err := s.ActionForm(slackfake.Action{User: "U1", Channel: "C1", MessageTS: ts, ActionID: "pick", Type: "static_select",
		Selected: &slack.OptionBlockObject{Text: plain("A"), Value: "a"}})
	if err != nil {
		t.Fatal(err)
	}
	ic := decode(f)
	a := ic.ActionCallback.BlockActions[0]
	if ic.Container.ChannelID != "C1" || ic.Container.MessageTs != ts || a.BlockID != "acts" || a.SelectedOption.Value != "a" || ic.ResponseURL == "" || ic.TriggerID == "" {
		t.Errorf("message action = container %+v, action %+v, response_url %q", ic.Container, a, ic.ResponseURL)
	}

	id := openModal(t, s, api, "U1", "Decide")
	f, err = s.ActionForm(slackfake.Action{User: "U1", ViewID: id, ActionID: "go", BlockID: "b", Value: "L-1"})
	if err != nil {
		t.Fatal(err)
	}
	ic = decode(f)
	if ic.Container.Type != "view" || ic.Container.ViewID != id || ic.View.ID != id || ic.ActionCallback.BlockActions[0].Value != "L-1" {
		t.Errorf("view action = container %+v view %q", ic.Container, ic.View.ID)
	}
	if _, err := s.ActionForm(slackfake.Action{User: "U1", Channel: "C1", MessageTS: "1.000000", ActionID: "x"}); err == nil {
		t.Error("an action on a missing message was built")
	}

	f, err = s.ViewSubmissionFormFor("U1", id, map[string]map[string]slack.BlockAction{"b": {"x": {Type: "plain_text_input", Value: "v"}}})
	if err != nil {
		t.Fatal(err)
	}
	ic = decode(f)
	if ic.Type != slack.InteractionTypeViewSubmission || ic.View.ID != id || ic.View.CallbackID != "lead.qualify" || ic.View.State.Values["b"]["x"].Value != "v" {
		t.Errorf("view submission = %+v", ic.View)
	}
	if _, err := s.ViewSubmissionFormFor("U2", id, nil); err == nil {
		t.Error("a submission of another user's modal was built")
	}
}

func TestServer_PlacedEphemerals(t *testing.T) {
	t.Parallel()
	s := slackfake.New(t)
	api := s.Client()
	if _, err := api.PostEphemeral("C1", "U1", slack.MsgOptionText("before all", false)); err != nil {
		t.Fatal(err)
	}
	_, ts, err := api.PostMessage("C1", slack.MsgOptionText("hi", false))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := api.PostEphemeral("C1", "U1", slack.MsgOptionText("after hi", false)); err != nil {
		t.Fatal(err)
	}
	got := s.PlacedEphemerals()
	if len(got) != 2 || got[0].After != "" || got[1].After != ts || got[1].Text != "after hi" {
		t.Errorf("placed ephemerals = %+v (message ts %s)", got, ts)
	}
}
