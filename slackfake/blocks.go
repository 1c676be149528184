package slackfake

import (
	"encoding/json"
	"fmt"
	"strconv"
	"unicode/utf8"
)

// Block Kit limits the fake enforces (SLACK-NOTES §4.6).
const (
	MaxMessageBlocks     = 50    // blocks per message
	MaxViewBlocks        = 100   // blocks per modal or Home tab
	MaxMessageBlocksText = 12000 // total text of a message's blocks before msg_blocks_too_long
)

// ValidateBlocks checks a JSON array of blocks against Slack's Block Kit
// limits and returns the problems in Slack's response_metadata style
// ("[ERROR] ... [json-pointer:/blocks/0/text/text]"); nil means Slack would
// accept it. maxBlocks is MaxMessageBlocks or MaxViewBlocks. The whole-message
// text budget (MaxMessageBlocksText) is not checked here; see BlocksTextLen.
func ValidateBlocks(raw json.RawMessage, maxBlocks int) []string {
	v := &validator{}
	v.blocks(raw, "/blocks", maxBlocks)
	return v.problems
}

// ValidateView checks a modal or Home tab view object (title, submit, close,
// private_metadata, callback_id, type, blocks) and returns the problems.
func ValidateView(raw json.RawMessage) []string {
	v := &validator{}
	v.view(raw, "/view")
	return v.problems
}

// BlocksTextLen is the total length in runes of every "text" string inside
// the blocks, the measure behind Slack's msg_blocks_too_long.
func BlocksTextLen(raw json.RawMessage) int {
	var x any
	if json.Unmarshal(raw, &x) != nil {
		return 0
	}
	return textLen(x)
}

func textLen(x any) int {
	n := 0
	switch t := x.(type) {
	case map[string]any:
		for k, v := range t {
			if s, ok := v.(string); ok && k == "text" {
				n += utf8.RuneCountInString(s)
			} else {
				n += textLen(v)
			}
		}
	case []any:
		for _, v := range t {
			n += textLen(v)
		}
	}
	return n
}

type validator struct {
	problems []string
}

func (v *validator) errorf(ptr, format string, args ...any) {
	v.problems = append(v.problems, fmt.Sprintf("[ERROR] "+format+" [json-pointer:%s]", append(args, ptr)...))
}

type obj = map[string]json.RawMessage

func asObject(raw json.RawMessage) (obj, bool) {
	var o obj
	if json.Unmarshal(raw, &o) != nil || o == nil {
		return nil, false
	}
	return o, true
}

func asArray(raw json.RawMessage) ([]json.RawMessage, bool) {
	var a []json.RawMessage
	if json.Unmarshal(raw, &a) != nil || a == nil {
		return nil, false
	}
	return a, true
}

// array checks that raw (at ptr) is an array of at least least and at most
// most items, in Slack's words, and returns its items; ok is false when raw
// is no array.
func (v *validator) array(raw json.RawMessage, ptr string, least, most int) ([]json.RawMessage, bool) {
	arr, ok := asArray(raw)
	if !ok {
		v.errorf(ptr, "must be an array")
		return nil, false
	}
	if len(arr) < least {
		v.errorf(ptr, "must provide at least %d item", least)
	}
	if len(arr) > most {
		v.errorf(ptr, "no more than %d items allowed", most)
	}
	return arr, true
}

func asString(raw json.RawMessage) (string, bool) {
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return "", false
	}
	return s, true
}

// str returns o[k] as a string; present reports whether the key exists and
// is not null. A non-string value is a problem.
func (v *validator) str(o obj, k, ptr string) (s string, present bool) {
	raw, ok := o[k]
	if !ok || string(raw) == "null" {
		return "", false
	}
	s, ok = asString(raw)
	if !ok {
		v.errorf(ptr+"/"+k, "must be a string")
		return "", false
	}
	return s, true
}

