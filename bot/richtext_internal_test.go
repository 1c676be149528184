package bot

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/leadtriage/leadtriage/triage"
	"github.com/slack-go/slack"
)

// Rich text payloads below follow Slack's rich_text block reference
// (docs.slack.dev/reference/block-kit/blocks/rich-text-block and
// …/block-elements/rich-text-list-element: a list's items are
// rich_text_section objects, without their numbering or bullets) and the
// message Slack's composer sends, as in bolt-python's
// tests/scenario_tests/test_message_file_share.py ("blocks":
// [{"type":"rich_text","block_id":"ba4","elements":[{"type":
// "rich_text_section","elements":[{"type":"text","text":"Hi there!"}]}]}]).

func rtText(s string) map[string]any { return map[string]any{"type": "text", "text": s} }
func rtBold(s string) map[string]any {
	return map[string]any{"type": "text", "text": s, "style": map[string]any{"bold": true}}
}
func rtEmoji(name, unicode string, skin int) map[string]any {
	e := map[string]any{"type": "emoji", "name": name, "unicode": unicode}
	if skin > 0 {
		e["skin_tone"] = skin
	}
	return e
}
func rtLink(url, text string) map[string]any {
	l := map[string]any{"type": "link", "url": url}
	if text != "" {
		l["text"] = text
	}
	return l
}
func rtUser(id string) map[string]any { return map[string]any{"type": "user", "user_id": id} }
func rtSection(els ...map[string]any) map[string]any {
	return map[string]any{"type": "rich_text_section", "elements": els}
}
func rtList(style string, items ...map[string]any) map[string]any {
	return map[string]any{"type": "rich_text_list", "style": style, "indent": 0, "border": 0, "elements": items}
}
func rtQuote(els ...map[string]any) map[string]any {
	return map[string]any{"type": "rich_text_quote", "elements": els}
}
func rtPre(els ...map[string]any) map[string]any {
	return map[string]any{"type": "rich_text_preformatted", "border": 0, "elements": els}
}

// richBlocks is a message's blocks: one rich_text block holding elements,
// parsed by slack-go as an incoming event's are.
func richBlocks(t *testing.T, elements ...map[string]any) slack.Blocks {
	t.Helper()
	raw, err := json.Marshal([]any{map[string]any{"type": "rich_text", "block_id": "ba4", "elements": elements}})
	if err != nil {
		t.Fatal(err)
	}
	var b slack.Blocks
	if err := json.Unmarshal(raw, &b); err != nil {
		t.Fatalf("parsing blocks: %v", err)
	}
	return b
}

// naturalCriteria: one of each kind, and a choice in Dutch for a Dutch team.
var naturalCriteria = []triage.Criterion{
	{ID: "need", Question: "Do they have a clear need?", Kind: triage.KindYesNo, Must: true},
	{ID: "budget", Question: "Is there budget for it this year?", Kind: triage.KindYesNo, Must: true},
	{ID: "authority", Question: "Is the contact the one who decides?", Kind: triage.KindYesNo},
	{ID: "fit", Question: "How well do they fit?", Kind: triage.KindScale},
	{ID: "timing", Question: "When do they want to start?", Kind: triage.KindChoice, Options: []string{"this month", "this quarter", "this year", "later"}},
	{ID: "termijn", Question: "Wanneer willen ze beginnen?", Kind: triage.KindChoice, Options: []string{"deze maand", "dit kwartaal", "dit jaar", "later"}},
	{ID: "size", Question: "How big is the deal (EUR)?", Kind: triage.KindNumber},
	{ID: "notes", Question: "Anything else?", Kind: triage.KindText},
}

