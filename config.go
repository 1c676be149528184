package main

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/leadtriage/leadtriage/crm"
	"github.com/leadtriage/leadtriage/triage"
	"github.com/robfig/cron/v3"
)

// Config is config.toml: every non-secret setting. Secrets come from the
// environment (see Env); a secret in this file would end up in backups and
// repositories.
type Config struct {
	Slack      SlackConfig       `toml:"slack"`
	HTTP       HTTPConfig        `toml:"http"`
	Storage    StorageConfig     `toml:"storage"`
	UI         UIConfig          `toml:"ui"`
	Voting     VotingConfig      `toml:"voting"`
	Reactions  ReactionsConfig   `toml:"reactions"`
	Criteria   []CriterionConfig `toml:"criteria"`
	Disqualify DisqualifyConfig  `toml:"disqualify"`
	Partners   []PartnerConfig   `toml:"partners"`
	Reminders  RemindersConfig   `toml:"reminders"`
	Digest     DigestConfig      `toml:"digest"`
	Research   ResearchConfig    `toml:"research"`
	Access     AccessConfig      `toml:"access"`
	Privacy    PrivacyConfig     `toml:"privacy"`
	Outcomes   OutcomesConfig    `toml:"outcomes"`
	Log        LogConfig         `toml:"log"`
	CRM        CRMConfig         `toml:"crm"`
	Webhooks   []WebhookConfig   `toml:"webhooks"`
}

// WebhookConfig is one [[webhooks]] receiver of the domain events.
type WebhookConfig struct {
	URL    string   `toml:"url"`
	Events []string `toml:"events"` // empty: all of triage.EventTypes
}

type SlackConfig struct {
	Mode          string `toml:"mode"`
	Channel       string `toml:"channel"`
	DigestChannel string `toml:"digest_channel"`
	TeamLead      string `toml:"team_lead"`
	APIURL        string `toml:"api_url"`
}

type HTTPConfig struct {
	Listen string `toml:"listen"`
	// IntakeRate is how many leads per second one client address may post
	// with the right secret (bursts of 4×); strangers and failed attempts
	// get a far tighter limit of their own (intake.FailureRate).
	IntakeRate float64 `toml:"intake_rate"`
	// AcceptLegacySignature accepts the timestamp-less "sha256=<hex>"
	// intake signature, which can be replayed; off unless a sender cannot
	// yet sign "t=…,v1=…".
	AcceptLegacySignature bool `toml:"accept_legacy_signature"`
}

type StorageConfig struct {
	Path string `toml:"path"`
}

// UIConfig is config.toml's [ui]: how the bot speaks in Slack.
type UIConfig struct {
	// Language is the language of every text the bot shows: "en" or "nl".
	Language string `toml:"language"`
}

func (u UIConfig) validate(p *problems) {
	switch u.Language {
	case "en", "nl":
	default:
		p.add("ui.language", "%q is not a language the bot speaks (en or nl)", u.Language)
	}
}

type VotingConfig struct {
	Quorum   int      `toml:"quorum"`
	Blind    bool     `toml:"blind"`
	Decide   string   `toml:"decide"`
	Deciders []string `toml:"deciders"`
	Team     []string `toml:"team"`
	// DissentPrompt: when everyone votes no and research found no red flag,
	// ask once what would change the team's mind.
	DissentPrompt bool `toml:"dissent_prompt"`
}

type ReactionsConfig struct {
	// Enabled: reactions on the card count as votes. Absent = not
	// voting.blind, because Slack shows everyone who reacted with what.
	Enabled    *bool  `toml:"enabled"`
	Qualify    string `toml:"qualify"`
	Disqualify string `toml:"disqualify"`
	Unsure     string `toml:"unsure"`
}

type CriterionConfig struct {
	ID       string   `toml:"id"`
	Question string   `toml:"question"`
	Kind     string   `toml:"kind"`
	Options  []string `toml:"options"`
	Must     bool     `toml:"must"`
	Weight   int      `toml:"weight"`
	Help     string   `toml:"help"`
}

type DisqualifyConfig struct {
	Reasons []string `toml:"reasons"`
}

type PartnerConfig struct {
	Name    string `toml:"name"`
	Fits    string `toml:"fits"`
	Contact string `toml:"contact"`
}

