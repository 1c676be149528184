package bot

import (
	"regexp"
	"strings"

	"github.com/leadtriage/leadtriage/triage"
)

// Reading Slack's message text: the bot turns what people type or paste in
// Slack into a lead's fields; the domain never sees Slack markup.

// maxMessageFromSlack caps the message leadInputFromMessage keeps, in runes:
// a forwarded e-mail thread can be long, and the card shows only the start.
const maxMessageFromSlack = 2000

var (
	// slackLink is Slack's link markup: <url>, <url|label>, <mailto:a@b|a@b>.
	// Mentions (<@U…>, <#C…>, <!here>) start with @, # or ! and are left alone.
	slackLink = regexp.MustCompile(`<((?:https?://|mailto:)[^<>|\s]+)(?:\|[^<>]*)?>`)
	emailRe   = regexp.MustCompile(`[\p{L}\p{N}._%+'-]+@[\p{L}\p{N}-]+(?:\.[\p{L}\p{N}-]+)+`)
	// urlRe finds web addresses: with a scheme, or starting with www., or a
	// bare domain (checked further by looksLikeDomain).
	urlRe = regexp.MustCompile(`(?i)(?:https?://[^\s<>"'|]+|\b[\p{L}\p{N}][\p{L}\p{N}-]*(?:\.[\p{L}\p{N}][\p{L}\p{N}-]*)+(?:/[^\s<>"'|]*)?)`)
	// headerName is a mail header label before a display name: "From:",
	// "*Van:*", "Reply-To:".
	headerName = regexp.MustCompile(`^[*_>\s]*(?i:from|van|von|de|sender|afzender|reply-to|contact|name|naam)[*_]*\s*:[*_]*\s*`)
)

// unwrapSlack turns Slack's link markup into the plain address and decodes
// the three entities Slack escapes in message text.
func unwrapSlack(s string) string {
	s = slackLink.ReplaceAllStringFunc(s, func(m string) string {
		u := slackLink.FindStringSubmatch(m)[1]
		return strings.TrimPrefix(u, "mailto:")
	})
	return strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&").Replace(s)
}

// leadInputFromText reads what followed /qualify: an e-mail address becomes
// Email, a URL or bare domain Website, anything else Company. It does not
// validate: NewLead does, and names the field that is wrong.
func leadInputFromText(text string) triage.LeadInput {
	t := clean(unwrapSlack(text), false)
	if t == "" {
		return triage.LeadInput{}
	}
	if !strings.ContainsAny(t, " ") {
		if strings.Contains(t, "@") && !strings.Contains(t, "://") {
			return triage.LeadInput{Email: strings.TrimPrefix(t, "mailto:")}
		}
		if strings.Contains(t, "://") || looksLikeDomain(hostPart(t)) {
			return triage.LeadInput{Website: t}
		}
	}
	return triage.LeadInput{Company: t}
}

// leadInputFromMessage makes a best guess at a lead from a pasted or
// forwarded message: its first e-mail address, the display name next to it
// ("Jan Jansen <jan@acme.nl>"), the first web address in the text (not the
// domain inside an e-mail address, nor a social or mail site a signature
// links to), and the text itself as the message. The result goes into
// the add-lead dialog for a person to check, so guessing wrong is cheap.
func leadInputFromMessage(text string) triage.LeadInput {
	plain := clean(strings.ReplaceAll(unwrapSlack(text), "\r\n", "\n"), true)
	var in triage.LeadInput
	in.Message = cutRunes(plain, maxMessageFromSlack)

	if loc := emailRe.FindStringIndex(plain); loc != nil {
		in.Email = strings.Trim(plain[loc[0]:loc[1]], ".")
		in.Name = displayName(plain[:loc[0]])
	}

	// Search for web addresses with the e-mail addresses blanked out, so the
	// domain inside "jan@acme.nl" is not taken for a website.
	rest := emailRe.ReplaceAllStringFunc(plain, func(m string) string { return strings.Repeat(" ", len(m)) })
	for _, loc := range urlRe.FindAllStringIndex(rest, -1) {
		cand := strings.TrimRight(rest[loc[0]:loc[1]], ".,;:!?)]}")
		host := strings.ToLower(hostPart(cand))
		if !hasScheme(cand) && !looksLikeDomain(host) {
			continue
		}
		if noiseHost(strings.TrimPrefix(host, "www.")) {
			continue
		}
		in.Website = cand
		break
	}
	return in
}

