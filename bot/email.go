package bot

import (
	"net/mail"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/leadtriage/leadtriage/triage"
	"github.com/slack-go/slack"
	"golang.org/x/net/publicsuffix"
)

// E-mails forwarded into Slack (to a channel's or the Slack app's e-mail
// address) arrive as a file_share message without text whose file has
// filetype "email": subject, from/to/cc as {address, name, original},
// plain_text, preview_plain_text, headers (slackfake.EmailFile names the
// sources of that shape). "Qualify this message" on such a message reads
// the lead from the e-mail instead of from the (empty) text.

// emailFile returns the first e-mail file in m.
func emailFile(m slack.Message) (slack.File, bool) {
	for _, f := range m.Files {
		if f.Filetype == "email" || f.Mode == "email" {
			return f, true
		}
	}
	return slack.File{}, false
}

// mailParty is a sender: display name and address.
type mailParty struct{ Name, Address string }

// emailPrefill guesses a lead from an e-mail file: the sender (for a
// forward, the original sender named in the body), the company from the
// signature or else from the sender's domain, the website from that domain
// unless freeMail says it is a free-mail domain, the subject and body as
// the message, and "e-mail" as the source. note, what a person wrote with
// the e-mail in Slack, goes above it in the message and fills fields the
// e-mail leaves empty. Nothing is validated: the dialog shows the guess for a
// person to check. freeMail may be nil: then no domain is taken for a
// website or a company, as it might be gmail.com.
func emailPrefill(f slack.File, note string, freeMail func(domain string) bool) triage.LeadInput {
	body := f.PlainText
	if strings.TrimSpace(body) == "" {
		body = f.PreviewPlainText
	}
	body = boundText(strings.ReplaceAll(body, "\r\n", "\n"), maxShortcutText)
	subject := cleanSubject(f.Subject)

	var sender mailParty
	if len(f.From) > 0 {
		sender = partyOf(f.From[0])
	}
	cover := ""
	if fwd, above, inner, ok := forwardedFrom(body); ok {
		// A salesperson forwarded the lead's e-mail: the envelope sender is
		// our colleague, the lead is in the forwarded header block, and what
		// the colleague wrote above it is a note.
		sender, cover, body = fwd, above, inner
	}

	in := triage.LeadInput{Name: sender.Name, Email: sender.Address, Source: "e-mail"}
	if strings.EqualFold(in.Name, in.Email) {
		in.Name = ""
	}
	domain := ""
	if at := strings.LastIndexByte(sender.Address, '@'); at > 0 {
		domain = strings.ToLower(strings.TrimSuffix(sender.Address[at+1:], "."))
		if reg, err := publicsuffix.EffectiveTLDPlusOne(domain); err == nil {
			domain = reg
		}
	}
	if freeMail == nil || domain == "" || freeMail(domain) {
		// gmail.com says nothing about the company: a signature line
		// "Sent from Gmail" must not pass for its name either.
		domain = ""
	}

	in.Company = companyFromSignature(body, sender.Name, domain)
	if in.Company == "" && domain != "" {
		in.Company = companyFromDomain(domain)
	}
	if domain != "" {
		in.Website = domain
	} else {
		// A free-mail sender may still name the company's site.
		in.Website = leadInputFromMessage(body).Website
	}

	msg := strings.TrimSpace(body)
	if cover != "" {
		msg = cover + "\n\n" + msg
	}
	if subject != "" {
		msg = strings.TrimSpace(subject + "\n\n" + msg)
	}
	if note = strings.TrimSpace(note); note != "" {
		fromNote := leadInputFromMessage(note)
		in.Name = cmpOr(in.Name, fromNote.Name)
		in.Email = cmpOr(in.Email, fromNote.Email)
		in.Website = cmpOr(in.Website, fromNote.Website)
		msg = strings.TrimSpace(fromNote.Message + "\n\n" + msg)
	}
	in.Message = boundText(msg, maxMessageFromSlack)
	return in
}

// cmpOr is the first of a and b that is not blank.
func cmpOr(a, b string) string {
	if strings.TrimSpace(a) != "" {
		return a
	}
	return b
}

// boundText cuts s to at most max runes without splitting a character.
func boundText(s string, max int) string {
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	return strings.TrimSpace(string([]rune(s)[:max]))
}