func (v *validator) maxLen(o obj, k, ptr string, limit int) {
	if s, ok := v.str(o, k, ptr); ok && utf8.RuneCountInString(s) > limit {
		v.errorf(ptr+"/"+k, "must be less than %d characters", limit+1)
	}
}

func (v *validator) blocks(raw json.RawMessage, ptr string, maxBlocks int) {
	arr, ok := v.array(raw, ptr, 0, maxBlocks)
	if !ok {
		return
	}
	seen := map[string]bool{}
	for i, b := range arr {
		bp := ptr + "/" + strconv.Itoa(i)
		o, ok := asObject(b)
		if !ok {
			v.errorf(bp, "must be an object")
			continue
		}
		if id, ok := v.str(o, "block_id", bp); ok {
			if utf8.RuneCountInString(id) > 255 {
				v.errorf(bp+"/block_id", "must be less than 256 characters")
			}
			if seen[id] {
				v.errorf(bp+"/block_id", "duplicate block_id %q", id)
			}
			seen[id] = true
		}
		v.block(o, bp)
	}
}

func (v *validator) block(o obj, ptr string) {
	typ, _ := v.str(o, "type", ptr)
	switch typ {
	case "section":
		_, hasText := o["text"]
		_, hasFields := o["fields"]
		if !hasText && !hasFields {
			v.errorf(ptr, "must provide either text or fields")
		}
		if hasText {
			v.text(o["text"], ptr+"/text", 3000, false)
		}
		if hasFields {
			fields, ok := v.array(o["fields"], ptr+"/fields", 0, 10)
			if !ok {
				break
			}
			for i, f := range fields {
				v.text(f, ptr+"/fields/"+strconv.Itoa(i), 2000, false)
			}
		}
		if acc, ok := o["accessory"]; ok {
			v.element(acc, ptr+"/accessory")
		}
	case "header":
		v.text(o["text"], ptr+"/text", 150, true)
	case "divider":
	case "actions":
		v.elements(o, ptr, 25, false)
	case "context":
		v.elements(o, ptr, 10, true)
	case "input":
		v.text(o["label"], ptr+"/label", 2000, true)
		if h, ok := o["hint"]; ok {
			v.text(h, ptr+"/hint", 2000, true)
		}
		el, ok := o["element"]
		if !ok {
			v.errorf(ptr, "missing required field: element")
			break
		}
		v.element(el, ptr+"/element")
	case "image":
		v.image(o, ptr)
		if t, ok := o["title"]; ok {
			v.text(t, ptr+"/title", 2000, true)
		}
	case "markdown":
		s, ok := v.str(o, "text", ptr)
		if !ok || s == "" {
			v.errorf(ptr+"/text", "must be a non-empty string")
		} else if utf8.RuneCountInString(s) > 12000 {
			v.errorf(ptr+"/text", "must be less than 12001 characters")
		}
	case "rich_text", "file", "video", "call", "table", "rich_text_input":
		// Accepted without deeper checks; the bot does not build these.
	case "":
		v.errorf(ptr+"/type", "missing required field: type")
	default:
		v.errorf(ptr+"/type", "unsupported type: %s", typ)
	}
}

func (v *validator) elements(o obj, ptr string, limit int, context bool) {
	raw, ok := o["elements"]
	if !ok {
		v.errorf(ptr, "missing required field: elements")
		return
	}
	els, ok := v.array(raw, ptr+"/elements", 1, limit)
	if !ok {
		return
	}
	actionIDs := map[string]bool{}
	for i, el := range els {
		ep := ptr + "/elements/" + strconv.Itoa(i)
		if context {
			eo, ok := asObject(el)
			if !ok {
				v.errorf(ep, "must be an object")
				continue
			}
			if t, _ := v.str(eo, "type", ep); t == "image" {
				v.image(eo, ep)
			} else {
				v.text(el, ep, 3000, false)
			}
			continue
		}
		if id := v.element(el, ep); id != "" {
			if actionIDs[id] {
				v.errorf(ep+"/action_id", "duplicate action_id %q", id)
			}
			actionIDs[id] = true
		}
	}
}

