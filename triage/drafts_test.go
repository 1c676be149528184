package triage_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/leadtriage/leadtriage/triage"
)

// The drafts' wording is the bot's (bot/templates, tested in bot); the
// domain decides what they say: the lead's language, the name to greet,
// what of the reason may be told, the partner's cleaned words.

var partner = triage.Partner{Name: "Shopbouwers", Fits: "Small webshops.", Contact: "hello@shopbouwers.example"}

func TestDeclineFacts(t *testing.T) {
	t.Parallel()
	l := triage.Lead{ID: 3, Company: " Acme ", Name: "Dhr.  Jansen", Email: "jan@acme.be", Domain: "acme.com",
		Phone: "+31 20 123 4567", Website: "https://acme.com/", Message: "We need\na webshop."}
	got := triage.DeclineFacts(l, "Budget too small.", &partner)
	want := triage.DraftFacts{Language: "nl", Name: "Dhr. Jansen", FullName: "Dhr. Jansen", Company: "Acme", Label: "Acme",
		Email: "jan@acme.be", Phone: "+31 20 123 4567", Website: "https://acme.com/", Message: "We need\na webshop.",
		Reason: "budget too small", Partner: &triage.Partner{Name: "Shopbouwers", Fits: "small webshops", Contact: "hello@shopbouwers.example"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("DeclineFacts (-want +got):\n%s", diff)
	}
	if got := triage.DeclineFacts(l, "Spam", nil); got.Reason != "" || got.Partner != nil {
		t.Errorf("an internal reason or no partner: Reason %q, Partner %+v", got.Reason, got.Partner)
	}
}

func TestReferralFacts(t *testing.T) {
	t.Parallel()
	// Nothing to call the lead by: the bot words the label ("A prospect").
	got := triage.ReferralFacts(triage.Lead{ID: 4}, triage.Partner{Name: " X "})
	want := triage.DraftFacts{Language: "en", Partner: &triage.Partner{Name: "X"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ReferralFacts (-want +got):\n%s", diff)
	}
	if got := triage.ReferralFacts(triage.Lead{ID: 4, Email: "info@example.nl", Domain: "example.nl"}, partner); got.Label != "example.nl" || got.Reason != "" {
		t.Errorf("label = %q, reason = %q; want the domain and no reason", got.Label, got.Reason)
	}
}
