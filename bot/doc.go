// Package bot is everything Slack: it renders leads as Block Kit cards,
// delivers the outbox to the Web API (paced, retried, dead-lettered), and
// turns Slack's requests — over HTTP or Socket Mode — into triage calls:
// each is written to the store's inbox before it is acknowledged and acted
// on from there (inbox.go), so that an acknowledged request survives a crash.
package bot
