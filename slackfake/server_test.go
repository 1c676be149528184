package slackfake_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/slack-go/slack"

	"github.com/leadtriage/leadtriage/slackfake"
)

// slackErr returns the Slack error code of err, or fails.
func slackErr(t *testing.T, err error) slack.SlackErrorResponse {
	t.Helper()
	var se slack.SlackErrorResponse
	if !errors.As(err, &se) {
		t.Fatalf("error %v (%T) is not a slack.SlackErrorResponse", err, err)
	}
	return se
}

func section(text string) slack.Block {
	return slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, text, false, true), nil, nil)
}

func TestServer_AuthTest(t *testing.T) {
	t.Parallel()
	fake := slackfake.New(t)
	got, err := fake.Client().AuthTest()
	if err != nil {
		t.Fatalf("AuthTest: %v", err)
	}
	if got.UserID != slackfake.BotUserID || got.BotID != slackfake.BotID || got.TeamID != slackfake.TeamID {
		t.Errorf("AuthTest = %+v, want user %s bot %s team %s", got, slackfake.BotUserID, slackfake.BotID, slackfake.TeamID)
	}
	if got.URL == "" || got.User == "" || got.Team == "" {
		t.Errorf("AuthTest misses url/user/team: %+v", got)
	}
	if !strings.HasSuffix(fake.APIURL(), "/api/") {
		t.Errorf("APIURL %q does not end with /api/", fake.APIURL())
	}
}

func TestServer_PostMessage(t *testing.T) {
	t.Parallel()
	fake := slackfake.New(t)
	api := fake.Client()
	ctx := context.Background()

	var tss []string
	for _, text := range []string{"one", "two", "three"} {
		ch, ts, msg, err := api.PostMessageWithResponseContext(ctx, "C1",
			slack.MsgOptionText(text, false), slack.MsgOptionBlocks(section("*"+text+"*")))
		if err != nil {
			t.Fatalf("PostMessage %q: %v", text, err)
		}
		if ch != "C1" || msg.Text != text || msg.BotID != slackfake.BotID || msg.User != slackfake.BotUserID || msg.Timestamp != ts {
			t.Errorf("PostMessage %q returned channel %q msg %+v", text, ch, msg.Msg)
		}
		if len(msg.Blocks.BlockSet) != 1 {
			t.Errorf("returned message has %d blocks, want 1", len(msg.Blocks.BlockSet))
		}
		tss = append(tss, ts)
	}
	if !slices.IsSorted(tss) || len(slices.Compact(slices.Clone(tss))) != len(tss) {
		t.Errorf("ts values not strictly increasing: %v", tss)
	}
	if tss[0] != "1700000000.000001" {
		t.Errorf("first ts = %q, want 1700000000.000001", tss[0])
	}

	msgs := fake.Messages("C1")
	var texts []string
	for _, m := range msgs {
		texts = append(texts, m.Text)
	}
	if diff := cmp.Diff([]string{"one", "two", "three"}, texts); diff != "" {
		t.Errorf("stored texts (-want +got):\n%s", diff)
	}
	m, ok := fake.Message("C1", tss[1])
	if !ok {
		t.Fatalf("Message(C1, %s) not found", tss[1])
	}
	var blocks []map[string]any
	if err := json.Unmarshal(m.Blocks, &blocks); err != nil || len(blocks) != 1 || blocks[0]["type"] != "section" {
		t.Errorf("stored blocks = %s (err %v), want one section", m.Blocks, err)
	}

	calls := fake.WaitCalls(t, "chat.postMessage", 3, time.Second)
	if calls[0].Params.Get("channel") != "C1" || calls[0].Token != slackfake.BotToken || calls[0].Status != http.StatusOK {
		t.Errorf("recorded call = %+v", calls[0])
	}
}

