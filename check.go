package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/leadtriage/leadtriage/crm"
)

// checkTimeout bounds all of check's questions to Slack together.
const checkTimeout = 20 * time.Second

// checkSlack asks Slack, with the bot token, whether the token works and the
// bot is a member of the configured channels (auth.test,
// conversations.info), and says how to fix what is not so: the most common
// first-day mistake is an app nobody invited into the triage channel
// (issue 17). Slack being unreachable is a warning, not a problem of the
// configuration.
func checkSlack(ctx context.Context, cfg Config, env Env) (problems, warnings []string) {
	ctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	rec := &scopeRecorder{next: http.DefaultTransport}
	opts := []slack.Option{slack.OptionHTTPClient(&http.Client{Timeout: 10 * time.Second, Transport: rec})}
	if cfg.Slack.APIURL != "" {
		opts = append(opts, slack.OptionAPIURL(cfg.Slack.APIURL))
	}
	api := slack.New(env.BotToken, opts...)

	if _, err := api.AuthTestContext(ctx); err != nil {
		code, refused := slackCode(err)
		if !refused {
			return nil, []string{fmt.Sprintf("could not ask Slack whether the token and channels work: %v", err)}
		}
		return []string{fmt.Sprintf("SLACK_BOT_TOKEN: Slack refuses it (%s): reinstall the app or replace SLACK_BOT_TOKEN", code)}, nil
	}
	switch missing, ok, err := rec.missingScopes(cfg); {
	case err != nil:
		warnings = append(warnings, err.Error())
	case !ok:
		warnings = append(warnings, "Slack did not name the token's scopes: they were not checked against manifest.yml")
	case len(missing) > 0:
		problems = append(problems, fmt.Sprintf("SLACK_BOT_TOKEN lacks the scopes %s that manifest.yml asks for: update the app from manifest.yml and reinstall it", strings.Join(missing, ", ")))
	}
	channels := []struct{ key, id string }{{"slack.channel", cfg.Slack.Channel}}
	if d := cfg.Slack.DigestChannel; d != "" && d != cfg.Slack.Channel {
		channels = append(channels, struct{ key, id string }{"slack.digest_channel", d})
	}
	for _, ch := range channels {
		info, err := api.GetConversationInfoContext(ctx, &slack.GetConversationInfoInput{ChannelID: ch.id})
		if err != nil {
			code, refused := slackCode(err)
			switch {
			case !refused:
				warnings = append(warnings, fmt.Sprintf("%s: could not ask Slack about %s: %v", ch.key, ch.id, err))
			case code == "channel_not_found":
				problems = append(problems, fmt.Sprintf("%s: Slack finds no channel %s: check the id (the channel's About tab), or, for a private channel, invite the app first: /invite @leadtriage", ch.key, ch.id))
			case code == "missing_scope":
				problems = append(problems, fmt.Sprintf("%s: the app may not read channel info (missing_scope): reinstall it from manifest.yml (channels:read, groups:read)", ch.key))
			default:
				problems = append(problems, fmt.Sprintf("%s: Slack says %s about %s", ch.key, code, ch.id))
			}
			continue
		}
		name := ch.id
		if info.Name != "" {
			name = "#" + info.Name + " (" + ch.id + ")"
		}
		if info.IsArchived {
			problems = append(problems, fmt.Sprintf("%s: %s is archived: unarchive it, or configure another channel", ch.key, name))
		}
		if !info.IsMember {
			problems = append(problems, fmt.Sprintf("%s: the app is not a member of %s, so every card would wait: invite it with /invite @leadtriage in that channel", ch.key, name))
		}
	}
	return problems, warnings
}

// slackCode returns the error code of an {"ok":false} answer; refused is
// false for every other failure (network, HTTP status).
func slackCode(err error) (code string, refused bool) {
	var se slack.SlackErrorResponse
	if errors.As(err, &se) {
		return se.Err, true
	}
	return "", false
}

// checkCRM asks the configured CRM, with its token, who the token belongs
// to (crm.CRM.Ping): a refused token is a problem found now rather than at
// the first qualified lead, whose hand-off would wait in the dead letters.
// The CRM being unreachable is a warning.
func checkCRM(ctx context.Context, cfg Config, env Env) (problems, warnings []string) {
	client := NewCRM(cfg.CRM, env, time.Now)
	if client == nil {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	key, name := "HUBSPOT_TOKEN", "HubSpot"
	if cfg.CRM.Pipedrive {
		key, name = "PIPEDRIVE_API_TOKEN", "Pipedrive"
	}
	err := client.Ping(ctx)
	var se *crm.StatusError
	switch {
	case err == nil:
		return nil, nil
	case errors.As(err, &se) && se.Status == http.StatusUnauthorized:
		return []string{fmt.Sprintf("%s: %s refuses it (HTTP 401): create a new token and set %s", key, name, key)}, nil
	case errors.As(err, &se) && se.Status == http.StatusForbidden:
		return []string{fmt.Sprintf("%s lacks a scope %s asks for (HTTP 403): give it the scopes the README's CRM hand-off section lists (deals would be made without an owner)", key, name)}, nil
	}
	return nil, []string{fmt.Sprintf("could not ask %s whether %s works: %v", name, key, err)}
}
