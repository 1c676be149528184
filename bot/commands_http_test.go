package bot_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/leadtriage/leadtriage/bot"
	"github.com/leadtriage/leadtriage/slackfake"
	"github.com/leadtriage/leadtriage/triage"
)

// qualifyReply is a /qualify answer as Slack reads it.
type qualifyReply struct {
	ResponseType string            `json:"response_type"`
	Text         string            `json:"text"`
	Blocks       []json.RawMessage `json:"blocks"`
}

// all is the reply's text and its blocks as JSON (with <, > and & as
// themselves), for substring checks.
func (r qualifyReply) all() string {
	var b strings.Builder
	b.WriteString(r.Text)
	for _, bl := range r.Blocks {
		b.WriteString("\n" + jsonUnescaper.Replace(string(bl)))
	}
	return b.String()
}

var jsonUnescaper = strings.NewReplacer(`\u003c`, "<", `\u003e`, ">", `\u0026`, "&")

// startBot runs the bot as the server does: Start (auth.test teaches it
// the team URL for links) and the outbox worker, both stopped before the
// harness drains.
func startBot(t *testing.T, h *harness) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	if err := h.bot.Start(ctx); err != nil {
		t.Fatalf("starting the bot: %v", err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = h.bot.RunOutbox(ctx)
	}()
	t.Cleanup(func() { cancel(); <-done }) // runs before the harness drains
}

// qualify sends a signed /qualify through the HTTP handler and returns the
// final answer: the ack's, or, when the ack says "Working on it…", the one
// posted to the response_url. It also returns the raw ack body.
func qualify(t *testing.T, h *harness, user, text string) (qualifyReply, []byte) {
	t.Helper()
	responseURL := h.slack.NewResponseURL()
	body := []byte(slackfake.SlashCommandForm(user, channel, "/qualify", text, responseURL, h.slack.NewTriggerID()).Encode())
	// No wall-clock assert on the ack here: on a loaded machine it would
	// flake. TestBot_RunCommand_SlowResult proves the ack does not wait for
	// the result, TestCommandAckWait_InsideTheAckBudget bounds its wait.
	rec := h.serve(signedAt("/slack/commands", secretNew, formType, body, now))
	if rec.Code != http.StatusOK {
		t.Fatalf("/qualify %q: status %d", text, rec.Code)
	}
	ack := rec.Body.Bytes()
	if len(ack) == 0 {
		return qualifyReply{}, ack
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("/qualify %q: content type %q", text, ct)
	}
	var r qualifyReply
	if err := json.Unmarshal(ack, &r); err != nil {
		t.Fatalf("/qualify %q: body %q: %v", text, ack, err)
	}
	if r.ResponseType != "ephemeral" {
		t.Errorf("/qualify %q: response_type %q", text, r.ResponseType)
	}
	if r.Text != "Working on it…" {
		return r, ack
	}
	h.slack.WaitUntil(t, 10*time.Second, "the response_url post", func() bool { return len(h.slack.ResponsePosts(responseURL)) > 0 })
	posts := h.slack.ResponsePosts(responseURL)
	if err := json.Unmarshal(posts[0], &r); err != nil {
		t.Fatalf("/qualify %q: post %s: %v", text, posts[0], err)
	}
	return r, ack
}

