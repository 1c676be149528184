package slackfake_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/slack-go/slack"

	"github.com/leadtriage/leadtriage/slackfake"
)

func mustMarshal(t *testing.T, v any) json.RawMessage {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func plain(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.PlainTextType, s, false, false)
}
func mrkdwn(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.MarkdownType, s, false, true)
}

// The blocks the bot builds with slack-go must pass, or the fake would
// report false positives.
func TestValidateBlocks_SlackGoBuilders(t *testing.T) {
	t.Parallel()
	opts := make([]*slack.OptionBlockObject, 100)
	for i := range opts {
		opts[i] = slack.NewOptionBlockObject(fmt.Sprint(i), plain(strings.Repeat("o", 75)), nil)
	}
	fields := make([]*slack.TextBlockObject, 10)
	for i := range fields {
		fields[i] = mrkdwn(strings.Repeat("f", 2000))
	}
	buttons := make([]slack.BlockElement, 25)
	for i := range buttons {
		buttons[i] = slack.NewButtonBlockElement(fmt.Sprintf("lead.vote.%d", i), strings.Repeat("v", 2000), plain(strings.Repeat("b", 75))).
			WithStyle(slack.StylePrimary)
	}
	buttons[0] = slack.NewButtonBlockElement("lead.vote.danger", "L-1", plain("No")).WithStyle(slack.StyleDanger).
		WithConfirm(slack.NewConfirmationBlockObject(plain("Sure?"), mrkdwn("Really reject *L-1*?"), plain("Yes"), plain("No")))
	blocks := []slack.Block{
		slack.NewHeaderBlock(plain(strings.Repeat("h", 150))),
		slack.NewSectionBlock(mrkdwn(strings.Repeat("é", 3000)), fields,
			slack.NewAccessory(slack.NewButtonBlockElement("lead.open", "L-1", plain("Open")))),
		slack.NewDividerBlock(),
		slack.NewActionBlock("lead.actions", buttons...),
		slack.NewActionBlock("lead.select", slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, plain("Pick"), "lead.pick", opts...)),
		slack.NewContextBlock("ctx", mrkdwn("posted by <@U1>"), plain("plain")),
	}
	if problems := slackfake.ValidateBlocks(mustMarshal(t, blocks), slackfake.MaxMessageBlocks); problems != nil {
		t.Errorf("valid blocks rejected:\n%s", strings.Join(problems, "\n"))
	}

	modal := slack.ModalViewRequest{
		Type:            slack.VTModal,
		Title:           plain(strings.Repeat("t", 24)),
		Submit:          plain("Save"),
		Close:           plain("Cancel"),
		PrivateMetadata: strings.Repeat("m", 3000),
		CallbackID:      "lead.qualify",
		Blocks: slack.Blocks{BlockSet: []slack.Block{
			slack.NewInputBlock("budget", plain("Budget"), plain("hint"), slack.NewPlainTextInputBlockElement(plain("e.g. 10k"), "budget.value")),
			slack.NewInputBlock("stage", plain("Stage"), nil, slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, nil, "stage.value",
				slack.NewOptionBlockObject("new", plain("New"), nil))),
		}},
	}
	if problems := slackfake.ValidateView(mustMarshal(t, modal)); problems != nil {
		t.Errorf("valid modal rejected:\n%s", strings.Join(problems, "\n"))
	}
	home := slack.HomeTabViewRequest{Type: slack.VTHomeTab, Blocks: slack.Blocks{BlockSet: []slack.Block{section("hi")}}}
	if problems := slackfake.ValidateView(mustMarshal(t, home)); problems != nil {
		t.Errorf("valid home tab rejected:\n%s", strings.Join(problems, "\n"))
	}
}

