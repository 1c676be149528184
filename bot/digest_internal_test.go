package bot

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/leadtriage/leadtriage/slackfake"
	"github.com/leadtriage/leadtriage/triage"
	"github.com/slack-go/slack"
)

var digestNow = time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)

// testPermalink is links.permalink with a known team URL.
func testPermalink(channel, ts string) string {
	b := &Bot{links: links{url: "https://acme.slack.com/"}}
	return b.links.permalink(channel, ts)
}

func digestLead(id int, label string, age time.Duration) triage.DigestLead {
	return triage.DigestLead{
		ID: triage.LeadID(id), Label: label, Status: triage.StatusPending,
		CreatedAt: digestNow.Add(-age), Channel: "CTRIAGE", TS: fmt.Sprintf("1764400000.%06d", id),
	}
}

func sampleWeek() *triage.TimingSummary {
	return &triage.TimingSummary{
		Since: digestNow.Add(-7 * 24 * time.Hour), Until: digestNow, Count: 12,
		MedianFirstVote: 80 * time.Minute, MedianClaim: 3 * time.Hour, MedianDecision: 26 * time.Hour,
		FirstVotes: 10, Claims: 6, Decisions: 8,
	}
}

func TestRenderDigestPart(t *testing.T) { testRenderDigestPart(t, english) }

// The same digests in Dutch (ui.language = "nl").
func TestRenderDigestPartNL(t *testing.T) { testRenderDigestPart(t, newWords(LangDutch)) }

func testRenderDigestPart(t *testing.T, w words) {
	t.Parallel()
	ams, err := time.LoadLocation("Europe/Amsterdam")
	if err != nil {
		t.Fatal(err)
	}
	voted := digestLead(3, "Acme <!channel> & Sons", 52*time.Hour)
	voted.Votes, voted.Flags = 2, []string{"domain_young", "free_email"}
	unposted := digestLead(4, "Beta GmbH", 90*time.Minute)
	unposted.TS, unposted.Votes = "", 1
	qualified := digestLead(1, "Gamma BV", 5*24*time.Hour)
	qualified.Status, qualified.DecidedAt, qualified.Reason = triage.StatusQualified, digestNow.Add(-20*time.Hour), "Budget <confirmed>"
	second := digestLead(2, "Delta Ltd", 120*24*time.Hour)
	second.Status, second.DecidedAt, second.Reason = triage.StatusDisqualified, time.Date(2026, 8, 31, 22, 30, 0, 0, time.UTC), "Too small"

	for _, tt := range []struct {
		name string
		part triage.DigestPart
	}{
		{"Normal", triage.DigestPart{
			Key: "digest|2026-11-30T09:00 Europe/Amsterdam", Part: 1, Parts: 1, Day: time.Date(2026, 11, 30, 9, 0, 0, 0, ams),
			Pending: []triage.DigestLead{voted, unposted}, Decided: []triage.DigestLead{qualified}, Week: sampleWeek(),
		}},
		// A part queued before the bot worded titles keeps its own.
		{"Empty", triage.DigestPart{Part: 1, Parts: 1, Title: "Leads digest, Mon 30 Nov 2026", Empty: true, Week: &triage.TimingSummary{}}},
		{"Revisit", triage.DigestPart{
			Part: 2, Parts: 2, Day: time.Date(2026, 11, 30, 9, 0, 0, 0, ams), Revisit: []triage.DigestLead{second}, Week: sampleWeek(),
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			text, blocks := digestWords{w}.part(tt.part, testPermalink, ams, digestNow)
			raw := cardJSON(t, text, blocks)
			checkNoInjection(t, raw)
			if p := slackfake.ValidateBlocks(blocksJSON(t, blocks), slackfake.MaxMessageBlocks); len(p) > 0 {
				t.Errorf("blocks invalid: %v", p)
			}
			assertGolden(t, raw)
		})
	}
}

