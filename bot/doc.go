// Package bot is everything Slack: it renders leads as Block Kit cards,
// delivers the outbox to the Web API (paced, retried, dead-lettered), and
// turns Slack's requests — over HTTP or Socket Mode — into triage calls,
// acknowledging each before doing any work.
package bot