// displayName reads the name just before an address, on the same line:
// `Jan Jansen <`, `Jan Jansen (`, or after a header label without brackets
// (`From: "Jan Jansen" `, as Slack shows a forwarded e-mail).
func displayName(before string) string {
	line := before[strings.LastIndexByte(before, '\n')+1:]
	name := strings.TrimRight(line, " ")
	switch {
	case strings.HasSuffix(name, "<"), strings.HasSuffix(name, "("), strings.HasSuffix(name, "["):
		name = name[:len(name)-1]
	case !headerName.MatchString(name):
		return ""
	}
	name = headerName.ReplaceAllString(strings.TrimSpace(name), "")
	name = strings.Trim(name, `"'*_ `)
	if name == "" || strings.ContainsAny(name, "@<>:") || len([]rune(name)) > 100 {
		return ""
	}
	return name
}

func hasScheme(s string) bool {
	l := strings.ToLower(s)
	return strings.HasPrefix(l, "http://") || strings.HasPrefix(l, "https://")
}

// hostPart is the host of a URL or bare address: "https://www.acme.nl/x" → "www.acme.nl".
func hostPart(s string) string {
	if i := strings.Index(s, "://"); i >= 0 {
		s = s[i+3:]
	}
	if i := strings.IndexAny(s, "/?#"); i >= 0 {
		s = s[:i]
	}
	return s
}

// fileExtensions are "TLDs" that in running text are far more often a file name.
var fileExtensions = map[string]bool{
	"pdf": true, "doc": true, "docx": true, "xls": true, "xlsx": true, "ppt": true, "pptx": true,
	"png": true, "jpg": true, "jpeg": true, "gif": true, "txt": true, "csv": true, "html": true,
	"htm": true, "php": true, "js": true, "exe": true, "json": true, "xml": true, "mp4": true, "mov": true,
}

// looksLikeDomain reports whether h is plausibly a DNS name: two or more
// labels, the last of letters only and not a file extension.
func looksLikeDomain(h string) bool {
	h = strings.TrimSuffix(strings.ToLower(h), ".")
	labels := strings.Split(h, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if l == "" || strings.HasPrefix(l, "-") || strings.HasSuffix(l, "-") {
			return false
		}
	}
	tld := labels[len(labels)-1]
	if n := len([]rune(tld)); n < 2 || n > 24 || fileExtensions[tld] {
		return false
	}
	if strings.HasPrefix(tld, "xn--") {
		return true
	}
	for _, r := range tld {
		if !('a' <= r && r <= 'z') && r < 0x80 {
			return false
		}
	}
	return true
}

// noiseHosts are sites a signature links to that are not the company's own.
var noiseHosts = []string{
	"linkedin.com", "twitter.com", "x.com", "facebook.com", "instagram.com", "youtube.com",
	"google.com", "goo.gl", "slack.com", "aka.ms", "outlook.com", "office.com", "microsoft.com",
	"apple.com", "calendly.com", "zoom.us", "bit.ly", "gmail.com", "hotmail.com", "live.com",
	"yahoo.com", "icloud.com",
}

func noiseHost(h string) bool {
	for _, n := range noiseHosts {
		if h == n || strings.HasSuffix(h, "."+n) {
			return true
		}
	}
	return false
}

// cutRunes cuts s to n runes, the last an ellipsis when cut.
func cutRunes(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
