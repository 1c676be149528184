package triage

import (
	"context"
	"fmt"
	"sort"
	"strconv"
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
			Args: map[string]string{ArgDomain: l.Domain, ArgDate: reg.UTC().Format(time.DateOnly), ArgDays: strconv.Itoa(days)}})
	}
	incomplete := map[string]string{}
	if l.Founded > 0 {
		flags, unchecked := claimFlags(l, facts, f.Providers)
		r.Flags = append(r.Flags, flags...)
		if unchecked {
			// No date at all is a gap in the research, not evidence against the lead.
			incomplete[ArgFounded] = strconv.Itoa(l.Founded)
		}
	}
	r.Flags = append(r.Flags, creditFlags(facts.Credit)...)
	r.Flags = append(r.Flags, historyFlags(l, facts, others)...)
	var failed []string
	for _, p := range f.Providers {
		if !p.OK {
			failed = append(failed, p.Name+" ("+p.Error+")")
		}
	}
	if len(failed) > 0 {
		incomplete[ArgFailed] = strings.Join(failed, ArgSep)
	}
	if len(incomplete) > 0 {
		r.Flags = append(r.Flags, Flag{Code: FlagResearchIncomplete, Source: "research", Args: incomplete})
	}
	r.Flags = dedupeFlags(r.Flags)
	sort.SliceStable(r.Flags, func(i, j int) bool { return Severity(r.Flags[i].Code) > Severity(r.Flags[j].Code) })
	r.Summary = Summarise(r)
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
				Args: map[string]string{ArgFounded: strconv.Itoa(l.Founded), ArgDate: rg.Incorporated.UTC().Format(time.DateOnly)}})
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
	args := map[string]string{ArgFounded: strconv.Itoa(l.Founded)}
	note := func(t time.Time, arg string, ran bool) {
		switch {
		case !t.IsZero():
			args[arg] = t.UTC().Format(time.DateOnly)
			if earliest.IsZero() || t.Before(earliest) {
				earliest = t
			}
		case ran:
			args[arg] = ArgNone
		}
	}
	note(facts.DomainRegistered, ArgRegistered, false)
	note(facts.FirstCertificate, ArgCertificate, checked("crtsh"))
	note(facts.FirstCapture, ArgCapture, checked("wayback"))
	if earliest.IsZero() {
		return nil, true
	}
	if l.Founded < earliest.Year() {
		flags = append(flags, Flag{Code: FlagClaimMismatch, Source: "claims",
			Args: args})
	}
	return flags, false
}

// creditFlags turns a bureau's report into questions for the team.
func creditFlags(c *Credit) []Flag {
	if c == nil {
		return nil
	}
	var out []Flag
	if c.Insolvent {
		out = append(out, Flag{Code: FlagInsolvency, Source: c.Source,
			Args: map[string]string{ArgBureau: c.Source, ArgStatus: c.Status}})
	}
	if c.HighRisk {
		out = append(out, Flag{Code: FlagCreditRisk, Source: c.Source,
			Args: map[string]string{ArgBureau: c.Source, ArgRating: c.Rating, ArgRatingText: c.Description, ArgDate: dateArg(c.Date)}})
	}
	return out
}

// historyFlags looks at earlier leads from the same company: the same
// e-mail, or the same domain unless that is a free-mail domain.
func historyFlags(l Lead, facts Facts, others []Lead) []Flag {
	var out []Flag
	var seen []string
	for _, o := range others {
		if o.ID == l.ID || (l.ID != 0 && o.ID > l.ID) {
			continue
		}
		sameEmail := l.Email != "" && strings.EqualFold(o.Email, l.Email)
		sameDomain := l.Domain != "" && o.Domain == l.Domain && !(facts.FreeMail && l.Domain == facts.EmailDomain)
		if !sameEmail && !sameDomain {
			continue
		}
		what := SameDomain
		if sameEmail {
			what = SameEmail
		}
		seen = append(seen, o.ID.String()+" "+what+" "+string(o.Status))
		if o.Status == StatusDisqualified || o.Status == StatusReferred {
			args := map[string]string{ArgLead: o.ID.String(), ArgStatus: string(o.Status), ArgDate: "", ArgReason: ""}
			if o.Decision != nil {
				args[ArgDate] = dateArg(o.Decision.At)
				args[ArgReason] = o.Decision.Reason
			}
			out = append(out, Flag{Code: FlagPreviouslyDisq, Source: "history",
				Args: args})
		}
	}
	if len(seen) > 0 {
		args := map[string]string{}
		if len(seen) > 5 {
			args[ArgMore] = strconv.Itoa(len(seen) - 5)
			seen = seen[:5]
		}
		args[ArgSeen] = strings.Join(seen, ArgSep)
		out = append(out, Flag{Code: FlagDuplicate, Source: "history", Args: args})
	}
	return out
}

// dateArg is t as a flag's date argument; the zero time is "".
func dateArg(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.DateOnly)
}

func dedupeFlags(flags []Flag) []Flag {
	seen := map[string]bool{}
	var out []Flag
	for _, f := range flags {
		k := f.Code + "\x00" + f.Detail + "\x00" + fmt.Sprint(f.Args) // fmt sorts map keys
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, f)
	}
	return out
}

// Summarise writes research's one line in English (the API's summary): the
// worst findings first, then the reassuring facts, in plain words. bot says
// the same in the team's language when a stored summary is this line.
func Summarise(r Research) string {
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