func TestServer_PostMessage_Channels(t *testing.T) {
	t.Parallel()
	fake := slackfake.New(t)
	api := fake.Client()
	fake.AddUser("U42", "ada")

	ch, _, err := api.PostMessage("U42", slack.MsgOptionText("dm", false))
	if err != nil {
		t.Fatalf("PostMessage to a user: %v", err)
	}
	if !strings.HasPrefix(ch, "D") || len(fake.Messages(ch)) != 1 {
		t.Errorf("DM landed in %q with %d messages, want one message in a D channel", ch, len(fake.Messages(ch)))
	}
	for _, bad := range []string{"leads", "U404", ""} {
		_, _, err := api.PostMessage(bad, slack.MsgOptionText("x", false))
		if got := slackErr(t, err).Err; got != "channel_not_found" {
			t.Errorf("PostMessage(%q) error = %q, want channel_not_found", bad, got)
		}
	}
	_, _, err = api.PostMessage("C1")
	if got := slackErr(t, err).Err; got != "no_text" {
		t.Errorf("PostMessage without content error = %q, want no_text", got)
	}
	_, _, err = api.PostMessage("C1", slack.MsgOptionText(strings.Repeat("x", 40001), false))
	if got := slackErr(t, err).Err; got != "msg_too_long" {
		t.Errorf("PostMessage of 40001 chars error = %q, want msg_too_long", got)
	}
}

func TestServer_Threads(t *testing.T) {
	t.Parallel()
	fake := slackfake.New(t)
	api := fake.Client()
	ctx := context.Background()

	_, parent, err := api.PostMessage("C1", slack.MsgOptionText("lead", false))
	if err != nil {
		t.Fatal(err)
	}
	_, reply, msg, err := api.PostMessageWithResponseContext(ctx, "C1", slack.MsgOptionText("r1", false), slack.MsgOptionTS(parent))
	if err != nil {
		t.Fatal(err)
	}
	if msg.ThreadTimestamp != parent {
		t.Errorf("reply thread_ts = %q, want %q", msg.ThreadTimestamp, parent)
	}
	// A reply to a reply joins the parent's thread, as in Slack.
	_, _, msg, err = api.PostMessageWithResponseContext(ctx, "C1", slack.MsgOptionText("r2", false), slack.MsgOptionTS(reply))
	if err != nil || msg.ThreadTimestamp != parent {
		t.Errorf("reply-to-reply thread_ts = %q (err %v), want %q", msg.ThreadTimestamp, err, parent)
	}
	human := fake.PostAsUser("C1", "U7", "I know them", parent)
	for i := range 3 {
		if _, _, err := api.PostMessage("C1", slack.MsgOptionText("more", false), slack.MsgOptionTS(parent)); err != nil {
			t.Fatalf("reply %d: %v", i, err)
		}
	}
	// A reply whose parent is gone is posted top-level.
	_, _, msg, err = api.PostMessageWithResponseContext(ctx, "C1", slack.MsgOptionText("orphan", false), slack.MsgOptionTS("1600000000.000001"))
	if err != nil || msg.ThreadTimestamp != "" {
		t.Errorf("orphan reply thread_ts = %q (err %v), want top-level", msg.ThreadTimestamp, err)
	}
	if !fake.AddReaction("C1", parent, "+1", "U7") {
		t.Fatal("AddReaction on the parent failed")
	}

	// Page through the thread two at a time: parent first, then replies.
	var got []slack.Message
	cursor := ""
	pages := 0
	for {
		msgs, more, next, err := api.GetConversationRepliesContext(ctx, &slack.GetConversationRepliesParameters{
			ChannelID: "C1", Timestamp: parent, Limit: 2, Cursor: cursor,
		})
		if err != nil {
			t.Fatalf("conversations.replies page %d: %v", pages, err)
		}
		pages++
		got = append(got, msgs...)
		if more != (next != "") {
			t.Errorf("has_more %v with next_cursor %q", more, next)
		}
		if !more {
			break
		}
		cursor = next
	}
	if len(got) != 7 || pages != 4 {
		t.Fatalf("thread has %d messages over %d pages, want 7 over 4", len(got), pages)
	}
	if got[0].Timestamp != parent || got[0].ReplyCount != 6 || got[0].LatestReply != got[6].Timestamp {
		t.Errorf("first message = ts %s reply_count %d latest %s, want the parent with 6 replies", got[0].Timestamp, got[0].ReplyCount, got[0].LatestReply)
	}
	if len(got[0].Reactions) != 1 || got[0].Reactions[0].Name != "+1" || got[0].Reactions[0].Count != 1 {
		t.Errorf("parent reactions = %+v, want one +1", got[0].Reactions)
	}
	if got[3].Timestamp != human || got[3].User != "U7" || got[3].BotID != "" {
		t.Errorf("4th message = %+v, want the human reply", got[3].Msg)
	}
	if !slices.IsSortedFunc(got[1:], func(a, b slack.Message) int { return strings.Compare(a.Timestamp, b.Timestamp) }) {
		t.Error("replies are not in ts order")
	}

	_, _, _, err = api.GetConversationRepliesContext(ctx, &slack.GetConversationRepliesParameters{ChannelID: "C1", Timestamp: "1600000000.000009"})
	if got := slackErr(t, err).Err; got != "thread_not_found" {
		t.Errorf("replies of unknown ts error = %q, want thread_not_found", got)
	}
	_, _, _, err = api.GetConversationRepliesContext(ctx, &slack.GetConversationRepliesParameters{ChannelID: "C1", Timestamp: parent, Cursor: "garbage"})
	if got := slackErr(t, err).Err; got != "invalid_cursor" {
		t.Errorf("replies with a bad cursor error = %q, want invalid_cursor", got)
	}

	hist, err := api.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{ChannelID: "C1"})
	if err != nil {
		t.Fatal(err)
	}
	var top []string
	for _, m := range hist.Messages {
		top = append(top, m.Text)
	}
	if diff := cmp.Diff([]string{"orphan", "lead"}, top); diff != "" {
		t.Errorf("history (newest first, no replies) (-want +got):\n%s", diff)
	}
}

