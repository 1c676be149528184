package crm_test

import (
	"net/http"
	"time"

	"github.com/leadtriage/leadtriage/triage"
)

var (
	t0      = time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)
	decided = t0.Add(2 * time.Hour)
)

// qualifiedLead is a lead the team qualified: research flags, votes and
// answers for the note, text that must be escaped in it.
func qualifiedLead() triage.Lead {
	return triage.Lead{
		ID: 42, Status: triage.StatusQualified,
		Company: "Acme B.V.", Name: "Ada Lovelace", Email: "Ada@Acme.example", Phone: "+31 20 123 4567",
		Website: "https://acme.example/", Domain: "acme.example",
		Message:   "We need <b>help</b> & fast",
		CreatedAt: t0, Owner: "U0OWNER",
		Votes: map[string]triage.Choice{"U1": triage.ChoiceQualify, "U2": triage.ChoiceQualify, "U3": triage.ChoiceUnsure},
		Answers: map[string]triage.Answer{
			"budget": {Value: "yes", Note: "> 10k", By: "U1", At: t0},
			"fit":    {Value: "4", By: "U2", At: t0},
		},
		Research: triage.Research{
			Flags: []triage.Flag{{Code: triage.FlagDomainYoung, Detail: "registered 3 months ago <script>", Source: "rdap"}},
			At:    t0,
		},
		Decision: &triage.Decision{Outcome: triage.StatusQualified, By: triage.DecidedByPolicy, At: decided},
	}
}

func declinedLead() triage.Lead {
	l := qualifiedLead()
	l.Status = triage.StatusDisqualified
	l.Decision = &triage.Decision{Outcome: triage.StatusDisqualified, Reason: "too small", By: "U1", At: decided}
	return l
}

var criteria = []triage.Criterion{{ID: "budget", Question: "Budget over 10k?", Kind: triage.KindYesNo}}

const permalink = "https://acme-sales.slack.com/archives/C0TRIAGE/p1764925200000100"

// loopback is the client the CRM clients use in tests: no proxy, short
// time-out, so nothing reaches the internet.
func loopback() *http.Client {
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{}}
}
