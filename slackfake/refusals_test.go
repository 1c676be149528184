package slackfake_test

import (
	"errors"
	"testing"

	"github.com/slack-go/slack"

	"github.com/leadtriage/leadtriage/slackfake"
)

// slackCode is the Slack error code of err, "" for none.
func slackCode(err error) string {
	var se slack.SlackErrorResponse
	if errors.As(err, &se) {
		return se.Err
	}
	if err != nil {
		return err.Error()
	}
	return ""
}

func TestServer_LastingRefusals(t *testing.T) {
	t.Parallel()
	fake := slackfake.New(t)
	api := fake.Client()
	ctx := t.Context()
	post := func(channel string) string {
		_, _, err := api.PostMessageContext(ctx, channel, slack.MsgOptionText("hi", false))
		return slackCode(err)
	}

	fake.RemoveBot("C1")
	for range 3 { // lasting: not used up like a Fault
		if got := post("C1"); got != "not_in_channel" {
			t.Fatalf("post to a channel without the bot = %q, want not_in_channel", got)
		}
	}
	if got := post("C2"); got != "" {
		t.Errorf("post to another channel = %q, want ok", got)
	}
	info, err := api.GetConversationInfoContext(ctx, &slack.GetConversationInfoInput{ChannelID: "C1"})
	if err != nil || info.IsMember || info.ID != "C1" {
		t.Errorf("conversations.info C1 = %+v, %v; want is_member false", info, err)
	}
	fake.InviteBot("C1")
	if got := post("C1"); got != "" {
		t.Errorf("post after the invite = %q, want ok", got)
	}

	fake.Archive("C2")
	if got := post("C2"); got != "is_archived" {
		t.Errorf("post to an archived channel = %q, want is_archived", got)
	}
	if info, _ := api.GetConversationInfoContext(ctx, &slack.GetConversationInfoInput{ChannelID: "C2"}); !info.IsArchived {
		t.Error("conversations.info does not say archived")
	}
	fake.Unarchive("C2")
	if got := post("C2"); got != "" {
		t.Errorf("post after unarchiving = %q, want ok", got)
	}

	revoked := slackfake.Refusal{Method: "*", Error: "token_revoked"}
	fake.Refuse(revoked)
	if _, err := api.AuthTestContext(ctx); slackCode(err) != "token_revoked" {
		t.Errorf("auth.test with a revoked token = %v", err)
	}
	if got := post("C2"); got != "token_revoked" {
		t.Errorf("post with a revoked token = %q", got)
	}
	fake.Lift(revoked)
	if _, err := api.AuthTestContext(ctx); err != nil {
		t.Errorf("auth.test after Lift = %v", err)
	}
	if _, err := api.GetConversationInfoContext(ctx, &slack.GetConversationInfoInput{ChannelID: "U1"}); slackCode(err) != "channel_not_found" {
		t.Errorf("conversations.info of a user id = %v, want channel_not_found", err)
	}
}