func TestServer_Metadata(t *testing.T) {
	t.Parallel()
	fake := slackfake.New(t)
	api := fake.Client()
	ctx := context.Background()
	md := slack.SlackMetadata{EventType: "lead_posted", EventPayload: map[string]any{"lead_id": "L-1"}}
	_, ts, err := api.PostMessage("C1", slack.MsgOptionText("lead", false), slack.MsgOptionMetadata(md))
	if err != nil {
		t.Fatal(err)
	}
	for _, include := range []bool{false, true} {
		hist, err := api.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{ChannelID: "C1", IncludeAllMetadata: include})
		if err != nil {
			t.Fatal(err)
		}
		got := hist.Messages[0].Metadata.EventType
		if want := map[bool]string{false: "", true: "lead_posted"}[include]; got != want {
			t.Errorf("history include_all_metadata=%v event_type = %q, want %q", include, got, want)
		}
	}
	m, _ := fake.Message("C1", ts)
	if !strings.Contains(string(m.Metadata), `"L-1"`) {
		t.Errorf("stored metadata = %s", m.Metadata)
	}
}

func TestServer_UpdateMessage(t *testing.T) {
	t.Parallel()
	fake := slackfake.New(t)
	api := fake.Client()

	_, ts, err := api.PostMessage("C1", slack.MsgOptionText("v1", false), slack.MsgOptionBlocks(section("v1")))
	if err != nil {
		t.Fatal(err)
	}
	ch, uts, text, err := api.UpdateMessage("C1", ts, slack.MsgOptionText("v2", false))
	if err != nil || ch != "C1" || uts != ts || text != "v2" {
		t.Fatalf("UpdateMessage = %q %q %q, %v", ch, uts, text, err)
	}
	m, _ := fake.Message("C1", ts)
	if m.Text != "v2" || m.Updates != 1 || len(m.Blocks) == 0 {
		t.Errorf("after text-only update: text %q updates %d blocks %s; want v2, 1, old blocks kept", m.Text, m.Updates, m.Blocks)
	}
	if _, _, _, err := api.UpdateMessage("C1", ts, slack.MsgOptionBlocks()); err != nil {
		t.Fatal(err)
	}
	m, _ = fake.Message("C1", ts)
	if m.Updates != 2 || m.Blocks != nil {
		t.Errorf("after blocks=[]: updates %d blocks %s; want 2 and no blocks", m.Updates, m.Blocks)
	}

	_, _, _, err = api.UpdateMessage("C1", "1700000099.000000", slack.MsgOptionText("x", false))
	if got := slackErr(t, err).Err; got != "message_not_found" {
		t.Errorf("update of unknown ts error = %q, want message_not_found", got)
	}
	human := fake.PostAsUser("C1", "U7", "mine", "")
	_, _, _, err = api.UpdateMessage("C1", human, slack.MsgOptionText("x", false))
	if got := slackErr(t, err).Err; got != "cant_update_message" {
		t.Errorf("update of a human message error = %q, want cant_update_message", got)
	}

	if _, _, err := api.DeleteMessage("C1", ts); err != nil {
		t.Fatalf("DeleteMessage: %v", err)
	}
	if m, _ := fake.Message("C1", ts); !m.Deleted {
		t.Error("message not flagged deleted")
	}
	_, _, _, err = api.UpdateMessage("C1", ts, slack.MsgOptionText("x", false))
	if got := slackErr(t, err).Err; got != "message_not_found" {
		t.Errorf("update of deleted message error = %q, want message_not_found", got)
	}
}

