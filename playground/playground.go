// Package playground is the local try-it page: the real bot, wired by
// main.go, talks to an embedded Slack emulator (slackfake) and the page
// shows the emulated workspace like a chat client. A person in the browser
// plays the teammates; every click, reaction, reply and command reaches the
// bot as a signed Slack request through its real HTTP endpoints. Research
// runs against loopback fakes (RDAP, DNS, websites), so it works offline.
//
// It is used only by main.go (`leadtriage playground`); the bot never
// imports it.
package playground

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/slack-go/slack"

	"github.com/leadtriage/leadtriage/slackfake"
)

// User is a person of the emulated workspace the page can act as.
type User struct {
	ID, Name string
	Lead     bool // the team lead
}

// DefaultUsers are three teammates and the team lead.
func DefaultUsers() []User {
	return []User{
		{ID: "UANNA", Name: "Anna de Vries"},
		{ID: "UBRAM", Name: "Bram Jansen"},
		{ID: "UCHLOE", Name: "Chloe Smith"},
		{ID: "ULEAD", Name: "Sam Okafor", Lead: true},
	}
}

// The emulated workspace's channels.
const (
	TriageChannel = "CTRIAGE"
	DigestChannel = "CDIGEST"
)

// Config is what main.go hands the playground.
type Config struct {
	Users         []User // default DefaultUsers
	Channel       string // the triage channel (default TriageChannel)
	DigestChannel string // default: the triage channel
	SigningSecret string // the bot's SLACK_SIGNING_SECRET
	IntakeSecret  string // the bot's LEADTRIAGE_INTAKE_SECRET (the new-lead form uses it)
	Clock         *Clock // the bot's clock (Main.Now); fast-forward moves it
	// RunJobs runs the scheduled jobs (reminders, digest) once; called after
	// a fast-forward, so their effects show without waiting for cron.
	RunJobs func(ctx context.Context)
	Log     *slog.Logger
}

// Clock is the bot's clock: real time plus an offset the page can advance.
type Clock struct {
	offset atomic.Int64
}

// Now is time.Now moved forward by every Advance.
func (c *Clock) Now() time.Time { return time.Now().Add(time.Duration(c.offset.Load())) }

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) { c.offset.Add(int64(d)) }

// Offset is how far the clock has been moved.
func (c *Clock) Offset() time.Duration { return time.Duration(c.offset.Load()) }

// Playground is the emulator, the research fakes and the page.
type Playground struct {
	cfg   Config
	Slack *slackfake.Server
	fakes *researchFakes
	log   *slog.Logger
	http  *http.Client
	start int64

	mu      sync.Mutex
	botURL  string
	bumped  chan struct{} // closed on a change the fake does not see (the clock)
	eventN  atomic.Int64
	jobs    sync.WaitGroup
	forward sync.Mutex // one fast-forward at a time
	closing chan struct{}
}

// New starts the emulator and the research fakes on loopback.
func New(cfg Config) (*Playground, error) {
	if len(cfg.Users) == 0 {
		cfg.Users = DefaultUsers()
	}
	if cfg.Channel == "" {
		cfg.Channel = TriageChannel
	}
	if cfg.DigestChannel == "" {
		cfg.DigestChannel = cfg.Channel
	}
	if cfg.Clock == nil {
		cfg.Clock = &Clock{}
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	fake, err := slackfake.Start("127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("starting the slack emulator: %w", err)
	}
	fake.SetNow(cfg.Clock.Now)
	for _, u := range cfg.Users {
		fake.AddUser(u.ID, u.Name)
	}
	fakes, err := startResearchFakes(cfg.Clock.Now)
	if err != nil {
		fake.Close()
		return nil, fmt.Errorf("starting the research fakes: %w", err)
	}
	return &Playground{
		cfg: cfg, Slack: fake, fakes: fakes, log: cfg.Log,
		http:    &http.Client{Timeout: 15 * time.Second},
		start:   time.Now().Unix(),
		bumped:  make(chan struct{}),
		closing: make(chan struct{}),
	}, nil
}

// Stop ends the page's live streams and waits for fast-forward jobs, so
// the bot's server can shut down; the emulator keeps answering the bot.
func (p *Playground) Stop() {
	p.mu.Lock()
	select {
	case <-p.closing:
	default:
		close(p.closing)
	}
	p.mu.Unlock()
	p.jobs.Wait()
}

// Close stops the page, the emulator and the fakes; call it after the bot
// has stopped.
func (p *Playground) Close() {
	p.Stop()
	p.Slack.Close()
	p.fakes.close()
}

// Clock is the bot's clock, which fast-forward moves.
func (p *Playground) Clock() *Clock { return p.cfg.Clock }

// APIURL is the emulator's Web API base URL (slack.api_url).
func (p *Playground) APIURL() string { return p.Slack.APIURL() }

// RDAPURL is the RDAP fake's base URL (research.rdap_url).
func (p *Playground) RDAPURL() string { return p.fakes.rdap.URL + "/" }

// DNSServer is the DNS fake's address (research.dns_server).
func (p *Playground) DNSServer() string { return p.fakes.dnsA }

// WebsiteClient fetches the leads' websites from the website fake.
func (p *Playground) WebsiteClient() *http.Client { return p.fakes.websiteClient() }

// SetBotURL tells the emulator where the bot listens ("http://host:port"):
// Slack's requests and the sample leads go there.
func (p *Playground) SetBotURL(u string) {
	p.mu.Lock()
	p.botURL = strings.TrimSuffix(u, "/")
	p.mu.Unlock()
}

func (p *Playground) bot() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.botURL
}