type RemindersConfig struct {
	After         Duration `toml:"after"`
	EscalateAfter Duration `toml:"escalate_after"`
	Check         string   `toml:"check"`
	BusinessHours string   `toml:"business_hours"`
	Workdays      string   `toml:"workdays"`
	Timezone      string   `toml:"timezone"`
}

type DigestConfig struct {
	Schedule     string   `toml:"schedule"`
	Timezone     string   `toml:"timezone"`
	RevisitAfter Duration `toml:"revisit_after"`
	// SkipEmpty posts nothing on a run with nothing pending, decided or to
	// revisit (false: a short "nothing pending" line).
	SkipEmpty bool `toml:"skip_empty"`
}

type ResearchConfig struct {
	Enabled               bool     `toml:"enabled"`
	Timeout               Duration `toml:"timeout"`
	CacheTTL              Duration `toml:"cache_ttl"`
	RDAPURL               string   `toml:"rdap_url"`
	DNSServer             string   `toml:"dns_server"`
	AllowPrivateAddresses bool     `toml:"allow_private_addresses"`
	WebHistory            bool     `toml:"web_history"`    // first certificate (crt.sh) and first archive capture (Wayback)
	CrtshURL              string   `toml:"crtsh_url"`      // base URL overrides for tests
	WaybackURL            string   `toml:"wayback_url"`    //
	CreditsafeURL         string   `toml:"creditsafe_url"` //
}

type AccessConfig struct {
	Users      []string `toml:"users"`
	Usergroups []string `toml:"usergroups"`
	Channels   []string `toml:"channels"`
}

type PrivacyConfig struct {
	Retention Duration `toml:"retention"`
}

type LogConfig struct {
	Format string `toml:"format"`
	Level  string `toml:"level"`
	PII    bool   `toml:"pii"`
}

// Duration is a Go duration in config.toml ("4h", "90m"); "" is zero.
type Duration struct {
	time.Duration
	// Invalid holds text that did not parse, so that Validate can report it
	// with its key (the TOML decoder only knows the line).
	Invalid string
}

// UnmarshalText parses a Go duration.
func (d *Duration) UnmarshalText(b []byte) error {
	s := strings.TrimSpace(string(b))
	*d = Duration{}
	if s == "" {
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		d.Invalid = s
		return nil
	}
	d.Duration = v
	return nil
}

// MarshalText writes the duration back in Go syntax.
func (d Duration) MarshalText() ([]byte, error) {
	if d.Duration == 0 {
		return []byte(""), nil
	}
	return []byte(d.String()), nil
}

// DefaultIntakeRate is http.intake_rate's default: leads per second per
// client with the right secret, enough for a form tool catching up on a
// backlog or a script importing a few hundred leads.
const DefaultIntakeRate = 50

// DefaultConfig is what applies where config.toml says nothing. It matches
// the committed config.toml.
func DefaultConfig() Config {
	return Config{
		Slack:     SlackConfig{Mode: "socket"},
		HTTP:      HTTPConfig{Listen: "127.0.0.1:3000", IntakeRate: DefaultIntakeRate},
		Storage:   StorageConfig{Path: "leadtriage.db"},
		UI:        UIConfig{Language: "en"},
		Voting:    VotingConfig{Quorum: 3, Blind: true, Decide: "auto", DissentPrompt: true},
		Reactions: ReactionsConfig{Qualify: "+1", Disqualify: "-1", Unsure: "thinking_face"},
		Reminders: RemindersConfig{
			After:         Duration{Duration: 4 * time.Hour},
			EscalateAfter: Duration{Duration: 24 * time.Hour},
			Check:         "@every 1m",
			BusinessHours: "09:00-17:30",
			Workdays:      "Mon-Fri",
			Timezone:      "Europe/Amsterdam",
		},
		Digest: DigestConfig{Schedule: "0 9 * * 1-5", Timezone: "Europe/Amsterdam", RevisitAfter: Duration{Duration: 2160 * time.Hour}},
		Research: ResearchConfig{
			Enabled:    true,
			Timeout:    Duration{Duration: 10 * time.Second},
			CacheTTL:   Duration{Duration: 168 * time.Hour},
			WebHistory: true,
		},
		Log:      LogConfig{Format: "text", Level: "info"},
		Outcomes: OutcomesConfig{AskAfter: Duration{Duration: defaultAskAfter}},
	}
}

