package bot

import (
	"html"
	"os"
	"regexp"
	"testing"

	"github.com/leadtriage/leadtriage/leadtext"
	"github.com/leadtriage/leadtriage/triage"
)

// The API, webhooks and CRM notes word research flags with leadtext; the
// card words them from the English catalogue. Both must say the same thing
// for every flag code with Args (mrkdwn escaping aside), so that one cannot
// drift from the other; a flag code added to triage without a case here
// fails the test.
func TestFlagDetail_SameAsLeadtext(t *testing.T) {
	t.Parallel()
	args := func(kv ...string) map[string]string {
		m := map[string]string{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	cases := []triage.Flag{
		{Code: triage.FlagFreeEmail, Args: args(triage.ArgDomain, "gmail.com")},
		{Code: triage.FlagDisposableEmail, Args: args(triage.ArgDomain, "mailinator.com")},
		{Code: triage.FlagInvalidEmailDomain, Args: args(triage.ArgDomain, "acme.invalid")},
		{Code: triage.FlagNoWebsite, Args: args(triage.ArgVariant, triage.VariantFreeMail)},
		{Code: triage.FlagNoWebsite, Args: args(triage.ArgVariant, triage.VariantNothing)},
		{Code: triage.FlagNoWebsite, Args: args(triage.ArgVariant, triage.VariantNoAnswer, triage.ArgHost, "https://acme.nl")},
		{Code: triage.FlagWebsiteUnreachable, Args: args(triage.ArgHost, "acme.nl", triage.ArgWhy, "dial tcp: connection refused")},
		{Code: triage.FlagWebsiteUnreachable, Args: args(triage.ArgHost, "acme.nl")},
		{Code: triage.FlagDomainYoung, Args: args(triage.ArgDomain, "acme.nl", triage.ArgDate, "2026-03-12", triage.ArgDays, "1")},
		{Code: triage.FlagDomainYoung, Args: args(triage.ArgDomain, "acme.nl", triage.ArgDate, "2023-03-12", triage.ArgDays, "1200")},
		{Code: triage.FlagClaimMismatch, Args: args(triage.ArgFounded, "2019", triage.ArgDate, "2021-05-01")},
		{Code: triage.FlagClaimMismatch, Args: args(triage.ArgFounded, "2019", triage.ArgRegistered, "2021-03-01",
			triage.ArgCertificate, triage.ArgNone, triage.ArgCapture, "2022-01-01")},
		{Code: triage.FlagClaimMismatch, Args: args(triage.ArgFounded, "2019", triage.ArgCertificate, "2025-08-02", triage.ArgCapture, triage.ArgNone)},
		{Code: triage.FlagInsolvency, Args: args(triage.ArgBureau, "creditsafe", triage.ArgStatus, "In Administration")},
		{Code: triage.FlagInsolvency, Args: args(triage.ArgBureau, "creditsafe")},
		{Code: triage.FlagCreditRisk, Args: args(triage.ArgBureau, "creditsafe", triage.ArgRating, "D", triage.ArgRatingText, "High Risk", triage.ArgDate, "2026-02-20")},
		{Code: triage.FlagCreditRisk, Args: args(triage.ArgBureau, "altares", triage.ArgRating, "E")},
		{Code: triage.FlagCreditRisk, Args: args(triage.ArgRating, "E", triage.ArgDate, "2026-02-20")},
		// Lead text with what mrkdwn escapes: the plain wording keeps it.
		{Code: triage.FlagPreviouslyDisq, Args: args(triage.ArgLead, "L-3", triage.ArgStatus, "disqualified", triage.ArgDate, "2026-09-28", triage.ArgReason, "Too small <b> & far")},
		{Code: triage.FlagPreviouslyDisq, Args: args(triage.ArgLead, "L-3", triage.ArgStatus, "referred")},
		{Code: triage.FlagDuplicate, Args: args(triage.ArgSeen, "L-1 email qualified; L-2 domain pending", triage.ArgMore, "3")},
		{Code: triage.FlagDuplicate, Args: args(triage.ArgSeen, "L-1 domain disqualified")},
		{Code: triage.FlagResearchIncomplete, Args: args(triage.ArgFounded, "2019", triage.ArgFailed, "dns (timed out); kvk (rate limited)")},
		{Code: triage.FlagResearchIncomplete, Args: args(triage.ArgFailed, "creditsafe (http 500)")},
	}
	covered := map[string]bool{}
	for _, fl := range cases {
		covered[fl.Code] = true
		card := html.UnescapeString(researchWords{english}.flagDetail(fl))
		plain := leadtext.FlagDetail(fl)
		if card != plain {
			t.Errorf("%s %v:\n card (English) %q\n leadtext       %q", fl.Code, fl.Args, card, plain)
		}
	}
	for _, code := range flagCodes(t) {
		if !covered[code] {
			t.Errorf("flag code %s has no case here: word it in leadtext and in the catalogue, and add it", code)
		}
	}
}

// flagCodes reads the flag codes triage declares (const Flag… = "…" in
// triage/research.go), so a new code cannot slip past the test above.
func flagCodes(t *testing.T) []string {
	t.Helper()
	src, err := os.ReadFile("../triage/research.go")
	if err != nil {
		t.Fatal(err)
	}
	var codes []string
	for _, m := range regexp.MustCompile(`(?m)^\s+Flag[A-Za-z]+\s+= "([a-z_]+)"$`).FindAllSubmatch(src, -1) {
		codes = append(codes, string(m[1]))
	}
	if len(codes) < 12 {
		t.Fatalf("found %d flag codes in triage/research.go: has the declaration moved?", len(codes))
	}
	return codes
}
