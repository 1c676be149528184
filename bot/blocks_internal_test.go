package bot

import (
	"encoding/json"
	"regexp"
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

func TestRenderCard(t *testing.T) {
	t.Parallel()
	decidedAt := received.Add(2 * time.Hour)
	cases := []struct {
		name string
		lead func() triage.Lead
	}{
		{"Pending", freshLead},
		{"BlindTwoOfThree", func() triage.Lead {
			l := freshLead()
			l.Votes = map[string]triage.Choice{"UALICE": triage.ChoiceQualify, "UBOB": triage.ChoiceDisqualify}
			l.Research = triage.Research{Summary: "Domain registered 2011; website reachable.", At: received}
			return l
		}},
		{"RevealedTie", func() triage.Lead {
			l := freshLead()
			l.Votes = map[string]triage.Choice{"UALICE": triage.ChoiceQualify, "UBOB": triage.ChoiceDisqualify, "UCAROL": triage.ChoiceUnsure}
			l.Research = triage.Research{
				Summary: "Domain registered last month.",
				Flags:   []triage.Flag{{Code: "domain_young", Detail: "registered 2026-02-01"}, {Code: "claim_mismatch", Detail: "founded 2019 claimed"}},
				At:      received,
			}
			return l
		}},
		{"QualifiedWithOwner", func() triage.Lead {
			l := freshLead()
			l.Votes = map[string]triage.Choice{"UALICE": triage.ChoiceQualify, "UBOB": triage.ChoiceQualify, "UCAROL": triage.ChoiceUnsure}
			l.Status = triage.StatusQualified
			l.Owner = "UBOB"
			l.Decision = &triage.Decision{Outcome: triage.StatusQualified, Reason: "qualified by vote (2 qualify, 0 disqualify, 1 unsure)", By: triage.DecidedByPolicy, At: decidedAt}
			return l
		}},
		{"Disqualified", func() triage.Lead {
			l := freshLead()
			l.Status = triage.StatusDisqualified
			l.Decision = &triage.Decision{Outcome: triage.StatusDisqualified, Reason: "Too small for us <3", By: "ULEAD", At: decidedAt}
			return l
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			text, blocks := renderCard(tc.lead(), cardPol, cardNow)
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
	votes := []string{"lead.vote.qualify=L-3", "lead.vote.disqualify=L-3", "lead.vote.unsure=L-3", "lead.claim=L-3"}
	cases := []struct {
		name   string
		status triage.Status
		owner  string
		want   []string
	}{
		{"PendingUnclaimed", triage.StatusPending, "", votes},
		{"PendingClaimed", triage.StatusPending, "U9", votes},
		{"QualifiedUnclaimed", triage.StatusQualified, "", []string{"lead.claim=L-3"}},
		{"QualifiedClaimed", triage.StatusQualified, "U9", nil},
		{"Disqualified", triage.StatusDisqualified, "", nil},
		{"Referred", triage.StatusReferred, "", nil},
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
	l.Research = triage.Research{Flags: []triage.Flag{{Code: "free_email"}}}
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
// of validated user ids, date tokens, and links to validated websites.
var allowedToken = regexp.MustCompile(`<@[UW][A-Z0-9]{2,30}>|<!date\^[0-9]+\^\{date_short_pretty\} \{time\}\|[0-9TZ:+-]+>|<https?://[^|<>\s]+\|[a-z0-9.-]+>`)

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

// checkNoInjection fails if any text in the card holds a "<" that is not
// part of an allowed token, or a raw injection sequence.
func checkNoInjection(t testing.TB, card []byte) {
	t.Helper()
	tv, _ := texts(t, card)
	for _, s := range tv {
		rest := allowedToken.ReplaceAllString(s, "")
		if strings.Contains(rest, "<") {
			t.Errorf("text holds a '<' outside the allowed tokens: %q", s)
		}
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
		Research:  triage.Research{Summary: injections, Flags: []triage.Flag{{Code: injections, Detail: injections}}},
	}
	policies := []triage.Policy{cardPol, {Quorum: 1, Blind: false, TeamLead: "<!channel>"}}
	for _, status := range []triage.Status{triage.StatusPending, triage.StatusQualified, triage.StatusDisqualified, "<!here>"} {
		for _, p := range policies {
			l := l
			l.Status = status
			if status != triage.StatusPending {
				l.Decision = &triage.Decision{Outcome: status, Reason: injections, By: injections, At: received}
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
	l.Research = triage.Research{Summary: big}
	for range 100 {
		l.Research.Flags = append(l.Research.Flags, triage.Flag{Code: big, Detail: big})
	}
	l.Status = triage.StatusQualified
	l.Decision = &triage.Decision{Outcome: triage.StatusQualified, Reason: big, By: big}
	text, blocks := renderCard(l, triage.Policy{Quorum: 1}, cardNow)
	raw := blocksJSON(t, blocks)
	if problems := slackfake.ValidateBlocks(raw, slackfake.MaxMessageBlocks); len(problems) > 0 {
		t.Errorf("blocks invalid: %v", problems)
	}
	if n := slackfake.BlocksTextLen(raw); n > 10000 {
		t.Errorf("blocks hold %d characters of text, want at most 10000", n)
	}
	if n := utf8.RuneCountInString(text); n > maxFallbackText {
		t.Errorf("fallback text is %d characters, want at most %d", n, maxFallbackText)
	}
	checkNoInjection(t, cardJSON(t, text, blocks))
}

func FuzzRenderCard(f *testing.F) {
	f.Add("Acme", "Jan", "hello", "https://acme.example/", "U1", "k", uint16(1), uint8(0))
	f.Add(injections, injections, injections, "https://evil.example/a|b<c>", "<!here>", injections, uint16(3), uint8(1))
	f.Add("&", "<", ">", "http://x.example", "UABC", "&amp;", uint16(40000), uint8(2))
	f.Add("\u202E\u200B", "\x00\xff\xfe", "a\nb\r\nc", "javascript:alert(1)", "W123", "\u2028", uint16(5000), uint8(3))
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
			Research:  triage.Research{Summary: grow(message), Flags: []triage.Flag{{Code: extra, Detail: grow(company)}}},
		}
		if l.Status != triage.StatusPending {
			l.Decision = &triage.Decision{Outcome: l.Status, Reason: grow(message), By: voter, At: received}
		}
		p := triage.Policy{Quorum: int(mode % 4), Blind: mode%2 == 0, Auto: mode%3 == 0, TeamLead: voter}
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