// LoadConfig reads path over DefaultConfig. It returns every problem it
// finds, each naming its key, rather than stopping at the first.
func LoadConfig(path string) (Config, []string) {
	cfg := DefaultConfig()
	raw, err := os.ReadFile(path)
	if err != nil {
		return cfg, []string{fmt.Sprintf("reading config: %v", err)}
	}
	md, err := toml.Decode(string(raw), &cfg)
	if err != nil {
		var perr toml.ParseError
		if errors.As(err, &perr) {
			return cfg, []string{fmt.Sprintf("%s: %s", path, perr.ErrorWithPosition())}
		}
		return cfg, []string{fmt.Sprintf("%s: %v", path, err)}
	}
	var problems []string
	for _, k := range md.Undecoded() {
		problems = append(problems, fmt.Sprintf("%s: unknown key %q", path, k.String()))
	}
	return cfg, append(problems, cfg.Validate()...)
}

var (
	channelID = regexp.MustCompile(`^[CGD][A-Z0-9]{2,}$`)
	userID    = regexp.MustCompile(`^[UW][A-Z0-9]{2,}$`)
	groupID   = regexp.MustCompile(`^S[A-Z0-9]{2,}$`)
	emojiName = regexp.MustCompile(`^[a-z0-9_+\-']+$`)
	critID    = regexp.MustCompile(`^[a-z][a-z0-9_]{0,31}$`)
)

// Validate reports every impossible value, naming its key: each section
// checks its own table.
func (c Config) Validate() []string {
	var p problems
	for _, validate := range []func(*problems){
		c.Slack.validate,
		c.HTTP.validate,
		c.Storage.validate,
		func(p *problems) { c.Voting.validate(p, c.Slack.TeamLead) },
		c.Reactions.validate,
		func(p *problems) { validateCriteria(p, c.Criteria) },
		c.Disqualify.validate,
		func(p *problems) { validatePartners(p, c.Partners) },
		c.Reminders.validate,
		c.Digest.validate,
		c.Research.validate,
		c.Access.validate,
		c.Privacy.validate,
		c.Outcomes.validate,
		c.Log.validate,
		c.UI.validate,
		c.CRM.validate,
		func(p *problems) { validateWebhooks(p, c.Webhooks) },
	} {
		validate(&p)
	}
	return p
}

// problems collects impossible values, each as "key: what is wrong".
type problems []string

func (p *problems) add(key, format string, args ...any) {
	*p = append(*p, key+": "+fmt.Sprintf(format, args...))
}

// duration reports a value of key that did not parse as a duration.
func (p *problems) duration(key string, d Duration) {
	if d.Invalid != "" {
		p.add(key, "%q is not a duration (examples: 90m, 4h, 2160h)", d.Invalid)
	}
}

// userIDs reports the entries of list (key) that are not user ids.
func (p *problems) userIDs(key string, list []string) {
	for i, u := range list {
		if !userID.MatchString(u) {
			p.add(fmt.Sprintf("%s[%d]", key, i), "%q is not a user id (U…)", u)
		}
	}
}

func (c SlackConfig) validate(p *problems) {
	switch c.Mode {
	case "socket", "http":
	default:
		p.add("slack.mode", "%q is not a mode (socket or http)", c.Mode)
	}
	if c.Channel == "" {
		p.add("slack.channel", "is required: the id of the triage channel (C…; in Slack: channel details → bottom of the About tab)")
	} else if !channelID.MatchString(c.Channel) {
		p.add("slack.channel", "%q is not a channel id (C…, G…): use the id, not the #name", c.Channel)
	}
	if c.DigestChannel != "" && !channelID.MatchString(c.DigestChannel) {
		p.add("slack.digest_channel", "%q is not a channel id (C…, G…)", c.DigestChannel)
	}
	if c.TeamLead != "" && !userID.MatchString(c.TeamLead) {
		p.add("slack.team_lead", "%q is not a user id (U…): in Slack, profile → ⋮ → Copy member ID", c.TeamLead)
	}
	if c.APIURL != "" {
		if !strings.HasPrefix(c.APIURL, "http://") && !strings.HasPrefix(c.APIURL, "https://") || !strings.HasSuffix(c.APIURL, "/") {
			p.add("slack.api_url", "%q must be an http(s) URL ending in /", c.APIURL)
		}
	}
}

