package main

// End-to-end tests of the follow-up (issue 6): reminders, escalation,
// snooze and the digest, through the real wiring, slackfake and an injected
// clock. The jobs are called directly (Main.RunReminders, RunDigestTick), as
// cron would; nothing waits for cron.

import (
	"bytes"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/leadtriage/leadtriage/slackfake"
	"github.com/leadtriage/leadtriage/triage"
	"github.com/leadtriage/leadtriage/triage/triagetest"
)

// fuApp is a running app on an injected clock.
type fuApp struct {
	*testApp
	clk *triagetest.Clock
}

func runAt(tb testing.TB, clk *triagetest.Clock, o appOptions) *fuApp {
	tb.Helper()
	if o.fake == nil {
		o.fake = slackfake.New(tb)
	}
	o.fake.AddUser(testTeamLead, "lea")
	o.now = clk.Now
	return &fuApp{MustRunMain(tb, o), clk}
}

// waitFor polls cond like waitFor, and moves the injected clock on by a
// quarter second a poll while it waits: the outbox paces each channel on
// the injected clock (one message a second after a burst of three), so a
// frozen clock would hold the fourth message back for ever. Tests set the
// clock to exact times before each step; only waiting lets it creep.
func (a *fuApp) waitFor(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for %s", what)
		}
		a.clk.Advance(250 * time.Millisecond)
		a.Bot.Wake()
		time.Sleep(10 * time.Millisecond)
	}
}

