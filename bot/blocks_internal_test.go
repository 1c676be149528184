package bot

import (
	"encoding/json"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/leadtriage/leadtriage/slackfake"
	"github.com/leadtriage/leadtriage/triage"
	"github.com/slack-go/slack"
)

var (
	cardNow  = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	cardPol  = triage.Policy{Quorum: 3, Blind: true, Auto: true, TeamLead: "ULEAD"}
	received = time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)
)

func freshLead() triage.Lead {
	return triage.Lead{
		ID:        3,
		Status:    triage.StatusPending,
		Company:   "Acme & Sons",
		Name:      "Jan Jansen",
		Email:     "jan.jansen+CANARY@voorbeeld.nl",
		Phone:     "+31 20 123 4567",
		Website:   "https://www.acme.example/about?x=1&y=2",
		Domain:    "acme.example",
		Message:   "We need 40 seats.\nCan you call me?",
		Source:    "webhook",
		Founded:   2019,
		Employees: 12,
		Extra:     map[string]string{"utm_source": "newsletter"},
		CreatedAt: received,
	}
}

// cardJSON is what the outbox worker sends: the fallback text and the blocks.
func cardJSON(t testing.TB, text string, blocks []slack.Block) []byte {
	t.Helper()
	b, err := json.Marshal(struct {
		Text   string        `json:"text"`
		Blocks []slack.Block `json:"blocks"`
	}{text, blocks})
	if err != nil {
		t.Fatalf("marshalling card: %v", err)
	}
	return b
}

func blocksJSON(t testing.TB, blocks []slack.Block) json.RawMessage {
	t.Helper()
	b, err := json.Marshal(blocks)
	if err != nil {
		t.Fatalf("marshalling blocks: %v", err)
	}
	return b
}

func TestRenderCard(t *testing.T) { testRenderCard(t, english) }

// The same cards in Dutch (ui.language = "nl").
func TestRenderCardNL(t *testing.T) { testRenderCard(t, newWords(LangDutch)) }

func testRenderCard(t *testing.T, w words) {
	t.Parallel()
	decidedAt := received.Add(2 * time.Hour)
	cases := []struct {
		name string
		lead func() triage.Lead
		pol  triage.Policy // zero: cardPol
	}{
		{"Pending", freshLead, triage.Policy{}},
		{"BlindTwoOfThree", func() triage.Lead {
			l := freshLead()
			l.Votes = map[string]triage.Choice{"UALICE": triage.ChoiceQualify, "UBOB": triage.ChoiceDisqualify}
			l.Research = triage.Research{Summary: "Domain registered 2011; website reachable.", At: received}
			return l
		}, triage.Policy{}},
		{"RevealedTie", func() triage.Lead {
			l := freshLead()
			l.Votes = map[string]triage.Choice{"UALICE": triage.ChoiceQualify, "UBOB": triage.ChoiceDisqualify, "UCAROL": triage.ChoiceUnsure}
			l.Research = triage.Research{
				Summary: "Domain registered last month.",
				Flags:   []triage.Flag{{Code: "domain_young", Detail: "registered 2026-02-01"}, {Code: "claim_mismatch", Detail: "founded 2019 claimed"}},
				At:      received,
			}
			return l
		}, triage.Policy{}},
		{"QualifiedWithOwner", func() triage.Lead {
			l := freshLead()
			l.Votes = map[string]triage.Choice{"UALICE": triage.ChoiceQualify, "UBOB": triage.ChoiceQualify, "UCAROL": triage.ChoiceUnsure}
			l.Status = triage.StatusQualified
			l.Owner = "UBOB"
			l.Decision = &triage.Decision{Outcome: triage.StatusQualified, Reason: "qualified by vote (2 qualify, 0 disqualify, 1 unsure)", By: triage.DecidedByPolicy, At: decidedAt}
			return l
		}, triage.Policy{}},
		{"Disqualified", func() triage.Lead {
			l := freshLead()
			l.Status = triage.StatusDisqualified
			l.Decision = &triage.Decision{Outcome: triage.StatusDisqualified, Reason: "Too small for us <3", By: "ULEAD", At: decidedAt}
			return l
		}, triage.Policy{}},
		{"ReferredByHand", func() triage.Lead {
			l := freshLead()
			l.Status = triage.StatusReferred
			l.Decision = &triage.Decision{Outcome: triage.StatusReferred, Reason: "referred to Smith & Co", Partner: "Smith & Co",
				Note: "Great people, wrong size.\nSmith <b>does</b> small shops.", By: "ULEAD", At: decidedAt}
			return l
		}, triage.Policy{}},
		{"Criteria", func() triage.Lead {
			l := partlyAnswered()
			answer(&l, "budget", "UBOB", triage.AnswerNo, received.Add(time.Hour))
			answer(&l, "timing", "UALICE", "4", received)
			return l
		}, ckPol},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			pol := tc.pol
			if pol.Quorum == 0 {
				pol = cardPol
			}
			text, blocks := cardWords{w}.card(tc.lead(), pol, cardNow)
			raw := blocksJSON(t, blocks)
			if problems := slackfake.ValidateBlocks(raw, slackfake.MaxMessageBlocks); len(problems) > 0 {
				t.Errorf("blocks invalid: %v", problems)
			}
			assertGolden(t, cardJSON(t, text, blocks))
		})
	}
}

// actionIDs lists the card's buttons as "action_id=value".
func actionIDs(blocks []slack.Block) []string {
	var out []string
	for _, b := range blocks {
		a, ok := b.(*slack.ActionBlock)
		if !ok {
			continue
		}
		for _, e := range a.Elements.ElementSet {
			if btn, ok := e.(*slack.ButtonBlockElement); ok {
				out = append(out, btn.ActionID+"="+btn.Value)
			}
		}
	}
	return out
}