func (c HTTPConfig) validate(p *problems) {
	if c.Listen == "" || !strings.Contains(c.Listen, ":") {
		p.add("http.listen", "%q is not a host:port address", c.Listen)
	}
	if !(c.IntakeRate > 0 && c.IntakeRate <= 100_000) { // also catches NaN
		p.add("http.intake_rate", "%v is not possible (more than 0, at most 100000 leads per second per client)", c.IntakeRate)
	}
}

func (c StorageConfig) validate(p *problems) {
	if c.Path == "" {
		p.add("storage.path", "is required")
	}
}

// validate checks [voting]; teamLead is slack.team_lead, who decides when
// no deciders are named.
func (c VotingConfig) validate(p *problems, teamLead string) {
	if c.Quorum < 1 || c.Quorum > 100 {
		p.add("voting.quorum", "%d is not possible (1–100)", c.Quorum)
	}
	switch c.Decide {
	case "auto", "lead":
	default:
		p.add("voting.decide", "%q is not a decision mode (auto or lead)", c.Decide)
	}
	if c.Decide == "lead" && teamLead == "" && len(c.Deciders) == 0 {
		p.add("voting.decide", `"lead" needs slack.team_lead or voting.deciders`)
	}
	p.userIDs("voting.deciders", c.Deciders)
	p.userIDs("voting.team", c.Team)
}

func (c ReactionsConfig) validate(p *problems) {
	seen := map[string]string{}
	for _, r := range []struct{ key, v string }{
		{"reactions.qualify", c.Qualify},
		{"reactions.disqualify", c.Disqualify},
		{"reactions.unsure", c.Unsure},
	} {
		name := strings.Trim(r.v, ":")
		switch {
		case name == "":
		case !emojiName.MatchString(name):
			p.add(r.key, "%q is not an emoji name (e.g. +1, thinking_face)", r.v)
		case seen[name] != "":
			p.add(r.key, "%q is already used by %s", r.v, seen[name])
		default:
			seen[name] = r.key
		}
	}
}

// validateCriteria checks the [[criteria]] tables.
func validateCriteria(p *problems, criteria []CriterionConfig) {
	seen := map[string]bool{}
	for i, cr := range criteria {
		key := fmt.Sprintf("criteria[%d]", i)
		if !critID.MatchString(cr.ID) {
			p.add(key+".id", "%q is not an id (lowercase letters, digits and _, starting with a letter, at most 32)", cr.ID)
		} else if seen[cr.ID] {
			p.add(key+".id", "%q is used twice", cr.ID)
		}
		seen[cr.ID] = true
		if strings.TrimSpace(cr.Question) == "" {
			p.add(key+".question", "is required")
		} else if len([]rune(cr.Question)) > 150 {
			p.add(key+".question", "is too long (at most 150 characters)")
		}
		switch cr.Kind {
		case "yesno", "scale", "number", "text":
			if len(cr.Options) > 0 {
				p.add(key+".options", "only a choice criterion has options")
			}
		case "choice":
			if len(cr.Options) < 2 {
				p.add(key+".options", "a choice criterion needs at least two options")
			}
			if len(cr.Options) > 25 {
				p.add(key+".options", "at most 25 options")
			}
		default:
			p.add(key+".kind", "%q is not a kind (yesno, scale, number, text or choice)", cr.Kind)
		}
		if cr.Weight < 0 || cr.Weight > 100 {
			p.add(key+".weight", "%d is not possible (0–100)", cr.Weight)
		}
	}
}

func (c DisqualifyConfig) validate(p *problems) {
	for i, r := range c.Reasons {
		if strings.TrimSpace(r) == "" || len([]rune(r)) > 75 {
			p.add(fmt.Sprintf("disqualify.reasons[%d]", i), "must be 1–75 characters")
		}
	}
	if len(c.Reasons) > 100 {
		p.add("disqualify.reasons", "at most 100 reasons (the decide dialog's menu holds 100)")
	}
}

// validatePartners checks the [[partners]] tables.
func validatePartners(p *problems, partners []PartnerConfig) {
	if len(partners) > 100 {
		p.add("partners", "at most 100 partners (the decide dialog's menu holds 100)")
	}
	seen := map[string]bool{}
	for i, pa := range partners {
		name := strings.TrimSpace(pa.Name)
		switch {
		case name == "":
			p.add(fmt.Sprintf("partners[%d].name", i), "is required")
		case len([]rune(name)) > 75:
			p.add(fmt.Sprintf("partners[%d].name", i), "must be at most 75 characters")
		case seen[strings.ToLower(name)]:
			p.add(fmt.Sprintf("partners[%d].name", i), "%q is used twice", name)
		}
		seen[strings.ToLower(name)] = true
		if len([]rune(pa.Fits)) > 150 {
			p.add(fmt.Sprintf("partners[%d].fits", i), "must be at most 150 characters")
		}
	}
}

