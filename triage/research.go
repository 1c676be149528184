package triage

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Research flag codes (DESIGN.md): stable, because people and integrations
// filter on them.
const (
	FlagFreeEmail          = "free_email"
	FlagDisposableEmail    = "disposable_email"
	FlagInvalidEmailDomain = "invalid_email_domain"
	FlagNoWebsite          = "no_website"
	FlagWebsiteUnreachable = "website_unreachable"
	FlagDomainYoung        = "domain_young"
	FlagClaimMismatch      = "claim_mismatch"
	FlagDuplicate          = "duplicate"
	FlagPreviouslyDisq     = "previously_disqualified"
	FlagResearchIncomplete = "research_incomplete"
	FlagCreditRisk         = "credit_risk"
	FlagInsolvency         = "insolvency"
)

// flagSeverity orders flags on the card: what most changes the team's view first.
var flagSeverity = map[string]int{
	FlagDisposableEmail:    100,
	FlagInsolvency:         95,
	FlagClaimMismatch:      90,
	FlagPreviouslyDisq:     85,
	FlagDomainYoung:        80,
	FlagCreditRisk:         75,
	FlagInvalidEmailDomain: 70,
	FlagWebsiteUnreachable: 60,
	FlagNoWebsite:          55,
	FlagDuplicate:          50,
	FlagFreeEmail:          40,
	FlagResearchIncomplete: 10,
}

// Severity ranks a flag code; unknown codes rank lowest.
func Severity(code string) int { return flagSeverity[code] }

// YoungDomain is the age under which a domain is flagged domain_young.
const YoungDomain = 365 * 24 * time.Hour

// Facts are what the providers found. Zero values mean "not found" or "not
// checked"; each provider's outcome is in Research.Providers.
type Facts struct {
	// E-mail
	EmailDomain string
	FreeMail    bool // the e-mail domain is a free-mail provider (gmail.com, …)
	Disposable  bool
	RoleAddress bool // info@, sales@, …: not a person

	// The company's domain: registration (RDAP) and DNS.
	DomainRegistered time.Time
	Registrar        string
	MX               []string // mail exchangers of the e-mail domain
	EmailDomainLive  bool     // the e-mail domain has MX or A records

	// The website's home page.
	Website Website

	// A company registry, when a key is configured and a match was found.
	Registry *Registry

	// First seen online (research.web_history): the earliest certificate
	// for the domain in Certificate Transparency logs, and the earliest
	// Internet Archive capture. Zero: none found, or not checked (see
	// Research.Providers: "crtsh", "wayback").
	FirstCertificate time.Time
	FirstCapture     time.Time

	// A credit bureau's report, when one is configured and found the company.
	Credit *Credit
}

// Credit is a credit bureau's view of the company (Creditsafe, …).
type Credit struct {
	Source      string    // the bureau: "creditsafe", …
	Name        string    // the company as the bureau knows it
	Number      string    // its registration number there
	Rating      string    // the bureau's common band: "A" (very low risk) … "E" (not rated)
	Description string    // the band in the bureau's words: "Very Low Risk"
	Score       string    // the bureau's own score, e.g. "85"; "" = none
	Limit       int64     // recommended credit limit in whole units of Currency; 0 = none given
	Currency    string    // "EUR", "GBP"
	Status      string    // the company's status there: "Active", "Bankrupt", …
	Date        time.Time // when the rating was set (or read, without that date)
	HighRisk    bool      // the rating is in the bureau's high-risk band
	Insolvent   bool      // bankrupt, in administration or dissolved
}

// Website is what the home page said about the company.
type Website struct {
	URL            string // what was fetched
	FinalURL       string // after redirects
	Status         int
	Reachable      bool
	Title          string
	Description    string
	CopyrightYears []int
	Social         map[string]string // "linkedin", "x", "facebook", "instagram" -> profile URL
}

// Registry is a company registry's record (KvK, Companies House).
type Registry struct {
	Source       string // "kvk" or "companies_house"
	Number       string // KvK-nummer or company number
	Name         string
	Status       string // "active", "dissolved", …
	Incorporated time.Time
	Employees    int // 0 = not given
	URL          string
}

// ProviderResult is how one provider fared.
type ProviderResult struct {
	Name  string // "email", "rdap", "dns", "website", "kvk", "companies_house", "crtsh", "wayback", "creditsafe"
	OK    bool
	Error string // a short reason when not OK ("timeout", "rate limited", "http 500"); never a secret
	Took  time.Duration
}

// Findings are one research run's raw results, before the domain adds what
// only it knows (history, the claims, the age of the domain today).
type Findings struct {
	Facts     Facts
	Flags     []Flag // flags a provider can judge alone: free_email, disposable_email, invalid_email_domain, no_website, website_unreachable
	Providers []ProviderResult
}

// Researcher looks into a lead. It must return within ctx's deadline and
// never fail as a whole for one provider's failure: that provider's result
// says so instead. refresh bypasses any cache.
type Researcher interface {
	Research(ctx context.Context, l Lead, refresh bool) (Findings, error)
}

