// Command leadtriage is a Slack bot that lets a sales team qualify inbound
// leads together: each lead becomes a card in the triage channel, the team
// votes, and a policy or the team lead decides.
//
//	leadtriage [serve] [-config FILE]   run the bot (default config.toml)
//	leadtriage check [-config FILE] [-offline]  validate config and environment, ask Slack
//	leadtriage playground               try it without Slack (see playground.go)
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"
	_ "time/tzdata" // time zones work on images without a zoneinfo database

	"github.com/leadtriage/leadtriage/bot"
	"github.com/leadtriage/leadtriage/crm"
	"github.com/leadtriage/leadtriage/intake"
	"github.com/leadtriage/leadtriage/research"
	"github.com/leadtriage/leadtriage/storage"
	"github.com/leadtriage/leadtriage/triage"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/robfig/cron/v3"
	"github.com/slack-go/slack"
	"golang.org/x/time/rate"
)

func main() {
	os.Exit(runWithSignals(os.Args[1:]))
}

// runWithSignals is the process: SIGINT and SIGTERM cancel the one root
// context that run hands down, which starts the graceful shutdown.
func runWithSignals(args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return run(ctx, args, os.Getenv, os.Stdout, os.Stderr)
}

// run executes one subcommand and returns the process exit code.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	cmd := "serve"
	if len(args) == 0 && getenv("SLACK_BOT_TOKEN") == "" {
		cmd = "playground" // `go run .` on a fresh clone shows the bot working
	}
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	if cmd == "playground" {
		return runPlayground(ctx, args, stdout, stderr)
	}
	if dataCommands[cmd] {
		return dataCommand(ctx, cmd, args, getenv, stdout, stderr)
	}
	fs := flag.NewFlagSet("leadtriage "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", "config.toml", "the configuration file")
	var offline *bool
	if cmd == "check" {
		offline = fs.Bool("offline", false, "check: do not ask Slack whether the token works and the app is in the channels")
	}
	switch cmd {
	case "serve", "check":
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "leadtriage: unknown command %q\n%s", cmd, usage)
		return 2
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "leadtriage %s: unexpected argument %q\n", cmd, fs.Arg(0))
		return 2
	}
	if cmd == "check" {
		return check(ctx, *configPath, !*offline, getenv, stdout, stderr)
	}

	m := NewMain()
	m.ConfigPath = *configPath
	m.Getenv = getenv
	m.Stderr = stderr
	if err := m.Run(ctx); err != nil {
		fmt.Fprintf(stderr, "leadtriage: %v\n", err)
		_ = m.Close()
		return 1
	}
	<-ctx.Done()
	m.log.Info("shutting down")
	if err := m.Close(); err != nil {
		fmt.Fprintf(stderr, "leadtriage: shutting down: %v\n", err)
		return 1
	}
	return 0
}

const usage = `usage:
  leadtriage [serve] [-config FILE]   run the bot (default config.toml)
  leadtriage playground [-config FILE] [-listen ADDR] [-dir DIR]
                                      try it without Slack: the bot against an emulator, on a local page
                                      (also what a bare "leadtriage" does when SLACK_BOT_TOKEN is unset)
  leadtriage check [-config FILE] [-offline]
                                      validate config and environment, and ask Slack whether the
                                      token works and the app is in the channels; exit 1 on any problem
  leadtriage import FILE.csv [--dry-run] [--map column=field,…] [--source S]
  leadtriage export [--format csv|json] [--status S]
  leadtriage forget (--email X | --domain X | --id L-n)
  leadtriage subject --email X
  leadtriage backup FILE
                                      data commands: clients of the running bot's admin API
                                      (--url, default http:// + http.listen; LEADTRIAGE_API_TOKEN),
                                      or with --db FILE on the database while the bot is stopped
`