// The revisit date is the decision's day in the digest's time zone: 22:30
// UTC on 31 August is 1 September in Amsterdam.
func TestRenderDigestPart_RevisitDateInLocation(t *testing.T) {
	t.Parallel()
	ams, err := time.LoadLocation("Europe/Amsterdam")
	if err != nil {
		t.Fatal(err)
	}
	l := digestLead(2, "Delta", 100*24*time.Hour)
	l.Status, l.DecidedAt = triage.StatusDisqualified, time.Date(2026, 8, 31, 22, 30, 0, 0, time.UTC)
	p := triage.DigestPart{Part: 1, Parts: 1, Revisit: []triage.DigestLead{l}}
	for loc, want := range map[*time.Location]string{ams: "disqualified on Tue 1 Sep 2026", time.UTC: "disqualified on Mon 31 Aug 2026", nil: "disqualified on Mon 31 Aug 2026"} {
		_, blocks := renderDigestPart(p, testPermalink, loc, digestNow)
		if got := string(blocksJSON(t, blocks)); !strings.Contains(got, want) {
			t.Errorf("loc %v: blocks lack %q: %s", loc, want, got)
		}
	}
}

// maximalLead is a lead whose every text is as long and as hostile as it
// gets: each character escapes to an entity.
func maximalLead(i int, st triage.Status) triage.DigestLead {
	l := digestLead(i, strings.Repeat("<&>", 400)+"<!channel>", 400*24*time.Hour)
	l.Status, l.Votes = st, 99
	l.Reason = strings.Repeat("&<@U123>", 200)
	for j := range 20 {
		l.Flags = append(l.Flags, strings.Repeat(fmt.Sprintf("flag%d`<", j), 30))
	}
	l.DecidedAt = digestNow.Add(-100 * 24 * time.Hour)
	return l
}

func TestRenderDigestPart_Limits(t *testing.T) {
	t.Parallel()
	full := func(pending, decided, revisit int) triage.DigestPart {
		p := triage.DigestPart{Part: 3, Parts: 3, Title: strings.Repeat("<T>", 200), Week: sampleWeek()}
		for i := range pending {
			p.Pending = append(p.Pending, maximalLead(1000+i, triage.StatusPending))
		}
		for i := range decided {
			p.Decided = append(p.Decided, maximalLead(2000+i, triage.StatusQualified))
		}
		for i := range revisit {
			p.Revisit = append(p.Revisit, maximalLead(3000+i, triage.StatusDisqualified))
		}
		return p
	}
	for _, tt := range []struct {
		name          string
		part          triage.DigestPart
		shown, hidden int
	}{
		// A default part (triage.DefaultDigestPart leads) shows every lead.
		{"DefaultPartPending", full(triage.DefaultDigestPart, 0, 0), triage.DefaultDigestPart, 0},
		{"DefaultPartMixed", full(5, 5, 5), 15, 0},
		// A merged preview of a big digest is cut, and says so.
		{"Merged", full(200, 100, 50), -1, -1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			text, blocks := renderDigestPart(tt.part, testPermalink, time.UTC, digestNow)
			raw := blocksJSON(t, blocks)
			if p := slackfake.ValidateBlocks(raw, slackfake.MaxMessageBlocks); len(p) > 0 {
				t.Errorf("blocks invalid: %v", p)
			}
			if n := slackfake.BlocksTextLen(raw); n > slackfake.MaxMessageBlocksText {
				t.Errorf("blocks carry %d characters, more than %d", n, slackfake.MaxMessageBlocksText)
			}
			if n := len([]rune(text)); n > maxFallbackText {
				t.Errorf("fallback text has %d runes", n)
			}
			checkNoInjection(t, cardJSON(t, text, blocks))
			shown := strings.Count(string(unescapeHTML(raw)), "|card>")
			more := strings.Contains(string(raw), "more that do not fit")
			switch {
			case tt.shown >= 0 && (shown != tt.shown || more):
				t.Errorf("leads shown = %d (more line %v), want %d and no more line", shown, more, tt.shown)
			case tt.shown < 0 && (!more || shown == 0):
				t.Errorf("leads shown = %d (more line %v), want some and a more line", shown, more)
			}
		})
	}
}