func (v *validator) image(o obj, ptr string) {
	url, ok := v.str(o, "image_url", ptr)
	_, hasFile := o["slack_file"]
	if !ok && !hasFile {
		v.errorf(ptr, "missing required field: image_url")
	} else if utf8.RuneCountInString(url) > 3000 {
		v.errorf(ptr+"/image_url", "must be less than 3001 characters")
	}
	alt, ok := v.str(o, "alt_text", ptr)
	if !ok {
		v.errorf(ptr, "missing required field: alt_text")
	} else if utf8.RuneCountInString(alt) > 2000 {
		v.errorf(ptr+"/alt_text", "must be less than 2001 characters")
	}
}

// text checks a text object; plainOnly requires type plain_text.
func (v *validator) text(raw json.RawMessage, ptr string, limit int, plainOnly bool) {
	if raw == nil {
		v.errorf(ptr, "missing required field")
		return
	}
	o, ok := asObject(raw)
	if !ok {
		v.errorf(ptr, "must be an object")
		return
	}
	typ, _ := v.str(o, "type", ptr)
	switch typ {
	case "plain_text":
	case "mrkdwn":
		if plainOnly {
			v.errorf(ptr+"/type", "must be plain_text")
		}
		if _, ok := o["emoji"]; ok {
			v.errorf(ptr+"/emoji", "emoji is only allowed on plain_text")
		}
	default:
		v.errorf(ptr+"/type", "must be one of plain_text, mrkdwn")
	}
	s, ok := v.str(o, "text", ptr)
	n := utf8.RuneCountInString(s)
	switch {
	case !ok || n == 0:
		v.errorf(ptr+"/text", "must be more than 0 characters")
	case n > limit:
		v.errorf(ptr+"/text", "must be less than %d characters", limit+1)
	}
}

// element checks an interactive element and returns its action_id.
func (v *validator) element(raw json.RawMessage, ptr string) string {
	o, ok := asObject(raw)
	if !ok {
		v.errorf(ptr, "must be an object")
		return ""
	}
	actionID, _ := v.str(o, "action_id", ptr)
	if utf8.RuneCountInString(actionID) > 255 {
		v.errorf(ptr+"/action_id", "must be less than 256 characters")
	}
	if c, ok := o["confirm"]; ok {
		v.confirm(c, ptr+"/confirm")
	}
	if p, ok := o["placeholder"]; ok {
		v.text(p, ptr+"/placeholder", 150, true)
	}
	typ, _ := v.str(o, "type", ptr)
	switch typ {
	case "button":
		v.text(o["text"], ptr+"/text", 75, true)
		v.maxLen(o, "value", ptr, 2000)
		v.maxLen(o, "url", ptr, 3000)
		if style, ok := v.str(o, "style", ptr); ok && style != "primary" && style != "danger" {
			v.errorf(ptr+"/style", "must be one of primary, danger")
		}
	case "static_select", "multi_static_select":
		v.options(o, ptr, 100)
	case "overflow":
		v.options(o, ptr, 5)
	case "checkboxes", "radio_buttons":
		v.options(o, ptr, 10)
	case "plain_text_input":
		if raw, ok := o["max_length"]; ok {
			if n, err := strconv.Atoi(string(raw)); err != nil || n > 3000 || n < 1 {
				v.errorf(ptr+"/max_length", "must be between 1 and 3000")
			}
		}
		v.maxLen(o, "initial_value", ptr, 3000)
	case "image":
		v.image(o, ptr)
	case "users_select", "multi_users_select", "conversations_select", "multi_conversations_select",
		"channels_select", "multi_channels_select", "external_select", "multi_external_select",
		"datepicker", "timepicker", "datetimepicker", "email_text_input", "url_text_input",
		"number_input", "rich_text_input", "file_input", "workflow_button":
	case "":
		v.errorf(ptr+"/type", "missing required field: type")
	default:
		v.errorf(ptr+"/type", "unsupported type: %s", typ)
	}
	return actionID
}