// check prints every problem with the configuration and the environment;
// with askSlack, and nothing wrong so far, it also asks Slack (checkSlack).
func check(ctx context.Context, path string, askSlack bool, getenv func(string) string, stdout, stderr io.Writer) int {
	cfg, problems := LoadConfig(path)
	env := LoadEnv(getenv)
	envProblems, warnings := env.Problems(cfg)
	problems = append(problems, envProblems...)
	warnings = append(cfg.Warnings(), warnings...)
	if askSlack && len(problems) == 0 {
		slackProblems, slackWarnings := checkSlack(ctx, cfg, env)
		problems = append(problems, slackProblems...)
		warnings = append(warnings, slackWarnings...)
		crmProblems, crmWarnings := checkCRM(ctx, cfg, env)
		problems = append(problems, crmProblems...)
		warnings = append(warnings, crmWarnings...)
	}
	for _, w := range warnings {
		fmt.Fprintf(stdout, "warning: %s\n", w)
	}
	for _, p := range problems {
		fmt.Fprintf(stderr, "problem: %s\n", p)
	}
	if len(problems) > 0 {
		fmt.Fprintf(stderr, "%d problem(s) in %s and the environment\n", len(problems), path)
		return 1
	}
	note := ""
	if len(warnings) > 0 {
		note = fmt.Sprintf("; %d warning(s) above", len(warnings))
	}
	fmt.Fprintf(stdout, "%s and the environment are fine (mode %s, channel %s%s)\n", path, cfg.Slack.Mode, cfg.Slack.Channel, note)
	return 0
}

// The database is the store each adapter declares, as the interface it
// needs (storage cannot name them: dependencies point inward; storage
// asserts triage.Store itself).
var (
	_ bot.Store              = (*storage.DB)(nil)
	_ intake.Store           = (*storage.DB)(nil)
	_ intake.SignatureLedger = (*storage.DB)(nil)
)

// Main is the running program: it wires config, store, Slack and HTTP, and
// takes them down in reverse order. Tests run the real wiring through it.
type Main struct {
	ConfigPath string
	Getenv     func(string) string
	Stderr     io.Writer        // logs go here
	Now        func() time.Time // injected clock; time.Now when nil

	// Set only by the playground (playground.go): its page wraps the HTTP
	// handler, and leads' websites come from a loopback fake.
	WrapHandler   func(http.Handler) http.Handler
	WebsiteClient *http.Client

	Config Config
	Env    Env
	DB     *storage.DB
	Bot    *bot.Bot
	Svc    *triage.Service
	// CRM drains the outbox's crm lane (outgoing webhooks, the CRM
	// hand-off); nil when nothing is configured for it.
	CRM *crm.Worker
	// readBack asks the CRM about won and lost deals (scheduler.go); nil
	// when the hand-off is off.
	readBack *crm.ReadBack

	log        *slog.Logger
	metrics    *prometheus.Registry // served at /metrics; the bot and intake register on it
	researcher *research.Researcher // nil when research is off
	server     *http.Server
	listener   net.Listener

	jobs     jobs               // the scheduled jobs' settings (scheduler.go)
	cron     *cron.Cron         // ticks RunReminders, RunDigestTick, RunCRMReadBack and RunRetention
	cancelBG context.CancelFunc // stops the outbox worker and Socket Mode
	bg       sync.WaitGroup
	closed   bool
}

// NewMain returns a Main with the defaults of a real run.
func NewMain() *Main {
	return &Main{ConfigPath: "config.toml", Getenv: os.Getenv, Stderr: os.Stderr}
}

// Run loads the configuration, opens the store and starts serving. It
// returns once everything runs; Close stops it.
func (m *Main) Run(ctx context.Context) error {
	if err := m.configure(); err != nil {
		return err
	}
	if err := m.openStore(); err != nil {
		return err
	}
	m.newService()
	m.newBot()
	if err := m.newCRM(); err != nil {
		return err
	}
	// Background work stops when Close cancels it, not with ctx: a signal
	// starts the shutdown, which stops intake first (Close).
	bgCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	m.cancelBG = cancel
	if err := m.connectSlack(bgCtx); err != nil {
		return err
	}
	if err := m.listen(); err != nil {
		return err
	}
	m.serve(bgCtx)
	// Leads that arrived while the bot was down, or whose research was cut
	// short by a stop, are researched now.
	if err := m.Svc.ResumeResearch(ctx); err != nil {
		m.log.Error("resuming research", "error", err)
	}
	// The scheduler starts last, once everything its jobs use runs; then
	// each job runs once to catch up on what came due while the bot was down.
	m.startCron(bgCtx)
	m.goBackground("catch-up", m.catchUp, bgCtx)
	m.log.Info("leadtriage running", "mode", m.Config.Slack.Mode, "listen", m.listener.Addr().String(), "db", m.Config.Storage.Path)
	return nil
}