// signedAt sends form to path, signed as Slack does at the app's clock (the
// bot checks the signature's age against its injected clock).
func (a *fuApp) signedAt(tb testing.TB, path string, body []byte) (int, []byte) {
	tb.Helper()
	req, err := http.NewRequest(http.MethodPost, a.Base+path, bytes.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	for k, v := range slackfake.Sign(testSigningSecret, body, a.clk.Now()) {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(resp.Body)
	return resp.StatusCode, buf.Bytes()
}

// clickAt is a signed button click at the app's clock.
func (a *fuApp) clickAt(tb testing.TB, user, ts, actionID, value string) {
	tb.Helper()
	form := slackfake.BlockActionForm(user, testChannel, ts, actionID, value)
	if status, body := a.signedAt(tb, "/slack/interactions", []byte(form.Encode())); status != http.StatusOK {
		tb.Fatalf("click %s: %d %s", actionID, status, body)
	}
}

// settled waits until the outbox is empty: everything queued so far has
// reached Slack. Only then may a test assert that something was not sent.
func (a *fuApp) settled(tb testing.TB) {
	tb.Helper()
	a.waitFor(tb, "the outbox to empty", func() bool {
		_, ok, err := a.DB.NextOutbox(tb.Context())
		return err == nil && !ok
	})
}

// postCard posts a lead and waits for its card; it returns the lead id and
// the card's ts.
func (a *fuApp) postCard(tb testing.TB, company string) (string, string) {
	tb.Helper()
	status, body := a.postLead(tb, map[string]any{"company": company})
	if status != http.StatusCreated {
		tb.Fatalf("POST /leads = %d %v", status, body)
	}
	var ts string
	a.waitFor(tb, "the card of "+body["id"], func() bool {
		ts = leadTS(a.apiLead(tb, body["id"]))
		return ts != ""
	})
	return body["id"], ts
}

// reminders are the reminders (messages with Snooze buttons) in the thread
// of the card at ts.
func reminders(tb testing.TB, f *slackfake.Server, ts string) []slackfake.Message {
	tb.Helper()
	var out []slackfake.Message
	for _, m := range f.Messages(testChannel) {
		if m.ThreadTS == ts && m.TS != ts && strings.Contains(blockText(tb, m.Blocks), "lead.snooze.day\n") {
			out = append(out, m)
		}
	}
	return out
}

// directs are the direct messages to user whose text names lead id.
func directs(f *slackfake.Server, user, id string) int {
	n := 0
	for _, c := range f.Calls("chat.postMessage") {
		if c.OK() && c.Params.Get("channel") == user && strings.Contains(c.Params.Get("text"), "*"+id+"*") {
			n++
		}
	}
	return n
}

const alwaysReminders = `[reminders]
after = "4h"
escalate_after = "24h"
business_hours = ""
workdays = ""
timezone = "UTC"
`

func TestFollowUp_RemindEscalateSnoozeRestart(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC) // a Wednesday
	clk := triagetest.NewClock(t0)
	fake := slackfake.New(t)
	dbPath := filepath.Join(t.TempDir(), "leadtriage.db")
	opts := appOptions{fake: fake, dbPath: dbPath, extra: alwaysReminders}
	app := runAt(t, clk, opts)

	id1, ts1 := app.postCard(t, "Waiting BV")
	id2, ts2 := app.postCard(t, "Snoozed <!channel> BV")

	// An hour in, someone snoozes the second lead for a day.
	clk.Set(t0.Add(time.Hour))
	app.clickAt(t, "UANNA", ts2, "lead.snooze.day", id2)
	// Without moving the clock: the snooze counts from when it is handled.
	waitFor(t, "the snooze", 20*time.Second, func() bool {
		r, _ := app.apiLead(t, id2)["reminder"].(map[string]any)
		return r["snoozed_until"] == "2026-03-05T11:00:00Z"
	})

	step := func(at time.Duration) {
		t.Helper()
		clk.Set(t0.Add(at))
		if err := app.RunReminders(t.Context()); err != nil {
			t.Fatalf("reminders at +%v: %v", at, err)
		}
		app.settled(t)
	}
	want := func(at string, rem1, rem2, dm1, dm2 int) {
		t.Helper()
		if n := len(reminders(t, fake, ts1)); n != rem1 {
			t.Errorf("%s: %d reminders for %s, want %d", at, n, id1, rem1)
		}
		if n := len(reminders(t, fake, ts2)); n != rem2 {
			t.Errorf("%s: %d reminders for %s, want %d", at, n, id2, rem2)
		}
		if n := directs(fake, testTeamLead, id1); n != dm1 {
			t.Errorf("%s: %d escalations of %s, want %d", at, n, id1, dm1)
		}
		if n := directs(fake, testTeamLead, id2); n != dm2 {
			t.Errorf("%s: %d escalations of %s, want %d", at, n, id2, dm2)
		}
	}

	step(3 * time.Hour)
	want("+3h", 0, 0, 0, 0)
	step(5 * time.Hour)
	want("+5h", 1, 0, 0, 0)
	rem := reminders(t, fake, ts1)[0]
	if txt := blockText(t, rem.Blocks); !strings.Contains(txt, "*"+id1+"* has waited 5h") || !strings.Contains(txt, "lead.snooze.week\n") {
		t.Errorf("reminder = %s", txt)
	}
	step(5*time.Hour + 10*time.Minute)
	want("+5h10m", 1, 0, 0, 0)
	step(24*time.Hour + 30*time.Minute) // the snooze of lead 2 runs until +25h
	want("+24h30m", 1, 0, 1, 0)
	step(25 * time.Hour)
	// The snooze is over: what came due meanwhile is due, once.
	want("+25h", 1, 1, 1, 1)
	for _, c := range fake.Calls("chat.postMessage") {
		if strings.Contains(c.Params.Get("text")+c.Params.Get("blocks"), "<!channel>") {
			t.Errorf("a follow-up message carries the lead's mention unescaped: %s", c.Params.Get("text"))
		}
	}
	lead := app.apiLead(t, id1)
	r, _ := lead["reminder"].(map[string]any)
	if r["reminded_at"] != "2026-03-04T15:00:00Z" || r["escalated_at"] != "2026-03-05T10:30:00Z" {
		t.Errorf("API reminder = %v", r)
	}

	// A restart on the same file reminds nobody again.
	if err := app.Close(); err != nil {
		t.Fatal(err)
	}
	clk.Set(t0.Add(26 * time.Hour))
	app2 := runAt(t, clk, opts)
	if err := app2.RunReminders(t.Context()); err != nil {
		t.Fatal(err)
	}
	app2.settled(t)
	want("after restart", 1, 1, 1, 1)
}

// With business hours, the clock stops at night and over the weekend.
func TestFollowUp_BusinessHours(t *testing.T) {
	t.Parallel()
	ams, err := time.LoadLocation("Europe/Amsterdam")
	if err != nil {
		t.Fatal(err)
	}
	fri := time.Date(2026, 3, 6, 16, 0, 0, 0, ams) // Friday 16:00
	clk := triagetest.NewClock(fri)
	fake := slackfake.New(t)
	app := runAt(t, clk, appOptions{fake: fake, extra: `[reminders]
after = "4h"
escalate_after = "0s"
business_hours = "09:00-17:30"
workdays = "Mon-Fri"
timezone = "Europe/Amsterdam"
`})
	id, ts := app.postCard(t, "Weekend BV")
	// 1h30 on Friday, then 2h30 on Monday: due Monday 11:30.
	for _, tc := range []struct {
		at   time.Time
		want int
	}{
		{fri.Add(4 * time.Hour), 0},                    // Friday 20:00: 4h of wall time, 1h30 of business time
		{time.Date(2026, 3, 8, 12, 0, 0, 0, ams), 0},   // Sunday
		{time.Date(2026, 3, 9, 11, 29, 0, 0, ams), 0},  // Monday 11:29
		{time.Date(2026, 3, 9, 11, 30, 0, 0, ams), 1},  // Monday 11:30
		{time.Date(2026, 3, 10, 11, 30, 0, 0, ams), 1}, // a day later: still one
	} {
		clk.Set(tc.at)
		if err := app.RunReminders(t.Context()); err != nil {
			t.Fatal(err)
		}
		app.settled(t)
		if n := len(reminders(t, fake, ts)); n != tc.want {
			t.Fatalf("at %v: %d reminders, want %d", tc.at, n, tc.want)
		}
	}
	if txt := blockText(t, reminders(t, fake, ts)[0].Blocks); !strings.Contains(txt, "*"+id+"* has waited 4h (business hours)") {
		t.Errorf("reminder = %s", txt)
	}
	if n := len(fake.Calls("conversations.open")) + directs(fake, testTeamLead, id); n != 0 {
		t.Errorf("escalate_after = 0s escalated anyway")
	}
}

// digestMessages are the top-level digest messages in the channel, known
// by their metadata (DESIGN.md: leadtriage_digest), in any language.
func digestMessages(tb testing.TB, f *slackfake.Server) []slackfake.Message {
	tb.Helper()
	var out []slackfake.Message
	for _, m := range cards(f) {
		if strings.Contains(string(m.Metadata), `"leadtriage_digest"`) {
			out = append(out, m)
		}
	}
	return out
}

func (a *fuApp) tickDigest(tb testing.TB, wantSent bool) {
	tb.Helper()
	sent, err := a.RunDigestTick(tb.Context())
	if err != nil || sent != wantSent {
		tb.Fatalf("RunDigestTick = %v, %v; want sent = %v", sent, err, wantSent)
	}
	a.settled(tb)
}

const noReminders = `[reminders]
after = "0s"
escalate_after = "0s"
`

const utcDigest = `[digest]
schedule = "0 9 * * *"
timezone = "UTC"
revisit_after = "48h"
`

func TestDigest_Sections(t *testing.T) {
	t.Parallel()
	mon := time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)
	clk := triagetest.NewClock(mon)
	fake := slackfake.New(t)
	app := runAt(t, clk, appOptions{fake: fake, quorum: 1, extra: utcDigest})

	decide := func(company, vote, status string) string {
		t.Helper()
		id, ts := app.postCard(t, company)
		app.clickAt(t, "UANNA", ts, "lead.vote."+vote, id)
		app.waitFor(t, id+" "+status, func() bool { return app.apiLead(t, id)["status"] == status })
		return id
	}
	second := decide("Second Look BV", "disqualify", "disqualified")
	before := decide("Decided Before BV", "qualify", "qualified")

	clk.Set(time.Date(2026, 3, 3, 9, 5, 0, 0, time.UTC)) // Tuesday's digest
	app.tickDigest(t, true)
	app.tickDigest(t, false) // a second tick of the same run

	clk.Set(time.Date(2026, 3, 3, 10, 0, 0, 0, time.UTC))
	fresh := decide("Fresh Yes BV", "qualify", "qualified")
	waiting, _ := app.postCard(t, "Still Waiting <!channel> <@U123> BV")

	clk.Set(time.Date(2026, 3, 4, 9, 5, 0, 0, time.UTC)) // Wednesday's digest
	app.tickDigest(t, true)
	msgs := digestMessages(t, fake)
	if len(msgs) != 2 {
		t.Fatalf("%d digest messages, want 2 (Tuesday, Wednesday)", len(msgs))
	}
	txt := blockText(t, msgs[1].Blocks)
	for _, want := range []string{
		"Leads digest, Wed 4 Mar 2026",
		"*Pending (1)*", "*" + waiting + "*", "Still Waiting &lt;!channel&gt; &lt;@U123&gt; BV",
		"*Decided since the last digest (1)*", "*" + fresh + "*", "Fresh Yes BV",
		"*Worth another look (1)*", "*" + second + "*", "Second Look BV",
	} {
		if !strings.Contains(txt, want) {
			t.Errorf("the digest lacks %q:\n%s", want, txt)
		}
	}
	for _, bad := range []string{"*" + before + "*", "Decided Before BV", "<!channel>", "<@U123>"} {
		if strings.Contains(txt, bad) {
			t.Errorf("the digest contains %q:\n%s", bad, txt)
		}
	}
	// A second look is shown once.
	clk.Set(time.Date(2026, 3, 5, 9, 5, 0, 0, time.UTC))
	app.tickDigest(t, true)
	if txt := blockText(t, digestMessages(t, fake)[2].Blocks); strings.Contains(txt, "Second Look BV") || !strings.Contains(txt, "Still Waiting") {
		t.Errorf("Thursday's digest:\n%s", txt)
	}

	// /qualify digest shows the caller the digest as it stands, ephemerally.
	form := slackfake.SlashCommandForm("UANNA", testChannel, "/qualify", "digest", fake.NewResponseURLFor(testChannel, "", "UANNA"), fake.NewTriggerIDFor("UANNA"))
	status, body := app.signedAt(t, "/slack/commands", []byte(form.Encode()))
	reply := replyText(t, body)
	if status != http.StatusOK || !strings.Contains(reply, "Still Waiting &lt;!channel&gt;") || !strings.Contains(reply, "Only you see this") {
		t.Errorf("/qualify digest = %d %s", status, reply)
	}
	var ack struct {
		ResponseType string `json:"response_type"`
	}
	_ = json.Unmarshal(body, &ack)
	if ack.ResponseType == "in_channel" {
		t.Errorf("/qualify digest answered in the channel")
	}
	if n := len(digestMessages(t, fake)); n != 3 {
		t.Errorf("/qualify digest posted to the channel: %d digest messages, want 3", n)
	}
}