func TestValidateBlocks_Limits(t *testing.T) {
	t.Parallel()
	button := func(mod func(map[string]any)) string {
		b := map[string]any{"type": "button", "action_id": "a", "value": "v", "text": map[string]any{"type": "plain_text", "text": "Go"}}
		mod(b)
		return `[{"type":"actions","elements":[` + string(mustMarshal(t, b)) + `]}]`
	}
	text := func(typ, s string) string { return fmt.Sprintf(`{"type":%q,"text":%q}`, typ, s) }
	n := func(count int, item string) string { return strings.TrimSuffix(strings.Repeat(item+",", count), ",") }
	option := func(txt, val string) string {
		return fmt.Sprintf(`{"text":%s,"value":%q}`, text("plain_text", txt), val)
	}
	selectOf := func(opts string) string {
		return `[{"type":"actions","elements":[{"type":"static_select","action_id":"s","options":[` + opts + `]}]}]`
	}

	cases := []struct {
		name, blocks, want string
	}{
		{"TooManyBlocks", "[" + n(51, `{"type":"divider"}`) + "]", "[ERROR] no more than 50 items allowed [json-pointer:/blocks]"},
		{"NotArray", `{"type":"divider"}`, "must be an array"},
		{"SectionText3001", `[{"type":"section","text":` + text("mrkdwn", strings.Repeat("x", 3001)) + `}]`, "must be less than 3001 characters [json-pointer:/blocks/0/text/text]"},
		{"EmptyText", `[{"type":"section","text":` + text("mrkdwn", "") + `}]`, "/blocks/0/text/text"},
		{"BadTextType", `[{"type":"section","text":` + text("markdown", "x") + `}]`, "must be one of plain_text, mrkdwn [json-pointer:/blocks/0/text/type]"},
		{"SectionEmpty", `[{"type":"section"}]`, "must provide either text or fields"},
		{"Header151", `[{"type":"header","text":` + text("plain_text", strings.Repeat("h", 151)) + `}]`, "/blocks/0/text/text"},
		{"HeaderMrkdwn", `[{"type":"header","text":` + text("mrkdwn", "h") + `}]`, "must be plain_text"},
		{"Fields11", `[{"type":"section","fields":[` + n(11, text("mrkdwn", "f")) + `]}]`, "no more than 10 items allowed [json-pointer:/blocks/0/fields]"},
		{"Field2001", `[{"type":"section","fields":[` + text("mrkdwn", strings.Repeat("f", 2001)) + `]}]`, "/blocks/0/fields/0/text"},
		{"BlockID256", `[{"type":"divider","block_id":"` + strings.Repeat("b", 256) + `"}]`, "/blocks/0/block_id"},
		{"DuplicateBlockID", `[{"type":"divider","block_id":"x"},{"type":"divider","block_id":"x"}]`, `duplicate block_id "x"`},
		{"ActionID256", button(func(b map[string]any) { b["action_id"] = strings.Repeat("a", 256) }), "/blocks/0/elements/0/action_id"},
		{"ButtonText76", button(func(b map[string]any) {
			b["text"] = map[string]any{"type": "plain_text", "text": strings.Repeat("t", 76)}
		}), "/blocks/0/elements/0/text/text"},
		{"ButtonValue2001", button(func(b map[string]any) { b["value"] = strings.Repeat("v", 2001) }), "/blocks/0/elements/0/value"},
		{"ButtonURL3001", button(func(b map[string]any) { b["url"] = "https://x/" + strings.Repeat("u", 2991) }), "/blocks/0/elements/0/url"},
		{"ButtonStyle", button(func(b map[string]any) { b["style"] = "secondary" }), "must be one of primary, danger"},
		{"Actions26", `[{"type":"actions","elements":[` + n(26, `{"type":"button","text":{"type":"plain_text","text":"b"}}`) + `]}]`, "no more than 25 items allowed"},
		{"DuplicateActionID", `[{"type":"actions","elements":[` + n(2, `{"type":"button","action_id":"dup","text":{"type":"plain_text","text":"b"}}`) + `]}]`, `duplicate action_id "dup"`},
		{"Context11", `[{"type":"context","elements":[` + n(11, text("mrkdwn", "c")) + `]}]`, "no more than 10 items allowed [json-pointer:/blocks/0/elements]"},
		{"Options101", selectOf(n(101, option("o", "v"))), "no more than 100 items allowed [json-pointer:/blocks/0/elements/0/options]"},
		{"OptionText76", selectOf(option(strings.Repeat("o", 76), "v")), "/blocks/0/elements/0/options/0/text/text"},
		{"OptionValue151", selectOf(option("o", strings.Repeat("v", 151))), "/blocks/0/elements/0/options/0/value"},
		{"UnknownBlock", `[{"type":"sektion"}]`, "unsupported type: sektion"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			raw := json.RawMessage(tc.blocks)
			if !json.Valid(raw) {
				t.Fatalf("test case is not JSON: %s", tc.blocks)
			}
			problems := slackfake.ValidateBlocks(raw, slackfake.MaxMessageBlocks)
			if !strings.Contains(strings.Join(problems, "\n"), tc.want) {
				t.Errorf("problems %q do not mention %q", problems, tc.want)
			}
		})
	}
}

