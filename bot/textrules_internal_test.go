package bot

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/leadtriage/leadtriage/slackfake"
	"github.com/leadtriage/leadtriage/triage"
	"github.com/slack-go/slack"
)

// One escaping rule per text type (issue 9): plain_text carries the lead's
// characters as they are, mrkdwn gets &, < and > escaped. The inputs below
// hold &, <, > and emoji but no entity, so an entity in a plain_text object
// can only come from escaping it should not have had.
const (
	specialCompany = "Zon & Zee <Holding> 🚀"
	specialReason  = "Too small <3 & 🐟 > nothing"
	specialPartner = "Smith & <Co> 🤝"
	specialOption  = "R&D <team> 🚀"
)

func specialPolicy() triage.Policy {
	p := ckPol
	p.Criteria = []triage.Criterion{
		{ID: "fit", Question: "Fit & focus <core>? 🎯", Kind: triage.KindChoice, Options: []string{specialOption, "Sales & more", "Other >"}, Weight: 2},
		{ID: "need", Question: "Need?", Kind: triage.KindYesNo},
	}
	p.Reasons = []string{specialReason, "No budget"}
	p.Partners = []triage.Partner{{Name: specialPartner, Fits: "shops < 10 & 🛒", Contact: "intro@smith.example"}}
	return p
}

func specialLead() triage.Lead {
	l := freshLead()
	l.Company = specialCompany
	l.Name = "Jan <Jansen> & 👋"
	l.Message = "Hello & <welcome> 🚀\n> quoted?"
	return l
}

func TestRenderCard_SpecialCharacters(t *testing.T) {
	t.Parallel()
	l := specialLead()
	l.Status = triage.StatusReferred
	l.Decision = &triage.Decision{Outcome: triage.StatusReferred, Reason: specialReason, Partner: specialPartner, By: "ULEAD", At: received.Add(time.Hour)}
	text, blocks := renderCard(l, specialPolicy(), cardNow)
	card := cardJSON(t, text, blocks)
	if problems := slackfake.ValidateBlocks(blocksJSON(t, blocks), slackfake.MaxMessageBlocks); len(problems) > 0 {
		t.Errorf("blocks invalid: %v", problems)
	}
	checkTextRules(t, card)
	if h, ok := blocks[0].(*slack.HeaderBlock); !ok || h.Text.Text != "L-3 · "+specialCompany {
		t.Errorf("header = %+v, want the company as it is", blocks[0])
	}
	assertGolden(t, card)
}

func TestRenderChecklist_SpecialCharacters(t *testing.T) {
	t.Parallel()
	l := specialLead()
	answer(&l, "fit", "UALICE", specialOption, received)
	text, blocks := renderChecklist(l, specialPolicy())
	msg := cardJSON(t, text, blocks)
	if problems := slackfake.ValidateBlocks(blocksJSON(t, blocks), slackfake.MaxMessageBlocks); len(problems) > 0 {
		t.Errorf("blocks invalid: %v", problems)
	}
	checkTextRules(t, msg)
	if !strings.Contains(string(unescapeHTML(msg)), `"initial_option":{"text":{"type":"plain_text","text":"`+specialOption+`"`) {
		t.Errorf("the select does not show %q as its current answer:\n%s", specialOption, unescapeHTML(msg))
	}
	assertGolden(t, msg)
}

func TestDecideModal_SpecialCharacters(t *testing.T) { testDecideModalSpecial(t, english) }

// The same dialog in Dutch (ui.language = "nl").
func TestDecideModalNL_SpecialCharacters(t *testing.T) {
	testDecideModalSpecial(t, newWords(LangDutch))
}

func testDecideModalSpecial(t *testing.T, w words) {
	t.Parallel()
	l := specialLead()
	raw, s := marshalModal(t, modalWords{w}.decideModal(l, specialPolicy()))
	checkTextRules(t, raw)
	texts := map[string]bool{}
	for _, b := range s.Blocks {
		for _, o := range b.Element.Options {
			texts[o.Text.Text] = true
		}
	}
	for _, want := range []string{specialReason, specialPartner} {
		if !texts[want] {
			t.Errorf("no option reads %q; options %v", want, texts)
		}
	}
	assertGolden(t, raw)
}