func TestRenderCard_Buttons(t *testing.T) {
	t.Parallel()
	votes := []string{"lead.vote.qualify=L-3", "lead.vote.disqualify=L-3", "lead.vote.unsure=L-3", "lead.claim=L-3", "lead.research=L-3", "lead.decide=L-3"}
	cases := []struct {
		name   string
		status triage.Status
		owner  string
		want   []string
	}{
		{"PendingUnclaimed", triage.StatusPending, "", votes},
		{"PendingClaimed", triage.StatusPending, "U9", votes},
		{"QualifiedUnclaimed", triage.StatusQualified, "", []string{"lead.claim=L-3", "lead.decide=L-3"}},
		{"QualifiedClaimed", triage.StatusQualified, "U9", []string{"lead.decide=L-3"}},
		{"Disqualified", triage.StatusDisqualified, "", []string{"lead.decide=L-3"}},
		{"Referred", triage.StatusReferred, "", []string{"lead.decide=L-3"}},
		{"UnknownStatus", "<!here>", "", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			l := freshLead()
			l.Status, l.Owner = tc.status, tc.owner
			_, blocks := renderCard(l, cardPol, cardNow)
			if diff := cmp.Diff(tc.want, actionIDs(blocks)); diff != "" {
				t.Errorf("buttons (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCriteriaLine(t *testing.T) {
	t.Parallel()
	cs := []triage.Criterion{{ID: "need", Must: true}, {ID: "budget", Must: true}, {ID: "timing"}, {ID: "fit"}, {ID: "x`<!here>"}}
	noMust := []triage.Criterion{{ID: "timing"}}
	cases := []struct {
		name string
		cs   []triage.Criterion
		st   triage.CriteriaStatus
		want string
	}{
		{"Fresh", cs, triage.CriteriaStatus{Total: 5, MustOpen: []string{"need", "budget"}, MaxScore: 0},
			"*Criteria:* 0 of 5 answered · must-haves: 2 open"},
		{"MustNo", cs, triage.CriteriaStatus{Answered: 3, Total: 5, MustNo: []string{"need"}, MustOpen: []string{"budget"}, Score: 7, MaxScore: 12,
			Disagree: dis("budget", "2 yes, 1 no")},
			"*Criteria:* 3 of 5 answered · must-haves: `need` answered *no* · score 7/12 · disagreement on `budget` (2 yes, 1 no)"},
		{"AllMet", cs, triage.CriteriaStatus{Answered: 5, Total: 5, Score: 12, MaxScore: 12},
			"*Criteria:* 5 of 5 answered · must-haves: all met · score 12/12"},
		{"NoMustHaves", noMust, triage.CriteriaStatus{Answered: 1, Total: 1, Score: 1, MaxScore: 2},
			"*Criteria:* 1 of 1 answered · score 1/2"},
		{"ManyDisagreements", cs, triage.CriteriaStatus{Answered: 5, Total: 5, MustNo: []string{"need", "budget", "timing", "fit"},
			Disagree: dis("need", "1 yes, 1 no", "budget", "1 yes, 1 no", "timing", "1 4, 1 2", "fit", "1 a, 1 b", "x`<!here>", "1 <!channel>, 1 b")},
			"*Criteria:* 5 of 5 answered · must-haves: `need`, `budget`, `timing`, 1 more answered *no* · disagreement on `need` (1 yes, 1 no), `budget` (1 yes, 1 no), `timing` (1 4, 1 2), 2 more"},
		{"Injection", cs[4:], triage.CriteriaStatus{Answered: 1, Total: 1, Disagree: dis("x`<!here>", "1 <!channel>, 1 <@U1>")},
			"*Criteria:* 1 of 1 answered · disagreement on `x'&lt;!here&gt;` (1 &lt;!channel&gt;, 1 &lt;@U1&gt;)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := (cardWords{english}).criteriaLine(tc.cs, tc.st); got != tc.want {
				t.Errorf("criteriaLine =\n%q, want\n%q", got, tc.want)
			}
		})
	}
	long := triage.CriteriaStatus{Disagree: dis()}
	var many []triage.Criterion
	for i := range 50 {
		id := strings.Repeat("&", 100) + string(rune('a'+i%26)) + strings.Repeat("b", i)
		many = append(many, triage.Criterion{ID: id, Must: true})
		long.MustNo = append(long.MustNo, id)
		long.Disagree[id] = []triage.AnswerCount{{Value: strings.Repeat("<x>", 500), N: 1}}
	}
	if got := (cardWords{english}).criteriaLine(many, long); utf8.RuneCountInString(got) > maxCriteriaLine {
		t.Errorf("criteria line is %d characters, want at most %d", utf8.RuneCountInString(got), maxCriteriaLine)
	}
}

func TestRenderCard_CriteriaLine(t *testing.T) {
	t.Parallel()
	l := partlyAnswered()
	answer(&l, "budget", "UBOB", triage.AnswerNo, received.Add(time.Hour))
	_, blocks := renderCard(l, ckPol, cardNow)
	raw := string(unescapeHTML(blocksJSON(t, blocks)))
	// need: 2 yes 1 no, value yes (latest); budget: no (must-have) by UBOB.
	for _, want := range []string{"*Criteria:* 3 of 6 answered", "must-haves: `budget` answered *no*", "disagreement on `need` (2 yes, 1 no)"} {
		if !strings.Contains(raw, want) {
			t.Errorf("card lacks %q:\n%s", want, raw)
		}
	}
	_, blocks = renderCard(l, cardPol, cardNow)
	if strings.Contains(string(blocksJSON(t, blocks)), "Criteria:") {
		t.Error("card without configured criteria shows a criteria line")
	}
}

func TestRenderCard_BlindVotesHidden(t *testing.T) {
	t.Parallel()
	l := freshLead()
	l.Votes = map[string]triage.Choice{"UALICE": triage.ChoiceQualify, "UBOB": triage.ChoiceDisqualify}
	text, blocks := renderCard(l, cardPol, cardNow)
	out := string(unescapeHTML(cardJSON(t, text, blocks)))
	for _, leak := range []string{"UALICE", "UBOB", "Qualify:", "Disqualify:"} {
		if strings.Contains(out, leak) {
			t.Errorf("blind card shows %q before the quorum:\n%s", leak, out)
		}
	}
	if !strings.Contains(out, "2 of 3 votes — hidden until the quorum") {
		t.Errorf("blind card does not say how many votes are in:\n%s", out)
	}

	// Without blind voting the same votes are shown.
	open := cardPol
	open.Blind = false
	text, blocks = renderCard(l, open, cardNow)
	out = string(unescapeHTML(cardJSON(t, text, blocks)))
	for _, want := range []string{"<@UALICE>", "<@UBOB>"} {
		if !strings.Contains(out, want) {
			t.Errorf("open card lacks %q:\n%s", want, out)
		}
	}
}

func TestRenderCard_ResearchPending(t *testing.T) {
	t.Parallel()
	_, blocks := renderCard(freshLead(), cardPol, cardNow)
	if !strings.Contains(string(blocksJSON(t, blocks)), "Research pending…") {
		t.Error("a lead without research does not say research is pending")
	}
	l := freshLead()
	l.Research = triage.Research{Flags: []triage.Flag{{Code: "free_email"}}, At: received}
	_, blocks = renderCard(l, cardPol, cardNow)
	raw := string(blocksJSON(t, blocks))
	if strings.Contains(raw, "Research pending") || !strings.Contains(raw, "free_email") {
		t.Errorf("research flags not shown: %s", raw)
	}
}

// injections are the Slack control sequences a lead might try to smuggle in
// (RELIABILITY I1, I2).
const injections = "<!channel> <!here> <!everyone> <!subteam^S1> <@U123> <#C1> <https://evil.example|bank> &lt; <b>"

// allowedToken matches the "<…>" tokens the card template may emit: mentions
// of validated user ids, date tokens, links to validated websites labelled
// with their host, and links labelled with the card's own fixed words.
var allowedToken = regexp.MustCompile(`<@[UW][A-Z0-9]{2,30}>|<!date\^[0-9]+\^\{date_short_pretty\} \{time\}\|[0-9TZ:+-]+>|<https?://[^|<>\s]+\|(?:[a-z0-9.-]+|LinkedIn|X|Facebook|Instagram|LinkedIn companies|LinkedIn people|LinkedIn bedrijven|LinkedIn mensen|Google|KvK|Companies House)>`)

// texts returns every string stored under a "text" key in the JSON, with
// its path, plus (separately) every other string value.
func texts(t testing.TB, raw []byte) (textValues, otherValues []string) {
	t.Helper()
	var x any
	if err := json.Unmarshal(raw, &x); err != nil {
		t.Fatalf("decoding card: %v", err)
	}
	var walk func(key string, v any)
	walk = func(key string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, e := range v {
				walk(k, e)
			}
		case []any:
			for _, e := range v {
				walk(key, e)
			}
		case string:
			if key == "text" {
				textValues = append(textValues, v)
			} else {
				otherValues = append(otherValues, v)
			}
		}
	}
	walk("", x)
	return textValues, otherValues
}

// textObjects sorts the texts of a message or view by how Slack reads
// them: mrkdwn (mrkdwn text objects and a message's top-level notification
// text) and plain_text (shown literally).
func textObjects(t testing.TB, raw []byte) (mrkdwnTexts, plainTexts []string) {
	t.Helper()
	var x any
	if err := json.Unmarshal(raw, &x); err != nil {
		t.Fatalf("decoding blocks: %v", err)
	}
	var walk func(v any, root bool)
	walk = func(v any, root bool) {
		switch v := v.(type) {
		case map[string]any:
			if s, ok := v["text"].(string); ok {
				switch typ, _ := v["type"].(string); {
				case typ == "plain_text":
					plainTexts = append(plainTexts, s)
				case typ == "mrkdwn", root && typ == "":
					mrkdwnTexts = append(mrkdwnTexts, s)
				}
			}
			for _, e := range v {
				walk(e, false)
			}
		case []any:
			for _, e := range v {
				walk(e, false)
			}
		}
	}
	walk(x, true)
	return mrkdwnTexts, plainTexts
}

// checkNoInjection fails if any mrkdwn text in the card holds a "<" that is
// not part of an allowed token (a raw injection sequence), or any text is not
// valid UTF-8. plain_text may hold "<": Slack shows it literally.
func checkNoInjection(t testing.TB, card []byte) {
	t.Helper()
	mt, pt := textObjects(t, card)
	for _, s := range mt {
		rest := allowedToken.ReplaceAllString(s, "")
		if strings.Contains(rest, "<") {
			t.Errorf("mrkdwn text holds a '<' outside the allowed tokens: %q", s)
		}
	}
	for _, s := range append(mt, pt...) {
		if !utf8.ValidString(s) {
			t.Errorf("text is not valid UTF-8: %q", s)
		}
	}
}

func TestRenderCard_Injection(t *testing.T) {
	t.Parallel()
	l := triage.Lead{
		ID:        7,
		Status:    triage.StatusPending,
		Company:   "Evil " + injections,
		Name:      injections,
		Email:     injections + "@evil.example",
		Phone:     injections,
		Website:   "https://evil.example/a|b<c>d?q=<!channel>",
		Domain:    injections,
		Message:   injections + "\n" + injections,
		Source:    injections,
		Extra:     map[string]string{injections: injections},
		CreatedAt: received,
		CreatedBy: injections,
		Owner:     "<!channel>",
		Votes:     map[string]triage.Choice{"<!here>": triage.ChoiceQualify, "U1|<!channel>": triage.Choice(injections), "UBOB": triage.ChoiceQualify},
		Research:  injectedResearch(),
	}
	injCriteria := []triage.Criterion{
		{ID: injections[:10], Question: injections, Kind: triage.KindYesNo, Must: true, Weight: 2, Help: injections},
		{ID: "t", Question: injections, Kind: triage.KindText, Help: injections},
		{ID: "c", Question: injections, Kind: triage.KindChoice, Options: []string{injections}, Weight: 1},
	}
	for _, c := range injCriteria {
		answer(&l, c.ID, "<!channel>", injections, received)
		answer(&l, c.ID, "UBOB", triage.AnswerNo, received.Add(time.Minute))
	}
	policies := []triage.Policy{cardPol, {Quorum: 1, Blind: false, TeamLead: "<!channel>", Criteria: injCriteria,
		Reasons: []string{injections}, Partners: []triage.Partner{{Name: injections, Fits: injections, Contact: injections}}}}
	for _, status := range []triage.Status{triage.StatusPending, triage.StatusQualified, triage.StatusDisqualified, "<!here>"} {
		for _, p := range policies {
			l := l
			l.Status = status
			if status != triage.StatusPending {
				l.Decision = &triage.Decision{Outcome: status, Reason: injections, Note: injections + "\n" + injections, Partner: injections, By: injections, At: received}
			}
			text, blocks := renderCard(l, p, cardNow)
			card := cardJSON(t, text, blocks)
			checkNoInjection(t, card)
			for _, raw := range []string{"<!channel>", "<!here>", "<!everyone>", "<!subteam", "<@U123>", "<#C1>", "<https://evil.example|bank>", "<b>"} {
				if strings.Contains(string(card), raw) {
					t.Errorf("status %s: card contains %q", status, raw)
				}
			}
			tv, _ := texts(t, card)
			joined := strings.Join(tv, "\n")
			if !strings.Contains(joined, "&lt;!channel&gt;") {
				t.Errorf("status %s: escaped lead text missing from card", status)
			}
			if !strings.Contains(joined, "&amp;lt;") {
				t.Errorf("status %s: '&lt;' in lead text was not escaped to '&amp;lt;'", status)
			}
			if got, want := strings.Contains(joined, "<@UBOB>"), triage.Revealed(&l, p); got != want {
				t.Errorf("status %s: valid voter mention shown=%v, want %v", status, got, want)
			}
		}
	}
}

// injectedResearch is research whose every string is hostile: web pages
// and registries are as untrusted as the lead itself.
func injectedResearch() triage.Research {
	return triage.Research{
		Summary: injections,
		Flags: []triage.Flag{
			{Code: injections, Detail: injections, Source: injections},
			{Code: triage.FlagClaimMismatch, Detail: "<!channel> " + injections, Source: "claims"},
		},
		Facts: triage.Facts{
			DomainRegistered: received,
			Website: triage.Website{
				FinalURL:  "https://evil.example/a|<!channel>?q=<@U123>",
				Reachable: true,
				Title:     injections,
				Social: map[string]string{
					"linkedin":  "https://linkedin.com/company/x|<!here>",
					"x":         "https://x.com/a b<!everyone>?x=<!here>",
					"facebook":  "https://facebook.com.evil.example/<!channel>",
					"instagram": injections,
				},
			},
			Registry: &triage.Registry{Source: injections, Number: injections, Name: injections, Status: injections, Incorporated: received},
		},
		At: received,
	}
}

func TestWebsiteLink(t *testing.T) {
	t.Parallel()
	cases := []struct{ in, want string }{
		{"https://acme.example/", "<https://acme.example/|acme.example>"},
		{"https://www.acme.example/about?x=1&y=2", "<https://www.acme.example/about?x=1&amp;y=2|acme.example>"},
		{"https://evil.example/a|b<c>d", "<https://evil.example/a%7Cb%3Cc%3Ed|evil.example>"},
		{"https://xn--80ak6aa92e.com/", "<https://xn--80ak6aa92e.com/|xn--80ak6aa92e.com>"},
		{"javascript:alert(1)", "javascript:alert(1)"},
		{"ftp://acme.example/", "ftp://acme.example/"},
		{"https://user:pw@acme.example/", "https://user:pw@acme.example/"},
		{"https://acme.example:8080/", "https://acme.example:8080/"},
		{"https://аcme.example/", "https://аcme.example/"}, // Cyrillic а: not a plain DNS name, so no link
		{"<https://evil.example|bank>", "&lt;https://evil.example|bank&gt;"},
		{"https://acme.example/" + strings.Repeat("x", 600), "<https://acme.example/|acme.example>"},
	}
	for _, tc := range cases {
		if got := websiteLink(tc.in); got != tc.want {
			t.Errorf("websiteLink(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestRenderCard_InvisibleCharacters(t *testing.T) {
	t.Parallel()
	l := freshLead()
	l.Company = "Ac\u202Eme\u200B\u0007 Corp\uFEFF"
	l.Name = "Jan\u200DJansen\u2066"
	l.Message = "line one\u202E\nline\x00two"
	text, blocks := renderCard(l, cardPol, cardNow)
	card := string(cardJSON(t, text, blocks))
	var decoded any
	if err := json.Unmarshal([]byte(card), &decoded); err != nil {
		t.Fatal(err)
	}
	tv, other := texts(t, []byte(card))
	for _, s := range append(tv, other...) {
		for _, r := range s {
			if r == '\u202E' || r == '\u200B' || r == '\u200D' || r == '\u2066' || r == '\uFEFF' || (r < 0x20 && r != '\n') {
				t.Errorf("output holds invisible character %U in %q", r, s)
			}
		}
	}
	if !strings.Contains(card, "Acme Corp") {
		t.Errorf("company not shown cleaned: %s", card)
	}
}

func TestRenderCard_NoPIIInPayloadFields(t *testing.T) {
	t.Parallel()
	l := freshLead()
	l.Owner = "U9"
	text, blocks := renderCard(l, cardPol, cardNow)
	_, other := texts(t, cardJSON(t, text, blocks))
	for _, s := range other {
		for _, pii := range []string{"CANARY", "Jansen", "4567", "Acme"} {
			if strings.Contains(s, pii) {
				t.Errorf("non-display field %q holds PII %q", s, pii)
			}
		}
	}
}

func TestRenderCard_Limits(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("&<>x", 30000)
	l := freshLead()
	l.Company, l.Name, l.Email, l.Phone, l.Source, l.Message = big, big, big, big, big, strings.Repeat("a\n", 50000)
	l.Website = "https://acme.example/" + big
	l.Extra = map[string]string{}
	l.Votes = map[string]triage.Choice{}
	for i := range 40 {
		l.Extra[strings.Repeat(string(rune('a'+i%26)), i+1)] = big
	}
	for i := range 500 {
		l.Votes["U"+strings.Repeat("A", 3)+strings.Repeat("B", i%20)+string(rune('A'+i%26))+string(rune('A'+i/26))] = triage.ChoiceQualify
	}
	// Non-Latin text escapes to the longest search URLs.
	l.Company = strings.Repeat("東京&<>", 30000)
	l.Research = triage.Research{Summary: big, At: received}
	for range 100 {
		l.Research.Flags = append(l.Research.Flags, triage.Flag{Code: big, Detail: big, Source: big})
	}
	long := strings.Repeat("a", 140)
	l.Research.Facts = triage.Facts{
		DomainRegistered: received,
		Website: triage.Website{
			FinalURL:  "https://" + strings.Repeat("a", 60) + "." + strings.Repeat("b", 30) + ".example/" + big,
			Reachable: true,
			Title:     big,
			Social: map[string]string{
				"linkedin":  "https://www.linkedin.com/company/" + long[:110],
				"x":         "https://x.com/" + long[:130],
				"facebook":  "https://www.facebook.com/" + long[:120],
				"instagram": "https://www.instagram.com/" + long[:118],
			},
		},
		Registry: &triage.Registry{Source: big, Number: big, Name: big, Status: big, Incorporated: received, Employees: 1 << 40},
	}
	l.Decision = &triage.Decision{Outcome: triage.StatusQualified, Reason: big, Note: strings.Repeat("<\n", 5000), Partner: big, By: big}
	pol := triage.Policy{Quorum: 1}
	for i := range 60 {
		id := strings.Repeat("&", 60) + strconv.Itoa(i)
		pol.Criteria = append(pol.Criteria, triage.Criterion{ID: id, Kind: triage.KindText, Must: true, Weight: 1})
		for u := range 5 {
			answer(&l, id, "U"+strconv.Itoa(u)+"AB", big[:1000+u], received)
		}
	}
	for _, status := range []triage.Status{triage.StatusPending, triage.StatusQualified} {
		l.Status = status
		text, blocks := renderCard(l, pol, cardNow.Add(100*24*time.Hour))
		raw := blocksJSON(t, blocks)
		if problems := slackfake.ValidateBlocks(raw, slackfake.MaxMessageBlocks); len(problems) > 0 {
			t.Errorf("%s: blocks invalid: %v", status, problems)
		}
		if n := slackfake.BlocksTextLen(raw); n > 10000 {
			t.Errorf("%s: blocks hold %d characters of text, want at most 10000", status, n)
		}
		if n := utf8.RuneCountInString(text); n > maxFallbackText {
			t.Errorf("%s: fallback text is %d characters, want at most %d", status, n, maxFallbackText)
		}
		card := cardJSON(t, text, blocks)
		checkNoInjection(t, card)
		// The facts and links were cut to fit, not dropped.
		for _, want := range []string{"Check by hand:", "Domain registered"} {
			if !strings.Contains(string(card), want) {
				t.Errorf("%s: card lacks %q", status, want)
			}
		}
	}
}

func FuzzRenderCard(f *testing.F) {
	f.Add("Acme", "Jan", "hello", "https://acme.example/", "U1", "k", uint16(1), uint8(0))
	f.Add(injections, injections, injections, "https://evil.example/a|b<c>", "<!here>", injections, uint16(3), uint8(1))
	f.Add("&", "<", ">", "http://x.example", "UABC", "&amp;", uint16(40000), uint8(2))
	f.Add("\u202E\u200B", "\x00\xff\xfe", "a\nb\r\nc", "javascript:alert(1)", "W123", "\u2028", uint16(5000), uint8(3))
	f.Add("東京 & <b>", "kvk", "<!channel>", "https://linkedin.com/company/x|<!here>", "companies_house", "linkedin", uint16(2), uint8(5))
	f.Add("", "", "", "https://x.com/a b<c>", "", "", uint16(1), uint8(4))
	f.Fuzz(func(t *testing.T, company, name, message, website, voter, extra string, rep uint16, mode uint8) {
		r := int(rep%20000) + 1
		grow := func(s string) string {
			if len(s)*r > 200_000 {
				return strings.Repeat(s, max(1, 200_000/max(len(s), 1)))
			}
			return strings.Repeat(s, r)
		}
		l := triage.Lead{
			ID:        triage.LeadID(uint64(rep) + 1),
			Status:    triage.Statuses[int(mode)%len(triage.Statuses)],
			Company:   grow(company),
			Name:      grow(name),
			Email:     grow(name) + "@" + company,
			Phone:     grow(extra),
			Website:   website + grow(extra),
			Domain:    company,
			Message:   grow(message),
			Source:    grow(extra),
			Extra:     map[string]string{extra: grow(message), grow(extra): message},
			CreatedAt: received,
			Owner:     voter,
			Votes:     map[string]triage.Choice{voter: triage.ChoiceQualify, grow(voter): triage.Choice(extra), "U1": triage.ChoiceUnsure},
			Research: triage.Research{
				Summary: grow(message),
				Flags:   []triage.Flag{{Code: extra, Detail: grow(company), Source: grow(voter)}, {Code: triage.FlagDomainYoung, Detail: message, Source: extra}},
				Facts: triage.Facts{
					DomainRegistered: received,
					Website: triage.Website{
						FinalURL:  website + grow(extra),
						Reachable: mode%2 == 0,
						Title:     grow(company),
						Social:    map[string]string{"linkedin": website + extra, "x": "https://x.com/" + extra, "facebook": website, extra: website},
					},
					Registry: &triage.Registry{Source: extra, Number: grow(voter), Name: grow(name), Status: extra, Incorporated: received, Employees: int(rep)},
				},
			},
		}
		if mode%5 != 4 {
			l.Research.At = received
		}
		if l.Status != triage.StatusPending {
			l.Decision = &triage.Decision{Outcome: l.Status, Reason: grow(message), By: voter, At: received}
		}
		if l.Decision != nil {
			l.Decision.Note, l.Decision.Partner = grow(message), grow(extra)
		}
		p := triage.Policy{Quorum: int(mode % 4), Blind: mode%2 == 0, Auto: mode%3 == 0, TeamLead: voter}
		if mode%3 != 1 {
			kinds := []triage.CriterionKind{triage.KindYesNo, triage.KindScale, triage.KindChoice, triage.KindNumber, triage.KindText}
			for i := range int(rep%40) + 1 {
				id := extra + strconv.Itoa(i)
				p.Criteria = append(p.Criteria, triage.Criterion{ID: id, Question: company, Kind: kinds[i%len(kinds)], Must: i%2 == 0, Weight: i, Options: []string{message, extra}})
				answer(&l, id, voter, grow(message), received)
				answer(&l, id, "U1", extra, received.Add(time.Minute))
			}
		}
		text, blocks := renderCard(l, p, cardNow)
		raw := blocksJSON(t, blocks)
		if problems := slackfake.ValidateBlocks(raw, slackfake.MaxMessageBlocks); len(problems) > 0 {
			t.Fatalf("blocks invalid: %v", problems)
		}
		if n := slackfake.BlocksTextLen(raw); n > 10000 {
			t.Fatalf("blocks hold %d characters of text", n)
		}
		checkNoInjection(t, cardJSON(t, text, blocks))
	})
}

// researchedLead is the scenario: a lead claiming to be three years
// old, writing from gmail, whose domain is 40 days old and which wrote in
// before; its website has a title and social links, and KvK knows it.
func researchedLead() triage.Lead {
	l := freshLead()
	l.Company = "Acme Widgets"
	l.Email = "jan.acme@gmail.com"
	l.Website = "https://acme-widgets.nl/"
	l.Domain = "acme-widgets.nl"
	l.Founded = 2023
	registered := cardNow.AddDate(0, 0, -40)
	findings := triage.Findings{
		Facts: triage.Facts{
			EmailDomain:      "gmail.com",
			FreeMail:         true,
			DomainRegistered: registered,
			Registrar:        "Example Registrar B.V.",
			EmailDomainLive:  true,
			Website: triage.Website{
				URL:       "https://acme-widgets.nl/",
				FinalURL:  "https://www.acme-widgets.nl/home?lang=nl&ref=1",
				Status:    200,
				Reachable: true,
				Title:     "Acme Widgets – Smart <widgets> & more",
				Social: map[string]string{
					"linkedin":  "https://www.linkedin.com/company/acme-widgets?trk=home",
					"x":         "https://twitter.com/acmewidgets",
					"facebook":  "http://facebook.com/acmewidgets",     // not https: left out
					"instagram": "https://instagram.evil.example/acme", // not Instagram: left out
				},
			},
			Registry: &triage.Registry{Source: "kvk", Number: "12345678", Name: "Acme Widgets B.V.", Status: "active",
				Incorporated: time.Date(2025, 11, 3, 0, 0, 0, 0, time.UTC), Employees: 4},
		},
		Flags: []triage.Flag{{Code: triage.FlagFreeEmail, Source: "email", Detail: "Free-mail address at gmail.com: no company domain behind it.",
			Args: map[string]string{triage.ArgDomain: "gmail.com"}}},
		Providers: []triage.ProviderResult{{Name: "email", OK: true}, {Name: "rdap", OK: true}, {Name: "website", OK: true}, {Name: "kvk", OK: true}},
	}
	earlier := triage.Lead{ID: 1, Status: triage.StatusPending, Domain: "acme-widgets.nl", Email: "info@acme-widgets.nl"}
	l.Research = triage.Compose(l, findings, []triage.Lead{earlier}, cardNow)
	return l
}

func TestRenderCard_Researched(t *testing.T) { testRenderCardResearched(t, english) }

// The same card in Dutch: flags, dates and the summary line are the
// team's words (issue 12).
func TestRenderCardNL_Researched(t *testing.T) { testRenderCardResearched(t, newWords(LangDutch)) }

func testRenderCardResearched(t *testing.T, w words) {
	t.Parallel()
	l := researchedLead()
	for _, want := range []string{triage.FlagFreeEmail, triage.FlagDomainYoung, triage.FlagClaimMismatch, triage.FlagDuplicate} {
		if !hasFlag(l.Research.Flags, want) {
			t.Fatalf("scenario lacks flag %s (has %+v): fix the fixture", want, l.Research.Flags)
		}
	}
	text, blocks := cardWords{w}.card(l, cardPol, cardNow)
	raw := blocksJSON(t, blocks)
	if problems := slackfake.ValidateBlocks(raw, slackfake.MaxMessageBlocks); len(problems) > 0 {
		t.Errorf("blocks invalid: %v", problems)
	}
	card := cardJSON(t, text, blocks)
	checkNoInjection(t, card)
	assertGolden(t, card)
}

func TestFlagLine(t *testing.T) {
	t.Parallel()
	cases := []struct {
		flag triage.Flag
		want string
	}{
		{triage.Flag{Code: triage.FlagClaimMismatch, Detail: "Claims 2019 & more", Source: "claims"}, ":red_circle: `claim_mismatch` Claims 2019 &amp; more _claims_"},
		{triage.Flag{Code: triage.FlagDomainYoung, Source: "rdap"}, ":red_circle: `domain_young` _rdap_"},
		{triage.Flag{Code: triage.FlagDuplicate, Detail: "Seen before.", Source: "history"}, ":large_orange_circle: `duplicate` Seen before. _history_"},
		{triage.Flag{Code: triage.FlagFreeEmail, Detail: "<!here>", Source: "email"}, ":white_circle: `free_email` &lt;!here&gt; _email_"},
		{triage.Flag{Code: triage.FlagClaimMismatch, Source: "companies_house"}, ":red_circle: `claim_mismatch` _companies house_"},
		{triage.Flag{Code: "new`code"}, ":white_circle: `new'code`"},
		{triage.Flag{Code: triage.FlagResearchIncomplete, Detail: strings.Repeat("x", 500)}, ":white_circle: `research_incomplete` " + strings.Repeat("x", maxFlagDetail-1) + "…"},
	}
	for _, tc := range cases {
		if got := (researchWords{english}).flagLine(tc.flag); got != tc.want {
			t.Errorf("flagLine(%+v) =\n%q, want\n%q", tc.flag, got, tc.want)
		}
	}
}

func TestResearchText_ManyFlags(t *testing.T) {
	t.Parallel()
	r := triage.Research{Summary: "Summary", At: received}
	for range 12 {
		r.Flags = append(r.Flags, triage.Flag{Code: triage.FlagDuplicate, Detail: "d"})
	}
	got := researchWords{english}.text(r)
	if n := strings.Count(got, "`duplicate`"); n != maxFlags {
		t.Errorf("%d flags shown, want %d:\n%s", n, maxFlags, got)
	}
	if !strings.HasSuffix(got, "\n… and 4 more flags") {
		t.Errorf("no count of the flags left out:\n%s", got)
	}
	if got := (researchWords{english}).text(triage.Research{At: received}); got != "*Research*\nNo findings." {
		t.Errorf("empty research = %q", got)
	}
}

func TestSocialLinks(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		social map[string]string
		want   string
	}{
		{"Ordered", map[string]string{
			"instagram": "https://www.instagram.com/acme/",
			"linkedin":  "https://nl.linkedin.com/company/acme",
			"x":         "https://x.com/acme",
			"facebook":  "https://facebook.com/acme",
		}, "<https://nl.linkedin.com/company/acme|LinkedIn>, <https://x.com/acme|X>, <https://facebook.com/acme|Facebook>, <https://www.instagram.com/acme/|Instagram>"},
		{"TwitterIsX", map[string]string{"x": "https://twitter.com/acme"}, "<https://twitter.com/acme|X>"},
		{"UppercaseHost", map[string]string{"linkedin": "https://WWW.LinkedIn.com/company/acme"}, "<https://www.linkedin.com/company/acme|LinkedIn>"},
		{"QueryDropped", map[string]string{"linkedin": "https://linkedin.com/company/acme?a=1&b=2#top"}, "<https://linkedin.com/company/acme|LinkedIn>"},
		{"BreakOut", map[string]string{"linkedin": "https://linkedin.com/company/x|<!here>"}, "<https://linkedin.com/company/x%7C%3C%21here%3E|LinkedIn>"},
		{"Space", map[string]string{"x": "https://x.com/a b"}, "<https://x.com/a%20b|X>"},
		{"HTTP", map[string]string{"linkedin": "http://linkedin.com/company/acme"}, ""},
		{"OtherSite", map[string]string{"linkedin": "https://linkedin.com.evil.example/company/acme"}, ""},
		{"LookAlike", map[string]string{"linkedin": "https://evillinkedin.com/company/acme"}, ""},
		{"WrongKey", map[string]string{"facebook": "https://x.com/acme"}, ""},
		{"UnknownKey", map[string]string{"tiktok": "https://tiktok.com/@acme"}, ""},
		{"UserInfo", map[string]string{"linkedin": "https://linkedin.com@evil.example/"}, ""},
		{"Port", map[string]string{"linkedin": "https://linkedin.com:8443/company/acme"}, ""},
		{"TooLong", map[string]string{"linkedin": "https://linkedin.com/company/" + strings.Repeat("a", maxSocialURL)}, ""},
		{"Nil", nil, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := socialLinks(tc.social); got != tc.want {
				t.Errorf("socialLinks = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestSiteText(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		w    triage.Website
		want string
	}{
		{"TitleAndLink", triage.Website{FinalURL: "https://www.acme.example/?a=1&b=2", Title: "Acme <Home>", Reachable: true},
			"Site: “Acme &lt;Home&gt;” (<https://www.acme.example/?a=1&amp;b=2|acme.example>)"},
		{"FallbackToURL", triage.Website{URL: "https://acme.example/", Reachable: true}, "Site: <https://acme.example/|acme.example>"},
		{"BadURLTitleOnly", triage.Website{FinalURL: "javascript:alert(1)", Title: "Acme"}, "Site: “Acme”"},
		{"UnreachableNoTitle", triage.Website{URL: "https://acme.example/"}, ""},
		{"LongURLLinksRoot", triage.Website{FinalURL: "https://acme.example/" + strings.Repeat("x", maxSiteURL), Reachable: true}, "Site: <https://acme.example/|acme.example>"},
		{"Nothing", triage.Website{}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := (researchWords{english}).siteText(tc.w); got != tc.want {
				t.Errorf("siteText = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestRegistryText(t *testing.T) {
	t.Parallel()
	inc := time.Date(2016, 3, 1, 0, 0, 0, 0, time.UTC)
	cases := []struct {
		rg   triage.Registry
		want string
	}{
		{triage.Registry{Source: "kvk", Number: "12345678", Name: "Acme B.V.", Status: "active", Incorporated: inc}, "KvK: Acme B.V., no. 12345678, active, incorporated 1 March 2016"},
		{triage.Registry{Source: "companies_house", Number: "01234567", Employees: 12}, "Companies House: no. 01234567, 12 employees"},
		{triage.Registry{Source: "<!here>", Name: "<!channel>"}, "&lt;!here&gt;: &lt;!channel&gt;"},
		{triage.Registry{Name: "Acme"}, "Registry: Acme"},
		{triage.Registry{Source: "kvk"}, ""},
	}
	for _, tc := range cases {
		if got := (researchWords{english}).registryText(tc.rg); got != tc.want {
			t.Errorf("english.registryText(%+v) = %q, want %q", tc.rg, got, tc.want)
		}
	}
}

func TestSearchLinks(t *testing.T) {
	t.Parallel()
	const (
		liC = "<https://www.linkedin.com/search/results/companies/?keywords="
		liP = "<https://www.linkedin.com/search/results/people/?keywords="
		g   = "<https://www.google.com/search?q="
		kvk = "<https://www.kvk.nl/zoeken/?source=all&amp;q="
		ch  = "<https://find-and-update.company-information.service.gov.uk/search/companies?q="
	)
	cases := []struct {
		name     string
		company  string
		domain   string
		registry string
		want     string
	}{
		{"DutchDomain", "Acme & Sons", "acme.nl", "",
			"Check by hand: " + liC + "Acme+%26+Sons|LinkedIn companies> · " + liP + "Acme+%26+Sons|LinkedIn people> · " + g + "%22Acme+%26+Sons%22|Google> · " + kvk + "Acme+%26+Sons|KvK>"},
		{"UKDomain", "Acme Ltd", "acme.co.uk", "",
			"Check by hand: " + liC + "Acme+Ltd|LinkedIn companies> · " + liP + "Acme+Ltd|LinkedIn people> · " + g + "%22Acme+Ltd%22|Google> · " + ch + "Acme+Ltd|Companies House>"},
		{"RegistrySource", "Acme", "acme.com", "companies_house",
			"Check by hand: " + liC + "Acme|LinkedIn companies> · " + liP + "Acme|LinkedIn people> · " + g + "%22Acme%22|Google> · " + ch + "Acme|Companies House>"},
		{"Both", "Acme", "acme.com", "",
			"Check by hand: " + liC + "Acme|LinkedIn companies> · " + liP + "Acme|LinkedIn people> · " + g + "%22Acme%22|Google> · " + kvk + "Acme|KvK> · " + ch + "Acme|Companies House>"},
		{"DomainWithoutCompany", "", "acme.nl", "",
			"Check by hand: " + liC + "acme.nl|LinkedIn companies> · " + liP + "acme.nl|LinkedIn people> · " + g + "acme.nl|Google> · " + kvk + "acme.nl|KvK>"},
		{"Injection", "x|<!here> <https://evil.example|bank>", "acme.nl", "",
			"Check by hand: " + liC + "x%7C%3C%21here%3E+%3Chttps%3A%2F%2Fevil.example%7Cbank%3E|LinkedIn companies> · " + liP + "x%7C%3C%21here%3E+%3Chttps%3A%2F%2Fevil.example%7Cbank%3E|LinkedIn people> · " + g + "%22x%7C%3C%21here%3E+%3Chttps%3A%2F%2Fevil.example%7Cbank%3E%22|Google> · " + kvk + "x%7C%3C%21here%3E+%3Chttps%3A%2F%2Fevil.example%7Cbank%3E|KvK>"},
		{"Nothing", " \u200b ", "", "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			l := triage.Lead{Company: tc.company, Domain: tc.domain, Website: "https://evil.example/|<!channel>"}
			if tc.registry != "" {
				l.Research.Facts.Registry = &triage.Registry{Source: tc.registry}
			}
			if got := (researchWords{english}).searchLinks(l); got != tc.want {
				t.Errorf("searchLinks =\n%q, want\n%q", got, tc.want)
			}
		})
	}
}

func TestQueryTerm(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in   string
		max  int
		want string
	}{
		{"Acme", 60, "Acme"},
		{"  Acme\n Widgets\u200b ", 60, "Acme Widgets"},
		{strings.Repeat("a", 100), 60, strings.Repeat("a", 60)},
		{"東京東京", 20, "東京"}, // 9 escaped bytes each
		{"ab cd", 3, "ab"},
	}
	for _, tc := range cases {
		got := queryTerm(tc.in, tc.max)
		if got != tc.want {
			t.Errorf("queryTerm(%q, %d) = %q, want %q", tc.in, tc.max, got, tc.want)
		}
		if n := len(url.QueryEscape(got)); n > tc.max {
			t.Errorf("queryTerm(%q, %d) escapes to %d bytes", tc.in, tc.max, n)
		}
	}
}

func TestFactsText_RoleAddressAndMail(t *testing.T) {
	t.Parallel()
	got := researchWords{english}.factsText(triage.Facts{RoleAddress: true, MX: []string{"mx1.acme.example", "<!here>"}})
	for _, want := range []string{"Role address, not a person", "Mail: mx1.acme.example, &lt;!here&gt;"} {
		if !strings.Contains(got, want) {
			t.Errorf("factsText = %q, want it to contain %q", got, want)
		}
	}
}
