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

// now is the injected clock, or the time.
func (c *Config) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// digestLocation dates what a digest shows: digest.timezone, else
// reminders.timezone, else UTC.
func (c *Config) digestLocation() *time.Location {
	switch {
	case c.Digest.Location != nil:
		return c.Digest.Location
	case c.Location != nil:
		return c.Location
	}
	return time.UTC
}

// Bot connects Slack to the triage service.
type Bot struct {
	cfg   Config
	api   *slack.Client
	svc   *triage.Service
	store Store
	log   *slog.Logger
	words words // the configured language

	inflight sync.WaitGroup
	rootCtx  context.Context // parent of handler contexts; set by Start before serving
	rootMu   sync.Mutex

	auth    *slackAuth // the bot's own user id, learned from auth.test (start.go)
	links   links      // permalinks, with the workspace URL learned from auth.test
	metrics *metrics
	outbox  *outboxWorker    // delivers the outbox (outbox.go, blocked.go, pacing.go)
	inbox   *inbox           // keeps Slack's requests until they are acted on (inbox.go)
	gate    *gate            // who may use the bot (access.go)
	http    *httpTransport   // HTTP mode (http.go)
	socket  *socketTransport // Socket Mode (socket.go)

	commands *commands // /qualify (command.go, command_list.go)
	dialogs  *dialogs  // add lead, decide, the message shortcut (addlead.go, modal.go, shortcut.go)
	teller   teller    // private answers through the outbox (tell.go)
	home     *homeTab  // the App Home (home.go, home_stats.go)
	clicks   *clicks   // buttons and selects (clicks.go, followup.go, outcome.go)
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
		cfg:     cfg,
		api:     api,
		svc:     svc,
		store:   store,
		log:     log,
		words:   newWords(cfg.Language),
		metrics: newMetrics(cfg.Metrics),
	}
	b.words.permalink = b.links.permalink // cards link to other cards (a returning lead's earlier one)
	b.auth = &slackAuth{
		api:        api,
		log:        log,
		links:      &b.links,
		tokenWorks: func(ctx context.Context) { b.outbox.tokenWorks(ctx) },
	}
	b.outbox = &outboxWorker{
		cfg:      &b.cfg,
		api:      api,
		svc:      svc,
		store:    store,
		log:      log,
		words:    b.words,
		metrics:  b.metrics,
		links:    &b.links,
		authTest: b.auth.check,
		wakeup:   make(chan struct{}, 1),
	}
	b.inbox = &inbox{store: store, log: log, now: b.cfg.now, root: b.root, inflight: &b.inflight}
	b.gate = &gate{
		cfg:   &b.cfg,
		api:   api,
		words: b.words,
		log:   log,
		now:   b.cfg.now,
		spawn: b.spawn,
	}
	if svc != nil {
		b.gate.policy = &svc.Policy
	}
	b.teller = teller{svc: svc, words: b.words}
	b.dialogs = &dialogs{
		cfg:    &b.cfg,
		api:    api,
		svc:    svc,
		store:  store,
		words:  b.words,
		log:    log,
		links:  &b.links,
		gate:   b.gate,
		teller: b.teller,
		now:    b.cfg.now,
		spawn:  b.spawn,
	}
	b.commands = &commands{
		cfg:      &b.cfg,
		api:      api,
		svc:      svc,
		store:    store,
		words:    b.words,
		log:      log,
		links:    &b.links,
		gate:     b.gate,
		inbox:    b.inbox,
		dialogs:  b.dialogs,
		now:      b.cfg.now,
		root:     b.root,
		spawn:    b.spawn,
		inflight: &b.inflight,
	}
	b.home = &homeTab{
		cfg:   &b.cfg,
		api:   api,
		svc:   svc,
		words: b.words,
		log:   log,
		links: &b.links,
		gate:  b.gate,
		now:   b.cfg.now,
	}
	b.clicks = &clicks{svc: svc, words: b.words, log: log, teller: b.teller, dialogs: b.dialogs, home: b.home}
	rcv := receiver{h: b, inbox: b.inbox, spawn: b.spawn, metrics: b.metrics, words: b.words, log: log}
	b.http = &httpTransport{receiver: rcv, cfg: &b.cfg, inflight: &b.inflight}
	b.socket = &socketTransport{receiver: rcv, api: api}
	if cfg.Metrics != nil {
		cfg.Metrics.MustRegister(newBlockedCollector(store))
	}
	return b
}

// runCommand answers a slash command (commands.run); the transports call it.
func (b *Bot) runCommand(ctx context.Context, cmd slack.SlashCommand) *slashReply {
	return b.commands.run(ctx, cmd)
}

// handleViewSubmission answers a dialog's submission (dialogs.submit); the
// transports call it, and the answer is the ack.
func (b *Bot) handleViewSubmission(ctx context.Context, ic slack.InteractionCallback) *slack.ViewSubmissionResponse {
	return b.dialogs.submit(ctx, ic)
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

// links makes links to Slack messages. The workspace's URL in them comes
// from auth.test, which may answer late; the bot and its outbox worker
// share one links.
type links struct {
	mu  sync.Mutex
	url string // "https://acme.slack.com/"; "" until auth.test has answered
}

// workspaceURL is the workspace's URL ("https://acme.slack.com/") once
// auth.test has answered; "" before.
func (k *links) workspaceURL() string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.url
}

func (k *links) setWorkspaceURL(u string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.url = u
}

// permalink links to the message ts in channel without an API call:
// "<team URL>archives/<channel>/p<ts without the dot>", the form Slack's own
// chat.getPermalink returns. Before auth.test has told the team URL (or when
// ts is unknown) it falls back to opening the channel. It returns "" when
// channel is not a Slack channel id, so that nothing from outside can
// become a link.
func (k *links) permalink(channel, ts string) string {
	if !slackChannelID.MatchString(channel) {
		return ""
	}
	base := k.workspaceURL()
	if base == "" || !slackTS.MatchString(ts) {
		return "https://slack.com/app_redirect?channel=" + channel
	}
	if !strings.HasSuffix(base, "/") {
		base += "/"
	}
	return base + "archives/" + channel + "/p" + strings.Replace(ts, ".", "", 1)
}

// cardLink links to l's card, labelled label (our own words); "" while
// the card is not posted.
func (k *links) cardLink(l triage.Lead, label string) string {
	if l.Slack.TS == "" {
		return ""
	}
	u := k.permalink(l.Slack.Channel, l.Slack.TS)
	if u == "" {
		return ""
	}
	return link(u, label)
}

// slackChannelID and slackTS are what Slack's channel ids and message
// timestamps look like.
var (
	slackChannelID = regexp.MustCompile(`^[CGD][A-Z0-9]{2,30}$`)
	slackTS        = regexp.MustCompile(`^[0-9]{1,12}\.[0-9]{1,9}$`)
)