func FuzzRenderDigestPart(f *testing.F) {
	f.Add("Acme <!here>", "budget <@U1>", "domain_young", 3, int64(3600))
	f.Add(strings.Repeat("&", 500), "", "`", 0, int64(-5))
	f.Fuzz(func(t *testing.T, label, reason, flag string, n int, ageSec int64) {
		n = min(max(n, 0), 40)
		p := triage.DigestPart{Part: 1, Parts: 2, Title: label, Week: sampleWeek()}
		for i := range n {
			l := digestLead(i+1, label, time.Duration(ageSec)*time.Second)
			l.Reason, l.Flags, l.Channel = reason, []string{flag, flag}, label
			switch i % 3 {
			case 0:
				p.Pending = append(p.Pending, l)
			case 1:
				p.Decided = append(p.Decided, l)
			default:
				p.Revisit = append(p.Revisit, l)
			}
		}
		text, blocks := renderDigestPart(p, testPermalink, time.UTC, digestNow)
		raw := blocksJSON(t, blocks)
		if p := slackfake.ValidateBlocks(raw, slackfake.MaxMessageBlocks); len(p) > 0 {
			t.Fatalf("blocks invalid: %v", p)
		}
		if n := slackfake.BlocksTextLen(raw); n > slackfake.MaxMessageBlocksText {
			t.Fatalf("blocks carry %d characters", n)
		}
		checkNoInjection(t, cardJSON(t, text, blocks))
	})
}

