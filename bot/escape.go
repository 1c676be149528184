package bot

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Everything in this file turns untrusted lead text into mrkdwn that Slack
// shows literally: no mention, no ping, no disguised link (RELIABILITY I1–I3).
// Only the helpers here may produce "<…>" tokens, and only from values we
// validated ourselves.

// ellipsis marks text cut to fit a Block Kit limit.
const ellipsis = "…"

// slackUserID is what a Slack user id looks like; anything else is rendered
// as text, never as a mention.
var slackUserID = regexp.MustCompile(`^[UW][A-Z0-9]{2,30}$`)

// clean removes characters that can disguise text (C0/C1 controls, bidi
// overrides, zero-width characters, U+FFFD, invalid UTF-8). Triage already
// strips them on input; rendering repeats it because a card must be safe for
// any Lead, whatever path it was stored by. With keepNewlines false, line
// breaks become spaces and runs of spaces collapse.
func clean(s string, keepNewlines bool) string {
	s = strings.Map(func(r rune) rune {
		switch {
		case r == '\n' && keepNewlines:
			return r
		case r == '\u2028' || r == '\u2029':
			if keepNewlines {
				return '\n'
			}
			return ' '
		case r == '\t' || r == '\n' || r == '\r':
			return ' '
		case r == utf8.RuneError, unicode.IsControl(r), unicode.Is(unicode.Cf, r):
			return -1
		}
		return r
	}, s)
	if !keepNewlines {
		return strings.Join(strings.Fields(s), " ")
	}
	return strings.TrimSpace(s)
}

// escapeRune returns the mrkdwn-safe form of r.
func escapeRune(r rune) string {
	switch r {
	case '&':
		return "&amp;"
	case '<':
		return "&lt;"
	case '>':
		return "&gt;"
	}
	return string(r)
}

// esc cleans one line of untrusted text and escapes &, < and > (what
// slackutilsx.EscapeMessage does) without any length limit.
func esc(s string) string {
	return escTrunc(s, -1, false)
}

// escTrunc cleans and escapes s and cuts the result to at most max runes
// (max < 0: no limit), ending in "…" when cut. It cuts between input
// characters, so an entity such as "&amp;" is never split.
func escTrunc(s string, max int, keepNewlines bool) string {
	s = clean(s, keepNewlines)
	var b strings.Builder
	n := 0
	for i, r := range s {
		e := escapeRune(r)
		w := utf8.RuneCountInString(e)
		if max >= 0 && n+w > max-1 {
			// Does the rest fit exactly without the ellipsis?
			if rest := escapedLen(s[i:]); n+rest <= max {
				b.WriteString(escapeAll(s[i:]))
				return b.String()
			}
			b.WriteString(ellipsis)
			return b.String()
		}
		b.WriteString(e)
		n += w
	}
	return b.String()
}

func escapedLen(s string) int {
	n := 0
	for _, r := range s {
		n += utf8.RuneCountInString(escapeRune(r))
	}
	return n
}

func escapeAll(s string) string {
	var b strings.Builder
	for _, r := range s {
		b.WriteString(escapeRune(r))
	}
	return b.String()
}

// One escaping rule per text type. mrkdwn parses &, < and > as control
// characters, so lead text is escaped (esc, escTrunc) before it goes into
// mrkdwn. plain_text parses nothing: the text object reference
// (docs.slack.dev/reference/block-kit/composition-objects/text-object) applies
// formatting markup only "when type is mrkdwn", and Slack entity-encodes raw
// &, < and > in plain_text itself and shows them as typed (a button "Answer &
// 1" comes back as "Answer &amp; 1" in the block_actions payload's message,
// slackapi/bolt-python issue #513). So plain_text gets the lead's characters
// as they are (plainCut): escaping them there would show "&amp;" to people.

// plainCut cleans untrusted text for a plain_text object (a header, a
// button or option text, a modal's text) and cuts it, between characters, to
// at most max runes, ending in "…" when cut. &, < and > stay as they are,
// but each counts as long as its entity: Slack stores plain_text encoded
// (see above), and the text must fit the limit whichever form Slack measures.
func plainCut(s string, max int) string {
	s = clean(s, false)
	if escapedLen(s) <= max {
		return s
	}
	var b strings.Builder
	n := 0
	for _, r := range s {
		w := utf8.RuneCountInString(escapeRune(r))
		if n+w > max-1 {
			break
		}
		b.WriteRune(r)
		n += w
	}
	return b.String() + ellipsis
}

