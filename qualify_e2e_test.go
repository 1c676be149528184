package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/leadtriage/leadtriage/slackfake"
)

// Issue 5 end to end: /qualify, the add-lead dialog, the message shortcut,
// the App Home and access, through signed HTTP-mode requests against the
// real wiring and slackfake.

// slashReply is what a /qualify request got back.
type slashReply struct {
	Status      int
	Body        []byte
	Text        string // the reply's text and every string in its blocks
	ResponseURL string
	Took        time.Duration // until the ack
	Late        bool          // the ack said "Working on it…" and Text is the response_url post
}

// signedPost sends form to path on the app, signed as Slack does.
func (a *testApp) signedPost(tb testing.TB, path string, form url.Values) (int, []byte) {
	tb.Helper()
	req := slackfake.NewSignedRequest(tb, a.Base+path, testSigningSecret, "application/x-www-form-urlencoded", []byte(form.Encode()))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatalf("reading the answer to POST %s: %v", path, err)
	}
	return resp.StatusCode, body
}

// qualify runs "/qualify text" as user in channel with a live trigger_id
// and response_url.
func (a *testApp) qualify(tb testing.TB, user, channel, text string) slashReply {
	tb.Helper()
	r := slashReply{ResponseURL: a.Fake.NewResponseURLFor(channel, "", user)}
	form := slackfake.SlashCommandForm(user, channel, "/qualify", text, r.ResponseURL, a.Fake.NewTriggerIDFor(user))
	start := time.Now()
	r.Status, r.Body = a.signedPost(tb, "/slack/commands", form)
	r.Took = time.Since(start)
	r.Text = replyText(tb, r.Body)
	if r.Status == http.StatusOK && strings.Contains(r.Text, "Working on it") {
		// Work slower than the ack's budget answers through the
		// response_url (issue 5): wait for that answer.
		waitFor(tb, "the late answer on the response_url", 10*time.Second, func() bool {
			return len(a.Fake.ResponsePosts(r.ResponseURL)) > 0
		})
		r.Late = true
		r.Text = replyText(tb, a.Fake.ResponsePosts(r.ResponseURL)[0])
	}
	return r
}

// replyText is the text and every string in the blocks of a JSON message
// (a slash command's ack body or a response_url post); "" for an empty body.
func replyText(tb testing.TB, body []byte) string {
	tb.Helper()
	if len(strings.TrimSpace(string(body))) == 0 {
		return ""
	}
	var msg struct {
		Text   string          `json:"text"`
		Blocks json.RawMessage `json:"blocks"`
	}
	if err := json.Unmarshal(body, &msg); err != nil {
		tb.Fatalf("the reply is not JSON: %v\n%s", err, body)
	}
	return msg.Text + "\n" + blockText(tb, msg.Blocks)
}

// mustAnswer checks that the command was acknowledged with 200 within
// Slack's 3 s and answered (in the ack, or on the response_url when the ack
// said "Working on it…") with a non-empty reply.
func mustAnswer(tb testing.TB, r slashReply) string {
	tb.Helper()
	if r.Status != http.StatusOK {
		tb.Fatalf("status %d, want 200; body %s", r.Status, r.Body)
	}
	if r.Took > 3*time.Second {
		tb.Errorf("answered after %v: Slack gives up after 3 s", r.Took)
	}
	if strings.TrimSpace(r.Text) == "" {
		tb.Fatalf("empty reply; body %q", r.Body)
	}
	return r.Text
}