func TestServer_Ephemeral_Permalink_Users_Reactions(t *testing.T) {
	t.Parallel()
	fake := slackfake.New(t)
	api := fake.Client()
	fake.AddUser("U7", "grace")

	ets, err := api.PostEphemeral("C1", "U7", slack.MsgOptionText("only you", false))
	if err != nil || ets == "" {
		t.Fatalf("PostEphemeral = %q, %v", ets, err)
	}
	want := []slackfake.Ephemeral{{Channel: "C1", User: "U7", Text: "only you"}}
	if diff := cmp.Diff(want, fake.Ephemerals()); diff != "" {
		t.Errorf("ephemerals (-want +got):\n%s", diff)
	}
	if len(fake.Messages("C1")) != 0 {
		t.Error("ephemeral stored as a channel message")
	}

	_, ts, err := api.PostMessage("C1", slack.MsgOptionText("lead", false))
	if err != nil {
		t.Fatal(err)
	}
	link, err := api.GetPermalink(&slack.PermalinkParameters{Channel: "C1", Ts: ts})
	if want := "https://fake.slack.com/archives/C1/p" + strings.ReplaceAll(ts, ".", ""); err != nil || link != want {
		t.Errorf("GetPermalink = %q, %v; want %q", link, err, want)
	}
	if c := fake.Calls("chat.getPermalink"); len(c) != 1 || c[0].Token != slackfake.BotToken || c[0].Params.Get("message_ts") != ts {
		t.Errorf("permalink call recorded as %+v", c)
	}

	u, err := api.GetUserInfo("U7")
	if err != nil || u.ID != "U7" || u.Name != "grace" {
		t.Errorf("GetUserInfo(U7) = %+v, %v", u, err)
	}
	_, err = api.GetUserInfo("U404")
	if got := slackErr(t, err).Err; got != "user_not_found" {
		t.Errorf("GetUserInfo(U404) error = %q, want user_not_found", got)
	}

	ref := slack.NewRefToMessage("C1", ts)
	if err := api.AddReaction("eyes", ref); err != nil {
		t.Fatalf("AddReaction: %v", err)
	}
	if got := slackErr(t, api.AddReaction("eyes", ref)).Err; got != "already_reacted" {
		t.Errorf("second AddReaction error = %q, want already_reacted", got)
	}
	fake.AddReaction("C1", ts, "eyes", "U7")
	item, err := api.GetReactions(ref, slack.GetReactionsParameters{})
	if err != nil {
		t.Fatalf("GetReactions: %v", err)
	}
	wantR := []slack.ItemReaction{{Name: "eyes", Count: 2, Users: []string{slackfake.BotUserID, "U7"}}}
	if diff := cmp.Diff(wantR, item.Reactions); diff != "" {
		t.Errorf("reactions (-want +got):\n%s", diff)
	}
	if err := api.RemoveReaction("eyes", ref); err != nil {
		t.Fatalf("RemoveReaction: %v", err)
	}
	if m, _ := fake.Message("C1", ts); !cmp.Equal(m.Reactions, map[string][]string{"eyes": {"U7"}}) {
		t.Errorf("after RemoveReaction: %v, want only U7's", m.Reactions)
	}
}

