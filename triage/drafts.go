package triage

import (
	"regexp"
	"strings"
	"unicode"
)

// Draft is a message for people to copy and send themselves, worded: what
// the bot shows for DraftFacts, and what versions before the bot worded
// drafts stored in a notice (Notice.Draft), shown as it was.
type Draft struct {
	Language string // "en" or "nl"
	Subject  string
	Body     string
}

// Partner is a company declined leads are referred to ([[partners]]).
type Partner struct {
	Name    string
	Fits    string
	Contact string
}

// MaxDraftMessage bounds how much of the lead's own message an introduction
// quotes, in runes: enough to say what they asked, short enough to read.
const MaxDraftMessage = 300

// DraftFacts is what a decline or referral draft says, as data: the domain
// decides the language and what may be told; the bot words it (a notice's
// kind says which draft). Every field is plain lead or configured text,
// cleaned to one line (Message keeps its lines); "" means unknown.
type DraftFacts struct {
	Language string // "en" or "nl": the lead's language, see draftLanguage
	Name     string // first name, or the name with its title ("dhr. Jansen")
	FullName string
	Company  string
	Label    string // the company, else its domain, else the contact
	Email    string
	Phone    string
	Website  string
	Message  string // shortened to MaxDraftMessage
	Reason   string // softened; "" when none was given or it is for internal use only
	Partner  *Partner
}

// DeclineFacts is what a polite decline for a disqualified lead says,
// naming the partner it is referred to when there is one. reason is the
// configured reason; reasons meant for the team only ("Spam",
// "Competitor") are left out.
func DeclineFacts(l Lead, reason string, partner *Partner) DraftFacts {
	f := newDraftFacts(l)
	f.Reason = publicReason(reason)
	if partner != nil {
		p := cleanPartner(*partner)
		f.Partner = &p
	}
	return f
}

// ReferralFacts is what an introduction of the lead to a partner says.
func ReferralFacts(l Lead, partner Partner) DraftFacts {
	f := newDraftFacts(l)
	p := cleanPartner(partner)
	f.Partner = &p
	return f
}

// draftLanguage is Dutch for Dutch and Belgian domains: a decline in the
// reader's language is the polite one. Everyone else gets English.
func draftLanguage(l Lead) string {
	emailDomain := ""
	if at := strings.LastIndexByte(l.Email, '@'); at >= 0 {
		emailDomain = l.Email[at+1:]
	}
	for _, d := range []string{l.Domain, emailDomain} {
		d = strings.TrimSuffix(strings.ToLower(d), ".")
		if strings.HasSuffix(d, ".nl") || strings.HasSuffix(d, ".be") {
			return "nl"
		}
	}
	return "en"
}

func newDraftFacts(l Lead) DraftFacts {
	f := DraftFacts{
		Language: draftLanguage(l),
		Name:     firstName(l.Name),
		FullName: cleanLine(l.Name),
		Company:  cleanLine(l.Company),
		Email:    cleanLine(l.Email),
		Phone:    cleanLine(l.Phone),
		Website:  cleanLine(l.Website),
		Message:  shorten(cleanText(l.Message), MaxDraftMessage),
	}
	for _, s := range []string{f.Company, cleanLine(l.Domain), f.FullName, f.Email} {
		if s != "" {
			f.Label = s
			break
		}
	}
	return f
}

// titles are forms of address that make a first token no first name.
var titles = map[string]bool{
	"mr": true, "mrs": true, "ms": true, "miss": true, "dr": true, "prof": true, "sir": true,
	"dhr": true, "mevr": true, "mw": true, "mevrouw": true, "meneer": true, "ir": true, "ing": true, "drs": true,
}

// firstName is what a greeting uses: the first name, or the whole name when
// it starts with a title ("Dhr. Jansen"), or "" when there is no usable name.
func firstName(name string) string {
	f := strings.Fields(cleanLine(name))
	if len(f) == 0 || strings.Contains(name, "@") {
		return ""
	}
	if titles[strings.ToLower(strings.TrimSuffix(f[0], "."))] {
		if len(f) == 1 {
			return ""
		}
		return strings.Join(f, " ")
	}
	return f[0]
}

// internalReasons mark reasons the team keeps to itself: saying them to the
// lead helps no one.
var internalReasons = regexp.MustCompile(`(?i)\b(spam|scam|fraud|fake|bogus|junk|test|troll|bot|competitor|concurrent|not serious|time ?waster|rude|abusive|blacklist(ed)?)\b`)

// publicReason turns a configured reason into a phrase for the lead: "" when
// there is none or it is for internal use only, else the reason with a
// lower-case start so it reads inside a sentence.
func publicReason(reason string) string {
	r := strings.TrimRight(cleanLine(reason), ".!")
	if r == "" || internalReasons.MatchString(r) {
		return ""
	}
	return lowerFirst(r)
}

func cleanPartner(p Partner) Partner {
	return Partner{
		Name:    cleanLine(p.Name),
		Fits:    lowerFirst(strings.TrimRight(cleanLine(p.Fits), ".")),
		Contact: cleanLine(p.Contact),
	}
}

// lowerFirst lower-cases the first letter unless the first word is an
// acronym or a name written with capitals inside ("SaaS", "EU").
func lowerFirst(s string) string {
	word, _, _ := strings.Cut(s, " ")
	upper := 0
	for _, r := range word {
		if unicode.IsUpper(r) {
			upper++
		}
	}
	if upper != 1 {
		return s
	}
	r := []rune(s)
	if !unicode.IsUpper(r[0]) {
		return s
	}
	r[0] = unicode.ToLower(r[0])
	return string(r)
}

// shorten cuts s to at most n runes, at a word boundary when one is near.
func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	cut := string(r[:n-1])
	if i := strings.LastIndexAny(cut, " \n"); i > len(cut)*3/4 {
		cut = cut[:i]
	}
	return strings.TrimRight(cut, " \n,.;:") + "…"
}