// partyOf reads an e-mail party, falling back on its "original" form
// ("Jan Jansen <jan@acme.nl>") when the parts are missing.
func partyOf(p slack.EmailFileUserInfo) mailParty {
	out := mailParty{Name: strings.TrimSpace(p.Name), Address: strings.TrimSpace(p.Address)}
	if out.Address == "" {
		if a, err := mail.ParseAddress(p.Original); err == nil {
			out.Address = a.Address
			out.Name = cmpOr(out.Name, a.Name)
		}
	}
	out.Name = strings.Trim(out.Name, `"' `)
	return out
}

// subjectPrefix is the reply and forward markers mail clients put before a
// subject, in English, Dutch, German and French.
var subjectPrefix = regexp.MustCompile(`(?i)^\s*(?:(?:re|fwd?|fw|aw|wg|tr|antw|doorst|sv|vs)\s*(?:\[\d+\])?\s*:\s*)+`)

// cleanSubject strips Re:/Fwd:/Doorst: and friends.
func cleanSubject(s string) string {
	return strings.TrimSpace(subjectPrefix.ReplaceAllString(strings.TrimSpace(s), ""))
}

var (
	// forwardMarker starts a forwarded message in the body, as Gmail,
	// Apple Mail and Outlook write it (English, Dutch, German).
	forwardMarker = regexp.MustCompile(`(?im)^[\s>]*(?:-{2,}\s*(?:forwarded message|doorgestuurd bericht|weitergeleitete nachricht|original message|oorspronkelijk bericht|ursprüngliche nachricht)\s*-{2,}|begin (?:forwarded message|doorgestuurd bericht)\s*:|_{10,})\s*$`)
	// fromHeader is the From line of a forwarded header block.
	fromHeader = regexp.MustCompile(`(?i)^[\s>*_]*(?:from|van|von|de)[*_]*\s*:[*_]*\s*(.+)$`)
	// headerLine is any other line of that block: "Sent: …", "Aan: …".
	headerLine = regexp.MustCompile(`(?i)^[\s>*_]*(?:date|sent|to|cc|bcc|subject|reply-to|datum|verzonden|aan|onderwerp|gesendet|an|betreff|envoyé|à|objet)[*_]*\s*:`)
	addrRe     = regexp.MustCompile(`[\p{L}\p{N}._%+'-]+@[\p{L}\p{N}-]+(?:\.[\p{L}\p{N}-]+)+`)
)

// forwardedFrom finds the original sender of a forwarded e-mail in its
// body: the From line of the first header block after a forward marker.
// cover is what the forwarder wrote above it, inner the forwarded message
// after its header block.
func forwardedFrom(body string) (sender mailParty, cover, inner string, ok bool) {
	loc := forwardMarker.FindStringIndex(body)
	if loc == nil {
		return mailParty{}, "", "", false
	}
	lines := strings.Split(body[loc[1]:], "\n")
	i := 0
	for i < len(lines) && strings.TrimSpace(lines[i]) == "" {
		i++
	}
	found := false
	for ; i < len(lines) && i < 12; i++ {
		line := strings.TrimSpace(lines[i])
		if m := fromHeader.FindStringSubmatch(line); m != nil && !found {
			if p, ok := parseMailbox(m[1]); ok {
				sender, found = p, true
				continue
			}
		}
		if !headerLine.MatchString(line) {
			break
		}
	}
	if !found {
		return mailParty{}, "", "", false
	}
	return sender, strings.TrimSpace(body[:loc[0]]), strings.TrimSpace(strings.Join(lines[i:], "\n")), true
}

// parseMailbox reads `Jan Jansen <jan@acme.nl>`, Outlook's
// `Jan Jansen [mailto:jan@acme.nl]`, `"Jansen, Jan" <jan@acme.nl>` or a bare
// address.
func parseMailbox(s string) (mailParty, bool) {
	s = strings.TrimSpace(strings.Trim(s, "*_"))
	s = strings.NewReplacer("[mailto:", "<", "<mailto:", "<").Replace(s)
	if i := strings.LastIndex(s, "<"); i >= 0 {
		if j := strings.IndexAny(s[i:], "]>"); j > 0 {
			s = s[:i] + "<" + s[i+1:i+j] + ">"
		}
	}
	if a, err := mail.ParseAddress(s); err == nil {
		return mailParty{Name: strings.Trim(a.Name, `"'*_ `), Address: a.Address}, true
	}
	loc := addrRe.FindStringIndex(s)
	if loc == nil {
		return mailParty{}, false
	}
	name := strings.Trim(strings.TrimSpace(s[:loc[0]]), `"'<([*_ `)
	if strings.ContainsAny(name, "@<>") {
		name = ""
	}
	return mailParty{Name: name, Address: strings.Trim(s[loc[0]:loc[1]], ".")}, true
}
