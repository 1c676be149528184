package slackfake

// Inner events of the app's life in a workspace, for EventCallbackJSON.
// Their shapes follow slackapi/java-slack-sdk json-logs/samples/events
// (MemberJoinedChannelPayload.json, ChannelUnarchivePayload.json,
// GroupUnarchivePayload.json, AppUninstalledPayload.json,
// TokensRevokedPayload.json) and Slack's Events API reference.

// MemberJoinedChannelEvent is member_joined_channel: user joined channel,
// invited by inviter ("" = joined by themselves).
func MemberJoinedChannelEvent(user, channel, inviter string) map[string]any {
	kind := "C" // Slack's channel_type here: C public, G private
	if channel != "" && channel[0] == 'G' {
		kind = "G"
	}
	return map[string]any{
		"type":         "member_joined_channel",
		"user":         user,
		"channel":      channel,
		"channel_type": kind,
		"team":         TeamID,
		"inviter":      inviter,
		"event_ts":     actionTS(),
	}
}

// ChannelUnarchiveEvent is channel_unarchive (group_unarchive for a G… id).
func ChannelUnarchiveEvent(channel, user string) map[string]any {
	if channel != "" && channel[0] == 'G' {
		return map[string]any{"type": "group_unarchive", "channel": channel, "event_ts": actionTS()}
	}
	return map[string]any{"type": "channel_unarchive", "channel": channel, "user": user, "event_ts": actionTS()}
}

// AppUninstalledEvent is app_uninstalled.
func AppUninstalledEvent() map[string]any {
	return map[string]any{"type": "app_uninstalled", "event_ts": actionTS()}
}

// TokensRevokedEvent is tokens_revoked for the bot tokens of botUsers (the
// bot users' ids, as Slack lists them).
func TokensRevokedEvent(botUsers ...string) map[string]any {
	return map[string]any{
		"type":     "tokens_revoked",
		"tokens":   map[string]any{"oauth": []string{}, "bot": botUsers},
		"event_ts": actionTS(),
	}
}
