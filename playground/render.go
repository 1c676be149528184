package playground

import (
	"encoding/json"
	"fmt"
	"html"
	"html/template"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// render turns the Block Kit and mrkdwn the bot sends into HTML the way a
// Slack client shows them. Everything the bot sent is escaped on the way:
// text becomes HTML only through html.EscapeString, after which the few
// tags the renderer itself adds are safe.
type render struct {
	users    map[string]string // user id -> display name, for <@U…> and users_select
	channels map[string]string // channel id -> name, for <#C…>
	loc      *time.Location
}

type obj = map[string]any

func str(o obj, k string) string {
	s, _ := o[k].(string)
	return s
}

func sub(o obj, k string) obj {
	m, _ := o[k].(map[string]any)
	return m
}

func list(o obj, k string) []obj {
	raw, _ := o[k].([]any)
	out := make([]obj, 0, len(raw))
	for _, x := range raw {
		if m, ok := x.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

// Blocks renders a blocks array; errs holds inline errors by block id
// (modals after response_action "errors").
func (r render) Blocks(raw json.RawMessage, errs map[string]string) template.HTML {
	var blocks []obj
	if len(raw) == 0 || json.Unmarshal(raw, &blocks) != nil {
		return ""
	}
	var b strings.Builder
	for _, bl := range blocks {
		r.block(&b, bl, errs)
	}
	return template.HTML(b.String()) //nolint:gosec // built from escaped parts
}

func (r render) block(b *strings.Builder, bl obj, errs map[string]string) {
	id := html.EscapeString(str(bl, "block_id"))
	switch str(bl, "type") {
	case "header":
		fmt.Fprintf(b, `<div class="blk blk-header" data-block-id="%s">%s</div>`, id, r.text(sub(bl, "text")))
	case "divider":
		b.WriteString(`<hr class="blk blk-divider">`)
	case "section":
		fmt.Fprintf(b, `<div class="blk blk-section" data-block-id="%s"><div class="sec-body">`, id)
		if t := sub(bl, "text"); t != nil {
			fmt.Fprintf(b, `<div class="sec-text">%s</div>`, r.text(t))
		}
		if fs := list(bl, "fields"); len(fs) > 0 {
			b.WriteString(`<div class="sec-fields">`)
			for _, f := range fs {
				fmt.Fprintf(b, `<div class="sec-field">%s</div>`, r.text(f))
			}
			b.WriteString(`</div>`)
		}
		b.WriteString(`</div>`)
		if acc := sub(bl, "accessory"); acc != nil {
			fmt.Fprintf(b, `<div class="sec-accessory">%s</div>`, r.element(acc, str(bl, "block_id")))
		}
		b.WriteString(`</div>`)
	case "context":
		fmt.Fprintf(b, `<div class="blk blk-context" data-block-id="%s">`, id)
		for _, e := range list(bl, "elements") {
			if str(e, "type") == "image" {
				fmt.Fprintf(b, `<span class="ctx-img" title="%s">▪</span>`, html.EscapeString(str(e, "alt_text")))
				continue
			}
			fmt.Fprintf(b, `<span class="ctx-el">%s</span>`, r.text(e))
		}
		b.WriteString(`</div>`)
	case "actions":
		fmt.Fprintf(b, `<div class="blk blk-actions" data-block-id="%s">`, id)
		for _, e := range list(bl, "elements") {
			b.WriteString(string(r.element(e, str(bl, "block_id"))))
		}
		b.WriteString(`</div>`)
	case "image":
		fmt.Fprintf(b, `<div class="blk blk-image">[image: %s]</div>`, html.EscapeString(str(bl, "alt_text")))
	case "input":
		el := sub(bl, "element")
		opt := ""
		if v, _ := bl["optional"].(bool); v {
			opt = ` <span class="optional">(optional)</span>`
		}
		fmt.Fprintf(b, `<div class="blk blk-input" data-block-id="%s"><label class="in-label">%s%s</label>%s`,
			id, r.text(sub(bl, "label")), opt, r.input(el, str(bl, "block_id")))
		if h := sub(bl, "hint"); h != nil {
			fmt.Fprintf(b, `<div class="in-hint">%s</div>`, r.text(h))
		}
		if e, ok := errs[str(bl, "block_id")]; ok {
			fmt.Fprintf(b, `<div class="in-error" role="alert">%s</div>`, html.EscapeString(e))
		}
		b.WriteString(`</div>`)
	default:
		fmt.Fprintf(b, `<div class="blk blk-unknown">[%s block]</div>`, html.EscapeString(str(bl, "type")))
	}
}

// text renders a text object: mrkdwn or plain_text (emoji by name in both).
func (r render) text(t obj) template.HTML {
	if t == nil {
		return ""
	}
	s := str(t, "text")
	if str(t, "type") == "mrkdwn" {
		return r.Mrkdwn(s)
	}
	return template.HTML(emojify(html.EscapeString(s))) //nolint:gosec // escaped
}

func plain(t obj) string { return str(t, "text") }

// element renders an interactive element of a message or view. Every
// control carries what the page's script needs to send the interaction:
// data-action-id, data-block-id, data-type and, for buttons, data-value.
func (r render) element(e obj, blockID string) template.HTML {
	typ := str(e, "type")
	attrs := fmt.Sprintf(`data-action-id="%s" data-block-id="%s" data-type="%s"`,
		html.EscapeString(str(e, "action_id")), html.EscapeString(blockID), html.EscapeString(typ))
	if c := sub(e, "confirm"); c != nil {
		attrs += fmt.Sprintf(` data-confirm="%s"`, html.EscapeString(plain(sub(c, "title"))+"\n\n"+plain(sub(c, "text"))))
	}
	switch typ {
	case "button":
		cls := "btn"
		if s := str(e, "style"); s == "primary" || s == "danger" {
			cls += " btn-" + s
		}
		if u := str(e, "url"); u != "" {
			return template.HTML(fmt.Sprintf(`<a class="%s" href="%s" target="_blank" rel="noopener noreferrer">%s</a>`, //nolint:gosec // escaped
				cls, html.EscapeString(safeURL(u)), html.EscapeString(plain(sub(e, "text")))))
		}
		return template.HTML(fmt.Sprintf(`<button type="button" class="%s" %s data-value="%s">%s</button>`, //nolint:gosec // escaped
			cls, attrs, html.EscapeString(str(e, "value")), emojify(html.EscapeString(plain(sub(e, "text"))))))
	case "static_select", "users_select", "overflow":
		return template.HTML(fmt.Sprintf(`<select class="el-select" %s>%s</select>`, attrs, r.options(e))) //nolint:gosec // escaped
	default:
		return template.HTML(fmt.Sprintf(`<span class="el-unknown">[%s]</span>`, html.EscapeString(typ))) //nolint:gosec // escaped
	}
}

// options renders a select's options; the placeholder is the empty choice.
func (r render) options(e obj) string {
	var b strings.Builder
	ph := plain(sub(e, "placeholder"))
	if ph == "" {
		ph = "…"
	}
	fmt.Fprintf(&b, `<option value="">%s</option>`, html.EscapeString(ph))
	if str(e, "type") == "users_select" {
		initial := str(e, "initial_user")
		ids := make([]string, 0, len(r.users))
		for id := range r.users {
			if id != "UBOT" {
				ids = append(ids, id)
			}
		}
		slices.Sort(ids)
		for _, id := range ids {
			sel := ""
			if id == initial {
				sel = " selected"
			}
			fmt.Fprintf(&b, `<option value="%s"%s>%s</option>`, html.EscapeString(id), sel, html.EscapeString(r.users[id]))
		}
		return b.String()
	}
	initial := str(sub(e, "initial_option"), "value")
	opts := list(e, "options")
	for _, g := range list(e, "option_groups") {
		opts = append(opts, list(g, "options")...)
	}
	for _, o := range opts {
		sel := ""
		if v := str(o, "value"); v == initial && v != "" {
			sel = " selected"
		}
		fmt.Fprintf(&b, `<option value="%s" data-text="%s"%s>%s</option>`, html.EscapeString(str(o, "value")),
			html.EscapeString(plain(sub(o, "text"))), sel, emojify(html.EscapeString(plain(sub(o, "text")))))
	}
	return b.String()
}

// input renders an input block's element as a form control named
// "<block_id>/<action_id>" with its type, for the submission's state.
func (r render) input(e obj, blockID string) template.HTML {
	typ := str(e, "type")
	name := html.EscapeString(blockID + "/" + str(e, "action_id"))
	attrs := fmt.Sprintf(`name="%s" data-type="%s" data-block-id="%s" data-action-id="%s"`,
		name, html.EscapeString(typ), html.EscapeString(blockID), html.EscapeString(str(e, "action_id")))
	ph := html.EscapeString(plain(sub(e, "placeholder")))
	initial := html.EscapeString(str(e, "initial_value"))
	var out string
	switch typ {
	case "plain_text_input":
		if m, _ := e["multiline"].(bool); m {
			out = fmt.Sprintf(`<textarea class="in-ctl" %s placeholder="%s">%s</textarea>`, attrs, ph, initial)
		} else {
			out = fmt.Sprintf(`<input class="in-ctl" type="text" %s placeholder="%s" value="%s">`, attrs, ph, initial)
		}
	case "email_text_input":
		out = fmt.Sprintf(`<input class="in-ctl" type="email" %s placeholder="%s" value="%s">`, attrs, ph, initial)
	case "url_text_input":
		out = fmt.Sprintf(`<input class="in-ctl" type="url" %s placeholder="%s" value="%s">`, attrs, ph, initial)
	case "number_input":
		out = fmt.Sprintf(`<input class="in-ctl" type="number" %s placeholder="%s" value="%s">`, attrs, ph, initial)
	case "static_select", "users_select":
		out = fmt.Sprintf(`<select class="in-ctl" %s>%s</select>`, attrs, r.options(e))
	case "radio_buttons", "checkboxes":
		kind := "radio"
		if typ == "checkboxes" {
			kind = "checkbox"
		}
		initial := str(sub(e, "initial_option"), "value")
		var b strings.Builder
		fmt.Fprintf(&b, `<div class="in-choices" %s>`, attrs)
		for _, o := range list(e, "options") {
			v := str(o, "value")
			chk := ""
			if v == initial && v != "" {
				chk = " checked"
			}
			fmt.Fprintf(&b, `<label class="in-choice"><input type="%s" name="%s" value="%s" data-text="%s"%s> %s</label>`,
				kind, name, html.EscapeString(v), html.EscapeString(plain(sub(o, "text"))), chk, r.text(sub(o, "text")))
		}
		b.WriteString(`</div>`)
		out = b.String()
	default:
		out = fmt.Sprintf(`<span class="el-unknown">[%s]</span>`, html.EscapeString(typ))
	}
	return template.HTML(out) //nolint:gosec // escaped
}

// ---------------------------------------------------------------------------
// mrkdwn

var (
	// Slack's angle-bracket tokens: <@U…>, <#C…|name>, <!here>,
	// <!date^…|fallback>, <url|text>, <url>. Slack escapes a literal <, >
	// and & in text as entities, so a raw < always starts a token.
	tokenRE  = regexp.MustCompile(`<([^<>\s][^<>]*)>`)
	codeRE   = regexp.MustCompile("`([^`\n]+)`")
	boldRE   = regexp.MustCompile(`(^|[\s(>\x01])\*([^*\n]+)\*`)
	italicRE = regexp.MustCompile(`(^|[\s(>\x01])_([^_\n]+)_`)
	strikeRE = regexp.MustCompile(`(^|[\s(>\x01])~([^~\n]+)~`)
	emojiRE  = regexp.MustCompile(`:([a-z0-9_+\-']+):`)
	holeRE   = regexp.MustCompile("\x00([0-9]+)\x00")
)

// Mrkdwn renders Slack mrkdwn: *bold*, _italic_, ~strike~, `code`, ```pre```,
// > quotes, links, user/channel/special mentions, date tokens and emoji.
func (r render) Mrkdwn(s string) template.HTML {
	var holes []string // rendered tokens, kept out of the formatting pass
	hole := func(h string) string {
		holes = append(holes, h)
		return fmt.Sprintf("\x00%d\x00", len(holes)-1)
	}
	// Code spans and blocks first: nothing inside them is formatted.
	parts := strings.Split(s, "```")
	for i := 1; i < len(parts); i += 2 {
		parts[i] = hole("<pre>" + html.EscapeString(unescapeSlack(strings.Trim(parts[i], "\n"))) + "</pre>")
	}
	s = strings.Join(parts, "")
	s = codeRE.ReplaceAllStringFunc(s, func(m string) string {
		return hole("<code>" + html.EscapeString(unescapeSlack(m[1:len(m)-1])) + "</code>")
	})
	s = tokenRE.ReplaceAllStringFunc(s, func(m string) string { return hole(r.token(m[1 : len(m)-1])) })

	// What is left is text with Slack's entities; make it HTML-safe.
	s = html.EscapeString(unescapeSlack(s))
	var out []string
	inQuote := false
	for _, line := range strings.Split(s, "\n") {
		q, isQuote := strings.CutPrefix(line, "&gt; ")
		if !isQuote && line == "&gt;" {
			q, isQuote = "", true
		}
		if isQuote {
			line = q
		}
		line = format(line)
		switch {
		case isQuote && !inQuote:
			line = `<blockquote>` + line
		case !isQuote && inQuote:
			out[len(out)-1] += `</blockquote>`
		}
		inQuote = isQuote
		out = append(out, line)
	}
	if inQuote {
		out[len(out)-1] += `</blockquote>`
	}
	s = strings.Join(out, "<br>")
	s = strings.ReplaceAll(s, "</blockquote><br>", "</blockquote>")
	s = holeRE.ReplaceAllStringFunc(s, func(m string) string {
		n, _ := strconv.Atoi(m[1 : len(m)-1])
		return holes[n]
	})
	return template.HTML(s) //nolint:gosec // escaped, tags added here
}

func format(line string) string {
	line = boldRE.ReplaceAllString(line, "$1<b>$2</b>")
	line = italicRE.ReplaceAllString(line, "$1<i>$2</i>")
	line = strikeRE.ReplaceAllString(line, "$1<s>$2</s>")
	return emojify(line)
}

// unescapeSlack undoes the three entities Slack uses in message text.
func unescapeSlack(s string) string {
	return strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&").Replace(s)
}

// token renders the inside of one <…> token.
func (r render) token(t string) string {
	label := ""
	if i := strings.IndexByte(t, '|'); i >= 0 {
		t, label = t[:i], t[i+1:]
	}
	switch {
	case strings.HasPrefix(t, "@"):
		id := t[1:]
		name := r.users[id]
		if name == "" {
			name = id
		}
		return `<span class="mention" data-user="` + html.EscapeString(id) + `">@` + html.EscapeString(name) + `</span>`
	case strings.HasPrefix(t, "#"):
		if label == "" {
			label = r.channels[t[1:]]
		}
		if label == "" {
			label = t[1:]
		}
		return `<span class="mention">#` + html.EscapeString(unescapeSlack(label)) + `</span>`
	case strings.HasPrefix(t, "!date^"):
		f := strings.Split(t, "^")
		if len(f) >= 2 {
			if sec, err := strconv.ParseInt(f[1], 10, 64); err == nil {
				loc := r.loc
				if loc == nil {
					loc = time.Local
				}
				return `<time>` + html.EscapeString(time.Unix(sec, 0).In(loc).Format("Jan 2, 2006 15:04")) + `</time>`
			}
		}
		return html.EscapeString(unescapeSlack(label))
	case strings.HasPrefix(t, "!"):
		name := strings.TrimPrefix(strings.TrimPrefix(t, "!"), "subteam^")
		if label != "" {
			name = strings.TrimPrefix(unescapeSlack(label), "@")
		}
		return `<span class="mention">@` + html.EscapeString(name) + `</span>`
	default:
		u := unescapeSlack(t)
		text := u
		if label != "" {
			text = unescapeSlack(label)
		}
		return `<a href="` + html.EscapeString(safeURL(u)) + `" target="_blank" rel="noopener noreferrer">` + html.EscapeString(text) + `</a>`
	}
}

// safeURL lets only http(s) and mailto links through.
func safeURL(u string) string {
	l := strings.ToLower(u)
	if strings.HasPrefix(l, "http://") || strings.HasPrefix(l, "https://") || strings.HasPrefix(l, "mailto:") {
		return u
	}
	return "#"
}

// emojify replaces :name: with the emoji for common names.
func emojify(s string) string {
	return emojiRE.ReplaceAllStringFunc(s, func(m string) string {
		if e, ok := emoji[m[1:len(m)-1]]; ok {
			return e
		}
		return m
	})
}

// Emoji returns the character for a reaction name (the name when unknown).
func Emoji(name string) string {
	if e, ok := emoji[name]; ok {
		return e
	}
	return ":" + name + ":"
}

var emoji = map[string]string{
	"+1": "👍", "thumbsup": "👍", "-1": "👎", "thumbsdown": "👎", "thinking_face": "🤔",
	"white_check_mark": "✅", "heavy_check_mark": "✔️", "x": "❌", "warning": "⚠️", "eyes": "👀",
	"tada": "🎉", "bell": "🔔", "alarm_clock": "⏰", "calendar": "📅", "date": "📅", "mag": "🔍",
	"link": "🔗", "email": "📧", "e-mail": "📧", "globe_with_meridians": "🌐", "bust_in_silhouette": "👤",
	"busts_in_silhouette": "👥", "office": "🏢", "chart_with_upwards_trend": "📈", "memo": "📝",
	"red_circle": "🔴", "large_orange_circle": "🟠", "large_yellow_circle": "🟡", "large_green_circle": "🟢",
	"large_blue_circle": "🔵", "white_circle": "⚪", "black_circle": "⚫", "question": "❓",
	"grey_question": "❔", "exclamation": "❗", "hourglass": "⌛", "hourglass_flowing_sand": "⏳",
	"lock": "🔒", "wave": "👋", "star": "⭐", "fire": "🔥", "rocket": "🚀", "moneybag": "💰",
	"handshake": "🤝", "no_entry": "⛔", "no_entry_sign": "🚫", "information_source": "ℹ️",
	"speech_balloon": "💬", "ballot_box_with_check": "☑️", "clipboard": "📋", "zzz": "💤",
	"pushpin": "📌", "telephone_receiver": "📞", "house": "🏠", "heart": "❤️", "raised_hands": "🙌",
	"pray": "🙏", "muscle": "💪", "100": "💯", "sparkles": "✨", "bulb": "💡", "hammer_and_wrench": "🛠️",
	"arrows_counterclockwise": "🔄", "repeat": "🔁", "inbox_tray": "📥", "outbox_tray": "📤",
	"scales": "⚖️", "trophy": "🏆", "ok_hand": "👌", "slightly_smiling_face": "🙂", "smile": "😄",
}