func TestValidateView_Limits(t *testing.T) {
	t.Parallel()
	base := func() map[string]any {
		return map[string]any{
			"type":   "modal",
			"title":  map[string]any{"type": "plain_text", "text": "Qualify"},
			"submit": map[string]any{"type": "plain_text", "text": "Save"},
			"blocks": []any{map[string]any{"type": "divider"}},
		}
	}
	dividers := func(n int) []any {
		out := make([]any, n)
		for i := range out {
			out[i] = map[string]any{"type": "divider"}
		}
		return out
	}
	cases := []struct {
		name string
		mod  func(map[string]any)
		want string // "" = valid
	}{
		{"Valid", func(map[string]any) {}, ""},
		{"Blocks100", func(v map[string]any) { v["blocks"] = dividers(100) }, ""},
		{"Blocks101", func(v map[string]any) { v["blocks"] = dividers(101) }, "no more than 100 items allowed [json-pointer:/view/blocks]"},
		{"Title25", func(v map[string]any) {
			v["title"] = map[string]any{"type": "plain_text", "text": strings.Repeat("t", 25)}
		}, "/view/title/text"},
		{"Submit25", func(v map[string]any) {
			v["submit"] = map[string]any{"type": "plain_text", "text": strings.Repeat("s", 25)}
		}, "/view/submit/text"},
		{"Close25", func(v map[string]any) {
			v["close"] = map[string]any{"type": "plain_text", "text": strings.Repeat("c", 25)}
		}, "/view/close/text"},
		{"PrivateMetadata3001", func(v map[string]any) { v["private_metadata"] = strings.Repeat("m", 3001) }, "/view/private_metadata"},
		{"NullBlocks", func(v map[string]any) { v["blocks"] = nil }, "[json-pointer:/view/blocks]"},
		{"InputWithoutSubmit", func(v map[string]any) {
			delete(v, "submit")
			v["blocks"] = []any{map[string]any{"type": "input", "label": map[string]any{"type": "plain_text", "text": "L"},
				"element": map[string]any{"type": "plain_text_input", "action_id": "a"}}}
		}, "submit is required"},
		{"BadType", func(v map[string]any) { v["type"] = "dialog" }, "must be one of modal, home"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v := base()
			tc.mod(v)
			problems := slackfake.ValidateView(mustMarshal(t, v))
			joined := strings.Join(problems, "\n")
			if tc.want == "" && problems != nil {
				t.Errorf("valid view rejected: %q", problems)
			}
			if tc.want != "" && !strings.Contains(joined, tc.want) {
				t.Errorf("problems %q do not mention %q", problems, tc.want)
			}
		})
	}
}

func TestServer_InvalidBlocks(t *testing.T) {
	t.Parallel()
	fake := slackfake.New(t)
	api := fake.Client()

	many := make([]slack.Block, 51)
	for i := range many {
		many[i] = slack.NewDividerBlock()
	}
	_, _, err := api.PostMessage("C1", slack.MsgOptionText("digest", false), slack.MsgOptionBlocks(many...))
	se := slackErr(t, err)
	if se.Err != "invalid_blocks" || len(se.ResponseMetadata.Messages) == 0 ||
		!strings.Contains(se.ResponseMetadata.Messages[0], "no more than 50 items") {
		t.Errorf("51 blocks: %q %q, want invalid_blocks naming the limit", se.Err, se.ResponseMetadata.Messages)
	}

	// Five sections of 2900 characters pass one by one but not together.
	long := make([]slack.Block, 5)
	for i := range long {
		long[i] = section(strings.Repeat("x", 2900))
	}
	_, _, err = api.PostMessage("C1", slack.MsgOptionText("digest", false), slack.MsgOptionBlocks(long...))
	if got := slackErr(t, err).Err; got != "msg_blocks_too_long" {
		t.Errorf("14500 chars of blocks: error %q, want msg_blocks_too_long", got)
	}

	_, ts, err := api.PostMessage("C1", slack.MsgOptionText("ok", false), slack.MsgOptionBlocks(section("ok")))
	if err != nil {
		t.Fatal(err)
	}
	_, _, _, err = api.UpdateMessage("C1", ts, slack.MsgOptionBlocks(slack.NewHeaderBlock(plain(strings.Repeat("h", 151)))))
	if got := slackErr(t, err).Err; got != "invalid_blocks" {
		t.Errorf("update with a 151-char header: error %q, want invalid_blocks", got)
	}
	if len(fake.Messages("C1")) != 1 {
		t.Errorf("rejected posts were stored: %d messages", len(fake.Messages("C1")))
	}
	if m, _ := fake.Message("C1", ts); m.Updates != 0 {
		t.Error("rejected update was applied")
	}
}