// Forty pending leads do not fit in one message: the digest is split, and
// slackfake (which rejects more than 50 blocks) accepts every part.
func TestDigest_Split(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 4, 9, 5, 0, 0, time.UTC)
	clk := triagetest.NewClock(now)
	fake := slackfake.New(t)
	app := runAt(t, clk, appOptions{fake: fake, extra: utcDigest + noReminders})
	for i := range 40 {
		// Straight into the store: the digest is under test, not 40 cards.
		_, _, err := app.DB.CreateLead(t.Context(), triage.Lead{
			Status: triage.StatusPending, Company: "Bulk <!here> BV " + strings.Repeat("x", i),
			CreatedAt: now.Add(-time.Duration(40-i) * time.Hour),
		}, triage.Idempotency{}, nil)
		if err != nil {
			t.Fatal(err)
		}
	}
	app.tickDigest(t, true)
	msgs := digestMessages(t, fake)
	if len(msgs) < 2 {
		t.Fatalf("%d digest messages, want the digest split", len(msgs))
	}
	if dead, _ := app.DB.DeadLetters(t.Context()); len(dead) > 0 {
		t.Fatalf("parts rejected by Slack: %+v", dead)
	}
	seen := map[string]bool{}
	for _, m := range msgs {
		var blocks []json.RawMessage
		if err := json.Unmarshal(m.Blocks, &blocks); err != nil {
			t.Fatal(err)
		}
		if len(blocks) > 50 {
			t.Errorf("a part has %d blocks", len(blocks))
		}
		txt := blockText(t, m.Blocks)
		if strings.Contains(txt, "<!here>") {
			t.Errorf("a part carries <!here> unescaped")
		}
		for i := 1; i <= 40; i++ {
			if strings.Contains(txt, "*L-"+itoa(i)+"*") {
				seen[itoa(i)] = true
			}
		}
	}
	if len(seen) != 40 {
		t.Errorf("%d of 40 pending leads listed across the parts", len(seen))
	}
}

