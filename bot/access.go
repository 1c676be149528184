package bot

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/leadtriage/leadtriage/triage"
	"github.com/slack-go/slack"
)

// Access says who may use the bot (config.toml's [access]). Every list is
// optional; the zero value lets everyone in the workspace in.
//
//   - Users and Usergroups: when either is set, only the listed users and
//     the members of the listed user groups ("S…") are let in.
//   - Channels: when set, slash commands and message shortcuts are taken
//     only in those channels (and the triage channel). Buttons on cards, the
//     dialogs and the App Home are not bound to a channel.
type Access struct {
	Users      []string
	Usergroups []string
	Channels   []string
}

// Usergroup membership is looked up with usergroups.users.list and kept
// for groupTTL. An expired entry is still used while a background refresh
// runs, but never once it is older than groupMaxStale: then the lookup is
// done before answering.
const (
	groupTTL        = 5 * time.Minute
	groupMaxStale   = time.Hour
	groupLookupTime = 3 * time.Second
)

// groupCache holds the members of the configured user groups. It is
// bounded by the configuration: only groups listed in access.usergroups are
// ever looked up, so it holds at most that many entries.
type groupCache struct {
	mu      sync.Mutex
	entries map[string]*groupEntry
}

// gate decides who may use the bot (Access), looking up user group members
// with usergroups.users.list, and words the refusals. The Bot holds one;
// commands, shortcuts, buttons, dialogs and the App Home ask it first.
type gate struct {
	cfg    *Config        // the bot's: Access, and the triage channel (always allowed)
	policy *triage.Policy // the service's: its team lead is named in refusals
	api    *slack.Client
	words  words
	log    *slog.Logger
	now    func() time.Time
	// spawn runs a background refresh where the bot's Drain waits for it.
	spawn  func(kind string, fn func(ctx context.Context))
	groups groupCache
}

type groupEntry struct {
	members    map[string]bool
	fetched    time.Time // on the bot's clock
	refreshing bool
}

// allowed reports whether user may use the bot, from channel when channel
// is not "" (slash commands and shortcuts pass theirs; buttons, dialogs and
// the App Home pass ""). A refusal comes with the mrkdwn text to show the
// user. A failed user group lookup refuses (fail closed), with its own
// text.
func (g *gate) allowed(ctx context.Context, user, channel string) (bool, string) {
	a := g.cfg.Access
	if len(a.Users) > 0 || len(a.Usergroups) > 0 {
		ok, err := g.listed(ctx, user)
		if err != nil {
			g.log.WarnContext(ctx, "access check failed: user group lookup", "user", user, "error", err)
			return false, g.words.t("access.check_failed")
		}
		if !ok {
			g.log.DebugContext(ctx, "access refused", "user", user)
			return false, g.refusal(false)
		}
	}
	if channel != "" && len(a.Channels) > 0 && channel != g.cfg.Channel && !slices.Contains(a.Channels, channel) {
		g.log.DebugContext(ctx, "access refused: channel", "user", user, "channel", channel)
		return false, g.channelRefusal()
	}
	return true, ""
}

// listed reports whether user is in access.users or a member of one of
// access.usergroups.
func (g *gate) listed(ctx context.Context, user string) (bool, error) {
	if user == "" {
		return false, nil
	}
	if slices.Contains(g.cfg.Access.Users, user) {
		return true, nil
	}
	var firstErr error
	for _, group := range g.cfg.Access.Usergroups {
		in, err := g.inGroup(ctx, group, user)
		if err != nil {
			// Another group may still let the user in.
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		if in {
			return true, nil
		}
	}
	return false, firstErr
}

// inGroup reports whether user is a member of group, from the cache when it
// is fresh enough.
func (g *gate) inGroup(ctx context.Context, group, user string) (bool, error) {
	now := g.now()
	c := &g.groups
	c.mu.Lock()
	e := c.entries[group]
	if e != nil {
		age := now.Sub(e.fetched)
		if age < groupTTL && age >= 0 {
			in := e.members[user]
			c.mu.Unlock()
			return in, nil
		}
		if age < groupMaxStale && age >= 0 {
			in := e.members[user]
			if !e.refreshing {
				e.refreshing = true
				g.spawn("usergroup_refresh", func(ctx context.Context) { g.refreshGroup(ctx, group) })
			}
			c.mu.Unlock()
			return in, nil
		}
	}
	c.mu.Unlock()
	members, err := g.lookupGroup(ctx, group)
	if err != nil {
		return false, err
	}
	return members[user], nil
}

// refreshGroup renews group's members in the background; a failure keeps
// the old members until they are too stale to use.
func (g *gate) refreshGroup(ctx context.Context, group string) {
	if _, err := g.lookupGroup(ctx, group); err != nil {
		g.log.WarnContext(ctx, "refreshing user group members", "usergroup", group, "error", err)
		c := &g.groups
		c.mu.Lock()
		if e := c.entries[group]; e != nil {
			e.refreshing = false
		}
		c.mu.Unlock()
	}
}

// lookupGroup asks Slack for group's members and caches them.
func (g *gate) lookupGroup(ctx context.Context, group string) (map[string]bool, error) {
	ctx, cancel := context.WithTimeout(ctx, groupLookupTime)
	defer cancel()
	users, err := g.api.GetUserGroupMembersContext(ctx, group)
	if err != nil {
		return nil, err
	}
	members := make(map[string]bool, len(users))
	for _, u := range users {
		members[u] = true
	}
	c := &g.groups
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil {
		c.entries = map[string]*groupEntry{}
	}
	c.entries[group] = &groupEntry{members: members, fetched: g.now()}
	return members, nil
}

// refusal tells a user who is not on the access lists how to get on them.
// plain is for plain-text places (errors in a dialog), where a mention
// would show as its raw "<@U…>".
func (g *gate) refusal(plain bool) string {
	who := g.words.t("card.team_lead")
	if !plain && slackUserID.MatchString(g.teamLead()) {
		who = mention(g.teamLead())
	}
	return g.words.t("access.refused", who, "access.users")
}

// teamLead is the configured team lead's user id, or "".
func (g *gate) teamLead() string {
	if g.policy == nil {
		return ""
	}
	return g.policy.TeamLead
}

// channelRefusal says where commands and shortcuts are taken.
func (g *gate) channelRefusal() string {
	var where []string
	for _, c := range append([]string{g.cfg.Channel}, g.cfg.Access.Channels...) {
		if slackChannelID.MatchString(c) && !slices.Contains(where, "<#"+c+">") {
			where = append(where, "<#"+c+">")
		}
	}
	if len(where) == 0 {
		return g.words.t("access.no_channel")
	}
	return g.words.t("access.channels", strings.Join(where, ", "))
}
