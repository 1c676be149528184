package bot

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/leadtriage/leadtriage/triage"
)

// notices has one notice of every kind the domain records, with lead and
// configured text that tries to break out of mrkdwn.
func notices() []triage.Notice {
	until := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	tally := triage.Tally{Qualify: 2, Disqualify: 1}
	// A draft as older versions stored it, worded; drafts worded from
	// their facts are in TestRenderNotices_Drafts and draft_internal_test.go.
	draft := &triage.Draft{Language: "en", Subject: "Your request", Body: "Dear <!channel> & co,\n\n```not a fence```"}
	return []triage.Notice{
		{Kind: triage.NoticeVoted, Lead: 1, User: "UALICE", Choice: triage.ChoiceQualify},
		{Kind: triage.NoticeVoted, Lead: 1, User: "UALICE", Choice: triage.ChoiceDisqualify, Blind: true, Votes: 1, Quorum: 3},
		{Kind: triage.NoticeAlreadyVoted, Lead: 1, User: "UALICE", Choice: triage.ChoiceUnsure},
		{Kind: triage.NoticeClaimed, Lead: 1, User: "UALICE"},
		{Kind: triage.NoticeAutoDecided, Lead: 1, Status: triage.StatusQualified, Tally: tally},
		{Kind: triage.NoticeVetoed, Lead: 1, TeamLead: "ULEAD", Tally: tally, Criteria: []string{"budget"}},
		{Kind: triage.NoticeTie, Lead: 1, Tally: triage.Tally{Qualify: 1, Disqualify: 1}},
		{Kind: triage.NoticeDecideNow, Lead: 1, TeamLead: "ULEAD", Tally: tally, Status: triage.StatusQualified, Criteria: []string{"budget", "fit"}},
		{Kind: triage.NoticeDecideNow, Lead: 1, TeamLead: "ULEAD", Tally: triage.Tally{Qualify: 1, Disqualify: 1}},
		{Kind: triage.NoticeDissent, Lead: 1},
		{Kind: triage.NoticeDecided, Lead: 1, User: "ULEAD", Status: triage.StatusQualified, Owner: "UBOB"},
		{Kind: triage.NoticeDecided, Lead: 1, User: "ULEAD", Status: triage.StatusDisqualified, Reason: "Spam <!channel> *bold*"},
		{Kind: triage.NoticeDecided, Lead: 1, User: "ULEAD", Status: triage.StatusReferred, Partner: "Smith & <@U999>"},
		{Kind: triage.NoticeReopened, Lead: 1, User: "ULEAD", Status: triage.StatusDisqualified},
		{Kind: triage.NoticeAnswerHint, Lead: 1, User: "UALICE", Problems: []triage.ReplyProblem{
			{Criterion: "budget", Raw: "<!here> maybe", Accepted: "yes or no"}, {Criterion: "size", Raw: "lots", Accepted: "a number"},
			{Criterion: "fit", Raw: "big", Accepted: "one of: Team & Pro, <Enterprise>"}}},
		{Kind: triage.NoticeDeclineDraft, Lead: 1, Draft: draft},
		{Kind: triage.NoticeDeclineDraft, Lead: 1, Partner: "Smith <&> Co", Draft: draft},
		{Kind: triage.NoticeReferralDraft, Lead: 1, Partner: "Smith <&> Co", Draft: draft},
		{Kind: triage.NoticeReminder, Lead: 1, Waited: 4 * time.Hour},
		{Kind: triage.NoticeReminder, Lead: 1, Waited: 26*time.Hour + 30*time.Minute, BusinessHours: true, Team: true, Users: []string{"UALICE", "UCAROL"}},
		{Kind: triage.NoticeReminder, Lead: 1, Waited: 45 * time.Minute, Team: true},
		{Kind: triage.NoticeEscalation, Lead: 1, TeamLead: "ULEAD", Label: "Acme <!channel> & *Co*", Waited: 26 * time.Hour, BusinessHours: true, Votes: 2, Blind: true, Users: []string{"UALICE"}},
		{Kind: triage.NoticeEscalation, Lead: 1, TeamLead: "ULEAD", Label: "Acme", Waited: 30 * time.Hour, Votes: 3, Tally: triage.Tally{Qualify: 3}},
		{Kind: triage.NoticeEscalation, Lead: 1, TeamLead: "ULEAD", Label: "Acme", Waited: 30 * time.Hour},
		{Kind: triage.NoticeSnoozed, Lead: 1, User: "UALICE", Until: until},
		{Kind: triage.NoticeAlreadySnoozed, Lead: 1, User: "UALICE", Until: until},
		{Kind: triage.NoticeImported, Count: 40, Repeats: 3, Rejected: 1, Source: "beurs <!channel> *2026*"},
		{Kind: triage.NoticeImported, Count: 6, Repeats: 1, Rejected: 2},
		{Kind: triage.NoticeImported, Count: 12},
		{Kind: "from_a_newer_version", Lead: 1},
	}
}

