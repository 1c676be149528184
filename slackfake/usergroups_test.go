package slackfake_test

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/slack-go/slack"

	"github.com/leadtriage/leadtriage/slackfake"
)

func TestServer_UsergroupsUsersList(t *testing.T) {
	t.Parallel()
	fake := slackfake.New(t)
	api := fake.Client()
	fake.AddUsergroup("SSALES", "U1", "U2")
	fake.AddUsergroup("SEMPTY")

	got, err := api.GetUserGroupMembersContext(t.Context(), "SSALES")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"U1", "U2"}, got); diff != "" {
		t.Errorf("members (-want +got):\n%s", diff)
	}
	if got, err := api.GetUserGroupMembersContext(t.Context(), "SEMPTY"); err != nil || len(got) != 0 {
		t.Errorf("empty group: %v, %v", got, err)
	}
	_, err = api.GetUserGroupMembersContext(t.Context(), "SGONE")
	var se slack.SlackErrorResponse
	if !errors.As(err, &se) || se.Err != "no_such_subteam" {
		t.Errorf("unknown group: %v, want no_such_subteam", err)
	}
	fake.Fail("usergroups.users.list", slackfake.Fault{Error: "ratelimited"})
	if _, err := api.GetUserGroupMembersContext(t.Context(), "SSALES"); err == nil {
		t.Error("a queued fault did not fail the call")
	}
	if n := len(fake.Calls("usergroups.users.list")); n != 4 {
		t.Errorf("%d calls recorded, want 4", n)
	}
}

func TestMessageActionJSON_Parses(t *testing.T) {
	t.Parallel()
	var ic slack.InteractionCallback
	if err := json.Unmarshal(slackfake.MessageActionJSON("U1", "C1", "1700000000.000001", "lead.from_message", "From: a@b.example"), &ic); err != nil {
		t.Fatal(err)
	}
	if ic.Type != slack.InteractionTypeMessageAction || ic.CallbackID != "lead.from_message" || ic.User.ID != "U1" ||
		ic.Channel.ID != "C1" || ic.Message.Text != "From: a@b.example" || ic.Message.Timestamp != "1700000000.000001" ||
		ic.TriggerID != slackfake.PlaceholderTriggerID || ic.ResponseURL != slackfake.PlaceholderResponseURL {
		t.Errorf("parsed %+v", ic)
	}
	form := slackfake.MessageActionForm("U1", "C1", "1700000000.000001", "lead.from_message", "x")
	if err := json.Unmarshal([]byte(form.Get("payload")), &ic); err != nil || ic.Message.Text != "x" {
		t.Errorf("form payload: %v, %q", err, ic.Message.Text)
	}
}

func TestServer_MessageActionJSON_Live(t *testing.T) {
	t.Parallel()
	fake := slackfake.New(t)
	api := fake.Client()
	ts := fake.PostAsUser("C1", "UAUTHOR", "forwarded: jan@acme.example", "")
	var ic slack.InteractionCallback
	if err := json.Unmarshal(fake.MessageActionJSON("U1", "C1", ts, "lead.from_message"), &ic); err != nil {
		t.Fatal(err)
	}
	if ic.Message.Text != "forwarded: jan@acme.example" || ic.Message.User != "UAUTHOR" {
		t.Errorf("message %+v", ic.Message)
	}
	// The trigger opens a view for U1; the response URL reaches U1 in C1.
	if _, err := api.OpenViewContext(t.Context(), ic.TriggerID, slack.ModalViewRequest{
		Type: slack.VTModal, Title: slack.NewTextBlockObject("plain_text", "x", false, false),
		Blocks: slack.Blocks{BlockSet: []slack.Block{slack.NewSectionBlock(slack.NewTextBlockObject("mrkdwn", "hi", false, false), nil, nil)}},
	}); err != nil {
		t.Fatalf("views.open with the live trigger: %v", err)
	}
	if v := fake.Views(); len(v) != 1 || v[0].UserID != "U1" {
		t.Errorf("views %+v", v)
	}
	if err := slack.PostWebhookContext(t.Context(), ic.ResponseURL, &slack.WebhookMessage{ResponseType: "ephemeral", Text: "hi"}); err != nil {
		t.Fatal(err)
	}
	fake.WaitUntil(t, 2*time.Second, "the ephemeral", func() bool { return len(fake.Ephemerals()) == 1 })
	if e := fake.Ephemerals()[0]; e.User != "U1" || e.Channel != "C1" || e.Text != "hi" {
		t.Errorf("ephemeral %+v", e)
	}
	// A message the fake does not hold is sent with empty text.
	if err := json.Unmarshal(fake.MessageActionJSON("U1", "C1", "1700000009.000001", "lead.from_message"), &ic); err != nil || ic.Message.Text != "" {
		t.Errorf("unknown message: %v, %q", err, ic.Message.Text)
	}
}
