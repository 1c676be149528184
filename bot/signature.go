package bot

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/idna"
	"golang.org/x/net/publicsuffix"
)

// The company behind an e-mail, guessed from its signature. A person checks
// the guess in the dialog, so the heuristic prefers saying nothing to
// saying something odd: it looks only at the signature (after "-- ", else
// the last lines before any quoted reply), and takes, in this order,
//
//  1. a line (or a part of one between |, · or •) with a legal form:
//     "Acme B.V.", "Widget Works Ltd", "Muster GmbH";
//  2. a line that spells the sender's domain: "Voorbeeld Bouw" for
//     voorbeeld-bouw.nl;
//  3. the line after the sender's name, skipping job titles, phone numbers
//     and addresses: "Jan Jansen / Sales Manager / Acme", or the company in
//     "CEO, Acme" or "Sales Manager at Acme".
//
// Failing that, companyFromDomain names it after the domain.

// maxSignatureLines is how many non-empty lines at the end of a message
// without a "-- " delimiter count as its signature.
const maxSignatureLines = 10

// maxCompanyLine is the longest line taken for a company name: longer
// lines are sentences or disclaimers.
const maxCompanyLine = 60

var (
	// legalForm is a company's legal form as a word of its own. The short,
	// ambiguous ones (AG, SA, NV, AB, Oy) count only in capitals.
	legalForm = regexp.MustCompile(`(?:^|[\s,])(?:(?i:b\.\s?v\.?|bv|n\.v\.?|v\.o\.f\.?|vof|bvba|ltd\.?|limited|llc|l\.l\.c\.|llp|plc|gmbh|inc\.?|incorporated|corp\.?|corporation|sarl|s\.a\.r\.l\.?|pty)|NV|AG|SA|S\.A\.|AB|Oy|KG|ApS|A/S)(?:$|[\s,.)])`)
	// jobTitle marks a line (or part) that says what someone does, not
	// where.
	jobTitle = regexp.MustCompile(`(?i)\b(?:ceo|cto|cfo|coo|cmo|cio|founder|co-founder|cofounder|oprichter|owner|eigenaar|directeur|director|dga|manager|head|lead|chief|president|vp|partner|consultant|adviseur|advisor|engineer|developer|sales|marketing|account|officer|assistant|assistente?|medewerker|specialist|coordinator|coördinator|bestuurder|secretary|secretaresse|teamleider|hoofd|inkoper|buyer|procurement|operations|geschäftsführer|inhaber|recruiter|analyst|designer|architect)\b`)
	// atCompany is "Sales Manager at Acme", "Inkoper bij Acme", "CEO @ Acme".
	atCompany = regexp.MustCompile(`(?i)^.{2,60}?\s(?:at|bij|@|bei|chez)\s+(.{2,60})$`)
	// quoteStart begins a quoted earlier message: everything after it is
	// someone else's.
	quoteStart = regexp.MustCompile(`(?i)^\s*(?:>|on .{4,200} wrote:\s*$|op .{4,200} (?:schreef|heeft) .{0,80}:\s*$|am .{4,200} schrieb .{0,80}:\s*$|-{2,}\s*(?:original message|oorspronkelijk bericht|forwarded message|doorgestuurd bericht)\s*-{2,}\s*$)`)
	// signOff is a closing line that comes before the name.
	signOff = regexp.MustCompile(`(?i)^(?:best|kind|warm)?\s*(?:regards|wishes|groet(?:en)?|greetings|cheers|thanks|thank you|bedankt|dank|mvg|met vriendelijke groet(?:en)?|vriendelijke groet(?:en)?|mit freundlichen grüßen|viele grüße|(?:sent|verzonden|verstuurd|gesendet) (?:from|with|via|vanaf|met|von|mit) .*|get outlook for .*|download outlook .*)[,.!]*$`)
	partSep = regexp.MustCompile(`\s*(?:\||·|•|\s[-–—]\s)\s*`)
)

