package bot

import (
	"context"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/leadtriage/leadtriage/triage"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/slack-go/slack"
)

// Config is what the bot needs from config.toml and the environment.
type Config struct {
	Channel        string // the triage channel
	Policy         triage.Policy
	SigningSecrets []string              // HTTP mode: every secret that is accepted (rotation: old and new)
	AppToken       string                // Socket Mode app-level token (xapp-…); "" = no Socket Mode
	Command        string                // slash command name, "/qualify"
	Now            func() time.Time      // injected clock; time.Now when nil
	Metrics        prometheus.Registerer // nil = no metrics

	// Reactions maps reaction names without colons ("+1", "thinking_face")
	// to votes, from config.toml's [reactions]; nil = reactions do not vote.
	Reactions map[string]triage.Choice

	// Access says who may use the bot, from config.toml's [access]; the
	// zero value lets everyone in the workspace in (access.go).
	Access Access

	// Location is reminders.timezone: snooze confirmations and the dates
	// the bot shows are in it; nil = UTC.
	Location *time.Location

	// FreeMail reports whether an e-mail domain belongs to a free-mail or
	// throw-away provider (research's lists, passed in by main: bot does not
	// import research). "Qualify this message" on a forwarded e-mail takes
	// the sender's domain for the website and company only when it is not;
	// nil = never take the domain.
	FreeMail func(domain string) bool

	// Digest is config.toml's [digest] for /qualify digest (the channel
	// digest's runs get theirs from the scheduler); its Location also dates
	// what a posted digest shows.
	Digest triage.DigestOptions

	// Language is config.toml's ui.language: "en" (default, also for "")
	// or "nl". Every text the bot shows in Slack is in it.
	Language string
}

// Bot connects Slack to the triage service.
type Bot struct {
	cfg   Config
	api   *slack.Client
	svc   *triage.Service
	store Store
	log   *slog.Logger
	words words // the configured language

	wake     chan struct{} // nudges the outbox worker
	inflight sync.WaitGroup
	rootCtx  context.Context // parent of handler contexts; set by Run* before serving
	rootMu   sync.Mutex

	botUserID string // learned from auth.test, to ignore our own messages
	teamURL   string // learned from auth.test ("https://acme.slack.com/"), for permalinks
	metrics   *metrics
	outbox    outboxState // delivery worker state (outbox.go, pacing.go)
	groups    groupCache  // usergroup members for access.usergroups (access.go)
}

// New returns a bot that calls Slack through api (a real client; tests point
// it at slackfake) and the domain through svc.
func New(cfg Config, api *slack.Client, svc *triage.Service, store Store, log *slog.Logger) *Bot {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.Command == "" {
		cfg.Command = "/qualify"
	}
	b := &Bot{
		cfg:   cfg,
		api:   api,
		svc:   svc,
		store: store,
		log:   log,
		words: newWords(cfg.Language),
		wake:  make(chan struct{}, 1),
	}
	b.words.permalink = b.permalink // cards link to other cards (a returning lead's earlier one)
	b.metrics = newMetrics(cfg.Metrics)
	if cfg.Metrics != nil {
		cfg.Metrics.MustRegister(newBlockedCollector(store))
	}
	return b
}

// Wake tells the outbox worker that new items are waiting. It never blocks.
func (b *Bot) Wake() {
	select {
	case b.wake <- struct{}{}:
	default:
	}
}

func (b *Bot) now() time.Time {
	if b.cfg.Now != nil {
		return b.cfg.Now()
	}
	return time.Now()
}

// Drain waits for in-flight handlers to finish, or for ctx to end.
func (b *Bot) Drain(ctx context.Context) error {
	done := make(chan struct{})
	go func() { b.inflight.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// workspaceURL is the workspace's URL ("https://acme.slack.com/") once
// auth.test has answered; "" before.
func (b *Bot) workspaceURL() string {
	b.rootMu.Lock()
	defer b.rootMu.Unlock()
	return b.teamURL
}

func (b *Bot) setWorkspaceURL(u string) {
	b.rootMu.Lock()
	defer b.rootMu.Unlock()
	b.teamURL = u
}

// permalink links to the message ts in channel without an API call:
// "<team URL>archives/<channel>/p<ts without the dot>", the form Slack's own
// chat.getPermalink returns. Before auth.test has told the team URL (or when
// ts is unknown) it falls back to opening the channel. It returns "" when
// channel is not a Slack channel id, so that nothing from outside can
// become a link.
func (b *Bot) permalink(channel, ts string) string {
	if !slackChannelID.MatchString(channel) {
		return ""
	}
	base := b.workspaceURL()
	if base == "" || !slackTS.MatchString(ts) {
		return "https://slack.com/app_redirect?channel=" + channel
	}
	if !strings.HasSuffix(base, "/") {
		base += "/"
	}
	return base + "archives/" + channel + "/p" + strings.Replace(ts, ".", "", 1)
}

// slackChannelID and slackTS are what Slack's channel ids and message
// timestamps look like.
var (
	slackChannelID = regexp.MustCompile(`^[CGD][A-Z0-9]{2,30}$`)
	slackTS        = regexp.MustCompile(`^[0-9]{1,12}\.[0-9]{1,9}$`)
)