// Compose turns findings into the lead's Research: it adds domain_young
// (judged at now), claim_mismatch, duplicate and previously_disqualified from
// earlier leads (others, oldest first; l itself is skipped), and
// research_incomplete for failed providers; orders the flags by severity and
// writes the summary line.
func Compose(l Lead, f Findings, others []Lead, now time.Time) Research {
	r := Research{Facts: f.Facts, Providers: f.Providers, At: now.UTC()}
	r.Flags = append(r.Flags, f.Flags...)
	facts := f.Facts

	if reg := facts.DomainRegistered; !reg.IsZero() && now.Sub(reg) < YoungDomain {
		days := int(now.Sub(reg).Hours() / 24)
		r.Flags = append(r.Flags, Flag{Code: FlagDomainYoung, Source: "rdap",
			Detail: fmt.Sprintf("%s was registered on %s, %d days ago.", l.Domain, reg.Format("2006-01-02"), days)})
	}
	var failed []string
	if l.Founded > 0 {
		flags, unchecked := claimFlags(l, facts, f.Providers)
		r.Flags = append(r.Flags, flags...)
		if unchecked {
			// No date at all is a gap in the research, not evidence against the lead.
			failed = append(failed, fmt.Sprintf("founding claim %d (no registry, domain, certificate or archive date)", l.Founded))
		}
	}
	r.Flags = append(r.Flags, creditFlags(facts.Credit)...)
	r.Flags = append(r.Flags, historyFlags(l, facts, others)...)
	for _, p := range f.Providers {
		if !p.OK {
			failed = append(failed, p.Name+" ("+p.Error+")")
		}
	}
	if len(failed) > 0 {
		r.Flags = append(r.Flags, Flag{Code: FlagResearchIncomplete, Source: "research",
			Detail: "Not checked: " + strings.Join(failed, ", ") + "."})
	}
	r.Flags = dedupeFlags(r.Flags)
	sort.SliceStable(r.Flags, func(i, j int) bool { return Severity(r.Flags[i].Code) > Severity(r.Flags[j].Code) })
	r.Summary = summarise(l, r)
	return r
}

// claimFlags compares the claimed founding year with the earliest evidence
// of the company: the registry's incorporation date outranks web traces (a
// domain can be bought years before the company exists); without one, the
// earliest of domain registration, first certificate and first archive
// capture counts, and the flag names each piece of evidence it weighed. It
// asks; it does not accuse: a company can be older than its website.
// unchecked: there was no date to compare with.
func claimFlags(l Lead, facts Facts, providers []ProviderResult) (flags []Flag, unchecked bool) {
	if rg := facts.Registry; rg != nil && !rg.Incorporated.IsZero() {
		if l.Founded < rg.Incorporated.Year() {
			flags = append(flags, Flag{Code: FlagClaimMismatch, Source: rg.Source,
				Detail: fmt.Sprintf("Claims founded %d; registry says incorporated %s. A predecessor company?", l.Founded, rg.Incorporated.Format("2006-01-02"))})
		}
		return flags, false
	}
	checked := func(name string) bool {
		for _, p := range providers {
			if p.Name == name {
				return p.OK
			}
		}
		return false
	}
	var earliest time.Time
	var evidence []string
	note := func(t time.Time, found, missing string, ran bool) {
		switch {
		case !t.IsZero():
			evidence = append(evidence, found+" "+t.Format("2006-01-02"))
			if earliest.IsZero() || t.Before(earliest) {
				earliest = t
			}
		case ran:
			evidence = append(evidence, missing)
		}
	}
	note(facts.DomainRegistered, "domain registered", "no registration date", false)
	note(facts.FirstCertificate, "first certificate", "no certificate", checked("crtsh"))
	note(facts.FirstCapture, "first archive capture", "no archive capture", checked("wayback"))
	if earliest.IsZero() {
		return nil, true
	}
	if l.Founded < earliest.Year() {
		flags = append(flags, Flag{Code: FlagClaimMismatch, Source: "claims",
			Detail: fmt.Sprintf("Claims founded %d; earliest trace online: %s. Was there an earlier name or site?", l.Founded, strings.Join(evidence, ", "))})
	}
	return flags, false
}

// creditFlags turns a bureau's report into questions for the team.
func creditFlags(c *Credit) []Flag {
	if c == nil {
		return nil
	}
	var out []Flag
	name := bureauName(c.Source)
	if c.Insolvent {
		out = append(out, Flag{Code: FlagInsolvency, Source: c.Source,
			Detail: fmt.Sprintf("%s lists the company as %s. Is there a going concern to do business with?", name, nonEmpty(c.Status, "not active"))})
	}
	if c.HighRisk {
		rating := c.Rating
		if c.Description != "" {
			rating += " (" + c.Description + ")"
		}
		out = append(out, Flag{Code: FlagCreditRisk, Source: c.Source,
			Detail: fmt.Sprintf("%s rates it %s as of %s. Can they pay — payment up front, or a smaller first order?", name, rating, c.Date.Format("2006-01-02"))})
	}
	return out
}