func TestRenderDigestPart_SpecialCharacters(t *testing.T) {
	t.Parallel()
	pending := digestLead(3, specialCompany, 26*time.Hour)
	decided := digestLead(4, "Beta & <Gamma>", 3*time.Hour)
	decided.Status, decided.DecidedAt, decided.Reason = triage.StatusDisqualified, digestNow.Add(-time.Hour), specialReason
	part := triage.DigestPart{Part: 1, Parts: 1, Title: "Leads & <digest> 🗞", Pending: []triage.DigestLead{pending}, Decided: []triage.DigestLead{decided}}
	text, blocks := renderDigestPart(part, testPermalink, time.UTC, digestNow)
	raw := cardJSON(t, text, blocks)
	checkTextRules(t, raw)
	if h, ok := blocks[0].(*slack.HeaderBlock); !ok || h.Text.Text != "Leads & <digest> 🗞" {
		t.Errorf("header = %+v, want the title as it is", blocks[0])
	}
	assertGolden(t, raw)
}

// TestRenderedText_OneRulePerType walks every block tree the bot renders
// from lead and config text (card, checklist, decide and add-lead dialogs,
// App Home, digest) and checks the rule of each text type.
func TestRenderedText_OneRulePerType(t *testing.T) {
	t.Parallel()
	pol := specialPolicy()
	l := specialLead()
	answer(&l, "fit", "UALICE", specialOption, received)
	answer(&l, "need", "UBOB", "<!here> & yes", received)
	l.Research = triage.Research{Summary: "Title <b>Zon & Zee</b>", Flags: []triage.Flag{{Code: "claim_mismatch", Detail: "founded < 2019 & more"}}, At: received}
	decided := l
	decided.Status = triage.StatusDisqualified
	decided.Decision = &triage.Decision{Outcome: triage.StatusDisqualified, Reason: specialReason, Partner: specialPartner, Note: "a <note> & 🙂", By: "ULEAD", At: received}

	marshal := func(v any) []byte {
		raw, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	b := &homeTab{cfg: &Config{Command: "/qualify"}, svc: &triage.Service{Channel: dispatchChannel}, links: &links{url: "https://acme.slack.com/"}}
	home := triage.Home{AwaitingVote: []triage.Lead{l}, Owned: []triage.Lead{decided}, Pending: []triage.Lead{l}}
	digest := triage.DigestPart{Part: 1, Parts: 1, Title: "Leads & <digest> 🗞",
		Pending: []triage.DigestLead{{ID: l.ID, Label: specialCompany, Status: triage.StatusPending, CreatedAt: received, Flags: []string{"free_email"}}},
		Decided: []triage.DigestLead{{ID: 9, Label: specialPartner, Status: triage.StatusDisqualified, DecidedAt: received, Reason: specialReason}},
		Revisit: []triage.DigestLead{{ID: 8, Label: specialCompany, Status: triage.StatusDisqualified, DecidedAt: received, Reason: specialReason}},
	}
	prefill := triage.LeadInput{Company: specialCompany, Name: "Jan <Jansen> & 👋", Phone: "+31 <20> & 1", Message: "Hi & <bye> 🚀", Website: "zon.example", Email: "jan@zon.example"}

	surfaces := map[string][]byte{}
	for _, lead := range []triage.Lead{l, decided} {
		text, blocks := renderCard(lead, pol, cardNow)
		surfaces["card/"+string(lead.Status)] = cardJSON(t, text, blocks)
		text, blocks = renderChecklist(lead, pol)
		surfaces["checklist/"+string(lead.Status)] = cardJSON(t, text, blocks)
		surfaces["decide/"+string(lead.Status)] = marshal(modalWords{english}.decideModal(lead, pol))
	}
	surfaces["addlead"] = marshal(modalWords{english}.addLeadModal(prefill, addLeadMeta{}, dispatchNow))
	surfaces["home"] = marshal(b.view(home, dispatchNow))
	text, blocks := renderDigestPart(digest, testPermalink, time.UTC, digestNow)
	surfaces["digest"] = cardJSON(t, text, blocks)

	for name, raw := range surfaces {
		t.Run(name, func(t *testing.T) {
			checkTextRules(t, raw)
		})
	}
	// The lead's characters reach people as they are in plain_text.
	for name, want := range map[string]string{
		"card/pending": "L-3 · " + specialCompany, "checklist/pending": specialOption,
		"decide/disqualified": specialPartner, "digest": "Leads & <digest> 🗞",
	} {
		if _, pt := textObjects(t, surfaces[name]); !containsString(pt, want) {
			t.Errorf("%s: no plain_text reads %q; plain texts %q", name, want, pt)
		}
	}
	if !strings.Contains(string(unescapeHTML(surfaces["addlead"])), `"initial_value":"`+specialCompany+`"`) {
		t.Errorf("add-lead dialog does not prefill the company as it is:\n%s", unescapeHTML(surfaces["addlead"]))
	}
}

// checkTextRules fails if a plain_text object or an input's initial value
// holds an entity (&amp;, &lt;, &gt;: Slack would show it as typed), or a
// mrkdwn text holds a "<" outside the template's own tokens (a lead's "<"
// must arrive escaped).
func checkTextRules(t *testing.T, raw []byte) {
	t.Helper()
	_, pt := textObjects(t, raw)
	var x any
	if err := json.Unmarshal(raw, &x); err != nil {
		t.Fatal(err)
	}
	pt = append(pt, stringsUnder(x, "initial_value")...)
	for _, s := range pt {
		for _, entity := range []string{"&amp;", "&lt;", "&gt;"} {
			if strings.Contains(s, entity) {
				t.Errorf("plain text %q holds %s: Slack shows plain_text literally", s, entity)
			}
		}
	}
	// The Home links the triage channel: a token of the template, built
	// from the configured id, not from lead text.
	checkNoInjection(t, bytes.ReplaceAll(raw, []byte(`\u003c#`+dispatchChannel+`\u003e`), nil))
}

// stringsUnder returns every string value stored under key anywhere in x.
func stringsUnder(x any, key string) []string {
	var out []string
	switch v := x.(type) {
	case map[string]any:
		for k, e := range v {
			if s, ok := e.(string); ok && k == key {
				out = append(out, s)
			}
			out = append(out, stringsUnder(e, key)...)
		}
	case []any:
		for _, e := range v {
			out = append(out, stringsUnder(e, key)...)
		}
	}
	return out
}

func containsString(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

func TestPlainCut(t *testing.T) {
	t.Parallel()
	rockets := strings.Repeat("🚀", 100)
	for _, tt := range []struct {
		name, in string
		max      int
		want     string
	}{
		{"AsItIs", "Acme & <Sons> 🚀", 75, "Acme & <Sons> 🚀"},
		{"EmojiCutBetweenRunes", rockets, 10, strings.Repeat("🚀", 9) + "…"},
		// & < > count as long as their entities, whichever form Slack measures.
		{"EntityLength", strings.Repeat("&", 20), 10, "&…"},
		{"ExactFit", "<<", 8, "<<"},
		{"OneOver", "<<a", 8, "<…"},
		{"Cleaned", "a\u202eb\nc\u200bd", 75, "ab cd"},
		{"Empty", " \u200b ", 75, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := plainCut(tt.in, tt.max)
			if got != tt.want {
				t.Errorf("plainCut(%q, %d) = %q, want %q", tt.in, tt.max, got, tt.want)
			}
			if !utf8.ValidString(got) || utf8.RuneCountInString(got) > tt.max {
				t.Errorf("plainCut(%q, %d) = %q: invalid UTF-8 or over the limit", tt.in, tt.max, got)
			}
		})
	}
}
