package bot

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/leadtriage/leadtriage/triage"
)

// Research in the team's language: each flag worded from its code and
// typed arguments (triage.Flag.Args), the summary line from the flags and
// facts. Every piece of data is escaped here before it meets the words; the
// catalogue's words hold no markup.

// Lengths of the data a flag quotes.
const (
	maxFlagArg    = 60
	maxFlagWhy    = 60
	maxFlagReason = 80
	// maxFlagWords bounds a flag worded here: our words plus arguments
	// that are cut already, so only a broken catalogue reaches it.
	maxFlagWords = 300
)

// flagDetail is one flag's sentence as mrkdwn: worded from its code and
// Args, or its stored English Detail (escaped) when it has no Args (stored
// before issue 12) or a code this bot does not know.
func (w researchWords) flagDetail(fl triage.Flag) string {
	if len(fl.Args) > 0 {
		if s := w.flagWords(fl.Code, fl.Args); s != "" {
			return fit(s, maxFlagWords)
		}
	}
	return escTrunc(fl.Detail, maxFlagDetail, false)
}

func (w researchWords) flagWords(code string, a map[string]string) string {
	arg := func(k string) string { return escTrunc(a[k], maxFlagArg, false) }
	num := func(k string) int { n, _ := strconv.Atoi(a[k]); return n }
	switch code {
	case triage.FlagFreeEmail:
		return w.t("flag.free_email", arg(triage.ArgDomain))
	case triage.FlagDisposableEmail:
		return w.t("flag.disposable_email", arg(triage.ArgDomain))
	case triage.FlagInvalidEmailDomain:
		return w.t("flag.invalid_email_domain", arg(triage.ArgDomain))
	case triage.FlagNoWebsite:
		switch a[triage.ArgVariant] {
		case triage.VariantFreeMail:
			return w.t("flag.no_website.free_mail")
		case triage.VariantNothing:
			return w.t("flag.no_website.nothing")
		case triage.VariantNoAnswer:
			return w.t("flag.no_website.no_answer", arg(triage.ArgHost))
		}
	case triage.FlagWebsiteUnreachable:
		if why := escTrunc(a[triage.ArgWhy], maxFlagWhy, false); why != "" {
			return w.t("flag.website_unreachable", arg(triage.ArgHost), why)
		}
		return w.t("flag.website_unreachable.no_answer", arg(triage.ArgHost))
	case triage.FlagDomainYoung:
		return w.t("flag.domain_young", arg(triage.ArgDomain), w.dateArg(a[triage.ArgDate]), num(triage.ArgDays))
	case triage.FlagClaimMismatch:
		if d := a[triage.ArgDate]; d != "" {
			return w.t("flag.claim_mismatch.registry", arg(triage.ArgFounded), w.dateArg(d))
		}
		var evidence []string
		if d := a[triage.ArgRegistered]; d != "" {
			evidence = append(evidence, w.t("flag.evidence.registered", w.dateArg(d)))
		}
		switch d := a[triage.ArgCertificate]; d {
		case "":
		case triage.ArgNone:
			evidence = append(evidence, w.t("flag.evidence.no_certificate"))
		default:
			evidence = append(evidence, w.t("research.first_certificate", w.dateArg(d)))
		}
		switch d := a[triage.ArgCapture]; d {
		case "":
		case triage.ArgNone:
			evidence = append(evidence, w.t("flag.evidence.no_capture"))
		default:
			evidence = append(evidence, w.t("research.first_capture", w.dateArg(d)))
		}
		return w.t("flag.claim_mismatch.online", arg(triage.ArgFounded), strings.Join(evidence, ", "))
	case triage.FlagInsolvency:
		status := arg(triage.ArgStatus)
		if status == "" {
			status = w.t("flag.insolvency.not_active")
		}
		return w.t("flag.insolvency", w.bureauLabel(a[triage.ArgBureau]), status)
	case triage.FlagCreditRisk:
		rating := arg(triage.ArgRating)
		if d := arg(triage.ArgRatingText); d != "" {
			rating += " (" + d + ")"
		}
		if d := a[triage.ArgDate]; d != "" {
			return w.t("flag.credit_risk", w.bureauLabel(a[triage.ArgBureau]), rating, w.dateArg(d))
		}
		return w.t("flag.credit_risk.undated", w.bureauLabel(a[triage.ArgBureau]), rating)
	case triage.FlagPreviouslyDisq:
		on := w.dateArg(a[triage.ArgDate])
		if on == "" {
			on = w.t("flag.date.unknown")
		}
		reason := escTrunc(a[triage.ArgReason], maxFlagReason, false)
		if reason == "" {
			reason = w.t("flag.previously_disqualified.no_reason")
		}
		return w.t("flag.previously_disqualified", arg(triage.ArgLead), w.status(triage.Status(a[triage.ArgStatus])), on, reason)
	case triage.FlagDuplicate:
		var seen []string
		for _, item := range strings.Split(a[triage.ArgSeen], triage.ArgSep) {
			f := strings.Fields(item)
			if len(f) != 3 {
				continue
			}
			what := w.t("flag.duplicate.domain")
			if f[1] == triage.SameEmail {
				what = w.t("flag.duplicate.email")
			}
			seen = append(seen, w.t("flag.duplicate.item", escTrunc(f[0], 20, false), what, w.status(triage.Status(f[2]))))
		}
		if len(seen) == 0 {
			return ""
		}
		if more := num(triage.ArgMore); more > 0 {
			seen = append(seen, w.t("more", more))
		}
		return w.t("flag.duplicate", strings.Join(seen, "; "))
	case triage.FlagResearchIncomplete:
		var failed []string
		if y := arg(triage.ArgFounded); y != "" {
			// A year as written, not a number in the locale's grouping (2.019).
			failed = append(failed, w.t("flag.research_incomplete.founded", y))
		}
		for _, p := range strings.Split(a[triage.ArgFailed], triage.ArgSep) {
			// "name (reason)": provider names and their errors are the
			// network's words, not ours.
			if p = escTrunc(p, maxFlagArg, false); p != "" {
				failed = append(failed, p)
			}
		}
		if len(failed) == 0 {
			return ""
		}
		return w.t("flag.research_incomplete", strings.Join(failed, ", "))
	}
	return ""
}