// apiLeads lists leads through the read API (status "all" for every one).
func (a *testApp) apiLeads(tb testing.TB, status string) []map[string]any {
	tb.Helper()
	req, _ := http.NewRequest(http.MethodGet, a.Base+"/api/leads?status="+status, nil)
	req.Header.Set("Authorization", "Bearer "+testAPIToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatalf("GET /api/leads: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		tb.Fatalf("GET /api/leads?status=%s: %d %s", status, resp.StatusCode, b)
	}
	var out struct {
		Leads []map[string]any `json:"leads"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		tb.Fatal(err)
	}
	return out.Leads
}

func containsFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}

func TestQualify_Commands(t *testing.T) {
	t.Parallel()
	fake := slackfake.New(t)
	app := MustRunMain(t, appOptions{fake: fake})
	const user = "UALICE"

	// The subtests run in order: the adds make L-1 … L-4 for the rest.
	adds := []struct {
		text string
		id   string
		want map[string]any // fields of the stored lead
	}{
		{"jan@acme.example", "L-1", map[string]any{"email": "jan@acme.example", "domain": "acme.example"}},
		{"acme.example", "L-2", map[string]any{"website": "https://acme.example", "domain": "acme.example"}},
		{"Acme BV", "L-3", map[string]any{"company": "Acme BV"}},
		{"add Acme Two", "L-4", map[string]any{"company": "Acme Two"}},
	}
	for _, tc := range adds {
		t.Run(tc.text, func(t *testing.T) {
			text := mustAnswer(t, app.qualify(t, user, testChannel, tc.text))
			if !strings.Contains(text, tc.id) {
				t.Errorf("the reply does not name %s:\n%s", tc.id, text)
			}
			lead := app.apiLead(t, tc.id)
			if lead["source"] != "slack" || lead["created_by"] != user || lead["status"] != "pending" {
				t.Errorf("%s: source %v, created_by %v, status %v; want slack, %s, pending", tc.id, lead["source"], lead["created_by"], lead["status"], user)
			}
			for k, v := range tc.want {
				if lead[k] != v {
					t.Errorf("%s: %s = %v, want %v", tc.id, k, lead[k], v)
				}
			}
		})
	}
	waitFor(t, "the four cards", 10*time.Second, func() bool { return len(cards(fake)) == 4 })

	reads := []struct {
		text string
		want []string // substrings of the reply (case-insensitive)
		not  []string
	}{
		{"list", []string{"L-1", "L-2", "L-3", "L-4", "Acme BV"}, nil},
		{"list mine", []string{"L-1", "L-4"}, nil},
		{"list all", []string{"L-1", "L-4", "Acme Two"}, nil},
		{"L-1", []string{"L-1", "jan@acme.example", "pending"}, []string{"There is no"}},
		{"L-1 history", []string{"L-1", "<@" + user + ">"}, []string{"There is no"}},
		{"L-999", []string{"There is no *L-999*"}, nil},
		{"digest", []string{"digest", "not", "yet"}, nil},
		{"help", []string{"/qualify list", "/qualify L-42"}, []string{"did you mean"}},
		{"lsit", []string{"did you mean", "list"}, nil},
		{"L-1 histroy", []string{"did you mean", "L-1 history"}, nil},
	}
	for _, tc := range reads {
		t.Run(tc.text, func(t *testing.T) {
			text := mustAnswer(t, app.qualify(t, user, testChannel, tc.text))
			for _, w := range tc.want {
				if !containsFold(text, w) {
					t.Errorf("the reply to %q lacks %q:\n%s", tc.text, w, text)
				}
			}
			for _, n := range tc.not {
				if containsFold(text, n) {
					t.Errorf("the reply to %q says %q:\n%s", tc.text, n, text)
				}
			}
		})
	}

	t.Run("nothing but the adds created leads", func(t *testing.T) {
		if n := len(app.apiLeads(t, "all")); n != 4 {
			t.Errorf("%d leads, want 4", n)
		}
	})
	t.Run("lead text is escaped in replies", func(t *testing.T) {
		text := mustAnswer(t, app.qualify(t, user, testChannel, "add <!channel> Evil BV"))
		if strings.Contains(text, "<!channel>") {
			t.Errorf("the reply contains <!channel> unescaped:\n%s", text)
		}
		text = mustAnswer(t, app.qualify(t, user, testChannel, "list"))
		if strings.Contains(text, "<!channel>") {
			t.Errorf("the list contains <!channel> unescaped:\n%s", text)
		}
	})
}

// addLeadValues is a filled-in add-lead dialog: block id -> action id -> value.
func addLeadValues(email string) map[string]map[string]slack.BlockAction {
	text := func(typ slack.ActionType, v string) map[string]slack.BlockAction {
		return map[string]slack.BlockAction{"": {Type: typ, Value: v}}
	}
	vals := map[string]map[string]slack.BlockAction{
		"company":   text("plain_text_input", "Dialog BV"),
		"name":      text("plain_text_input", "Dirk Dialoog"),
		"email":     text("email_text_input", email),
		"website":   text("url_text_input", "https://dialog.example"),
		"phone":     text("plain_text_input", "+31 20 555 0100"),
		"message":   text("plain_text_input", "Met at the fair"),
		"source":    {"": {Type: "static_select", SelectedOption: slack.OptionBlockObject{Value: "event"}}},
		"founded":   text("number_input", "2019"),
		"employees": text("number_input", "40"),
	}
	// Action ids equal block ids.
	for block, m := range vals {
		vals[block] = map[string]slack.BlockAction{block: m[""]}
	}
	return vals
}

// viewBlockIDs lists the block ids of a view, and its callback id.
func viewBlockIDs(tb testing.TB, view json.RawMessage) (string, []string) {
	tb.Helper()
	var v struct {
		CallbackID string `json:"callback_id"`
		Blocks     []struct {
			BlockID string `json:"block_id"`
		} `json:"blocks"`
	}
	if err := json.Unmarshal(view, &v); err != nil {
		tb.Fatalf("the view is not JSON: %v", err)
	}
	var ids []string
	for _, b := range v.Blocks {
		ids = append(ids, b.BlockID)
	}
	return v.CallbackID, ids
}

func TestQualify_AddLeadDialog(t *testing.T) {
	t.Parallel()
	fake := slackfake.New(t)
	app := MustRunMain(t, appOptions{fake: fake})
	const user = "UBOB"

	before := len(fake.Calls())
	r := app.qualify(t, user, testChannel, "")
	if r.Status != http.StatusOK {
		t.Fatalf("/qualify = %d %s", r.Status, r.Body)
	}
	fake.WaitCalls(t, "views.open", 1, 5*time.Second)
	calls := fake.Calls()[before:]
	if len(calls) == 0 || calls[0].Method != "views.open" || calls[0].Error != "" {
		var ms []string
		for _, c := range calls {
			ms = append(ms, c.Method+" "+c.Error)
		}
		t.Fatalf("calls after /qualify = %v, want views.open (ok) first", ms)
	}
	views := fake.Views()
	if len(views) != 1 {
		t.Fatalf("%d views, want the dialog", len(views))
	}
	callback, blocks := viewBlockIDs(t, views[0].JSON)
	if callback != "lead.add" {
		t.Errorf("callback_id = %q, want lead.add", callback)
	}
	have := map[string]bool{}
	for _, id := range blocks {
		have[id] = true
	}
	for _, id := range []string{"company", "name", "email", "website", "phone", "message", "source", "founded", "employees"} {
		if !have[id] {
			t.Errorf("the dialog has no block %q (blocks %v)", id, blocks)
		}
	}
	var view struct {
		PrivateMetadata string `json:"private_metadata"`
	}
	if err := json.Unmarshal(views[0].JSON, &view); err != nil {
		t.Fatal(err)
	}
	if len(view.PrivateMetadata) > 3000 {
		t.Errorf("private_metadata is %d bytes, Slack allows 3000", len(view.PrivateMetadata))
	}
	var meta struct {
		Channel     string `json:"channel"`
		ResponseURL string `json:"response_url"`
	}
	if err := json.Unmarshal([]byte(view.PrivateMetadata), &meta); err != nil || meta.Channel != testChannel {
		t.Errorf("private_metadata = %q (%v), want JSON naming channel %s", view.PrivateMetadata, err, testChannel)
	}

	// An invalid e-mail: the error is shown on the field, nothing is stored.
	status, body := app.signedPost(t, "/slack/interactions",
		slackfake.ViewSubmissionForm(user, "lead.add", view.PrivateMetadata, addLeadValues("dirk@")))
	if status != http.StatusOK {
		t.Fatalf("invalid submission = %d %s", status, body)
	}
	var errs struct {
		ResponseAction string            `json:"response_action"`
		Errors         map[string]string `json:"errors"`
	}
	if err := json.Unmarshal(body, &errs); err != nil || errs.ResponseAction != "errors" || errs.Errors["email"] == "" {
		t.Fatalf("invalid submission answered %s, want response_action errors on email", body)
	}
	if len(errs.Errors) != 1 {
		t.Errorf("errors = %v, want only email", errs.Errors)
	}
	if leads := app.apiLeads(t, "all"); len(leads) != 0 {
		t.Fatalf("an invalid submission stored %d leads", len(leads))
	}

	// Fixed: the dialog closes, the lead is stored and its card posted.
	status, body = app.signedPost(t, "/slack/interactions",
		slackfake.ViewSubmissionForm(user, "lead.add", view.PrivateMetadata, addLeadValues("dirk@dialog.example")))
	if status != http.StatusOK {
		t.Fatalf("valid submission = %d %s", status, body)
	}
	if len(strings.TrimSpace(string(body))) > 0 {
		var resp struct {
			ResponseAction string `json:"response_action"`
		}
		if err := json.Unmarshal(body, &resp); err != nil || (resp.ResponseAction != "" && resp.ResponseAction != "clear") {
			t.Errorf("valid submission answered %s, want an empty body or response_action clear", body)
		}
	}
	leads := app.apiLeads(t, "all")
	if len(leads) != 1 {
		t.Fatalf("%d leads after the valid submission, want 1", len(leads))
	}
	want := map[string]any{
		"id": "L-1", "company": "Dialog BV", "name": "Dirk Dialoog", "email": "dirk@dialog.example",
		"website": "https://dialog.example", "source": "event", "created_by": user, "status": "pending",
		"founded": float64(2019), "employees": float64(40),
	}
	for k, v := range want {
		if leads[0][k] != v {
			t.Errorf("lead %s = %v, want %v", k, leads[0][k], v)
		}
	}
	waitFor(t, "the card in the triage channel", 10*time.Second, func() bool { return len(cards(fake)) == 1 })
	if c := cards(fake)[0]; !strings.Contains(blockText(t, c.Blocks), "Dialog BV") {
		t.Errorf("the card does not show the lead: %s", c.Blocks)
	}
}

func TestQualify_AddLeadDialog_SourceDefaultsToSlack(t *testing.T) {
	t.Parallel()
	fake := slackfake.New(t)
	app := MustRunMain(t, appOptions{fake: fake})
	vals := map[string]map[string]slack.BlockAction{
		"company": {"company": {Type: "plain_text_input", Value: "Plain BV"}},
	}
	meta := fmt.Sprintf(`{"channel":%q}`, testChannel)
	status, body := app.signedPost(t, "/slack/interactions", slackfake.ViewSubmissionForm("UBOB", "lead.add", meta, vals))
	if status != http.StatusOK || strings.Contains(string(body), "errors") {
		t.Fatalf("submission = %d %s", status, body)
	}
	lead := app.apiLead(t, "L-1")
	if lead["source"] != "slack" || lead["created_by"] != "UBOB" {
		t.Errorf("source %v, created_by %v; want slack, UBOB", lead["source"], lead["created_by"])
	}
}

func TestQualify_MessageShortcut(t *testing.T) {
	t.Parallel()
	fake := slackfake.New(t)
	app := MustRunMain(t, appOptions{fake: fake})
	forwarded := "---------- Forwarded message ---------\n" +
		"From: Jan Jansen &lt;<mailto:jan@acme.example|jan@acme.example>&gt;\n" +
		"Subject: Offerte\n\nWe would like a quote. <https://www.acme.example|www.acme.example>"
	ts := fake.PostAsUser(testChannel, "USALES", forwarded, "")
	status, body := app.signedPost(t, "/slack/interactions", fake.MessageActionForm("USALES", testChannel, ts, "lead.from_message"))
	if status != http.StatusOK {
		t.Fatalf("shortcut = %d %s", status, body)
	}
	fake.WaitCalls(t, "views.open", 1, 5*time.Second)
	views := fake.Views()
	if len(views) != 1 || views[0].Method != "views.open" {
		t.Fatalf("views = %+v, want the dialog opened", views)
	}
	callback, _ := viewBlockIDs(t, views[0].JSON)
	if callback != "lead.add" {
		t.Errorf("callback_id = %q, want lead.add", callback)
	}
	text := blockText(t, views[0].JSON)
	for _, w := range []string{"jan@acme.example", "Jan Jansen", "acme.example"} {
		if !strings.Contains(text, w) {
			t.Errorf("the dialog is not prefilled with %q:\n%s", w, text)
		}
	}
	if leads := app.apiLeads(t, "all"); len(leads) != 0 {
		t.Errorf("the shortcut stored %d leads before the dialog was submitted", len(leads))
	}
}

// homeSections are the App Home's section titles (issue 5), matched
// case-insensitively.
var homeSections = []string{"Waiting for your vote", "Your leads", "Pending in the team", "30 days"}

// homeSection returns the text of the Home view's blocks from the one
// containing title up to the next header block or the next section title.
func homeSection(tb testing.TB, view json.RawMessage, title string) (string, bool) {
	tb.Helper()
	var v struct {
		Type   string            `json:"type"`
		Blocks []json.RawMessage `json:"blocks"`
	}
	if err := json.Unmarshal(view, &v); err != nil {
		tb.Fatalf("the Home view is not JSON: %v", err)
	}
	if v.Type != "home" {
		tb.Errorf("view type %q, want home", v.Type)
	}
	if len(v.Blocks) > 100 {
		tb.Errorf("the Home view has %d blocks, Slack allows 100", len(v.Blocks))
	}
	var b strings.Builder
	in := false
	for _, raw := range v.Blocks {
		var blk struct {
			Type string `json:"type"`
		}
		_ = json.Unmarshal(raw, &blk)
		text := blockText(tb, raw)
		if in && (blk.Type == "header" || otherSection(text, title)) {
			break
		}
		if !in && containsFold(text, title) {
			in = true
		}
		if in {
			b.WriteString(text)
		}
	}
	return b.String(), in
}

func otherSection(text, title string) bool {
	for _, s := range homeSections {
		if !strings.EqualFold(s, title) && containsFold(text, s) {
			return true
		}
	}
	return false
}

func TestQualify_AppHome(t *testing.T) {
	t.Parallel()
	fake := slackfake.New(t)
	app := MustRunMain(t, appOptions{fake: fake})
	const voter = "UVERA"

	if status, body := app.postLead(t, map[string]any{"company": "Homely BV", "email": "info@homely.example"}); status != http.StatusCreated {
		t.Fatalf("POST /leads = %d %v", status, body)
	}
	var ts string
	waitFor(t, "the card", 10*time.Second, func() bool {
		ts = leadTS(app.apiLead(t, "L-1"))
		return ts != ""
	})

	published := func() int {
		n := 0
		for _, v := range fake.Views() {
			if v.Method == "views.publish" && v.UserID == voter {
				n++
			}
		}
		return n
	}
	openHome := func(eventID string) {
		t.Helper()
		n := published()
		app.event(t, eventID, slackfake.AppHomeOpenedEvent(voter))
		waitFor(t, "views.publish for "+voter, 10*time.Second, func() bool { return published() > n })
	}

	openHome("EvHome1")
	view, ok := fake.HomeView(voter)
	if !ok {
		t.Fatal("no Home view published for the user")
	}
	for _, title := range []string{"Waiting for your vote", "30 days"} {
		if _, ok := homeSection(t, view, title); !ok {
			t.Errorf("the Home view has no %q section:\n%s", title, blockText(t, view))
		}
	}
	waiting, _ := homeSection(t, view, "Waiting for your vote")
	if !strings.Contains(waiting, "Homely BV") {
		t.Errorf("L-1 is not under Waiting for your vote:\n%s", waiting)
	}
	if other, ok := fake.HomeView("UNOBODY"); ok {
		t.Errorf("a Home view was published for a user who did not open it: %s", other)
	}

	app.click(t, voter, ts, "lead.vote.qualify", "L-1")
	waitFor(t, "the vote", 10*time.Second, func() bool {
		votes, _ := app.apiLead(t, "L-1")["votes"].(map[string]any)
		return votes[voter] != nil
	})
	openHome("EvHome2")
	view, _ = fake.HomeView(voter)
	waiting, ok = homeSection(t, view, "Waiting for your vote")
	if ok && strings.Contains(waiting, "Homely BV") {
		t.Errorf("L-1 is still under Waiting for your vote after the vote:\n%s", waiting)
	}
	if !strings.Contains(blockText(t, view), "Homely BV") {
		t.Errorf("L-1 is gone from the Home view altogether; it is still pending:\n%s", blockText(t, view))
	}
}

func TestQualify_Access(t *testing.T) {
	t.Parallel()
	fake := slackfake.New(t)
	app := MustRunMain(t, appOptions{fake: fake, extra: "[access]\nusers = [\"UALLOWED\"]\n"})

	t.Run("refused", func(t *testing.T) {
		text := mustAnswer(t, app.qualify(t, "UOTHER", testChannel, "jan@acme.example"))
		if !containsFold(text, "not on the list") {
			t.Errorf("the refusal does not say why:\n%s", text)
		}
		if leads := app.apiLeads(t, "all"); len(leads) != 0 {
			t.Errorf("a refused command stored %d leads", len(leads))
		}
		r := app.qualify(t, "UOTHER", testChannel, "")
		if r.Status != http.StatusOK || !containsFold(r.Text, "not on the list") {
			t.Errorf("/qualify (dialog) by a refused user = %d %q, want the refusal", r.Status, r.Text)
		}
		if n := len(fake.Calls("views.open")); n != 0 {
			t.Errorf("a refused user got a dialog (%d views.open)", n)
		}
	})
	t.Run("refused Home", func(t *testing.T) {
		app.event(t, "EvHomeRefused", slackfake.AppHomeOpenedEvent("UOTHER"))
		var view json.RawMessage
		waitFor(t, "the refused user's Home", 10*time.Second, func() bool {
			var ok bool
			view, ok = fake.HomeView("UOTHER")
			return ok
		})
		if text := blockText(t, view); !containsFold(text, "not on the list") || containsFold(text, "Waiting for your vote") {
			t.Errorf("the refused user's Home does not (only) say so:\n%s", text)
		}
	})
	t.Run("allowed", func(t *testing.T) {
		text := mustAnswer(t, app.qualify(t, "UALLOWED", testChannel, "allowed.example"))
		if !strings.Contains(text, "L-1") {
			t.Errorf("the allowed user's add does not name L-1:\n%s", text)
		}
		if leads := app.apiLeads(t, "all"); len(leads) != 1 || leads[0]["created_by"] != "UALLOWED" {
			t.Errorf("leads = %v, want one by UALLOWED", leads)
		}
	})
}
