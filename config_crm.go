package main

import (
	"net/mail"
	"sort"
	"strings"
	"time"

	"github.com/leadtriage/leadtriage/crm"
)

// CRMConfig is config.toml's [crm]: the optional hand-off of decided leads
// to HubSpot or Pipedrive (the token comes from the environment).
type CRMConfig struct {
	HubSpot   bool   `toml:"hubspot"`
	Pipedrive bool   `toml:"pipedrive"`
	APIURL    string `toml:"api_url"` // base URL override for tests ("" = the real API)
	// Owners maps a Slack user to the e-mail of their user in the CRM, who
	// then owns the deals of the leads they own in Slack.
	Owners map[string]string `toml:"owners"`
}

func (c CRMConfig) validate(p *problems) {
	if c.HubSpot && c.Pipedrive {
		p.add("crm.hubspot", "and crm.pipedrive are both on: hand leads to one CRM")
	}
	if c.APIURL != "" && !strings.HasPrefix(c.APIURL, "http://") && !strings.HasPrefix(c.APIURL, "https://") {
		p.add("crm.api_url", "%q is not an http(s) URL", c.APIURL)
	}
	users := make([]string, 0, len(c.Owners))
	for u := range c.Owners {
		users = append(users, u)
	}
	sort.Strings(users) // problems in a stable order
	for _, u := range users {
		if !userID.MatchString(u) {
			p.add("crm.owners", "%q is not a Slack user id (U…)", u)
		}
		if a, err := mail.ParseAddress(c.Owners[u]); err != nil || a.Address != strings.TrimSpace(c.Owners[u]) {
			p.add("crm.owners", "%s: %q is not an e-mail address (the owner's login in the CRM)", u, c.Owners[u])
		}
	}
}

// OwnerEmail is the CRM user's e-mail for a Slack user; "" when unmapped.
func (c CRMConfig) OwnerEmail(slackUser string) string {
	return strings.TrimSpace(c.Owners[slackUser])
}

// crmProblems names the token a CRM that is on needs.
func (e Env) crmProblems(cfg Config) []string {
	var out []string
	if cfg.CRM.HubSpot && e.HubSpotToken == "" {
		out = append(out, "HUBSPOT_TOKEN is not set but crm.hubspot is on (a HubSpot private app's access token, with the crm.objects.companies, contacts, deals and owners scopes)")
	}
	if cfg.CRM.Pipedrive && e.PipedriveToken == "" {
		out = append(out, "PIPEDRIVE_API_TOKEN is not set but crm.pipedrive is on (Pipedrive: Personal preferences → API)")
	}
	return out
}

// NewCRM returns the configured CRM client, nil when the hand-off is off.
func NewCRM(cfg CRMConfig, env Env, now func() time.Time) crm.CRM {
	switch { // a nil *http.Client is the clients' own default (30-second time-out)
	case cfg.HubSpot:
		return crm.NewHubSpot(env.HubSpotToken, cfg.APIURL, nil, now)
	case cfg.Pipedrive:
		return crm.NewPipedrive(env.PipedriveToken, cfg.APIURL, nil, now)
	}
	return nil
}