// validateWebhooks checks the [[webhooks]] tables: absolute http(s) URLs,
// each once, and events from triage.EventTypes, each once.
func validateWebhooks(p *problems, hooks []WebhookConfig) {
	seen := map[string]bool{}
	for i, h := range hooks {
		key := fmt.Sprintf("webhooks[%d]", i)
		u, err := url.Parse(h.URL)
		switch {
		case err != nil || !u.IsAbs() || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
			p.add(key+".url", "%q is not an absolute http or https URL", h.URL)
		case seen[h.URL]:
			p.add(key+".url", "%q is configured twice", h.URL)
		}
		seen[h.URL] = true
		events := map[string]bool{}
		for _, e := range h.Events {
			switch {
			case !slices.Contains(triage.EventTypes, e):
				p.add(key+".events", "%q is not an event (%s)", e, strings.Join(triage.EventTypes, ", "))
			case events[e]:
				p.add(key+".events", "%q is listed twice", e)
			}
			events[e] = true
		}
	}
}

// WebhookEvents is what the service queues for the webhooks: every event
// type some [[webhooks]] receiver hears.
func (c Config) WebhookEvents() map[string]bool {
	if len(c.Webhooks) == 0 {
		return nil
	}
	m := map[string]bool{}
	for _, h := range c.Webhooks {
		for _, e := range triage.EventTypes {
			if (crm.Webhook{URL: h.URL, Events: h.Events}).Hears(e) {
				m[e] = true
			}
		}
	}
	return m
}

// Events is every domain event the service queues: what the webhooks hear,
// and lead.decided when a CRM hand-off is on. nil: none.
func (c Config) Events() map[string]bool {
	m := c.WebhookEvents()
	if c.CRM.HubSpot || c.CRM.Pipedrive {
		if m == nil {
			m = map[string]bool{}
		}
		m[triage.EventTypeDecided] = true // the hand-off hears decisions
	}
	return m
}

func (c RemindersConfig) validate(p *problems) {
	p.duration("reminders.after", c.After)
	p.duration("reminders.escalate_after", c.EscalateAfter)
	if c.After.Duration < 0 {
		p.add("reminders.after", "must not be negative")
	}
	if c.EscalateAfter.Duration < 0 {
		p.add("reminders.escalate_after", "must not be negative")
	}
	if c.EscalateAfter.Duration > 0 && c.EscalateAfter.Duration < c.After.Duration {
		p.add("reminders.escalate_after", "%s comes before reminders.after (%s)", c.EscalateAfter, c.After)
	}
	if err := checkSchedule(c.Check); err != nil {
		p.add("reminders.check", "%v", err)
	}
	// The domain's parser decides, so that check and serve agree; each
	// field is parsed on its own to report every problem, not the first.
	for _, in := range [][3]string{
		{c.BusinessHours, "", ""},
		{"", c.Workdays, ""},
		{"", "", c.Timezone},
	} {
		if _, err := triage.ParseBusinessHours(in[0], in[1], in[2]); err != nil {
			var fe *triage.FieldError
			if errors.As(err, &fe) {
				p.add("reminders."+fe.Field, "%s", fe.Problem)
			} else {
				p.add("reminders", "%v", err)
			}
		}
	}
}

func (c DigestConfig) validate(p *problems) {
	p.duration("digest.revisit_after", c.RevisitAfter)
	if err := checkSchedule(c.Schedule); err != nil {
		p.add("digest.schedule", "%v", err)
	}
	if _, err := time.LoadLocation(c.Timezone); err != nil {
		p.add("digest.timezone", "%q is not a time zone (e.g. Europe/Amsterdam; \"\" = UTC)", c.Timezone)
	}
	if c.RevisitAfter.Duration < 0 {
		p.add("digest.revisit_after", "must not be negative")
	}
}