// hintCriteria are the configured criteria an answer hint names: "size" is
// not among them (the config changed), so its hint keeps the stored words.
var hintCriteria = []triage.Criterion{{ID: "budget", Kind: triage.KindYesNo}, {ID: "fit", Kind: triage.KindChoice, Options: []string{"Team & Pro", "<Enterprise>"}}}

func TestRenderNotices(t *testing.T) { testRenderNotices(t, english) }

// The same notices in Dutch (ui.language = "nl").
func TestRenderNoticesNL(t *testing.T) { testRenderNotices(t, newWords(LangDutch)) }

func testRenderNotices(t *testing.T, w words) {
	t.Parallel()
	ams, err := time.LoadLocation("Europe/Amsterdam")
	if err != nil {
		t.Fatal(err)
	}
	type rendered struct {
		Kind  triage.NoticeKind `json:"kind"`
		Text  string            `json:"text"`
		Draft string            `json:"draft,omitempty"`
	}
	var all []rendered
	for _, n := range notices() {
		text, plain := noticeWords{w}.notice(n, ams, hintCriteria)
		if text == "" {
			t.Errorf("%s: no text", n.Kind)
		}
		if rest := allowedToken.ReplaceAllString(text, ""); strings.Contains(rest, "<") {
			t.Errorf("%s: mrkdwn holds a '<' outside the allowed tokens: %q", n.Kind, text)
		}
		if strings.Contains(text, "%!") {
			t.Errorf("%s: a format verb went wrong: %q", n.Kind, text)
		}
		// The outbox worker shows the draft escaped in a code block.
		_, blocks := replyContent(text, plain)
		checkNoInjection(t, blocksJSON(t, blocks))
		all = append(all, rendered{n.Kind, text, plain})
	}
	raw, err := json.Marshal(all)
	if err != nil {
		t.Fatal(err)
	}
	assertGolden(t, raw)
}

// The English notices say what the domain said before it recorded notices.
func TestRenderNotices_EnglishAsBefore(t *testing.T) {
	t.Parallel()
	ams, err := time.LoadLocation("Europe/Amsterdam")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		n    triage.Notice
		want string
	}{
		{triage.Notice{Kind: triage.NoticeVoted, Lead: 1, Choice: triage.ChoiceQualify, Blind: true, Votes: 1, Quorum: 3},
			"Your vote on *L-1*: *qualify*. 1 of 3 votes so far; the votes stay hidden until the quorum."},
		{triage.Notice{Kind: triage.NoticeVetoed, Lead: 1, TeamLead: "UTEAMLEAD", Tally: triage.Tally{Qualify: 2, Disqualify: 1}, Criteria: []string{"budget"}},
			"The vote on *L-1* says qualify (2 qualify, 1 disqualify, 0 unsure), but must-have `budget` is answered *no*. <@UTEAMLEAD>, your call."},
		{triage.Notice{Kind: triage.NoticeDecideNow, Lead: 1, Tally: triage.Tally{Qualify: 1}, Status: triage.StatusQualified},
			"Quorum reached on *L-1* (1 qualify, 0 disqualify, 0 unsure): the vote recommends *qualify*. Team lead, please decide."},
		{triage.Notice{Kind: triage.NoticeReminder, Lead: 1, Waited: 26 * time.Hour, BusinessHours: true, Team: true, Users: []string{"UALICE", "UCAROL"}},
			"*L-1* has waited 26h (business hours) without a claim or a decision. Not voted yet: <@UALICE>, <@UCAROL>."},
		{triage.Notice{Kind: triage.NoticeEscalation, Lead: 1, Label: "Acme <!channel> & Co", Waited: 26 * time.Hour, BusinessHours: true, Votes: 2, Blind: true, Users: []string{"UALICE", "UCAROL"}},
			"*L-1* (Acme &lt;!channel&gt; &amp; Co) has waited 26h (business hours) without a decision. Votes so far: 2 (hidden until the quorum). Not voted yet: <@UALICE>, <@UCAROL>."},
		{triage.Notice{Kind: triage.NoticeSnoozed, Lead: 1, Until: time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)},
			"Snoozed *L-1* until Tue 1 Dec 09:00."},
		{triage.Notice{Kind: triage.NoticeAnswerHint, Lead: 1, User: "UBOB", Problems: []triage.ReplyProblem{{Criterion: "budget", Accepted: "yes or no"}}},
			"<@UBOB>, I could not read that answer. Accepted: `budget`: yes or no. Write one per line, e.g. `budget: yes`; words after the answer are kept as a note."},
		{triage.Notice{Kind: triage.NoticeImported, Count: 40, Repeats: 3, Rejected: 1, Source: "spreadsheet & <b>"},
			"Imported 40 leads from spreadsheet &amp; &lt;b&gt;. 3 were already there, 1 bad row skipped. Their cards follow here at Slack's pace."},
	} {
		if got, _ := (noticeWords{english}).notice(tc.n, ams, nil); got != tc.want {
			t.Errorf("%s:\n got %q\nwant %q", tc.n.Kind, got, tc.want)
		}
	}
}