func itoa(i int) string { return triage.LeadID(i).String()[2:] }

func TestDigest_Empty(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 4, 9, 5, 0, 0, time.UTC)
	t.Run("nothing pending line", func(t *testing.T) {
		t.Parallel()
		clk := triagetest.NewClock(now)
		fake := slackfake.New(t)
		app := runAt(t, clk, appOptions{fake: fake, extra: utcDigest})
		app.tickDigest(t, true)
		msgs := digestMessages(t, fake)
		if len(msgs) != 1 || !strings.Contains(blockText(t, msgs[0].Blocks), "Nothing pending") {
			t.Fatalf("digests = %v, want one saying nothing is pending", msgs)
		}
	})
	t.Run("skip_empty", func(t *testing.T) {
		t.Parallel()
		clk := triagetest.NewClock(now)
		fake := slackfake.New(t)
		app := runAt(t, clk, appOptions{fake: fake, extra: utcDigest + "skip_empty = true\n"})
		app.tickDigest(t, false)
		if n := len(digestMessages(t, fake)); n != 0 {
			t.Fatalf("%d digest messages with skip_empty = true", n)
		}
	})
}

// A digest missed while the bot was down is posted once at start-up; a
// first start posts none out of schedule.
func TestDigest_CatchUpAtStart(t *testing.T) {
	t.Parallel()
	clk := triagetest.NewClock(time.Date(2026, 3, 3, 12, 0, 0, 0, time.UTC)) // Tuesday noon
	fake := slackfake.New(t)
	dbPath := filepath.Join(t.TempDir(), "leadtriage.db")
	opts := appOptions{fake: fake, dbPath: dbPath, extra: utcDigest}
	app := runAt(t, clk, opts)
	app.postCard(t, "Patient BV")
	app.settled(t)
	if n := len(digestMessages(t, fake)); n != 0 {
		t.Fatalf("a first start posted %d digests", n)
	}
	app.tickDigest(t, true) // Tuesday's, late but within the grace window
	if err := app.Close(); err != nil {
		t.Fatal(err)
	}

	// Down from Tuesday noon to Wednesday 11:00: Wednesday 09:00 was missed.
	clk.Set(time.Date(2026, 3, 4, 11, 0, 0, 0, time.UTC))
	app2 := runAt(t, clk, opts)
	app2.waitFor(t, "the catch-up digest", func() bool { return len(digestMessages(t, fake)) == 2 })
	if txt := blockText(t, digestMessages(t, fake)[1].Blocks); !strings.Contains(txt, "Leads digest, Wed 4 Mar 2026") || !strings.Contains(txt, "Patient BV") {
		t.Errorf("catch-up digest:\n%s", txt)
	}
	app2.tickDigest(t, false) // the catch-up and the tick are one run
	if n := len(digestMessages(t, fake)); n != 2 {
		t.Errorf("%d digests, want 2", n)
	}
}