// fit cuts mrkdwn we composed (escaped text plus our own tokens) to at most
// max runes. It backs off so that it never leaves half a "<…>" token or half
// an entity, either of which Slack could misread.
func fit(s string, max int) string {
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	r := []rune(s)[:max-1]
	cut := string(r)
	if lt := strings.LastIndexByte(cut, '<'); lt >= 0 && lt > strings.LastIndexByte(cut, '>') {
		cut = cut[:lt]
	}
	if amp := strings.LastIndexByte(cut, '&'); amp >= 0 && !strings.Contains(cut[amp:], ";") {
		cut = cut[:amp]
	}
	return cut + ellipsis
}

// quote turns escaped text into a mrkdwn block quote.
func quote(s string) string {
	return "> " + strings.ReplaceAll(s, "\n", "\n> ")
}

// mention renders a Slack user id as a mention when it is one, else as text.
func mention(id string) string {
	if slackUserID.MatchString(id) {
		return "<@" + id + ">"
	}
	return escTrunc(id, 40, false)
}

// dateToken renders t in each reader's own time zone, with an RFC 3339
// fallback for clients that cannot.
func dateToken(t time.Time) string {
	t = t.UTC()
	return fmt.Sprintf("<!date^%d^{date_short_pretty} {time}|%s>", t.Unix(), t.Format(time.RFC3339))
}

// maxLinkURL bounds the URL inside a link; a longer one links to the site's
// root instead, which is all the card needs.
const maxLinkURL = 500

// hostname is a lowercase ASCII DNS name (IDNs in their xn-- form, so that
// homoglyphs show).
var hostname = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$`)

// websiteLink renders a lead's website as "<URL|domain>" when it is an
// absolute http(s) URL with a plain DNS host, and as escaped text otherwise:
// a link's label must never disguise where it goes (RELIABILITY I2).
func websiteLink(raw string) string {
	u, ok := checkedURL(raw)
	if !ok {
		return escTrunc(raw, 200, false)
	}
	return hostLink(u, maxLinkURL)
}

// hostLink links u, labelled with its host; a URL longer than maxURL links
// to the site's root instead.
func hostLink(u *url.URL, maxURL int) string {
	host := u.Hostname()
	target := u.String()
	if len(target) > maxURL {
		target = u.Scheme + "://" + host + "/"
	}
	return link(target, esc(strings.TrimPrefix(host, "www.")))
}

// checkedURL accepts raw only as an absolute http(s) URL with a plain DNS
// host, no user info and no port: the rules for every link the card makes
// from a URL it did not build itself. The fragment is dropped.
func checkedURL(raw string) (*url.URL, bool) {
	u, err := url.Parse(clean(raw, false))
	if err != nil || u.User != nil || u.Opaque != "" || u.Port() != "" ||
		(u.Scheme != "http" && u.Scheme != "https") {
		return nil, false
	}
	// Hosts are case-insensitive; the lowercase form is what the label shows.
	u.Host = strings.ToLower(u.Host)
	if host := u.Hostname(); len(host) > 253 || !hostname.MatchString(host) {
		return nil, false
	}
	u.Fragment, u.RawFragment = "", ""
	return u, true
}

// linkEscaper percent-encodes what would end the URL or the token early
// inside "<URL|label>", and writes & as the entity mrkdwn expects.
var linkEscaper = strings.NewReplacer("|", "%7C", "<", "%3C", ">", "%3E", " ", "%20", "&", "&amp;")

// link renders "<target|label>". target must be a URL we built or checked;
// label must already be escaped (or be our own fixed words).
func link(target, label string) string {
	return "<" + linkEscaper.Replace(target) + "|" + label + ">"
}

// queryTerm cleans s for use in a search URL and cuts it, between
// characters, so that url.QueryEscape of it is at most max bytes: a long or
// non-Latin company name must not blow the card's text budget.
func queryTerm(s string, max int) string {
	s = clean(s, false)
	n := 0
	for i, r := range s {
		w := len(url.QueryEscape(string(r)))
		if n+w > max {
			return strings.TrimSpace(s[:i])
		}
		n += w
	}
	return s
}
