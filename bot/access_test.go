package bot_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/leadtriage/leadtriage/bot"
	"github.com/leadtriage/leadtriage/slackfake"
	"github.com/leadtriage/leadtriage/triage"
	"github.com/slack-go/slack"
)

func withAccess(a bot.Access) harnessOpt {
	return func(c *bot.Config, _ *triage.Service) { c.Access = a }
}

const notListed = "You are not on the list of people who use leadtriage here. Ask <@ULEAD> to add you (access.users in config.toml)."

// clickAs sends a signed vote click by user and waits for its work.
func (h *harness) clickAs(t *testing.T, user string) {
	t.Helper()
	rec := h.serve(signedAt("/slack/interactions", secretOld, formType, clickBody(user, "lead.vote.qualify", h.lead.ID), now))
	if rec.Code != http.StatusOK {
		t.Fatalf("click: %d", rec.Code)
	}
	h.drain(t)
}

func TestBot_Access_Buttons(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withDeliberation, withAccess(bot.Access{Users: []string{"UIN"}, Usergroups: []string{"SSALES"}}))
	h.slack.AddUsergroup("SSALES", "UMEMBER")

	h.clickAs(t, "UIN")
	h.clickAs(t, "UMEMBER")
	h.clickAs(t, "UOUT")
	votes := h.stored(t).Votes
	if votes["UIN"] != triage.ChoiceQualify || votes["UMEMBER"] != triage.ChoiceQualify {
		t.Errorf("votes %v, want UIN (listed) and UMEMBER (in the group)", votes)
	}
	if _, ok := votes["UOUT"]; ok {
		t.Errorf("a refused user's vote counted: %v", votes)
	}
	if told := h.told(t, "UOUT"); len(told) != 1 || told[0] != notListed {
		t.Errorf("told UOUT %q, want the refusal", told)
	}
	// The group was looked up once: the second member check hit the cache.
	h.clickAs(t, "UOUT")
	if n := len(h.slack.Calls("usergroups.users.list")); n != 1 {
		t.Errorf("%d usergroups.users.list calls, want 1 (cached)", n)
	}
}

func TestBot_Access_LookupFailsClosed(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withDeliberation, withAccess(bot.Access{Usergroups: []string{"SSALES"}}))
	h.slack.AddUsergroup("SSALES", "UMEMBER")
	h.slack.Fail("usergroups.users.list", slackfake.Fault{Status: http.StatusInternalServerError})
	h.clickAs(t, "UMEMBER")
	if _, ok := h.stored(t).Votes["UMEMBER"]; ok {
		t.Error("the vote counted although membership could not be checked")
	}
	if told := h.told(t, "UMEMBER"); len(told) != 1 || !strings.Contains(told[0], "Could not check your access") {
		t.Errorf("told %q", told)
	}
	// Once Slack answers again, the member gets in.
	h.clickAs(t, "UMEMBER")
	if h.stored(t).Votes["UMEMBER"] != triage.ChoiceQualify {
		t.Error("the member's second click did not count")
	}
}

func TestBot_Access_Shortcut(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withDeliberation, withAccess(bot.Access{Users: []string{"UIN"}, Channels: []string{"CSALES"}}))
	inSales := h.slack.PostAsUser("CSALES", "UIN", forwardedEmail, "")
	inRandom := h.slack.PostAsUser("CRANDOM", "UIN", forwardedEmail, "")

	ru := h.shortcut(t, "UOUT", "CSALES", inSales)
	if n := len(h.slack.Views()); n != 0 {
		t.Fatalf("%d dialogs opened for a refused user", n)
	}
	if posts := h.slack.ResponsePosts(ru); len(posts) != 1 || postText(t, posts[0]) != notListed {
		t.Errorf("refused user told %s", posts)
	}

	ru = h.shortcut(t, "UIN", "CRANDOM", inRandom)
	if n := len(h.slack.Views()); n != 0 {
		t.Fatalf("%d dialogs opened from a channel outside access.channels", n)
	}
	if posts := h.slack.ResponsePosts(ru); len(posts) != 1 || !strings.Contains(postText(t, posts[0]), "only in <#CTRIAGE>, <#CSALES>") {
		t.Errorf("wrong channel told %s", posts)
	}

	h.shortcut(t, "UIN", "CSALES", inSales)
	if n := len(h.slack.Views()); n != 1 {
		t.Errorf("%d dialogs opened for a listed user in a listed channel, want 1", n)
	}
}

func TestBot_Access_HomeAndSubmission(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withDeliberation, withAccess(bot.Access{Users: []string{"UIN", "ULEAD"}}))
	h.serve(signedAt("/slack/events", secretOld, "application/json", slackfake.EventCallbackJSON("EvACC1", slackfake.AppHomeOpenedEvent("UOUT")), now))
	h.serve(signedAt("/slack/events", secretOld, "application/json", slackfake.EventCallbackJSON("EvACC2", slackfake.AppHomeOpenedEvent("UIN")), now))
	h.drain(t)
	raw, ok := h.slack.HomeView("UOUT")
	if !ok {
		t.Fatal("no Home for the refused user")
	}
	texts := strings.Join(homeTexts(t, raw), "\n")
	if !strings.Contains(texts, notListed) || strings.Contains(texts, "Acme") {
		t.Errorf("refused Home %q, want the refusal and no leads", texts)
	}
	if raw, ok := h.slack.HomeView("UIN"); !ok || !strings.Contains(string(raw), "Acme Widgets") {
		t.Errorf("listed user's Home %s", raw)
	}

	// Dialogs: a refused submission stores nothing and says why under the
	// first block, in plain text.
	got := h.submitAdd(t, "UOUT", "", map[string]map[string]slack.BlockAction{"company": {"company": textValue("plain_text_input", "Sneaky")}})
	if got.ResponseAction != "errors" || !strings.Contains(got.Errors["company"], "not on the list") || strings.Contains(got.Errors["company"], "<@") {
		t.Errorf("refused add: %+v", got)
	}
	if leads, _ := h.svc.Leads(t.Context(), ""); len(leads) != 1 {
		t.Errorf("%d leads, want 1", len(leads))
	}
	body := []byte(slackfake.ViewSubmissionForm("UOUT", "lead.decide", h.lead.ID.String(), decideValues("disqualified", "No budget")).Encode())
	rec := h.serve(signedAt("/slack/interactions", secretOld, formType, body, now))
	if !strings.Contains(rec.Body.String(), `"outcome":"You are not on the list`) {
		t.Errorf("refused decide: %s", rec.Body.String())
	}
}

// postText is the text of a response_url post.
func postText(t *testing.T, raw json.RawMessage) string {
	t.Helper()
	var p struct {
		Text string `json:"text"`
	}
	if err := json.Unmarshal(raw, &p); err != nil {
		t.Fatalf("response_url post %s: %v", raw, err)
	}
	return p.Text
}