func (p *Playground) bump() {
	p.mu.Lock()
	close(p.bumped)
	p.bumped = make(chan struct{})
	p.mu.Unlock()
}

func (p *Playground) bumpedCh() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.bumped
}

func (p *Playground) user(id string) (User, bool) {
	for _, u := range p.cfg.Users {
		if u.ID == id {
			return u, true
		}
	}
	return User{}, false
}

// ---------------------------------------------------------------------------
// Slack's side: signed requests to the bot

// signed POSTs body to the bot's Slack endpoint path, signed with the
// signing secret at the bot's clock, as Slack does, and returns the answer.
func (p *Playground) signed(ctx context.Context, path, contentType string, body []byte) (int, []byte, error) {
	base := p.bot()
	if base == "" {
		return 0, nil, errors.New("the bot is not listening yet")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+path, bytes.NewReader(body))
	if err != nil {
		return 0, nil, fmt.Errorf("building the request: %w", err)
	}
	req.Header.Set("Content-Type", contentType)
	for k, vs := range slackfake.Sign(p.cfg.SigningSecret, body, p.cfg.Clock.Now()) {
		req.Header[k] = vs
	}
	resp, err := p.http.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("sending to %s: %w", path, err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return resp.StatusCode, nil, fmt.Errorf("reading the answer of %s: %w", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		return resp.StatusCode, out, fmt.Errorf("%s answered %d: %s", path, resp.StatusCode, strings.TrimSpace(string(out)))
	}
	return resp.StatusCode, out, nil
}

func (p *Playground) form(ctx context.Context, path string, f url.Values) ([]byte, error) {
	_, body, err := p.signed(ctx, path, "application/x-www-form-urlencoded", []byte(f.Encode()))
	return body, err
}

// event delivers an Events API callback with a fresh event id (unique
// across runs, so a kept database does not take it for a retry).
func (p *Playground) event(ctx context.Context, inner map[string]any) error {
	id := fmt.Sprintf("Ev%X%05d", p.start, p.eventN.Add(1))
	_, _, err := p.signed(ctx, "/slack/events", "application/json", slackfake.EventCallbackJSON(id, inner))
	return err
}

// Click sends a block_actions interaction.
func (p *Playground) Click(ctx context.Context, a slackfake.Action) error {
	f, err := p.Slack.ActionForm(a)
	if err != nil {
		return err
	}
	_, err = p.form(ctx, "/slack/interactions", f)
	return err
}

// Say posts text as user in channel (threadTS "" for top level) and tells
// the bot with a message event. Text starting with "/" is a slash command.
func (p *Playground) Say(ctx context.Context, user, channel, threadTS, text string) error {
	text = strings.TrimSpace(text)
	if text == "" {
		return errors.New("nothing to send")
	}
	if strings.HasPrefix(text, "/") {
		cmd, args, _ := strings.Cut(text, " ")
		return p.Command(ctx, user, channel, cmd, strings.TrimSpace(args))
	}
	// Slack escapes &, < and > in what a person types.
	escaped := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(text)
	ts := p.Slack.PostAsUser(channel, user, escaped, threadTS)
	if m, ok := p.Slack.Message(channel, ts); ok {
		threadTS = m.ThreadTS
	}
	return p.event(ctx, slackfake.MessageEvent(channel, user, escaped, ts, threadTS))
}

// Command runs a slash command as user in channel; an immediate answer is
// shown the way Slack shows it (through the command's response_url).
func (p *Playground) Command(ctx context.Context, user, channel, command, text string) error {
	if command != "/qualify" {
		return fmt.Errorf("%s is not a command this app has: try /qualify help", command)
	}
	ru := p.Slack.NewResponseURLFor(channel, "", user)
	f := slackfake.SlashCommandForm(user, channel, command, text, ru, p.Slack.NewTriggerIDFor(user))
	body, err := p.form(ctx, "/slack/commands", f)
	if err != nil || len(bytes.TrimSpace(body)) == 0 {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ru, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("building the response_url post: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := p.http.Do(req)
	if err != nil {
		return fmt.Errorf("showing the command's answer: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("showing the command's answer: the emulator refused it (%d)", resp.StatusCode)
	}
	return nil
}

// React toggles user's reaction name on a message and tells the bot.
func (p *Playground) React(ctx context.Context, user, channel, ts, name string) error {
	m, ok := p.Slack.Message(channel, ts)
	if !ok || m.Deleted {
		return fmt.Errorf("no message %s", ts)
	}
	added := true
	for _, u := range m.Reactions[name] {
		if u == user {
			added = false
		}
	}
	if added {
		p.Slack.AddReaction(channel, ts, name, user)
	} else {
		p.Slack.RemoveReaction(channel, ts, name, user)
	}
	return p.event(ctx, slackfake.ReactionEvent(added, user, name, channel, ts, m.User))
}

// Shortcut runs the message shortcut callbackID ("Qualify this message")
// on a message, as the message's ⋮ menu does.
func (p *Playground) Shortcut(ctx context.Context, user, channel, ts, callbackID string) error {
	if m, ok := p.Slack.Message(channel, ts); !ok || m.Deleted {
		return fmt.Errorf("no message %s", ts)
	}
	_, err := p.form(ctx, "/slack/interactions", p.Slack.MessageActionForm(user, channel, ts, callbackID))
	return err
}

// OpenHome tells the bot that user opened the App Home.
func (p *Playground) OpenHome(ctx context.Context, user string) error {
	return p.event(ctx, slackfake.AppHomeOpenedEvent(user))
}

// Submit sends a view_submission and applies the bot's answer (close,
// inline errors, update, push).
func (p *Playground) Submit(ctx context.Context, user, viewID string, values map[string]map[string]slack.BlockAction) error {
	f, err := p.Slack.ViewSubmissionFormFor(user, viewID, values)
	if err != nil {
		return err
	}
	body, err := p.form(ctx, "/slack/interactions", f)
	if err != nil {
		return err
	}
	return p.Slack.ViewResponse(user, viewID, bytes.TrimSpace(body))
}

// forwardStep is how far the clock moves between two runs of the jobs
// during a fast-forward: each reminder and digest happens at (about) its
// own time, as if the hours had passed, not all at the end.
const forwardStep = 30 * time.Minute

// FastForward advances the bot's clock by d in steps, running the scheduled
// jobs after each, as their ticks would. It returns at once; fast-forwards
// run one after another.
func (p *Playground) FastForward(d time.Duration) {
	p.jobs.Add(1)
	go func() {
		defer p.jobs.Done()
		p.forward.Lock()
		defer p.forward.Unlock()
		for left := d; left > 0; left -= forwardStep {
			select {
			case <-p.closing:
				return
			default:
			}
			p.cfg.Clock.Advance(min(left, forwardStep))
			if p.cfg.RunJobs != nil {
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				p.cfg.RunJobs(ctx)
				cancel()
			}
		}
		p.bump()
	}()
}

// LoadSamples posts the sample leads to the bot's POST /leads, as a web
// form would, one after another.
func (p *Playground) LoadSamples(ctx context.Context) (int, error) {
	n := 0
	for _, s := range Samples(p.cfg.Clock.Now()) {
		if err := p.PostLead(ctx, s); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// PostLead sends one lead to POST /leads with the intake secret.
func (p *Playground) PostLead(ctx context.Context, s Sample) error {
	f := url.Values{}
	for k, v := range s {
		f.Set(k, v)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.bot()+"/leads", strings.NewReader(f.Encode()))
	if err != nil {
		return fmt.Errorf("building the lead: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer "+p.cfg.IntakeSecret)
	resp, err := p.http.Do(req)
	if err != nil {
		return fmt.Errorf("posting lead %s: %w", s["company"], err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("posting lead %s: %d %s", s["company"], resp.StatusCode, strings.TrimSpace(string(b)))
	}
	return nil
}