func TestShortDuration(t *testing.T) {
	t.Parallel()
	for d, want := range map[time.Duration]string{
		-time.Hour: "&lt;1m", 0: "&lt;1m", 59 * time.Second: "&lt;1m", time.Minute: "1m", 59 * time.Minute: "59m",
		time.Hour: "1h", 80 * time.Minute: "1h 20m", 23*time.Hour + 59*time.Minute: "23h 59m",
		24 * time.Hour: "1d", 26 * time.Hour: "1d 2h", 52*time.Hour + 30*time.Minute: "2d 4h", 300 * 24 * time.Hour: "300d",
	} {
		if got := english.shortDuration(d); got != want {
			t.Errorf("shortDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestWeekLine(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		w    triage.TimingSummary
		want string
	}{
		{*sampleWeek(), "This week: 12 leads · median first vote 1h 20m · claim 3h · decision 1d 2h"},
		{triage.TimingSummary{}, "This week: no new leads."},
		{triage.TimingSummary{Count: 1, FirstVotes: 1, MedianFirstVote: 5 * time.Minute}, "This week: 1 lead · median first vote 5m · claim none yet · decision none yet"},
	} {
		if got := (digestWords{english}).weekLine(tt.w); got != tt.want {
			t.Errorf("weekLine(%+v) = %q, want %q", tt.w, got, tt.want)
		}
	}
}

func TestMergeDigest(t *testing.T) {
	t.Parallel()
	a, b, c := digestLead(1, "A", time.Hour), digestLead(2, "B", time.Hour), digestLead(3, "C", time.Hour)
	week := sampleWeek()
	got := mergeDigest([]triage.DigestPart{
		{Part: 1, Parts: 2, Title: "T", Pending: []triage.DigestLead{a, b}},
		{Part: 2, Parts: 2, Title: "T", Pending: []triage.DigestLead{c}, Revisit: []triage.DigestLead{a}, Week: week},
	})
	want := triage.DigestPart{Part: 1, Parts: 1, Title: "T", Pending: []triage.DigestLead{a, b, c}, Revisit: []triage.DigestLead{a}, Week: week}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("mergeDigest (-want +got):\n%s", diff)
	}
	if got := mergeDigest(nil); !got.Empty {
		t.Errorf("mergeDigest(nil) = %+v, want empty", got)
	}
}

// /qualify digest shows the caller the digest as it stands: pending leads
// escaped and linked, decisions, second looks; and marks nothing, so the
// channel digest still shows the second look.
func TestBot_CommandDigest(t *testing.T) {
	t.Parallel()
	f := newCmdFixture(t, nil)
	f.bot.cfg.Digest = triage.DigestOptions{Channel: cmdChannel, RevisitAfter: 30 * 24 * time.Hour}
	old := f.submit(t, "Oldco <@U999>", 60*24*time.Hour)
	pending := f.submit(t, "Acme <!channel> & Sons", 50*time.Hour)
	f.deliver(t)
	f.svc.Now = func() time.Time { return cmdNow.Add(-40 * 24 * time.Hour) }
	if _, err := f.svc.DecideByHand(t.Context(), old.ID, "ULEAD", triage.DecisionInput{Outcome: triage.StatusDisqualified, Reason: "No <budget>"}); err != nil {
		t.Fatal(err)
	}
	f.svc.Now = func() time.Time { return cmdNow }

	for range 2 { // twice: the preview marks nothing
		r := f.exec(t, cmdUser, "digest", nil)
		checkLimits(t, r)
		got := replyText(t, r)
		for _, want := range []string{
			"Leads digest, Sat 28 Nov 2026",
			"*Pending (1)*",
			"*" + pending.ID.String() + "* · Acme &lt;!channel&gt; &amp; Sons · 2d 2h · no votes · <" + cardURL(f.lead(t, pending.ID)) + "|card>",
			"*Worth another look (1)*",
			"*" + old.ID.String() + "* · Oldco &lt;@U999&gt; · disqualified on Mon 19 Oct 2026 · reason: No &lt;budget&gt;",
			digestPreview,
		} {
			if !strings.Contains(got, want) {
				t.Errorf("digest reply lacks %q:\n%s", want, got)
			}
		}
		if strings.Contains(got, "<!channel>") || strings.Contains(got, "<@U999>") {
			t.Errorf("digest reply carries lead text unescaped:\n%s", got)
		}
	}
	if l := f.lead(t, old.ID); !l.Reminder.Revisited.IsZero() {
		t.Errorf("the preview marked %s as shown again at %v", old.ID, l.Reminder.Revisited)
	}
}

// With digest.skip_empty and nothing to say, the preview says so.
func TestBot_CommandDigest_SkipEmpty(t *testing.T) {
	t.Parallel()
	f := newCmdFixture(t, nil)
	f.bot.cfg.Digest = triage.DigestOptions{SkipEmpty: true}
	if got := f.exec(t, cmdUser, "digest", nil).Text; got != digestNothing {
		t.Errorf("digest = %q, want %q", got, digestNothing)
	}
}

// A big digest (100 leads × ~150 runes) is cut to one message in the preview, and says so.
func TestBot_CommandDigest_Many(t *testing.T) {
	t.Parallel()
	f := newCmdFixture(t, nil)
	for i := range 100 {
		f.submit(t, strings.Repeat("<Big & Co> ", 8)+fmt.Sprint(i), time.Duration(200-i)*time.Hour)
	}
	r := f.exec(t, cmdUser, "digest", nil)
	checkLimits(t, r)
	got := replyText(t, r)
	if !strings.Contains(got, "*Pending (100)*") || !strings.Contains(got, "more that do not fit") {
		t.Errorf("digest reply of 100 leads:\n%s", got)
	}
	var n int
	for _, bl := range r.Blocks {
		if bl.BlockType() == slack.MBTSection {
			n++
		}
	}
	if n < 2 {
		t.Errorf("sections = %d, want the lines packed into several", n)
	}
	raw, _ := json.Marshal(r.Blocks)
	checkNoInjection(t, raw)
}