// configure loads config.toml and the environment, logs the warnings and
// refuses to start on any problem.
func (m *Main) configure() error {
	cfg, problems := LoadConfig(m.ConfigPath)
	m.Config = cfg
	m.log = newLogger(m.Stderr, cfg.Log)
	env := LoadEnv(m.Getenv)
	m.Env = env
	envProblems, warnings := env.Problems(cfg)
	problems = append(problems, envProblems...)
	if len(problems) > 0 {
		return fmt.Errorf("configuration:\n  %s", strings.Join(problems, "\n  "))
	}
	warnings = append(cfg.Warnings(), warnings...)
	for _, w := range warnings {
		m.log.Warn(w)
	}
	jobs, err := newJobs(cfg)
	if err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	m.jobs = jobs
	return nil
}

// openStore opens the database, with the logger for what storage reports.
func (m *Main) openStore() error {
	sopts := []storage.Option{storage.WithLogger(m.log.With("component", "storage"))}
	if m.Now != nil {
		sopts = append(sopts, storage.WithClock(m.Now)) // paces /healthz's write probes
	}
	db, err := storage.Open(m.Config.Storage.Path, sopts...)
	if err != nil {
		return err
	}
	m.DB = db
	return nil
}

// newService builds the domain's service over the store, with research
// when it is enabled.
func (m *Main) newService() {
	cfg := m.Config
	m.Svc = &triage.Service{Store: m.DB, Policy: cfg.Policy(), Channel: cfg.Slack.Channel, Now: m.Now, Log: m.log.With("component", "research"), FreeMail: freeMail}
	if !cfg.Research.Enabled {
		return
	}
	m.Svc.ResearchTimeout = cfg.Research.Timeout.Duration
	m.researcher = research.New(research.Config{
		Timeout:               cfg.Research.Timeout.Duration,
		CacheTTL:              cfg.Research.CacheTTL.Duration,
		Cache:                 m.DB,
		RDAPURL:               cfg.Research.RDAPURL,
		DNSServer:             cfg.Research.DNSServer,
		AllowPrivateAddresses: cfg.Research.AllowPrivateAddresses,
		WebsiteClient:         m.WebsiteClient,
		KvKKey:                m.Env.KvKKey,
		CompaniesHouseKey:     m.Env.CompaniesHouseKey,
		WebHistory:            cfg.Research.WebHistory,
		CrtshURL:              cfg.Research.CrtshURL,
		WaybackURL:            cfg.Research.WaybackURL,
		CreditsafeUsername:    m.Env.CreditsafeUsername,
		CreditsafePassword:    m.Env.CreditsafePassword,
		CreditsafeURL:         cfg.Research.CreditsafeURL,
		Now:                   m.Now,
		Log:                   m.log.With("component", "research"),
	})
	m.Svc.Researcher = m.researcher
}

// newBot builds the Slack client, the metrics registry and the bot.
func (m *Main) newBot() {
	cfg, env := m.Config, m.Env
	opts := []slack.Option{
		// slack.New has no timeout of its own; a hung connection must not hold the worker.
		slack.OptionHTTPClient(&http.Client{Timeout: 10 * time.Second}),
	}
	if cfg.Slack.APIURL != "" {
		opts = append(opts, slack.OptionAPIURL(cfg.Slack.APIURL))
	}
	if cfg.Slack.Mode == "socket" {
		opts = append(opts, slack.OptionAppLevelToken(env.AppToken))
	}
	api := slack.New(env.BotToken, opts...)

	m.metrics = prometheus.NewRegistry()
	m.metrics.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	botCfg := bot.Config{
		Channel:   cfg.Slack.Channel,
		Policy:    m.Svc.Policy,
		Reactions: cfg.ReactionChoices(),
		Now:       m.Now,
		Metrics:   m.metrics,
		Location:  m.jobs.followUp.Hours.Location,
		Digest:    m.jobs.digest,
		Language:  cfg.UI.Language,
		FreeMail:  freeMail,
		Access: bot.Access{
			Users:      cfg.Access.Users,
			Usergroups: cfg.Access.Usergroups,
			Channels:   cfg.Access.Channels,
		},
	}
	if cfg.Slack.Mode == "http" {
		botCfg.SigningSecrets = env.SigningSecrets
	} else {
		botCfg.AppToken = env.AppToken
	}
	m.Bot = bot.New(botCfg, api, m.Svc, m.DB, m.log.With("component", "bot"))
	m.Svc.Wake = m.Bot.Wake
}

// The bbolt store is what the crm worker drains (storage cannot import crm).
var _ crm.Store = (*storage.DB)(nil)

