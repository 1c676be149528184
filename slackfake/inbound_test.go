package slackfake_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"

	"github.com/leadtriage/leadtriage/slackfake"
)

const secret = "8f742231b10e8888abcd99yyyzzz85a5"

func TestSign_VerifiesWithSlackGo(t *testing.T) {
	t.Parallel()
	body := []byte(`{"type":"event_callback"}`)
	cases := []struct {
		name   string
		secret string
		at     time.Time
		want   error
	}{
		{"Valid", secret, time.Now(), nil},
		{"WrongSecret", "other", time.Now(), slack.ErrInvalidSignature},
		{"Stale", secret, time.Now().Add(-6 * time.Minute), slack.ErrExpiredTimestamp},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := slackfake.Sign(tc.secret, body, tc.at)
			sv, err := slack.NewSecretsVerifier(h, secret)
			if err != nil {
				if !errors.Is(err, tc.want) {
					t.Fatalf("NewSecretsVerifier: %v, want %v", err, tc.want)
				}
				return
			}
			if _, err := sv.Write(body); err != nil {
				t.Fatal(err)
			}
			if err := sv.Ensure(); !errors.Is(err, tc.want) {
				t.Errorf("Ensure() = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestNewSignedRequest_SlashCommand(t *testing.T) {
	t.Parallel()
	var got slack.SlashCommand
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sv, err := slack.NewSecretsVerifier(r.Header, secret)
		if err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		r.Body = io.NopCloser(io.TeeReader(r.Body, &sv))
		cmd, err := slack.SlashCommandParse(r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if err := sv.Ensure(); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		got = cmd
	})
	form := slackfake.SlashCommandForm("U7", "C1", "/qualify", "L-1 hot", "https://resp", "trig")
	rec := httptest.NewRecorder()
	handler.ServeHTTP(rec, slackfake.NewSignedRequest(t, "http://bot/slack/commands", secret,
		"application/x-www-form-urlencoded", []byte(form.Encode())))
	if rec.Code != http.StatusOK {
		t.Fatalf("handler answered %d: %s", rec.Code, rec.Body)
	}
	want := slack.SlashCommand{
		Token: slackfake.VerificationToken, TeamID: slackfake.TeamID, TeamDomain: "fake",
		ChannelID: "C1", ChannelName: "channel-C1", UserID: "U7", UserName: "user-U7",
		Command: "/qualify", Text: "L-1 hot", ResponseURL: "https://resp", TriggerID: "trig", APIAppID: slackfake.AppID,
	}
	if got != want {
		t.Errorf("parsed command = %+v\nwant %+v", got, want)
	}

	var fromJSON slack.SlashCommand
	if err := json.Unmarshal(slackfake.SlashCommandJSON("U7", "C1", "/qualify", "L-1 hot", "https://resp", "trig"), &fromJSON); err != nil || fromJSON != want {
		t.Errorf("SlashCommandJSON parsed = %+v, %v", fromJSON, err)
	}
}

func TestBlockActionForm_Parses(t *testing.T) {
	t.Parallel()
	form := slackfake.BlockActionForm("U7", "C1", "1700000000.000001", "lead.vote.yes", "L-1")
	req := slackfake.NewSignedRequest(t, "http://bot/slack/interactions", secret, "application/x-www-form-urlencoded", []byte(form.Encode()))
	ic, err := slack.InteractionCallbackParse(req)
	if err != nil {
		t.Fatalf("InteractionCallbackParse: %v", err)
	}
	if ic.Type != slack.InteractionTypeBlockActions || len(ic.ActionCallback.BlockActions) != 1 {
		t.Fatalf("callback = %+v", ic)
	}
	a := ic.ActionCallback.BlockActions[0]
	if a.ActionID != "lead.vote.yes" || a.Value != "L-1" || a.BlockID == "" || a.Type != "button" {
		t.Errorf("action = %+v", a)
	}
	if ic.User.ID != "U7" || ic.Channel.ID != "C1" || ic.Container.ChannelID != "C1" || ic.Container.MessageTs != "1700000000.000001" ||
		ic.Message.Timestamp != "1700000000.000001" || ic.TriggerID == "" || ic.ResponseURL == "" || ic.APIAppID != slackfake.AppID {
		t.Errorf("callback fields = user %q channel %q container %+v message ts %q trigger %q response_url %q app %q",
			ic.User.ID, ic.Channel.ID, ic.Container, ic.Message.Timestamp, ic.TriggerID, ic.ResponseURL, ic.APIAppID)
	}
}

func TestServer_BlockActionJSON_Live(t *testing.T) {
	t.Parallel()
	fake := slackfake.New(t)
	api := fake.Client()
	blocks := []slack.Block{
		section("New lead *ACME*"),
		slack.NewActionBlock("lead.L-1.actions",
			slack.NewButtonBlockElement("lead.vote.yes", "L-1", plain("Qualify")),
			slack.NewButtonBlockElement("lead.vote.no", "L-1", plain("Reject"))),
	}
	_, ts, err := api.PostMessage("C1", slack.MsgOptionText("New lead", false), slack.MsgOptionBlocks(blocks...))
	if err != nil {
		t.Fatal(err)
	}

	var ic slack.InteractionCallback
	if err := json.Unmarshal(fake.BlockActionJSON("U7", "C1", ts, "lead.vote.no", "L-1"), &ic); err != nil {
		t.Fatal(err)
	}
	a := ic.ActionCallback.BlockActions[0]
	if a.BlockID != "lead.L-1.actions" || a.Text.Text != "Reject" {
		t.Errorf("action block_id %q text %q, want the real ones", a.BlockID, a.Text.Text)
	}
	if ic.Message.Text != "New lead" || len(ic.Message.Blocks.BlockSet) != 2 || ic.Message.BotID != slackfake.BotID {
		t.Errorf("embedded message = %+v", ic.Message.Msg)
	}
	// The trigger and response_url are live.
	if _, err := api.OpenView(ic.TriggerID, modal("Why reject?")); err != nil {
		t.Errorf("OpenView with the payload's trigger_id: %v", err)
	}
	if v := fake.Views(); len(v) != 1 || v[0].UserID != "U7" {
		t.Errorf("views = %+v", v)
	}
	if err := webhook(fake, ic.ResponseURL, &slack.WebhookMessage{Text: "rejected", ReplaceOriginal: true}); err != nil {
		t.Fatal(err)
	}
	if m, _ := fake.Message("C1", ts); m.Text != "rejected" {
		t.Errorf("response_url did not replace the original: %+v", m)
	}
}

func TestViewSubmissionJSON_Parses(t *testing.T) {
	t.Parallel()
	values := map[string]map[string]slack.BlockAction{
		"budget": {"budget.value": {Type: "plain_text_input", Value: "10k"}},
		"stage":  {"stage.value": {Type: "static_select", SelectedOption: slack.OptionBlockObject{Value: "new"}}},
	}
	for _, body := range [][]byte{
		slackfake.ViewSubmissionJSON("U7", "lead.qualify", "L-1", values),
		[]byte(slackfake.ViewSubmissionForm("U7", "lead.qualify", "L-1", values).Get("payload")),
	} {
		var ic slack.InteractionCallback
		if err := json.Unmarshal(body, &ic); err != nil {
			t.Fatal(err)
		}
		if ic.Type != slack.InteractionTypeViewSubmission || ic.View.CallbackID != "lead.qualify" || ic.View.PrivateMetadata != "L-1" || ic.User.ID != "U7" {
			t.Errorf("callback = type %q view %+v user %q", ic.Type, ic.View, ic.User.ID)
		}
		st := ic.View.State.Values
		if st["budget"]["budget.value"].Value != "10k" || st["stage"]["stage.value"].SelectedOption.Value != "new" {
			t.Errorf("state values = %+v", st)
		}
	}
}

func TestEventCallbackJSON_Parses(t *testing.T) {
	t.Parallel()
	parse := func(t *testing.T, body []byte) slackevents.EventsAPIEvent {
		t.Helper()
		ev, err := slackevents.ParseEvent(body, slackevents.OptionNoVerifyToken())
		if err != nil {
			t.Fatalf("ParseEvent: %v\n%s", err, body)
		}
		if ev.Type != slackevents.CallbackEvent || ev.TeamID != slackfake.TeamID {
			t.Fatalf("outer event = %+v", ev)
		}
		if cb := ev.Data.(*slackevents.EventsAPICallbackEvent); cb.EventID != "Ev42" || cb.EventTime == 0 {
			t.Errorf("callback = %+v", cb)
		}
		return ev
	}

	t.Run("Message", func(t *testing.T) {
		t.Parallel()
		ev := parse(t, slackfake.EventCallbackJSON("Ev42", slackfake.MessageEvent("C1", "U7", "hot lead", "1700000000.000009", "1700000000.000001")))
		m, ok := ev.InnerEvent.Data.(*slackevents.MessageEvent)
		if !ok || m.Channel != "C1" || m.User != "U7" || m.Text != "hot lead" || m.TimeStamp != "1700000000.000009" ||
			m.ThreadTimeStamp != "1700000000.000001" || m.ChannelType != "channel" {
			t.Errorf("message event = %#v", ev.InnerEvent.Data)
		}
	})
	t.Run("Reaction", func(t *testing.T) {
		t.Parallel()
		ev := parse(t, slackfake.EventCallbackJSON("Ev42", slackfake.ReactionEvent(true, "U7", "+1", "C1", "1700000000.000001", slackfake.BotUserID)))
		r, ok := ev.InnerEvent.Data.(*slackevents.ReactionAddedEvent)
		if !ok || r.User != "U7" || r.Reaction != "+1" || r.Item.Channel != "C1" || r.Item.Timestamp != "1700000000.000001" || r.ItemUser != slackfake.BotUserID {
			t.Errorf("reaction event = %#v", ev.InnerEvent.Data)
		}
		ev = parse(t, slackfake.EventCallbackJSON("Ev42", slackfake.ReactionEvent(false, "U7", "+1", "C1", "1700000000.000001", slackfake.BotUserID)))
		if _, ok := ev.InnerEvent.Data.(*slackevents.ReactionRemovedEvent); !ok {
			t.Errorf("removed event = %#v", ev.InnerEvent.Data)
		}
	})
	t.Run("AppHomeOpened", func(t *testing.T) {
		t.Parallel()
		ev := parse(t, slackfake.EventCallbackJSON("Ev42", slackfake.AppHomeOpenedEvent("U7")))
		if h, ok := ev.InnerEvent.Data.(*slackevents.AppHomeOpenedEvent); !ok || h.User != "U7" || h.Tab != "home" {
			t.Errorf("app_home_opened = %#v", ev.InnerEvent.Data)
		}
	})
	t.Run("URLVerification", func(t *testing.T) {
		t.Parallel()
		ev, err := slackevents.ParseEvent(slackfake.URLVerificationJSON("chal-123"), slackevents.OptionNoVerifyToken())
		if err != nil {
			t.Fatal(err)
		}
		if v, ok := ev.Data.(*slackevents.EventsAPIURLVerificationEvent); !ok || v.Challenge != "chal-123" {
			t.Errorf("url_verification = %#v", ev.Data)
		}
	})
}

func TestPermalink(t *testing.T) {
	t.Parallel()
	if got, want := slackfake.Permalink("C1", "1700000000.000002", "1700000000.000001"),
		"https://fake.slack.com/archives/C1/p1700000000000002?thread_ts=1700000000.000001&cid=C1"; got != want {
		t.Errorf("Permalink = %q, want %q", got, want)
	}
	if got := slackfake.Permalink("C1", "1700000000.000001", ""); !strings.HasSuffix(got, "/p1700000000000001") {
		t.Errorf("top-level Permalink = %q", got)
	}
}