func TestBot_HTTPHandler_Qualify(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withDeliberation)
	startBot(t, h)
	h.slack.WaitUntil(t, 10*time.Second, "the first lead's card", func() bool { return h.stored(t).Slack.TS != "" })
	card := h.stored(t)
	cardURL := slackfake.Permalink(card.Slack.Channel, card.Slack.TS, "")

	t.Run("Modal", func(t *testing.T) {
		r, ack := qualify(t, h, "UASKER", "")
		if len(ack) != 0 {
			t.Errorf("ack = %s (%+v), want an empty body", ack, r)
		}
		h.slack.WaitUntil(t, 5*time.Second, "the add-lead dialog", func() bool { return len(h.slack.Views()) == 1 })
		if v := h.slack.Views()[0]; v.Method != "views.open" || !strings.Contains(string(v.JSON), `"callback_id":"lead.add"`) {
			t.Errorf("view = %s %s", v.Method, v.JSON)
		}
	})
	t.Run("AddEmail", func(t *testing.T) {
		r, _ := qualify(t, h, "UADDER", "jan@globex.example")
		if !strings.HasPrefix(r.Text, "Added *L-2* (globex.example) to the triage channel. <"+slackfake.WorkspaceURL+"archives/"+channel+"/p") ||
			!strings.HasSuffix(r.Text, "|See the card>") {
			t.Errorf("reply = %q", r.Text)
		}
		l, err := h.db.Lead(context.Background(), 2)
		if err != nil || l.Email != "jan@globex.example" || l.Source != "slack" || l.CreatedBy != "UADDER" {
			t.Errorf("stored lead %+v, %v", l, err)
		}
	})
	t.Run("AddDomainAndCompany", func(t *testing.T) {
		for _, text := range []string{"initech.example", "Umbrella Corp"} {
			r, _ := qualify(t, h, "UADDER", text)
			if !strings.HasPrefix(r.Text, "Added *L-") {
				t.Errorf("/qualify %s = %q", text, r.Text)
			}
		}
		r, _ := qualify(t, h, "UADDER", "Umbrella Corp")
		if !strings.HasPrefix(r.Text, "That is *L-4* (Umbrella Corp), already in triage.") {
			t.Errorf("repeat = %q", r.Text)
		}
	})
	t.Run("List", func(t *testing.T) {
		for _, tt := range []struct{ text, want, not string }{
			{"list", "Pending leads, oldest first:* 4", ""},
			{"list mine", "Your leads", "Acme Widgets"},
			{"LIST all", "All leads, newest first:* 4", ""},
		} {
			r, _ := qualify(t, h, "UADDER", tt.text)
			got := r.all()
			if !strings.Contains(got, tt.want) || (tt.not != "" && strings.Contains(got, tt.not)) {
				t.Errorf("/qualify %s = %s", tt.text, got)
			}
		}
		r, _ := qualify(t, h, "UADDER", "list")
		if !strings.Contains(r.all(), "<"+cardURL+"|card>") {
			t.Errorf("list lacks the link to L-1's card %s:\n%s", cardURL, r.all())
		}
	})
	t.Run("Show", func(t *testing.T) {
		r, _ := qualify(t, h, "UASKER", "L-1")
		if got := r.all(); !strings.Contains(got, "Acme Widgets") || !strings.Contains(got, "hidden until the quorum") || !strings.Contains(got, cardURL+"|Open the card") {
			t.Errorf("show = %s", got)
		}
		if r, _ := qualify(t, h, "UASKER", "L-77"); r.Text != "There is no *L-77*." {
			t.Errorf("unknown id = %q", r.Text)
		}
	})
	t.Run("History", func(t *testing.T) {
		r, _ := qualify(t, h, "UASKER", "l-1 history")
		if got := r.all(); !strings.Contains(got, "Audit trail of L-1") || !strings.Contains(got, "· webhook · created · via webhook") || !strings.Contains(got, "· bot · card posted") {
			t.Errorf("history = %s", got)
		}
	})
	t.Run("Digest", func(t *testing.T) {
		if r, _ := qualify(t, h, "UASKER", "digest"); !strings.Contains(r.Text, "Leads digest") || !strings.Contains(r.all(), "Only you see this preview") {
			t.Errorf("digest = %q", r.all())
		}
	})
	t.Run("Help", func(t *testing.T) {
		for text, want := range map[string]string{
			"help":       "*/qualify* helps",
			"lsit":       "Did you mean `/qualify list`?",
			"list bogus": "Did you mean `/qualify list`?",
			"L-1 histry": "Did you mean `/qualify L-1 history`?",
		} {
			r, _ := qualify(t, h, "UASKER", text)
			if !strings.HasPrefix(r.Text, want) || !strings.Contains(r.Text, "`/qualify L-42 history`") {
				t.Errorf("/qualify %s = %q", text, r.Text)
			}
		}
	})
	t.Run("Refused", func(t *testing.T) {
		hr := newHarness(t, func(c *bot.Config, _ *triage.Service) { c.Access.Users = []string{"UFRIEND"} })
		r, _ := qualify(t, hr, "USTRANGER", "Stark Industries")
		if !strings.Contains(r.Text, "You are not on the list of people who use leadtriage here.") {
			t.Errorf("refused = %q", r.Text)
		}
		if all, _ := hr.db.Leads(context.Background(), triage.LeadFilter{}); len(all) != 1 {
			t.Errorf("%d leads after a refused add, want the harness's 1", len(all))
		}
	})
}
