package slackfake_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/leadtriage/leadtriage/slackfake"
	"github.com/leadtriage/leadtriage/triage/triagetest"
)

func webhook(fake *slackfake.Server, url string, msg *slack.WebhookMessage) error {
	return slack.PostWebhookCustomHTTPContext(context.Background(), url, fake.HTTPClient(5*time.Second), msg)
}

func TestResponseURL_UseLimit(t *testing.T) {
	t.Parallel()
	fake := slackfake.New(t)
	u := fake.NewResponseURL()
	for i := range slackfake.ResponseURLMaxUses {
		if err := webhook(fake, u, &slack.WebhookMessage{Text: "update", ReplaceOriginal: true}); err != nil {
			t.Fatalf("post %d: %v", i+1, err)
		}
	}
	err := webhook(fake, u, &slack.WebhookMessage{Text: "one too many"})
	var sce slack.StatusCodeError
	if !errors.As(err, &sce) || sce.Code != http.StatusNotFound {
		t.Fatalf("6th post: %v, want StatusCodeError 404", err)
	}
	posts := fake.ResponsePosts(u)
	if len(posts) != slackfake.ResponseURLMaxUses {
		t.Fatalf("recorded %d posts, want %d", len(posts), slackfake.ResponseURLMaxUses)
	}
	var first struct {
		Text            string `json:"text"`
		ReplaceOriginal bool   `json:"replace_original"`
	}
	if err := json.Unmarshal(posts[0], &first); err != nil || first.Text != "update" || !first.ReplaceOriginal {
		t.Errorf("first post = %s (%v)", posts[0], err)
	}
	if code := rawPost(t, fake, u, `{"text":"x"}`); code != "404 used_url" {
		t.Errorf("raw post after the limit = %s, want 404 used_url", code)
	}
}

// rawPost posts body and returns "<status> <error code>".
func rawPost(t *testing.T, fake *slackfake.Server, url, body string) string {
	t.Helper()
	resp, err := fake.HTTPClient(5*time.Second).Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var r struct {
		OK    bool   `json:"ok"`
		Error string `json:"error"`
	}
	_ = json.Unmarshal(b, &r)
	if r.OK {
		return resp.Status[:3] + " ok"
	}
	return resp.Status[:3] + " " + r.Error
}

func TestResponseURL_Expiry(t *testing.T) {
	t.Parallel()
	fake := slackfake.New(t)
	clk := triagetest.NewClock(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	fake.SetNow(clk.Now)
	u := fake.NewResponseURL()
	clk.Advance(29 * time.Minute)
	if got := rawPost(t, fake, u, `{"text":"in time"}`); got != "200 ok" {
		t.Errorf("post after 29 min = %s, want 200 ok", got)
	}
	clk.Advance(time.Minute)
	if got := rawPost(t, fake, u, `{"text":"late"}`); got != "404 expired_url" {
		t.Errorf("post after 30 min = %s, want 404 expired_url", got)
	}
	if got := rawPost(t, fake, fake.URL()+"/hooks/actions/TFAKE/0/nope", `{"text":"x"}`); got != "404 no_service" {
		t.Errorf("post to an unknown URL = %s", got)
	}
	if got := rawPost(t, fake, fake.NewResponseURL(), `{not json`); got != "400 invalid_payload" {
		t.Errorf("malformed post = %s", got)
	}
	if got := rawPost(t, fake, fake.NewResponseURL(), `{"blocks":[{"type":"sektion"}]}`); got != "400 invalid_blocks" {
		t.Errorf("post with bad blocks = %s", got)
	}
}

func TestResponseURL_BoundToMessage(t *testing.T) {
	t.Parallel()
	fake := slackfake.New(t)
	api := fake.Client()
	_, ts, err := api.PostMessage("C1", slack.MsgOptionText("lead", false))
	if err != nil {
		t.Fatal(err)
	}

	// slack-go's own response_url path (SendMessage + MsgOptionReplaceOriginal).
	u := fake.NewResponseURLFor("C1", ts, "U7")
	if _, _, _, err := api.SendMessage("", slack.MsgOptionReplaceOriginal(u), slack.MsgOptionText("voted", false)); err != nil {
		t.Fatalf("replace_original: %v", err)
	}
	if m, _ := fake.Message("C1", ts); m.Text != "voted" || m.Updates != 1 {
		t.Errorf("original after replace = %+v", m)
	}
	if _, _, _, err := api.SendMessage("", slack.MsgOptionResponseURL(u, slack.ResponseTypeEphemeral), slack.MsgOptionText("thanks", false)); err != nil {
		t.Fatalf("ephemeral response: %v", err)
	}
	if e := fake.Ephemerals(); len(e) != 1 || e[0].User != "U7" || e[0].Text != "thanks" || e[0].Channel != "C1" {
		t.Errorf("ephemerals = %+v", e)
	}
	if err := webhook(fake, u, &slack.WebhookMessage{Text: "for all", ResponseType: slack.ResponseTypeInChannel}); err != nil {
		t.Fatal(err)
	}
	if msgs := fake.Messages("C1"); len(msgs) != 2 || msgs[1].Text != "for all" || msgs[1].BotID != slackfake.BotID {
		t.Errorf("in_channel response: messages %+v", msgs)
	}
	if err := webhook(fake, u, &slack.WebhookMessage{DeleteOriginal: true}); err != nil {
		t.Fatal(err)
	}
	if m, _ := fake.Message("C1", ts); !m.Deleted {
		t.Error("delete_original did not delete")
	}
	if n := len(fake.ResponsePosts(u)); n != 4 {
		t.Errorf("recorded %d posts, want 4", n)
	}
}