// companyFromSignature guesses the sender's company from the signature of
// body; name is the sender's display name and domain their e-mail domain
// (both may be empty). It returns "" when no line is convincing.
func companyFromSignature(body, name, domain string) string {
	sig := signatureLines(body)
	// 1. A legal form.
	for _, line := range sig {
		for _, part := range lineParts(line) {
			if !legalForm.MatchString(part) {
				continue
			}
			if m := atCompany.FindStringSubmatch(part); m != nil {
				part = m[1]
			}
			if companyish(part, true) {
				return tidyCompany(part)
			}
		}
	}
	// 2. The domain spelled out.
	if label := letters(domainLabel(domain)); utf8.RuneCountInString(label) >= 3 {
		for _, line := range sig {
			for _, part := range lineParts(line) {
				if strings.Contains(letters(part), label) && !sameName(part, name) && companyish(part, true) {
					return tidyCompany(part)
				}
			}
		}
	}
	// 3. After the name.
	if strings.TrimSpace(name) == "" {
		return ""
	}
	for i, line := range sig {
		parts := lineParts(line)
		if len(parts) == 0 || !sameName(parts[0], name) {
			continue
		}
		// The rest of the name line, then up to three lines below it.
		cands := parts[1:]
		for _, next := range sig[i+1 : min(i+4, len(sig))] {
			cands = append(cands, lineParts(next)...)
		}
		for _, c := range cands {
			if m := atCompany.FindStringSubmatch(c); m != nil && jobTitle.MatchString(c) {
				return tidyCompany(m[1])
			}
			// "CEO, Acme"
			if title, rest, ok := strings.Cut(c, ", "); ok && jobTitle.MatchString(title) && !jobTitle.MatchString(rest) && companyish(rest, false) {
				return tidyCompany(rest)
			}
			if jobTitle.MatchString(c) || !companyish(c, false) {
				continue
			}
			return tidyCompany(c)
		}
		return ""
	}
	return ""
}

// signatureLines are the trimmed, non-empty lines of body's signature: those
// after the last "-- " line, or else the last maxSignatureLines, in either
// case before any quoted earlier message.
func signatureLines(body string) []string {
	var lines []string
	delim := -1
	for _, l := range strings.Split(body, "\n") {
		if quoteStart.MatchString(l) {
			break
		}
		if t := strings.TrimRight(l, " \t\r"); t == "--" || t == "—" {
			delim = len(lines)
			continue
		}
		if t := strings.TrimSpace(l); t != "" {
			lines = append(lines, t)
		}
	}
	if delim >= 0 {
		return lines[delim:]
	}
	return lines[max(0, len(lines)-maxSignatureLines):]
}

// lineParts splits a signature line at |, · and • and " - ", trims each
// part of markup and drops empty ones.
func lineParts(line string) []string {
	var out []string
	for _, p := range partSep.Split(line, -1) {
		if p = strings.Trim(p, " *_\t,;:"); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// companyish rejects what signatures hold besides a company: e-mail and web
// addresses, sign-offs, long sentences and, unless allowDigits, phone
// numbers and street addresses.
func companyish(s string, allowDigits bool) bool {
	n := utf8.RuneCountInString(s)
	if n < 2 || n > maxCompanyLine || signOff.MatchString(s) {
		return false
	}
	if strings.ContainsAny(s, "@:/<>") || strings.Contains(strings.ToLower(s), "www.") {
		return false
	}
	r, _ := utf8.DecodeRuneInString(s)
	if !unicode.IsLetter(r) {
		return false
	}
	return allowDigits || !strings.ContainsFunc(s, unicode.IsDigit)
}

// sameName reports whether s is the sender's name (or it starts with the
// whole name).
func sameName(s, name string) bool {
	s, name = strings.ToLower(strings.TrimSpace(s)), strings.ToLower(strings.TrimSpace(name))
	if name == "" {
		return false
	}
	return s == name || strings.HasPrefix(s, name+" ") || strings.HasPrefix(s, name+",")
}

// tidyCompany trims a company name taken from a line.
func tidyCompany(s string) string {
	s = strings.Trim(strings.TrimSpace(s), "*_,;:|")
	if utf8.RuneCountInString(s) > maxCompanyLine {
		return ""
	}
	return s
}

// letters is s lowercased with everything but letters and digits removed.
func letters(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return unicode.ToLower(r)
		}
		return -1
	}, s)
}

// domainLabel is the name part of a registrable domain: "voorbeeld-bouw"
// for voorbeeld-bouw.co.uk, in Unicode for an IDN.
func domainLabel(domain string) string {
	domain = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(domain)), ".")
	if domain == "" {
		return ""
	}
	if reg, err := publicsuffix.EffectiveTLDPlusOne(domain); err == nil {
		domain = reg
	}
	suffix, _ := publicsuffix.PublicSuffix(domain)
	label := strings.TrimSuffix(domain, "."+suffix)
	if i := strings.LastIndexByte(label, '.'); i >= 0 {
		label = label[i+1:]
	}
	if u, err := idna.ToUnicode(label); err == nil {
		label = u
	}
	return label
}

// companyFromDomain names a company after its domain: "voorbeeld-bouw.nl"
// → "Voorbeeld Bouw".
func companyFromDomain(domain string) string {
	words := strings.FieldsFunc(domainLabel(domain), func(r rune) bool { return r == '-' || r == '_' })
	for i, w := range words {
		r, n := utf8.DecodeRuneInString(w)
		words[i] = string(unicode.ToUpper(r)) + w[n:]
	}
	return strings.Join(words, " ")
}