func (c ResearchConfig) validate(p *problems) {
	p.duration("research.timeout", c.Timeout)
	p.duration("research.cache_ttl", c.CacheTTL)
	if c.Timeout.Invalid == "" && (c.Timeout.Duration <= 0 || c.Timeout.Duration > 2*time.Minute) {
		p.add("research.timeout", "%s is not possible (more than 0, at most 2m)", c.Timeout)
	}
	if c.CacheTTL.Duration < 0 {
		p.add("research.cache_ttl", "must not be negative")
	}
	for _, u := range []struct{ key, val string }{
		{"research.rdap_url", c.RDAPURL},
		{"research.crtsh_url", c.CrtshURL},
		{"research.wayback_url", c.WaybackURL},
		{"research.creditsafe_url", c.CreditsafeURL},
	} {
		if u.val != "" && !strings.HasPrefix(u.val, "http://") && !strings.HasPrefix(u.val, "https://") {
			p.add(u.key, "%q is not an http(s) URL", u.val)
		}
	}
	if c.DNSServer != "" && !strings.Contains(c.DNSServer, ":") {
		p.add("research.dns_server", "%q is not host:port", c.DNSServer)
	}
}

func (c AccessConfig) validate(p *problems) {
	p.userIDs("access.users", c.Users)
	for i, g := range c.Usergroups {
		if !groupID.MatchString(g) {
			p.add(fmt.Sprintf("access.usergroups[%d]", i), "%q is not a user group id (S…)", g)
		}
	}
	for i, ch := range c.Channels {
		if !channelID.MatchString(ch) {
			p.add(fmt.Sprintf("access.channels[%d]", i), "%q is not a channel id (C…)", ch)
		}
	}
}

func (c PrivacyConfig) validate(p *problems) {
	p.duration("privacy.retention", c.Retention)
	if c.Retention.Duration < 0 {
		p.add("privacy.retention", "must not be negative")
	}
}

func (c LogConfig) validate(p *problems) {
	switch c.Format {
	case "text", "json":
	default:
		p.add("log.format", "%q is not a format (text or json)", c.Format)
	}
	switch c.Level {
	case "debug", "info", "warn", "error":
	default:
		p.add("log.level", "%q is not a level (debug, info, warn or error)", c.Level)
	}
}

// checkSchedule parses a robfig/cron spec. cron panics on some malformed
// specs (a bare "CRON_TZ=UTC"), so the parse is guarded.
func checkSchedule(spec string) (err error) {
	if strings.TrimSpace(spec) == "" {
		return fmt.Errorf("is required (a cron spec such as \"0 9 * * 1-5\" or \"@every 1m\")")
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%q is not a cron spec", spec)
		}
	}()
	if _, perr := cron.ParseStandard(spec); perr != nil {
		return fmt.Errorf("%q is not a cron spec: %v", spec, perr)
	}
	return nil
}

// Env holds the secrets, read only from the environment.
type Env struct {
	BotToken       string   // SLACK_BOT_TOKEN
	AppToken       string   // SLACK_APP_TOKEN (Socket Mode)
	SigningSecrets []string // SLACK_SIGNING_SECRET, comma-separated during a rotation
	IntakeSecrets  []string // LEADTRIAGE_INTAKE_SECRET, comma-separated during a rotation
	APIToken       string   // LEADTRIAGE_API_TOKEN
	WebhookSecret  string   // LEADTRIAGE_WEBHOOK_SECRET: signs outgoing webhooks (crm.ParseSecrets)

	KvKKey            string // KVK_API_KEY: Dutch Chamber of Commerce API (optional)
	CompaniesHouseKey string // COMPANIES_HOUSE_API_KEY: UK Companies House API (optional)

	CreditsafeUsername string // CREDITSAFE_USERNAME: the credit check (optional, with the password)
	CreditsafePassword string // CREDITSAFE_PASSWORD

	HubSpotToken   string // HUBSPOT_TOKEN: the CRM hand-off (crm.hubspot)
	PipedriveToken string // PIPEDRIVE_API_TOKEN: the CRM hand-off (crm.pipedrive)
}

