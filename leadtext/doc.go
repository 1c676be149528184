// Package leadtext words domain data in plain English for the readers that
// are not Slack: the read API, webhooks and CRM notes. triage records typed
// data and words nothing (issue 12); bot words the same data for Slack in the
// team's language from its catalogue. A test in bot keeps bot's English and
// this package saying the same thing, so the two cannot drift.
//
// The text is plain: no markup and no escaping; each reader escapes for its
// own format (HTML in a CRM note, JSON in the API).
package leadtext