// summary is research's one line as mrkdwn. A stored summary that is the
// line triage writes from these flags and facts is said again in the
// language; any other (written by hand, or by an older version) is shown
// as stored, escaped.
func (w researchWords) summary(r triage.Research) string {
	if r.Summary == "" || r.Summary != triage.Summarise(r) {
		return escTrunc(r.Summary, maxSummary, false)
	}
	var parts, phrases []string
	seen := map[string]bool{}
	for _, f := range r.Flags {
		// Two flags of one kind read as one phrase, as in triage.Summarise.
		if ph := w.flagPhrase(f, r.Facts); !seen[ph] {
			seen[ph] = true
			phrases = append(phrases, ph)
		}
	}
	if len(phrases) > 3 {
		phrases = append(phrases[:3], w.t("summary.more", len(phrases)-3))
	}
	parts = append(parts, phrases...)
	if len(r.Flags) == 0 {
		parts = append(parts, w.t("summary.clean"))
	}
	facts := r.Facts
	if !facts.DomainRegistered.IsZero() && !hasFlag(r.Flags, triage.FlagDomainYoung) {
		parts = append(parts, w.t("summary.domain_since", strconv.Itoa(facts.DomainRegistered.Year())))
	}
	if facts.Website.Reachable && facts.Website.Title != "" {
		parts = append(parts, w.t("summary.site", escTrunc(facts.Website.Title, maxFlagArg, false)))
	}
	if rg := facts.Registry; rg != nil && rg.Name != "" {
		parts = append(parts, w.registryLabel(rg.Source)+": "+escTrunc(rg.Status, 30, false))
	}
	s := strings.Join(parts, " · ")
	first, n := utf8.DecodeRuneInString(s)
	return fit(string(unicode.ToUpper(first))+s[n:], maxSummary)
}

func (w researchWords) flagPhrase(f triage.Flag, facts triage.Facts) string {
	switch f.Code {
	case triage.FlagFreeEmail:
		return w.t("summary.free_email", escTrunc(facts.EmailDomain, maxFlagArg, false))
	case triage.FlagDisposableEmail:
		return w.t("summary.disposable_email")
	case triage.FlagInvalidEmailDomain:
		return w.t("summary.invalid_email_domain")
	case triage.FlagNoWebsite:
		return w.t("summary.no_website")
	case triage.FlagWebsiteUnreachable:
		return w.t("summary.website_unreachable")
	case triage.FlagDomainYoung:
		return w.t("summary.domain_young", w.longDate(facts.DomainRegistered.UTC()))
	case triage.FlagClaimMismatch:
		return w.t("summary.claim_mismatch")
	case triage.FlagDuplicate:
		return w.t("summary.duplicate")
	case triage.FlagPreviouslyDisq:
		return w.t("summary.previously_disqualified")
	case triage.FlagResearchIncomplete:
		return w.t("summary.research_incomplete")
	case triage.FlagCreditRisk:
		return w.t("summary.credit_risk")
	case triage.FlagInsolvency:
		return w.t("summary.insolvency")
	}
	return escTrunc(strings.ReplaceAll(f.Code, "_", " "), 40, false)
}

func hasFlag(flags []triage.Flag, code string) bool {
	for _, f := range flags {
		if f.Code == code {
			return true
		}
	}
	return false
}