func bureauName(source string) string {
	if source == "creditsafe" {
		return "Creditsafe"
	}
	return source
}

func nonEmpty(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// historyFlags looks at earlier leads from the same company: the same
// e-mail, or the same domain unless that is a free-mail domain.
func historyFlags(l Lead, facts Facts, others []Lead) []Flag {
	var out []Flag
	var dups []string
	for _, o := range others {
		if o.ID == l.ID || (l.ID != 0 && o.ID > l.ID) {
			continue
		}
		sameEmail := l.Email != "" && strings.EqualFold(o.Email, l.Email)
		sameDomain := l.Domain != "" && o.Domain == l.Domain && !(facts.FreeMail && l.Domain == facts.EmailDomain)
		if !sameEmail && !sameDomain {
			continue
		}
		what := "domain"
		if sameEmail {
			what = "e-mail"
		}
		dups = append(dups, fmt.Sprintf("%s (same %s, %s)", o.ID, what, o.Status))
		if o.Status == StatusDisqualified || o.Status == StatusReferred {
			reason := "no reason recorded"
			if o.Decision != nil && o.Decision.Reason != "" {
				reason = o.Decision.Reason
			}
			out = append(out, Flag{Code: FlagPreviouslyDisq, Source: "history",
				Detail: fmt.Sprintf("%s was %s on %s: %s", o.ID, o.Status, decidedOn(o), reason)})
		}
	}
	if len(dups) > 0 {
		if len(dups) > 5 {
			dups = append(dups[:5], fmt.Sprintf("and %d more", len(dups)-5))
		}
		out = append(out, Flag{Code: FlagDuplicate, Source: "history", Detail: "Seen before: " + strings.Join(dups, "; ") + "."})
	}
	return out
}

func decidedOn(l Lead) string {
	if l.Decision == nil {
		return "an unknown date"
	}
	return l.Decision.At.Format("2006-01-02")
}

func dedupeFlags(flags []Flag) []Flag {
	seen := map[string]bool{}
	var out []Flag
	for _, f := range flags {
		k := f.Code + "\x00" + f.Detail
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, f)
	}
	return out
}

// summarise writes the card's one line: the worst findings first, then the
// reassuring facts, in plain words.
func summarise(l Lead, r Research) string {
	var parts, phrases []string
	seen := map[string]bool{}
	for _, f := range r.Flags {
		// Two flags of one kind (a claim checked against the domain and the
		// registry) read as one phrase.
		if ph := flagPhrase(f, r.Facts); !seen[ph] {
			seen[ph] = true
			phrases = append(phrases, ph)
		}
	}
	if len(phrases) > 3 {
		more := "1 more flag"
		if n := len(phrases) - 3; n > 1 {
			more = fmt.Sprintf("%d more flags", n)
		}
		phrases = append(phrases[:3], more)
	}
	parts = append(parts, phrases...)
	if len(r.Flags) == 0 {
		parts = append(parts, "no red flags")
	}
	facts := r.Facts
	if !facts.DomainRegistered.IsZero() && !hasFlag(r.Flags, FlagDomainYoung) {
		parts = append(parts, fmt.Sprintf("domain since %d", facts.DomainRegistered.Year()))
	}
	if facts.Website.Reachable && facts.Website.Title != "" {
		parts = append(parts, fmt.Sprintf("site: %q", truncateRunes(facts.Website.Title, 60)))
	}
	if rg := facts.Registry; rg != nil && rg.Name != "" {
		parts = append(parts, fmt.Sprintf("%s: %s", registryName(rg.Source), rg.Status))
	}
	s := strings.Join(parts, " · ")
	return strings.ToUpper(s[:1]) + s[1:]
}

func flagPhrase(f Flag, facts Facts) string {
	switch f.Code {
	case FlagFreeEmail:
		return "free-mail address (" + facts.EmailDomain + ")"
	case FlagDisposableEmail:
		return "disposable e-mail address"
	case FlagInvalidEmailDomain:
		return "e-mail domain receives no mail"
	case FlagNoWebsite:
		return "no website"
	case FlagWebsiteUnreachable:
		return "website unreachable"
	case FlagDomainYoung:
		return fmt.Sprintf("domain registered %s", facts.DomainRegistered.Format("2006-01-02"))
	case FlagClaimMismatch:
		return "founding claim does not match"
	case FlagDuplicate:
		return "seen before"
	case FlagPreviouslyDisq:
		return "disqualified before"
	case FlagResearchIncomplete:
		return "research incomplete"
	case FlagCreditRisk:
		return "high credit risk"
	case FlagInsolvency:
		return "insolvent or dissolved"
	}
	return strings.ReplaceAll(f.Code, "_", " ")
}

func registryName(source string) string {
	switch source {
	case "kvk":
		return "KvK"
	case "companies_house":
		return "Companies House"
	}
	return source
}

func hasFlag(flags []Flag, code string) bool {
	for _, f := range flags {
		if f.Code == code {
			return true
		}
	}
	return false
}
