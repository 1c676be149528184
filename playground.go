package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/leadtriage/leadtriage/playground"
	"github.com/leadtriage/leadtriage/slackfake"
)

// playgroundBanner is the first line `leadtriage playground` (and `go run .`
// without a token) prints: what this is, and the way to the real thing.
const playgroundBanner = "leadtriage playground: the real bot against an embedded Slack emulator, no workspace needed. " +
	"To connect a real workspace, set SLACK_BOT_TOKEN (plus SLACK_APP_TOKEN, or SLACK_SIGNING_SECRET in http mode) " +
	"and run `leadtriage serve -config config.toml` (README, \"Connect a real workspace\")."

// runPlayground is `leadtriage playground [-config FILE] [-listen ADDR] [-dir DIR]`.
func runPlayground(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("leadtriage playground", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", "", "take criteria, voting, reminders and partners from this file (default: config.toml when there is one)")
	listen := fs.String("listen", "", "where the page and the bot listen (default: http.listen of the configuration, 127.0.0.1:3000)")
	dir := fs.String("dir", "", "keep the database in this directory (default: a temporary one, removed on exit)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "leadtriage playground: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	fmt.Fprintln(stdout, playgroundBanner)
	app, err := startPlayground(ctx, playgroundOptions{ConfigPath: *configPath, Listen: *listen, Dir: *dir, Log: stderr})
	if err != nil {
		fmt.Fprintf(stderr, "leadtriage playground: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "open http://%s/ in a browser; Ctrl-C stops\n", app.Main.Addr())
	<-ctx.Done()
	if err := app.Close(); err != nil {
		fmt.Fprintf(stderr, "leadtriage playground: shutting down: %v\n", err)
		return 1
	}
	return 0
}

type playgroundOptions struct {
	ConfigPath string    // "" = config.toml when present, else the defaults
	Listen     string    // overrides http.listen
	Dir        string    // database directory; "" = a temporary one
	Log        io.Writer // the bot's logs
	LogLevel   string    // "" = warn: the page shows what happens
}

// playgroundApp is the real wiring (Main) plus the emulator and its page.
type playgroundApp struct {
	Main       *Main
	Playground *playground.Playground
	tmp        string // removed by Close
}

// startPlayground runs the real bot in HTTP mode against the emulator: the
// configuration is the given one with Slack, storage, listen address and
// research pointed at loopback.
func startPlayground(ctx context.Context, o playgroundOptions) (*playgroundApp, error) {
	cfg := DefaultConfig()
	path := o.ConfigPath
	if path == "" {
		if _, err := os.Stat("config.toml"); err == nil {
			path = "config.toml"
		}
	}
	if path != "" {
		var problems []string
		cfg, problems = LoadConfig(path)
		// Problems with what the playground replaces (no channel yet, say)
		// do not matter; an unreadable file or a wrong key does.
		for _, p := range problems {
			if strings.HasPrefix(p, "reading config") || strings.HasPrefix(p, path+":") {
				return nil, fmt.Errorf("configuration: %s", p)
			}
		}
	}
	tmp, err := os.MkdirTemp("", "leadtriage-playground-")
	if err != nil {
		return nil, fmt.Errorf("making a temporary directory: %w", err)
	}
	app := &playgroundApp{tmp: tmp}
	ok := false
	defer func() {
		if !ok {
			_ = app.Close()
		}
	}()
	dir := o.Dir
	if dir == "" {
		dir = tmp
	} else if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("making %s: %w", dir, err)
	}

	env := map[string]string{
		"SLACK_BOT_TOKEN":          slackfake.BotToken,
		"SLACK_SIGNING_SECRET":     randomSecret(),
		"LEADTRIAGE_INTAKE_SECRET": randomSecret(),
		"LEADTRIAGE_API_TOKEN":     randomSecret(),
	}
	clock := &playground.Clock{}
	m := NewMain()
	users := playground.DefaultUsers()
	pg, err := playground.New(playground.Config{
		Users:         users,
		Channel:       playground.TriageChannel,
		DigestChannel: playground.DigestChannel,
		SigningSecret: env["SLACK_SIGNING_SECRET"],
		IntakeSecret:  env["LEADTRIAGE_INTAKE_SECRET"],
		Clock:         clock,
		RunJobs: func(ctx context.Context) {
			if err := m.RunReminders(ctx); err != nil {
				m.log.Error("playground: reminders", "error", err)
			}
			if _, err := m.RunDigestTick(ctx); err != nil {
				m.log.Error("playground: digest", "error", err)
			}
		},
	})
	if err != nil {
		return nil, err
	}
	app.Playground = pg

	cfg.Slack = SlackConfig{Mode: "http", Channel: playground.TriageChannel, DigestChannel: playground.DigestChannel, APIURL: pg.APIURL()}
	for _, u := range users {
		if u.Lead {
			cfg.Slack.TeamLead = u.ID
		}
	}
	cfg.Voting.Deciders = nil // the team lead
	cfg.Voting.Team = nil
	for _, u := range users {
		if !u.Lead {
			cfg.Voting.Team = append(cfg.Voting.Team, u.ID)
		}
	}
	if o.Listen != "" {
		cfg.HTTP.Listen = o.Listen
	}
	cfg.Storage.Path = filepath.Join(dir, "leadtriage.db")
	cfg.Research.Enabled = true
	cfg.Research.RDAPURL = pg.RDAPURL()
	cfg.Research.DNSServer = pg.DNSServer()
	cfg.Research.AllowPrivateAddresses = true
	cfg.Research.WebHistory = false // crt.sh and the Wayback Machine are on the internet; the playground works offline
	// Fast-forward lands at any hour of any day: reminders and the digest
	// must not wait for Monday morning in the playground.
	cfg.Reminders.BusinessHours = ""
	cfg.Reminders.Workdays = "Mon-Sun"
	cfg.Digest.Schedule = "0 9 * * *"
	cfg.Access = AccessConfig{}
	cfg.Log.Level = o.LogLevel
	if cfg.Log.Level == "" {
		cfg.Log.Level = "warn"
	}
	if problems := cfg.Validate(); len(problems) > 0 {
		return nil, fmt.Errorf("configuration:\n  %s", strings.Join(problems, "\n  "))
	}
	cfgPath := filepath.Join(tmp, "config.toml")
	if err := writeTOML(cfgPath, cfg); err != nil {
		return nil, err
	}

	m.ConfigPath = cfgPath
	m.Getenv = func(k string) string { return env[k] }
	if o.Log != nil {
		m.Stderr = o.Log
	}
	m.Now = clock.Now
	m.WrapHandler = pg.Handler
	m.WebsiteClient = pg.WebsiteClient()
	app.Main = m
	if err := m.Run(ctx); err != nil {
		return nil, err
	}
	pg.SetBotURL("http://" + m.Addr())
	ok = true
	return app, nil
}

// Close stops the bot, then the emulator, and removes the temporary files.
func (a *playgroundApp) Close() error {
	var errs []error
	if a.Playground != nil {
		a.Playground.Stop()
	}
	if a.Main != nil {
		errs = append(errs, a.Main.Close())
	}
	if a.Playground != nil {
		a.Playground.Close()
	}
	if a.tmp != "" {
		errs = append(errs, os.RemoveAll(a.tmp))
	}
	return errors.Join(errs...)
}

func writeTOML(path string, cfg Config) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("writing the playground's configuration: %w", err)
	}
	if err := toml.NewEncoder(f).Encode(cfg); err != nil {
		f.Close()
		return fmt.Errorf("writing the playground's configuration: %w", err)
	}
	return f.Close()
}

func randomSecret() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
