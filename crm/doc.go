// Package crm tells the world outside Slack what the team decided: signed
// outgoing webhooks (Standard Webhooks) and the optional hand-off of a
// qualified lead to HubSpot or Pipedrive. It has a worker of its own that
// drains its family of the durable outbox, so a slow CRM never delays a card
// in Slack, and a CRM outage loses nothing.
//
// It depends on triage only; main wires it to storage and to the lead JSON
// the API shows.
package crm