// newCRM builds the worker of the outbox's crm lane with the webhooks and
// the CRM hand-off that are configured (if any), tells the service which
// events to queue, and wakes both workers after every commit.
func (m *Main) newCRM() error {
	m.metrics.MustRegister(crm.DeadLetterCollector(m.DB.DeadLetters))
	client := NewCRM(m.Config.CRM, m.Env, m.Now)
	// The worker runs even with nothing configured: events and deliveries
	// queued while webhooks or a CRM were on are then settled (an event
	// nobody hears expands to nothing; a delivery whose receiver is gone
	// becomes a dead letter) instead of lying in the outbox for good.
	cfg := crm.Config{
		Store: m.DB, Render: intake.LeadJSON,
		Now: m.Now, Log: m.log.With("component", "crm"), Metrics: m.metrics,
	}
	if len(m.Config.Webhooks) > 0 {
		keys, err := crm.ParseSecrets(m.Env.WebhookSecret)
		if err != nil {
			return fmt.Errorf("configuration: LEADTRIAGE_WEBHOOK_SECRET: %w", err)
		}
		cfg.Secrets = keys
		for _, h := range m.Config.Webhooks {
			cfg.Webhooks = append(cfg.Webhooks, crm.Webhook{URL: h.URL, Events: h.Events})
		}
	}
	if client != nil {
		handoffs, err := crm.NewHandoffs(crm.HandoffConfig{
			CRM: client, Leads: m.Svc, Record: m.Svc.RecordCRM, Criteria: m.Svc.Policy.Criteria,
			Owners: m.Config.CRM.OwnerEmail, Permalink: m.Bot.ThreadLink, People: m.Bot.PeopleNames, Now: m.Now,
		})
		if err != nil {
			return fmt.Errorf("configuration: %w", err)
		}
		cfg.Senders = append(cfg.Senders, handoffs)
		if m.readBack, err = crm.NewReadBack(crm.ReadBackConfig{
			CRM: client, Leads: m.DB, Record: m.Svc.RecordCRM, Now: m.Now,
			Log: m.log.With("component", "crm"),
			// Five questions a second: half of HubSpot's smallest limit (100
			// per 10 s) and under Pipedrive's per-2-second burst limits.
			Limit: rate.NewLimiter(5, 10),
			Outcome: func(ctx context.Context, id triage.LeadID, o triage.Outcome) error {
				_, err := m.Svc.RecordOutcome(ctx, id, triage.OutcomeInput{Kind: o.Kind, Value: o.Value, Note: o.Note, By: o.By})
				return err
			},
		}); err != nil {
			return fmt.Errorf("configuration: %w", err)
		}
	}
	var err error
	if m.CRM, err = crm.New(cfg); err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	m.Svc.Events = m.Config.Events()
	wakeBot, wakeCRM := m.Svc.Wake, m.CRM.Wake
	m.Svc.Wake = func() { wakeBot(); wakeCRM() }
	return nil
}

// connectSlack checks the token and replays the Slack inbox.
func (m *Main) connectSlack(ctx context.Context) error {
	// A wrong token is reported and stops the start; an unreachable Slack is
	// waited out in the background while leads are accepted and queued.
	if err := m.Bot.Start(ctx); err != nil {
		return fmt.Errorf("connecting to slack: %w", err)
	}
	// Slack requests acknowledged before a crash but not acted on yet are
	// handled first, before serving, so nothing new overtakes them. A store
	// that cannot be read keeps them for the next start.
	if _, err := m.Bot.ReplayInbox(ctx); err != nil {
		m.log.Error("replaying the slack inbox", "error", err)
	}
	return nil
}

// listen builds the HTTP server (intake, API, health, metrics and, in HTTP
// mode, Slack's endpoints) and opens its listener.
func (m *Main) listen() error {
	cfg, env := m.Config, m.Env
	icfg := intake.Config{
		IntakeSecrets:         env.IntakeSecrets,
		APIToken:              env.APIToken,
		Metrics:               m.metrics,
		Now:                   m.Now,
		IntakeRate:            rate.Limit(cfg.HTTP.IntakeRate),
		AcceptLegacySignature: cfg.HTTP.AcceptLegacySignature,
		Signatures:            m.DB,                           // a replay stays refused across a restart
		Health:                []intake.HealthReporter{m.Bot}, // blocked Slack deliveries
		Store:                 m.DB,
		AfterForget:           m.DB.Compact, // erased bytes leave the file
	}
	salt, err := m.DB.AuditSalt(context.Background())
	if err != nil {
		return err
	}
	icfg.AuditSalt = salt
	if cfg.Slack.Mode == "http" {
		icfg.Slack = m.Bot.HTTPHandler()
	}
	srv := intake.New(icfg, m.Svc, m.log.With("component", "intake"))
	m.server = srv.HTTPServer(cfg.HTTP.Listen)
	if m.WrapHandler != nil {
		m.server.Handler = m.WrapHandler(m.server.Handler)
	}
	ln, err := net.Listen("tcp", cfg.HTTP.Listen)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", cfg.HTTP.Listen, err)
	}
	m.listener = ln
	return nil
}

