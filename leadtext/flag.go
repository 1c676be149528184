package leadtext

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/leadtriage/leadtriage/triage"
)

// FlagDetail is a research flag's sentence in plain English: worded from its
// code and typed Args, as bot's English catalogue words it on the card, or
// the flag's stored Detail when it has no Args (stored before issue 12) or a
// code this package does not know.
func FlagDetail(fl triage.Flag) string {
	if len(fl.Args) > 0 {
		if s := flagWords(fl.Code, fl.Args); s != "" {
			return s
		}
	}
	return fl.Detail
}

func flagWords(code string, a map[string]string) string {
	switch code {
	case triage.FlagFreeEmail:
		return fmt.Sprintf("Free-mail address at %s: no company domain behind it.", a[triage.ArgDomain])
	case triage.FlagDisposableEmail:
		return fmt.Sprintf("Disposable address at %s: it stops working after a while.", a[triage.ArgDomain])
	case triage.FlagInvalidEmailDomain:
		return fmt.Sprintf("%s has no mail servers: mail to it bounces.", a[triage.ArgDomain])
	case triage.FlagNoWebsite:
		switch a[triage.ArgVariant] {
		case triage.VariantFreeMail:
			return "No website given and only a free-mail address."
		case triage.VariantNothing:
			return "No website or e-mail domain given."
		case triage.VariantNoAnswer:
			return fmt.Sprintf("No website given, and nothing answers at %s.", a[triage.ArgHost])
		}
	case triage.FlagWebsiteUnreachable:
		return fmt.Sprintf("The website %s does not work: %s.", a[triage.ArgHost], or(a[triage.ArgWhy], "no answer"))
	case triage.FlagDomainYoung:
		n, _ := strconv.Atoi(a[triage.ArgDays])
		return fmt.Sprintf("%s was registered on %s, %s ago.", a[triage.ArgDomain], date(a[triage.ArgDate]), count(n, "day", "days"))
	case triage.FlagClaimMismatch:
		if d := a[triage.ArgDate]; d != "" {
			return fmt.Sprintf("Claims founded %s; registry says incorporated %s. A predecessor company?", a[triage.ArgFounded], date(d))
		}
		var evidence []string
		if d := a[triage.ArgRegistered]; d != "" {
			evidence = append(evidence, "domain registered "+date(d))
		}
		for _, e := range []struct{ arg, found, missing string }{
			{triage.ArgCertificate, "first certificate ", "no certificate"},
			{triage.ArgCapture, "first archive capture ", "no archive capture"},
		} {
			switch d := a[e.arg]; d {
			case "":
			case triage.ArgNone:
				evidence = append(evidence, e.missing)
			default:
				evidence = append(evidence, e.found+date(d))
			}
		}
		return fmt.Sprintf("Claims founded %s; earliest trace online: %s. Was there an earlier name or site?", a[triage.ArgFounded], strings.Join(evidence, ", "))
	case triage.FlagInsolvency:
		return fmt.Sprintf("%s lists the company as %s. Is there a going concern to do business with?", bureau(a[triage.ArgBureau]), or(a[triage.ArgStatus], "not active"))
	case triage.FlagCreditRisk:
		rating := a[triage.ArgRating]
		if d := a[triage.ArgRatingText]; d != "" {
			rating += " (" + d + ")"
		}
		if d := a[triage.ArgDate]; d != "" {
			return fmt.Sprintf("%s rates it %s as of %s. Can they pay — payment up front, or a smaller first order?", bureau(a[triage.ArgBureau]), rating, date(d))
		}
		return fmt.Sprintf("%s rates it %s. Can they pay — payment up front, or a smaller first order?", bureau(a[triage.ArgBureau]), rating)
	case triage.FlagPreviouslyDisq:
		return fmt.Sprintf("%s was %s on %s: %s", a[triage.ArgLead], Status(triage.Status(a[triage.ArgStatus])),
			or(date(a[triage.ArgDate]), "an unknown date"), or(a[triage.ArgReason], "no reason recorded"))
	case triage.FlagDuplicate:
		var seen []string
		for _, item := range strings.Split(a[triage.ArgSeen], triage.ArgSep) {
			if f := strings.Fields(item); len(f) == 3 {
				what := "domain"
				if f[1] == triage.SameEmail {
					what = "e-mail"
				}
				seen = append(seen, fmt.Sprintf("%s (same %s, %s)", f[0], what, Status(triage.Status(f[2]))))
			}
		}
		if len(seen) == 0 {
			return ""
		}
		if n, _ := strconv.Atoi(a[triage.ArgMore]); n > 0 {
			seen = append(seen, "and "+number(n)+" more")
		}
		return "Seen before: " + strings.Join(seen, "; ") + "."
	case triage.FlagResearchIncomplete:
		var failed []string
		if y := a[triage.ArgFounded]; y != "" {
			failed = append(failed, "founding claim "+y+" (no registry, domain, certificate or archive date)")
		}
		for _, p := range strings.Split(a[triage.ArgFailed], triage.ArgSep) {
			if p = strings.TrimSpace(p); p != "" {
				failed = append(failed, p)
			}
		}
		if len(failed) == 0 {
			return ""
		}
		return "Not checked: " + strings.Join(failed, ", ") + "."
	}
	return ""
}

// Status is a lead's status in a sentence.
func Status(s triage.Status) string {
	switch s {
	case triage.StatusPending, triage.StatusQualified, triage.StatusDisqualified, triage.StatusReferred:
		return string(s)
	}
	return "unknown status"
}

// date is a flag's date argument (2006-01-02) as a sentence says it, "20
// February 2026"; an argument that is no date is given as it is.
func date(s string) string {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return s
	}
	return t.Format("2 January 2006")
}

// count is n with the noun's English plural: "1 day", "1,200 days".
func count(n int, one, other string) string {
	if n == 1 {
		return "1 " + one
	}
	return number(n) + " " + other
}

// number groups thousands with commas, as English writes them.
func number(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	if neg {
		return "-" + s
	}
	return s
}

func bureau(source string) string {
	switch source {
	case "creditsafe":
		return "Creditsafe"
	case "":
		return "credit bureau"
	}
	return source
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