func (v *validator) options(o obj, ptr string, limit int) {
	raw, hasOpts := o["options"]
	groups, hasGroups := o["option_groups"]
	if hasOpts {
		v.optionList(raw, ptr+"/options", limit)
	}
	if hasGroups {
		gs, ok := v.array(groups, ptr+"/option_groups", 0, 100)
		if !ok {
			return
		}
		for i, g := range gs {
			gp := ptr + "/option_groups/" + strconv.Itoa(i)
			grp, ok := asObject(g)
			if !ok {
				v.errorf(gp, "must be an object")
				continue
			}
			v.text(grp["label"], gp+"/label", 75, true)
			v.optionList(grp["options"], gp+"/options", 100)
		}
	}
	if !hasOpts && !hasGroups {
		v.errorf(ptr, "must provide either options or option_groups")
	}
}

func (v *validator) optionList(raw json.RawMessage, ptr string, limit int) {
	opts, ok := v.array(raw, ptr, 1, limit)
	if !ok {
		return
	}
	for i, op := range opts {
		p := ptr + "/" + strconv.Itoa(i)
		oo, ok := asObject(op)
		if !ok {
			v.errorf(p, "must be an object")
			continue
		}
		v.text(oo["text"], p+"/text", 75, false)
		val, ok := v.str(oo, "value", p)
		switch {
		case !ok || val == "":
			v.errorf(p+"/value", "must be more than 0 characters")
		case utf8.RuneCountInString(val) > 150:
			v.errorf(p+"/value", "must be less than 151 characters")
		}
		if d, ok := oo["description"]; ok {
			v.text(d, p+"/description", 75, false)
		}
		v.maxLen(oo, "url", p, 3000)
	}
}

func (v *validator) confirm(raw json.RawMessage, ptr string) {
	o, ok := asObject(raw)
	if !ok {
		v.errorf(ptr, "must be an object")
		return
	}
	v.text(o["title"], ptr+"/title", 100, true)
	v.text(o["text"], ptr+"/text", 300, false)
	v.text(o["confirm"], ptr+"/confirm", 30, true)
	v.text(o["deny"], ptr+"/deny", 30, true)
	if style, ok := v.str(o, "style", ptr); ok && style != "primary" && style != "danger" {
		v.errorf(ptr+"/style", "must be one of primary, danger")
	}
}

func (v *validator) view(raw json.RawMessage, ptr string) {
	o, ok := asObject(raw)
	if !ok {
		v.errorf(ptr, "must be an object")
		return
	}
	typ, _ := v.str(o, "type", ptr)
	switch typ {
	case "modal":
		v.text(o["title"], ptr+"/title", 24, true)
		if c, ok := o["close"]; ok && string(c) != "null" {
			v.text(c, ptr+"/close", 24, true)
		}
		sub, hasSubmit := o["submit"]
		if hasSubmit && string(sub) != "null" {
			v.text(sub, ptr+"/submit", 24, true)
		} else if hasInputBlock(o["blocks"]) {
			v.errorf(ptr+"/submit", "submit is required when an input block is present")
		}
	case "home":
	default:
		v.errorf(ptr+"/type", "must be one of modal, home")
	}
	v.maxLen(o, "private_metadata", ptr, 3000)
	v.maxLen(o, "callback_id", ptr, 255)
	v.maxLen(o, "external_id", ptr, 255)
	v.blocks(o["blocks"], ptr+"/blocks", MaxViewBlocks)
}

func hasInputBlock(raw json.RawMessage) bool {
	arr, _ := asArray(raw)
	for _, b := range arr {
		if o, ok := asObject(b); ok {
			if t, _ := asString(o["type"]); t == "input" {
				return true
			}
		}
	}
	return false
}