// serve starts the background loops and the HTTP server.
func (m *Main) serve(ctx context.Context) {
	m.goBackground("outbox", m.Bot.RunOutbox, ctx)
	if m.CRM != nil {
		m.goBackground("crm outbox", m.CRM.Run, ctx)
	}
	m.goBackground("prune", m.prune, ctx)
	if m.Config.Slack.Mode == "socket" {
		m.goBackground("socket mode", m.Bot.RunSocket, ctx)
	}
	m.bg.Add(1)
	go func() {
		defer m.bg.Done()
		if err := m.server.Serve(m.listener); err != nil && !errors.Is(err, http.ErrServerClosed) {
			m.log.Error("http server stopped", "error", err)
		}
	}()
}

func (m *Main) goBackground(name string, fn func(context.Context) error, ctx context.Context) {
	m.bg.Add(1)
	go func() {
		defer m.bg.Done()
		if err := fn(ctx); err != nil && !errors.Is(err, context.Canceled) {
			m.log.Error(name+" stopped", "error", err)
		}
	}()
}

// prune drops expired idempotency keys, Slack event ids and research cache
// entries every hour, so the file does not keep what no one will read.
func (m *Main) prune(ctx context.Context) error {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		now := time.Now()
		if m.Now != nil {
			now = m.Now()
		}
		if n, err := m.DB.Prune(ctx, now); err != nil && ctx.Err() == nil {
			m.log.Error("pruning expired entries", "error", err)
		} else if n > 0 {
			m.log.Debug("pruned expired entries", "count", n)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Addr is the address the HTTP server listens on (useful with port 0).
func (m *Main) Addr() string {
	if m.listener == nil {
		return ""
	}
	return m.listener.Addr().String()
}

// Close stops intake first, then the scheduler, waits for in-flight work,
// stops the background loops and closes the store last, so nothing writes to
// a closed store.
func (m *Main) Close() error {
	if m.closed {
		return nil
	}
	m.closed = true
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var errs []error
	if m.server != nil {
		if err := m.server.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("stopping http server: %w", err))
		}
	} else if m.listener != nil {
		m.listener.Close()
	}
	// No new scheduled runs; running ones finish before their context ends.
	if err := m.stopCron(ctx); err != nil {
		errs = append(errs, err)
	}
	// Socket Mode and the auth.test retry stop taking new work; handlers
	// already acknowledged run on (they use a context Slack's ack detached
	// from this one) and Drain waits for them.
	if m.cancelBG != nil {
		m.cancelBG()
	}
	if m.Bot != nil {
		if err := m.Bot.Drain(ctx); err != nil {
			errs = append(errs, fmt.Errorf("waiting for in-flight slack work: %w", err))
		}
	}
	m.stopResearch(ctx)
	m.bg.Wait()
	if m.DB != nil {
		if err := m.DB.Close(); err != nil {
			errs = append(errs, fmt.Errorf("closing store: %w", err))
		}
	}
	return errors.Join(errs...)
}

// stopResearch gives research in flight a moment to finish (what is cut
// short is resumed at the next start) and waits for its providers, also
// those a deadline cut off, which may still write the research cache.
func (m *Main) stopResearch(ctx context.Context) {
	if m.Svc == nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	_ = m.Svc.StopResearch(ctx)
	if m.researcher == nil {
		return
	}
	if err := m.researcher.Wait(ctx); err != nil {
		m.log.Warn("research providers still running at shutdown", "error", err)
	}
}

func newLogger(w io.Writer, c LogConfig) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(c.Level))
	opts := &slog.HandlerOptions{Level: level}
	if !c.PII {
		opts.ReplaceAttr = redactPII
	}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// freeMail reports whether a domain is a free-mail or disposable provider's:
// it names no company (bot's e-mail prefill, the service's link to an
// earlier decision).
func freeMail(d string) bool { return research.FreeMailDomain(d) || research.DisposableDomain(d) }
