// Package research looks into a lead before anyone calls it: the e-mail
// address (free-mail, disposable, role address), the company domain's age
// (RDAP), the e-mail domain's mail servers (DNS), the website, and company
// registries (KvK, Companies House) when a key is configured.
//
// Providers run in parallel under one deadline, each bounded on its own, and
// a failing provider never fails the research as a whole: its
// triage.ProviderResult says what went wrong, and triage turns that into
// research_incomplete. What the domain-level providers find is cached per
// domain (Cache, implemented by storage.DB) so a second lead from the same
// company costs no network calls.
//
// Researcher implements triage.Researcher; triage composes the findings into
// the flags and the summary on the card.
package research