func TestServer_Tokens(t *testing.T) {
	t.Parallel()
	fake := slackfake.New(t)
	cases := []struct {
		name, token, want string
	}{
		{"wrong", "xoxb-wrong", "invalid_auth"},
		{"app token", slackfake.AppToken, "invalid_auth"},
		{"missing", "", "not_authed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			api := slack.New(tc.token, slack.OptionAPIURL(fake.APIURL()), slack.OptionHTTPClient(fake.HTTPClient(5*time.Second)))
			_, _, err := api.PostMessage("C1", slack.MsgOptionText("x", false))
			if got := slackErr(t, err).Err; got != tc.want {
				t.Errorf("chat.postMessage error = %q, want %q", got, tc.want)
			}
			_, err = api.OpenView(fake.NewTriggerID(), slack.ModalViewRequest{Type: slack.VTModal})
			if got := slackErr(t, err).Err; got != tc.want {
				t.Errorf("views.open (bearer) error = %q, want %q", got, tc.want)
			}
		})
	}
	if len(fake.Messages("C1")) != 0 {
		t.Error("unauthenticated post was stored")
	}

	_, _, err := fake.Client(slack.OptionAppLevelToken("xapp-wrong")).StartSocketModeContext(context.Background())
	if got := slackErr(t, err).Err; got != "invalid_auth" {
		t.Errorf("apps.connections.open with a wrong app token error = %q, want invalid_auth", got)
	}
	_, wsURL, err := fake.Client().StartSocketModeContext(context.Background())
	if err != nil || !strings.HasPrefix(wsURL, "ws://127.0.0.1:") {
		t.Errorf("apps.connections.open = %q, %v", wsURL, err)
	}
	var failed []string
	for _, c := range fake.Calls() {
		if !c.OK() {
			failed = append(failed, c.Method+":"+c.Error)
		}
	}
	if len(failed) != 7 {
		t.Errorf("recorded failed calls = %v, want 7", failed)
	}
}

func TestServer_UnknownMethod(t *testing.T) {
	t.Parallel()
	fake := slackfake.New(t)
	_, _, _, err := fake.Client().JoinConversation("C1")
	var sce slack.StatusCodeError
	if !errors.As(err, &sce) || sce.Code != http.StatusNotFound {
		t.Fatalf("unknown method error = %v (%T), want StatusCodeError 404", err, err)
	}
	if c := fake.Calls("conversations.join"); len(c) != 1 || c[0].Status != http.StatusNotFound {
		t.Errorf("unknown method recorded as %+v", c)
	}
}

func TestServer_WaitUntil(t *testing.T) {
	t.Parallel()
	fake := slackfake.New(t)
	api := fake.Client()
	done := make(chan error, 1)
	go func() {
		_, _, err := api.PostMessage("C9", slack.MsgOptionText("async", false))
		done <- err
	}()
	fake.WaitUntil(t, 5*time.Second, "a message in C9", func() bool { return len(fake.Messages("C9")) == 1 })
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
