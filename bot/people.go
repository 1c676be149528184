package bot

import (
	"context"
	"time"
)

// peopleTimeout bounds the users.info look-ups for one CRM note: a note with
// ids instead of names is better than a hand-off that waits on Slack.
const peopleTimeout = 5 * time.Second

// PeopleNames names Slack users for text read outside Slack (the CRM note),
// where a <@U…> mention means nothing: each user's display name, else
// their real name. A user Slack does not answer for is left out, and the
// caller shows the id.
func (b *Bot) PeopleNames(ctx context.Context, ids []string) map[string]string {
	ctx, cancel := context.WithTimeout(ctx, peopleTimeout)
	defer cancel()
	names := make(map[string]string, len(ids))
	for _, id := range ids {
		if !slackUserID.MatchString(id) {
			continue
		}
		u, err := b.api.GetUserInfoContext(ctx, id)
		if err != nil {
			b.log.DebugContext(ctx, "naming a user for the CRM note", "user", id, "error", err)
			continue
		}
		switch {
		case u.Profile.DisplayName != "":
			names[id] = u.Profile.DisplayName
		case u.RealName != "":
			names[id] = u.RealName
		}
	}
	return names
}
