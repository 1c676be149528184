package bot

import (
	"cmp"
	"regexp"
	"strings"
	"time"

	"github.com/slack-go/slack"
)

// messageWords is what a person wrote, as plain lines for triage.ParseReply:
// from the message's rich_text blocks when it has any (what Slack's
// composer sends; a list item's numbering or bullet is not in them), else
// from its text with Slack's markup and escaping undone. Mentions stay what
// they are (<@U…>, <#C…>, <!here>), emoji are :name:, links are their URL
// (or "label (URL)" when the label says something else).
func messageWords(text string, blocks slack.Blocks) string {
	if lines, ok := richTextLines(blocks); ok {
		return lines
	}
	return unmarkText(text)
}

// richTextLines renders the rich_text blocks of a message, one line per
// paragraph, list item, quote line or code line. ok is false when there
// is no rich_text block, so that the caller falls back on the text.
func richTextLines(blocks slack.Blocks) (string, bool) {
	var (
		lines []string
		found bool
	)
	for _, blk := range blocks.BlockSet {
		rt, isRich := blk.(*slack.RichTextBlock)
		if !isRich || rt == nil {
			continue
		}
		found = true
		for _, el := range rt.Elements {
			lines = append(lines, richElementLines(el)...)
		}
	}
	return strings.Join(lines, "\n"), found
}

// richElementLines renders one top-level element of a rich_text block.
func richElementLines(el slack.RichTextElement) []string {
	switch e := el.(type) {
	case *slack.RichTextSection:
		return splitLines(sectionText(e.Elements))
	case *slack.RichTextList:
		var out []string
		for _, item := range e.Elements {
			// Each item is a section; a nested list is an item of its own.
			out = append(out, richElementLines(item)...)
		}
		return out
	case *slack.RichTextQuote:
		return splitLines(sectionText(e.Elements))
	case *slack.RichTextPreformatted:
		return splitLines(sectionText(e.Elements))
	}
	return nil // an element type Slack added after slack-go knew it
}

func splitLines(s string) []string {
	return strings.Split(strings.TrimRight(s, "\n"), "\n")
}

// sectionText concatenates the inline elements of a section, quote or code
// block; styles (bold, code…) carry no meaning for an answer.
func sectionText(els []slack.RichTextSectionElement) string {
	var b strings.Builder
	for _, el := range els {
		switch e := el.(type) {
		case *slack.RichTextSectionTextElement:
			b.WriteString(e.Text)
		case *slack.RichTextSectionEmojiElement:
			b.WriteString(":" + e.Name + ":") // the skin tone does not change the meaning
		case *slack.RichTextSectionLinkElement:
			b.WriteString(linkText(e.URL, e.Text))
		case *slack.RichTextSectionUserElement:
			b.WriteString("<@" + e.UserID + ">")
		case *slack.RichTextSectionChannelElement:
			b.WriteString("<#" + e.ChannelID + ">")
		case *slack.RichTextSectionUserGroupElement:
			b.WriteString("<!subteam^" + e.UsergroupID + ">")
		case *slack.RichTextSectionBroadcastElement:
			b.WriteString("<!" + e.Range + ">")
		case *slack.RichTextSectionTeamElement:
			b.WriteString("<!team^" + e.TeamID + ">")
		case *slack.RichTextSectionDateElement:
			if e.Fallback != nil && *e.Fallback != "" {
				b.WriteString(*e.Fallback)
			} else {
				b.WriteString(time.Unix(int64(e.Timestamp), 0).UTC().Format("2006-01-02"))
			}
		case *slack.RichTextSectionColorElement:
			b.WriteString(e.Value)
		case *slack.RichTextSectionTagElement:
			b.WriteString(e.Text)
		case *slack.RichTextSectionFileElement:
			b.WriteString(cmp.Or(e.Text, e.URL))
		case *slack.RichTextSectionMessageMentionElement:
			b.WriteString(cmp.Or(e.Text, e.URL))
		}
	}
	return b.String()
}

// linkText is a link as words: its URL, or "label (URL)" when the label is
// more than the URL spelled without its scheme. A mailto link is its address.
func linkText(url, label string) string {
	bare := url
	for _, scheme := range []string{"mailto:", "https://", "http://"} {
		if r, ok := strings.CutPrefix(bare, scheme); ok {
			bare = r
			break
		}
	}
	switch {
	case label == "" || label == url:
		if strings.HasPrefix(url, "mailto:") {
			return bare
		}
		return url
	case label == bare || label == strings.TrimSuffix(bare, "/"):
		if strings.HasPrefix(url, "mailto:") {
			return bare
		}
		return url
	}
	return label + " (" + url + ")"
}

// slackMarkup matches Slack's angle-bracket markup in message text:
// <@U…|name>, <#C…|name>, <!here>, <!subteam^S…|@team>, <https://…|label>.
var slackMarkup = regexp.MustCompile(`<([^<>]*)>`)

// skinTone drops the skin tone from ":+1::skin-tone-2:".
var skinTone = regexp.MustCompile(`::skin-tone-[2-6]:`)

// unmarkText undoes Slack's formatting of message text: markup becomes what
// it stands for and &amp; &lt; &gt; are decoded (Slack escapes exactly those).
func unmarkText(text string) string {
	text = slackMarkup.ReplaceAllStringFunc(text, func(m string) string {
		inner := m[1 : len(m)-1]
		target, label, _ := strings.Cut(inner, "|")
		switch {
		case strings.HasPrefix(target, "@"), strings.HasPrefix(target, "#"):
			return "<" + target + ">"
		case strings.HasPrefix(target, "!date^"):
			return decodeEntities(label)
		case strings.HasPrefix(target, "!"):
			return "<" + target + ">"
		}
		return linkText(decodeEntities(target), decodeEntities(label))
	})
	return skinTone.ReplaceAllString(decodeEntities(text), ":")
}

var entities = strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&")

func decodeEntities(s string) string { return entities.Replace(s) }
