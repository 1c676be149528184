package bot

import (
	"testing"
	"time"

	"github.com/leadtriage/leadtriage/slackfake"
	"github.com/leadtriage/leadtriage/triage"
)

// creditLead is a lead researched with the credit check and web history
// on: a D rating in administration, and a founding claim older than every
// trace online (no registry match).
func creditLead() triage.Lead {
	l := freshLead()
	l.Company = "Acme Widgets Ltd"
	l.Email = "jo@acme-widgets.co.uk"
	l.Website = "https://acme-widgets.co.uk/"
	l.Domain = "acme-widgets.co.uk"
	l.Founded = 2019
	findings := triage.Findings{
		Facts: triage.Facts{
			EmailDomain:      "acme-widgets.co.uk",
			EmailDomainLive:  true,
			MX:               []string{"mx.acme-widgets.co.uk"},
			FirstCertificate: time.Date(2025, 8, 2, 10, 0, 1, 0, time.UTC),
			FirstCapture:     time.Date(2025, 9, 14, 8, 30, 0, 0, time.UTC),
			Website:          triage.Website{URL: "https://acme-widgets.co.uk/", Status: 200, Reachable: true, Title: "Acme Widgets"},
			Credit: &triage.Credit{Source: "creditsafe", Name: "ACME WIDGETS LIMITED", Number: "01234567", Rating: "D",
				Description: "High Risk", Score: "12", Limit: 2500, Currency: "GBP", Status: "In Administration",
				Date: time.Date(2026, 2, 20, 0, 0, 0, 0, time.UTC), HighRisk: true, Insolvent: true},
		},
		Providers: []triage.ProviderResult{{Name: "email", OK: true}, {Name: "website", OK: true}, {Name: "crtsh", OK: true},
			{Name: "wayback", OK: true}, {Name: "creditsafe", OK: true}},
	}
	l.Research = triage.Compose(l, findings, nil, cardNow)
	return l
}

func TestRenderCard_CreditAndFirstSeen(t *testing.T) { testRenderCardCredit(t, english) }

// The same card in Dutch: the credit line and the first traces online are
// the team's words too.
func TestRenderCardNL_CreditAndFirstSeen(t *testing.T) { testRenderCardCredit(t, newWords(LangDutch)) }

func testRenderCardCredit(t *testing.T, w words) {
	t.Parallel()
	l := creditLead()
	for _, want := range []string{triage.FlagInsolvency, triage.FlagClaimMismatch, triage.FlagCreditRisk} {
		if !hasFlag(l.Research.Flags, want) {
			t.Fatalf("scenario lacks flag %s (has %+v): fix the fixture", want, l.Research.Flags)
		}
	}
	text, blocks := cardWords{w}.card(l, cardPol, cardNow)
	raw := blocksJSON(t, blocks)
	if problems := slackfake.ValidateBlocks(raw, slackfake.MaxMessageBlocks); len(problems) > 0 {
		t.Errorf("blocks invalid: %v", problems)
	}
	card := cardJSON(t, text, blocks)
	checkNoInjection(t, card)
	assertGolden(t, card)
}

func TestCreditText(t *testing.T) {
	t.Parallel()
	day := time.Date(2026, 2, 20, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		c    triage.Credit
		want string
	}{
		{triage.Credit{Source: "creditsafe", Rating: "A", Description: "Very Low Risk", Score: "91", Limit: 1250000, Currency: "EUR", Status: "Active", Date: day},
			"Credit (Creditsafe, 20 February 2026): rating A Very Low Risk, score 91, limit EUR 1,250,000, Active"},
		{triage.Credit{Source: "creditsafe", Rating: "E", Description: "Not Scored", Score: "Not Rated", Status: "Closed", Date: day},
			"Credit (Creditsafe, 20 February 2026): rating E Not Scored, score Not Rated, Closed"},
		{triage.Credit{Source: "graydon", Rating: "<!here>", Description: "risk & <b>", Status: "<@U123>"},
			"Credit (graydon): rating … risk &amp; &lt;b&gt;, &lt;@U123&gt;"},
		{triage.Credit{Source: "creditsafe"}, ""},
	} {
		if got := (researchWords{english}).creditText(tc.c); got != tc.want {
			t.Errorf("english.creditText(%+v) =\n%q, want\n%q", tc.c, got, tc.want)
		}
	}
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 25000: "25,000", 1250000: "1,250,000"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q, want %q", n, got, want)
		}
	}
}
