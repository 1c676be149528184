package intake

import (
	"fmt"
	"strings"

	"github.com/leadtriage/leadtriage/triage"
)

// FlagDetail is a research flag's "detail" in the API: the English
// sentence a provider wrote, or, for a flag the domain composed from typed
// arguments (issue 12: triage words nothing), the same sentence in English
// from its Args. The API speaks English; Slack gets the team's language
// from bot's catalogue.
func FlagDetail(fl triage.Flag) string {
	if fl.Detail != "" || fl.Args == nil {
		return fl.Detail
	}
	a := fl.Args
	switch fl.Code {
	case triage.FlagDomainYoung:
		return fmt.Sprintf("%s was registered on %s, %s days ago.", a[triage.ArgDomain], a[triage.ArgDate], a[triage.ArgDays])
	case triage.FlagClaimMismatch:
		if d := a[triage.ArgDate]; d != "" {
			return fmt.Sprintf("Claims founded %s; registry says incorporated %s. A predecessor company?", a[triage.ArgFounded], d)
		}
		var evidence []string
		if d := a[triage.ArgRegistered]; d != "" {
			evidence = append(evidence, "domain registered "+d)
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
				evidence = append(evidence, e.found+d)
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
		return fmt.Sprintf("%s rates it %s as of %s. Can they pay — payment up front, or a smaller first order?", bureau(a[triage.ArgBureau]), rating, or(a[triage.ArgDate], "an unknown date"))
	case triage.FlagPreviouslyDisq:
		return fmt.Sprintf("%s was %s on %s: %s", a[triage.ArgLead], a[triage.ArgStatus], or(a[triage.ArgDate], "an unknown date"), or(a[triage.ArgReason], "no reason recorded"))
	case triage.FlagDuplicate:
		var seen []string
		for _, item := range strings.Split(a[triage.ArgSeen], triage.ArgSep) {
			if f := strings.Fields(item); len(f) == 3 {
				what := "domain"
				if f[1] == triage.SameEmail {
					what = "e-mail"
				}
				seen = append(seen, fmt.Sprintf("%s (same %s, %s)", f[0], what, f[2]))
			}
		}
		if m := a[triage.ArgMore]; m != "" {
			seen = append(seen, "and "+m+" more")
		}
		return "Seen before: " + strings.Join(seen, "; ") + "."
	case triage.FlagResearchIncomplete:
		var failed []string
		if y := a[triage.ArgFounded]; y != "" {
			failed = append(failed, "founding claim "+y+" (no registry, domain, certificate or archive date)")
		}
		if f := a[triage.ArgFailed]; f != "" {
			failed = append(failed, strings.Split(f, triage.ArgSep)...)
		}
		return "Not checked: " + strings.Join(failed, ", ") + "."
	}
	return ""
}

func bureau(source string) string {
	if source == "creditsafe" {
		return "Creditsafe"
	}
	return source
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
