package main

import (
	"net/http"
	"testing"
	"time"

	"github.com/leadtriage/leadtriage/slackfake"
)

// TestEndToEnd_BlindVotingIgnoresReactions: with voting.blind and no
// reactions.enabled (the defaults), a reaction on the card is not a vote,
// because Slack shows everyone who reacted with what; the buttons still are.
// The reaction_added event has the shape of Slack's Events API reference
// (api.slack.com/events/reaction_added: user, reaction, item_user, item
// {type, channel, ts}, event_ts), built by slackfake.ReactionEvent.
func TestEndToEnd_BlindVotingIgnoresReactions(t *testing.T) {
	t.Parallel()
	app := MustRunMain(t, appOptions{}) // voting.blind = true, no [reactions]
	status, body := app.postLead(t, map[string]any{"company": "Blind BV", "email": "info@blind.example"})
	if status != http.StatusCreated {
		t.Fatalf("POST /leads = %d %v", status, body)
	}
	d := &deliberation{testApp: app, id: body["id"]}
	waitFor(t, "the card", 10*time.Second, func() bool {
		s, _ := app.apiLead(t, d.id)["slack"].(map[string]any)
		d.cardTS, _ = s["ts"].(string)
		return d.cardTS != ""
	})

	d.event(t, d.nextEventID(), slackfake.ReactionEvent(true, "UANNA", "+1", testChannel, d.cardTS, slackfake.BotUserID))
	d.event(t, d.nextEventID(), slackfake.ReactionEvent(true, "UBEN", "-1", testChannel, d.cardTS, slackfake.BotUserID))
	d.settle(t)
	if v := votesOf(d.lead(t)); len(v) != 0 {
		t.Errorf("votes after two reactions under blind voting = %v, want none", v)
	}

	d.clickLive(t, "UANNA", d.cardTS, "lead.vote.qualify", d.id)
	waitFor(t, "the button vote", 10*time.Second, func() bool { return votesOf(d.lead(t))["UANNA"] == "qualify" })
}