// LoadEnv reads the secrets with getenv.
func LoadEnv(getenv func(string) string) Env {
	return Env{
		BotToken:       strings.TrimSpace(getenv("SLACK_BOT_TOKEN")),
		AppToken:       strings.TrimSpace(getenv("SLACK_APP_TOKEN")),
		SigningSecrets: splitSecrets(getenv("SLACK_SIGNING_SECRET")),
		IntakeSecrets:  splitSecrets(getenv("LEADTRIAGE_INTAKE_SECRET")),
		APIToken:       strings.TrimSpace(getenv("LEADTRIAGE_API_TOKEN")),
		WebhookSecret:  strings.TrimSpace(getenv("LEADTRIAGE_WEBHOOK_SECRET")),

		KvKKey:            strings.TrimSpace(getenv("KVK_API_KEY")),
		CompaniesHouseKey: strings.TrimSpace(getenv("COMPANIES_HOUSE_API_KEY")),

		CreditsafeUsername: strings.TrimSpace(getenv("CREDITSAFE_USERNAME")),
		CreditsafePassword: getenv("CREDITSAFE_PASSWORD"), // a password may end in a space

		HubSpotToken:   strings.TrimSpace(getenv("HUBSPOT_TOKEN")),
		PipedriveToken: strings.TrimSpace(getenv("PIPEDRIVE_API_TOKEN")),
	}
}