// TestNaturalReplies reads replies as people write them, in English and
// Dutch, through what the bot does with a message (messageWords) and the
// domain's parser: the leading value is the answer, the rest its note.
func TestNaturalReplies(t *testing.T) {
	t.Parallel()
	type A = triage.ParsedAnswer
	a := func(c, v, note string) A { return A{Criterion: c, Value: v, Note: note} }
	tests := []struct {
		name     string
		text     string                        // the message's text field, as Slack escapes it
		blocks   func(*testing.T) slack.Blocks // nil: a message with text only
		want     []A
		problems []string // criteria with an unreadable answer
	}{
		// English, the examples of issue 9 first.
		{name: "EmojiAfter", text: "authority: yes :+1:", want: []A{a("authority", "yes", ":+1:")}},
		{name: "CommaRemark", text: "budget: yes, the CFO signed off", want: []A{a("budget", "yes", "the CFO signed off")}},
		{name: "DashRemark", text: "fit: 4 — great fit", want: []A{a("fit", "4", "great fit")}},
		{name: "DutchInEnglishThread", text: "need: ja!", want: []A{a("need", "yes", "")}},
		{name: "Parenthesis", text: "timing: this quarter (maybe sooner)", want: []A{a("timing", "this quarter", "maybe sooner")}},
		{name: "PlainYes", text: "need: yes", want: []A{a("need", "yes", "")}},
		{name: "CapitalsAndStop", text: "Need: Yes.", want: []A{a("need", "yes", "")}},
		{name: "NoIdeaIsUnknown", text: "budget: no idea", want: []A{a("budget", "unknown", "")}},
		{name: "NotSureYet", text: "budget: not sure yet", want: []A{a("budget", "unknown", "yet")}},
		{name: "DontKnowCurly", text: "authority: don’t know, asking Friday", want: []A{a("authority", "unknown", "asking Friday")}},
		{name: "Yep", text: "budget: yep", want: []A{a("budget", "yes", "")}},
		{name: "NopeRemark", text: "budget: nope, bootstrapped", want: []A{a("budget", "no", "bootstrapped")}},
		{name: "HyphenRemark", text: "authority: no - it's the CTO", want: []A{a("authority", "no", "it's the CTO")}},
		{name: "ScaleSlash", text: "fit: 3/5, decent", want: []A{a("fit", "3", "decent")}},
		{name: "ScaleOutOfEmoji", text: "fit: 4 out of 5 :star:", want: []A{a("fit", "4", ":star:")}},
		{name: "NumberRemark", text: "size: 50k, maybe more next year", want: []A{a("size", "50000", "maybe more next year")}},
		{name: "NumberWithWords", text: "size: € 10.000 per year", want: []A{a("size", "10000", "per year")}},
		{name: "ChoiceRemark", text: "timing: later, after the merger", want: []A{a("timing", "later", "after the merger")}},
		{name: "EqualsAndParens", text: "budget = yes (signed)", want: []A{a("budget", "yes", "signed")}},
		{name: "EmojiAnswerThenWords", text: "budget: :white_check_mark: approved", want: []A{a("budget", "yes", "approved")}},
		{name: "SkinTone", text: "need: yes :+1::skin-tone-3:", want: []A{a("need", "yes", ":+1:")}},
		{name: "SlackLinkInNote", text: "budget: yes <https://acme.example/pricing|pricing page>",
			want: []A{a("budget", "yes", "pricing page (https://acme.example/pricing)")}},
		{name: "BareLinkInNote", text: "budget: yes, see <https://acme.example/pricing>",
			want: []A{a("budget", "yes", "see https://acme.example/pricing")}},
		{name: "MentionInNote", text: "authority: no, ask <@U0BOSS>", want: []A{a("authority", "no", "ask <@U0BOSS>")}},
		{name: "MentionWithName", text: "authority: no, ask <@U0BOSS|boss>", want: []A{a("authority", "no", "ask <@U0BOSS>")}},
		{name: "TextKeepsAll", text: "notes: they want it yesterday, really", want: []A{a("notes", "they want it yesterday, really", "")}},
		{name: "EscapesUndone", text: "notes: budget &lt; 10k &amp; no team", want: []A{a("notes", "budget < 10k & no team", "")}},
		{name: "TypedNumbering", text: "1. need: yes\n2. fit: 4", want: []A{a("need", "yes", ""), a("fit", "4", "")}},
		{name: "SeveralLinesWithChatter", text: "Call went well.\nbudget: yes, 40k\nfit: 5!\nCheers", want: []A{a("budget", "yes", "40k"), a("fit", "5", "")}},
		{name: "Unreadable", text: "budget: perhaps", problems: []string{"budget"}},
		{name: "MentionIsNoKey", text: "<@U123>: yes"},
		{name: "Chatter", text: "nice people, let's call them"},

		// Dutch.
		{name: "NeeTeKlein", text: "budget: nee, te klein", want: []A{a("budget", "no", "te klein")}},
		{name: "WeetNiet", text: "authority: weet niet", want: []A{a("authority", "unknown", "")}},
		{name: "DitKwartaal", text: "termijn: dit kwartaal", want: []A{a("termijn", "dit kwartaal", "")}},
		{name: "CFOAkkoord", text: "budget: ja, CFO akkoord", want: []A{a("budget", "yes", "CFO akkoord")}},
		{name: "VanVijf", text: "fit: 4 van 5, goede match", want: []A{a("fit", "4", "goede match")}},
		{name: "EuroStreepje", text: "size: € 10.000,- per jaar", want: []A{a("size", "10000", "per jaar")}},
		{name: "NeeHoor", text: "authority: nee hoor", want: []A{a("authority", "no", "hoor")}},
		{name: "ZekerWeten", text: "need: zeker weten!", want: []A{a("need", "yes", "")}},
		{name: "GeenIdee", text: "budget: geen idee", want: []A{a("budget", "unknown", "")}},
		{name: "NogNiet", text: "authority: nog niet, directeur beslist", want: []A{a("authority", "no", "directeur beslist")}},
		{name: "WeetIkNogNiet", text: "budget: weet ik nog niet (volgende week)", want: []A{a("budget", "unknown", "volgende week")}},
		{name: "DutchThousands", text: "size: 1.500 euro p/m", want: []A{a("size", "1500", "p/m")}},
		{name: "UnicodeEmoji", text: "need: ja 👍", want: []A{a("need", "yes", "👍")}},
		{name: "UnicodeEmojiGlued", text: "need: ja👍", want: []A{a("need", "yes", "👍")}},
		{name: "DutchQuestionPrefix", text: "Wanneer willen ze: dit jaar, waarschijnlijk", want: []A{a("termijn", "dit jaar", "waarschijnlijk")}},

		// Rich text, as the composer sends it; the text field is what
		// Slack derives from it and must not be needed.
		{name: "OrderedList", text: "1. need: ja!\n2. fit: 4 — great fit",
			blocks: func(t *testing.T) slack.Blocks {
				return richBlocks(t, rtList("ordered", rtSection(rtText("need: ja!")), rtSection(rtText("fit: 4 — great fit"))))
			},
			want: []A{a("need", "yes", ""), a("fit", "4", "great fit")}},
		{name: "BulletListAfterParagraph", text: "Notes from the call:\n• budget: ja, CFO akkoord\n• termijn: dit kwartaal",
			blocks: func(t *testing.T) slack.Blocks {
				return richBlocks(t, rtSection(rtText("Notes from the call:\n")),
					rtList("bullet", rtSection(rtText("budget: ja, CFO akkoord")), rtSection(rtText("termijn: dit kwartaal"))))
			},
			want: []A{a("budget", "yes", "CFO akkoord"), a("termijn", "dit kwartaal", "")}},
		{name: "EmojiElement", text: "authority: yes :+1::skin-tone-2:",
			blocks: func(t *testing.T) slack.Blocks {
				return richBlocks(t, rtSection(rtText("authority: yes "), rtEmoji("+1", "1f44d-1f3fc", 2)))
			},
			want: []A{a("authority", "yes", ":+1:")}},
		{name: "EmojiIsTheAnswer", text: ":white_check_mark:",
			blocks: func(t *testing.T) slack.Blocks {
				return richBlocks(t, rtSection(rtText("budget: "), rtEmoji("white_check_mark", "2705", 0)))
			},
			want: []A{a("budget", "yes", "")}},
		{name: "LinkElement", text: "budget: yes, see <https://acme.example/pricing|pricing>",
			blocks: func(t *testing.T) slack.Blocks {
				return richBlocks(t, rtSection(rtText("budget: yes, see "), rtLink("https://acme.example/pricing", "pricing")))
			},
			want: []A{a("budget", "yes", "see pricing (https://acme.example/pricing)")}},
		{name: "AutoLink", text: "notes: see <https://acme.example>",
			blocks: func(t *testing.T) slack.Blocks {
				return richBlocks(t, rtSection(rtText("notes: see "), rtLink("https://acme.example", "")))
			},
			want: []A{a("notes", "see https://acme.example", "")}},
		{name: "UserElement", text: "authority: no, <@U0BOSS> decides",
			blocks: func(t *testing.T) slack.Blocks {
				return richBlocks(t, rtSection(rtText("authority: no, "), rtUser("U0BOSS"), rtText(" decides")))
			},
			want: []A{a("authority", "no", "<@U0BOSS> decides")}},
		{name: "BoldKey", text: "*budget*: yes",
			blocks: func(t *testing.T) slack.Blocks {
				return richBlocks(t, rtSection(rtBold("budget"), rtText(": yes")))
			},
			want: []A{a("budget", "yes", "")}},
		{name: "Quote", text: "&gt; budget: yes",
			blocks: func(t *testing.T) slack.Blocks {
				return richBlocks(t, rtQuote(rtText("budget: yes")))
			},
			want: []A{a("budget", "yes", "")}},
		{name: "CodeBlock", text: "```budget: yes\nfit: 2```",
			blocks: func(t *testing.T) slack.Blocks {
				return richBlocks(t, rtPre(rtText("budget: yes\nfit: 2")))
			},
			want: []A{a("budget", "yes", ""), a("fit", "2", "")}},
		{name: "RichTextWins", text: "budget: no",
			blocks: func(t *testing.T) slack.Blocks {
				return richBlocks(t, rtSection(rtText("budget: yes")))
			},
			want: []A{a("budget", "yes", "")}},
	}
	if len(tests) < 40 {
		t.Fatalf("%d cases, the issue asks for at least 40", len(tests))
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var blocks slack.Blocks
			if tt.blocks != nil {
				blocks = tt.blocks(t)
			}
			answers, problems := triage.ParseReply(messageWords(tt.text, blocks), naturalCriteria)
			if diff := cmp.Diff(tt.want, answers); diff != "" {
				t.Errorf("answers (-want +got):\n%s", diff)
			}
			var got []string
			for _, p := range problems {
				got = append(got, p.Criterion)
			}
			if diff := cmp.Diff(tt.problems, got); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
}

// TestMessageWords_Edits: what decides whether a message_changed re-reads
// the answers. An unfurl or a file adds attachments, not words.
func TestMessageWords_Edits(t *testing.T) {
	t.Parallel()
	text := "budget: yes, see <https://acme.example|acme.example>"
	blocks := richBlocks(t, rtSection(rtText("budget: yes, see "), rtLink("https://acme.example", "acme.example")))
	before := messageWords(text, blocks)
	if got := messageWords(text, slack.Blocks{}); got != before {
		t.Errorf("the same words with and without blocks differ: %q and %q", got, before)
	}
	if before != "budget: yes, see https://acme.example" {
		t.Errorf("words = %q", before)
	}
	edited := messageWords("budget: no", richBlocks(t, rtSection(rtText("budget: no"))))
	if edited == before {
		t.Error("a real edit reads as unchanged")
	}
	if got := messageWords("", slack.Blocks{}); got != "" {
		t.Errorf("an empty message reads %q", got)
	}
	if got := messageWords("x <!subteam^S1|@sales> <#C1|general> <!here> <mailto:a@b.example|a@b.example>", slack.Blocks{}); got != "x <!subteam^S1> <#C1> <!here> a@b.example" {
		t.Errorf("markup = %q", got)
	}
	if strings.Contains(messageWords("&amp;lt;", slack.Blocks{}), "<") {
		t.Error("escapes decoded twice")
	}
}