func splitSecrets(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// Problems reports what is missing or malformed for cfg; warnings do not
// stop the bot. Secrets are never printed, only their names.
func (e Env) Problems(cfg Config) (problems, warnings []string) {
	switch {
	case e.BotToken == "":
		problems = append(problems, "SLACK_BOT_TOKEN is not set (the Bot User OAuth Token, xoxb-…, from OAuth & Permissions)")
	case !strings.HasPrefix(e.BotToken, "xoxb-"):
		problems = append(problems, "SLACK_BOT_TOKEN does not start with xoxb-: use the Bot User OAuth Token, not a user or app token")
	}
	switch cfg.Slack.Mode {
	case "socket":
		switch {
		case e.AppToken == "":
			problems = append(problems, "SLACK_APP_TOKEN is not set but slack.mode is \"socket\" (an app-level token with connections:write, xapp-…)")
		case !strings.HasPrefix(e.AppToken, "xapp-"):
			problems = append(problems, "SLACK_APP_TOKEN does not start with xapp-: use an app-level token (Basic Information → App-Level Tokens)")
		}
	case "http":
		if len(e.SigningSecrets) == 0 {
			problems = append(problems, "SLACK_SIGNING_SECRET is not set but slack.mode is \"http\" (Basic Information → Signing Secret)")
		}
	}
	if len(e.IntakeSecrets) == 0 {
		warnings = append(warnings, "LEADTRIAGE_INTAKE_SECRET is not set: POST /leads answers 503 until it is")
	}
	for _, s := range e.IntakeSecrets {
		if len(s) < 16 {
			problems = append(problems, "LEADTRIAGE_INTAKE_SECRET is shorter than 16 characters: use a long random value")
			break
		}
	}
	if e.APIToken != "" && len(e.APIToken) < 16 {
		problems = append(problems, "LEADTRIAGE_API_TOKEN is shorter than 16 characters: use a long random value")
	}
	if e.APIToken != "" && slices.Contains(e.IntakeSecrets, e.APIToken) {
		problems = append(problems, "LEADTRIAGE_API_TOKEN equals LEADTRIAGE_INTAKE_SECRET: use two different values")
	}
	problems = append(problems, e.crmProblems(cfg)...)
	if len(cfg.Webhooks) > 0 {
		if e.WebhookSecret == "" {
			problems = append(problems, "LEADTRIAGE_WEBHOOK_SECRET is not set but [[webhooks]] are configured: set the secret receivers verify signatures with (whsec_<base64>)")
		} else if _, err := crm.ParseSecrets(e.WebhookSecret); err != nil {
			problems = append(problems, "LEADTRIAGE_WEBHOOK_SECRET: "+err.Error())
		}
	}
	if (e.CreditsafeUsername == "") != (e.CreditsafePassword == "") {
		warnings = append(warnings, "only one of CREDITSAFE_USERNAME and CREDITSAFE_PASSWORD is set: the credit check stays off until both are")
	}
	sort.Strings(warnings)
	return problems, warnings
}

// Policy is the domain's view of how the team decides.
func (c Config) Policy() triage.Policy {
	p := triage.Policy{
		Quorum:        c.Voting.Quorum,
		Blind:         c.Voting.Blind,
		Auto:          c.Voting.Decide == "auto",
		TeamLead:      c.Slack.TeamLead,
		Deciders:      c.Voting.Deciders,
		Reasons:       c.Disqualify.Reasons,
		DissentPrompt: c.Voting.DissentPrompt,
	}
	for _, cr := range c.Criteria {
		p.Criteria = append(p.Criteria, triage.Criterion{
			ID: cr.ID, Question: cr.Question, Kind: triage.CriterionKind(cr.Kind),
			Options: cr.Options, Must: cr.Must, Weight: cr.Weight, Help: cr.Help,
		})
	}
	for _, pa := range c.Partners {
		p.Partners = append(p.Partners, triage.Partner{Name: pa.Name, Fits: pa.Fits, Contact: pa.Contact})
	}
	return p
}

// ReactionsEnabled reports whether reactions on the card count as votes:
// reactions.enabled, or when absent, not voting.blind.
func (c Config) ReactionsEnabled() bool {
	if c.Reactions.Enabled != nil {
		return *c.Reactions.Enabled
	}
	return !c.Voting.Blind
}

// Warnings reports settings that work but probably do not do what was meant.
// They do not stop the bot and do not fail `leadtriage check`.
func (c Config) Warnings() []string {
	var w []string
	if c.Voting.Blind && c.ReactionsEnabled() {
		w = append(w, "reactions.enabled and voting.blind are both on: Slack shows everyone who reacted with what, so reaction votes are not blind (set reactions.enabled = false, or voting.blind = false)")
	}
	if c.HTTP.AcceptLegacySignature {
		w = append(w, "http.accept_legacy_signature is on: a captured \"sha256=\" intake request can be replayed; move senders to \"t=…,v1=…\" and turn it off")
	}
	for i, h := range c.Webhooks {
		// The signature proves who sent it, not who read it: a lead's
		// personal data must not cross a network in clear text.
		if u, err := url.Parse(h.URL); err == nil && u.Scheme == "http" && !loopbackHost(u.Hostname()) {
			w = append(w, fmt.Sprintf("webhooks[%d].url %q is plain http: the leads' personal data would travel unencrypted; use https", i, h.URL))
		}
	}
	return w
}

// ReactionChoices maps reaction names (without colons) to votes; empty when
// reactions do not vote (see ReactionsEnabled).
func (c Config) ReactionChoices() map[string]triage.Choice {
	m := map[string]triage.Choice{}
	if !c.ReactionsEnabled() {
		return m
	}
	for name, choice := range map[string]triage.Choice{
		c.Reactions.Qualify:    triage.ChoiceQualify,
		c.Reactions.Disqualify: triage.ChoiceDisqualify,
		c.Reactions.Unsure:     triage.ChoiceUnsure,
	} {
		if n := strings.Trim(name, ":"); n != "" {
			m[n] = choice
		}
	}
	return m
}

// FollowUp is the domain's view of [reminders]: when to remind in the
// thread and when to tell the team lead, counted in business time.
func (c Config) FollowUp() (triage.FollowUp, error) {
	hours, err := triage.ParseBusinessHours(c.Reminders.BusinessHours, c.Reminders.Workdays, c.Reminders.Timezone)
	if err != nil {
		return triage.FollowUp{}, fmt.Errorf("reminders.%w", err)
	}
	return triage.FollowUp{
		After:         c.Reminders.After.Duration,
		EscalateAfter: c.Reminders.EscalateAfter.Duration,
		Hours:         hours,
		Team:          c.Voting.Team,
		TeamLead:      c.Slack.TeamLead,
	}, nil
}

// DigestOptions is the domain's view of [digest]: where and in which zone
// the digest runs, and when a disqualified lead comes back.
func (c Config) DigestOptions() (triage.DigestOptions, error) {
	loc, err := time.LoadLocation(c.Digest.Timezone)
	if err != nil {
		return triage.DigestOptions{}, fmt.Errorf("digest.timezone: %w", err)
	}
	ch := c.Slack.DigestChannel
	if ch == "" {
		ch = c.Slack.Channel
	}
	return triage.DigestOptions{
		Channel:      ch,
		Location:     loc,
		RevisitAfter: c.Digest.RevisitAfter.Duration,
		AskAfter:     c.Outcomes.AskAfter.Duration,
		SkipEmpty:    c.Digest.SkipEmpty,
		MaxPerPart:   triage.DefaultDigestPart,
	}, nil
}

// loopbackHost reports whether host is this machine (localhost or a
// loopback address), where plain http stays on the machine.
func loopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
