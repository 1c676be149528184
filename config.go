package main

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
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
	Log        LogConfig         `toml:"log"`
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

// Validate names the key of every impossible [ui] value.
func (u UIConfig) Validate() []string {
	switch u.Language {
	case "en", "nl":
		return nil
	}
	return []string{fmt.Sprintf("ui.language: %q is not a language the bot speaks (en or nl)", u.Language)}
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
			Enabled:  true,
			Timeout:  Duration{Duration: 10 * time.Second},
			CacheTTL: Duration{Duration: 168 * time.Hour},
		},
		Log: LogConfig{Format: "text", Level: "info"},
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

// Validate reports every impossible value, naming its key.
func (c Config) Validate() []string {
	p := c.UI.Validate()
	add := func(key, format string, args ...any) {
		p = append(p, key+": "+fmt.Sprintf(format, args...))
	}

	switch c.Slack.Mode {
	case "socket", "http":
	default:
		add("slack.mode", "%q is not a mode (socket or http)", c.Slack.Mode)
	}
	if c.Slack.Channel == "" {
		add("slack.channel", "is required: the id of the triage channel (C…; in Slack: channel details → bottom of the About tab)")
	} else if !channelID.MatchString(c.Slack.Channel) {
		add("slack.channel", "%q is not a channel id (C…, G…): use the id, not the #name", c.Slack.Channel)
	}
	if c.Slack.DigestChannel != "" && !channelID.MatchString(c.Slack.DigestChannel) {
		add("slack.digest_channel", "%q is not a channel id (C…, G…)", c.Slack.DigestChannel)
	}
	if c.Slack.TeamLead != "" && !userID.MatchString(c.Slack.TeamLead) {
		add("slack.team_lead", "%q is not a user id (U…): in Slack, profile → ⋮ → Copy member ID", c.Slack.TeamLead)
	}
	if c.Slack.APIURL != "" {
		if !strings.HasPrefix(c.Slack.APIURL, "http://") && !strings.HasPrefix(c.Slack.APIURL, "https://") || !strings.HasSuffix(c.Slack.APIURL, "/") {
			add("slack.api_url", "%q must be an http(s) URL ending in /", c.Slack.APIURL)
		}
	}
	if c.HTTP.Listen == "" || !strings.Contains(c.HTTP.Listen, ":") {
		add("http.listen", "%q is not a host:port address", c.HTTP.Listen)
	}
	if !(c.HTTP.IntakeRate > 0 && c.HTTP.IntakeRate <= 100_000) { // also catches NaN
		add("http.intake_rate", "%v is not possible (more than 0, at most 100000 leads per second per client)", c.HTTP.IntakeRate)
	}
	if c.Storage.Path == "" {
		add("storage.path", "is required")
	}

	if c.Voting.Quorum < 1 || c.Voting.Quorum > 100 {
		add("voting.quorum", "%d is not possible (1–100)", c.Voting.Quorum)
	}
	switch c.Voting.Decide {
	case "auto", "lead":
	default:
		add("voting.decide", "%q is not a decision mode (auto or lead)", c.Voting.Decide)
	}
	if c.Voting.Decide == "lead" && c.Slack.TeamLead == "" && len(c.Voting.Deciders) == 0 {
		add("voting.decide", `"lead" needs slack.team_lead or voting.deciders`)
	}
	for i, u := range c.Voting.Deciders {
		if !userID.MatchString(u) {
			add(fmt.Sprintf("voting.deciders[%d]", i), "%q is not a user id (U…)", u)
		}
	}
	for i, u := range c.Voting.Team {
		if !userID.MatchString(u) {
			add(fmt.Sprintf("voting.team[%d]", i), "%q is not a user id (U…)", u)
		}
	}

	seenEmoji := map[string]string{}
	for _, r := range []struct{ key, v string }{
		{"reactions.qualify", c.Reactions.Qualify},
		{"reactions.disqualify", c.Reactions.Disqualify},
		{"reactions.unsure", c.Reactions.Unsure},
	} {
		name := strings.Trim(r.v, ":")
		switch {
		case name == "":
		case !emojiName.MatchString(name):
			add(r.key, "%q is not an emoji name (e.g. +1, thinking_face)", r.v)
		case seenEmoji[name] != "":
			add(r.key, "%q is already used by %s", r.v, seenEmoji[name])
		default:
			seenEmoji[name] = r.key
		}
	}

	seenCrit := map[string]bool{}
	for i, cr := range c.Criteria {
		key := fmt.Sprintf("criteria[%d]", i)
		if !critID.MatchString(cr.ID) {
			add(key+".id", "%q is not an id (lowercase letters, digits and _, starting with a letter, at most 32)", cr.ID)
		} else if seenCrit[cr.ID] {
			add(key+".id", "%q is used twice", cr.ID)
		}
		seenCrit[cr.ID] = true
		if strings.TrimSpace(cr.Question) == "" {
			add(key+".question", "is required")
		} else if len([]rune(cr.Question)) > 150 {
			add(key+".question", "is too long (at most 150 characters)")
		}
		switch cr.Kind {
		case "yesno", "scale", "number", "text":
			if len(cr.Options) > 0 {
				add(key+".options", "only a choice criterion has options")
			}
		case "choice":
			if len(cr.Options) < 2 {
				add(key+".options", "a choice criterion needs at least two options")
			}
			if len(cr.Options) > 25 {
				add(key+".options", "at most 25 options")
			}
		default:
			add(key+".kind", "%q is not a kind (yesno, scale, number, text or choice)", cr.Kind)
		}
		if cr.Weight < 0 || cr.Weight > 100 {
			add(key+".weight", "%d is not possible (0–100)", cr.Weight)
		}
	}
	for i, r := range c.Disqualify.Reasons {
		if strings.TrimSpace(r) == "" || len([]rune(r)) > 75 {
			add(fmt.Sprintf("disqualify.reasons[%d]", i), "must be 1–75 characters")
		}
	}
	if len(c.Disqualify.Reasons) > 100 {
		add("disqualify.reasons", "at most 100 reasons (the decide dialog's menu holds 100)")
	}
	if len(c.Partners) > 100 {
		add("partners", "at most 100 partners (the decide dialog's menu holds 100)")
	}
	seenPartner := map[string]bool{}
	for i, pa := range c.Partners {
		name := strings.TrimSpace(pa.Name)
		switch {
		case name == "":
			add(fmt.Sprintf("partners[%d].name", i), "is required")
		case len([]rune(name)) > 75:
			add(fmt.Sprintf("partners[%d].name", i), "must be at most 75 characters")
		case seenPartner[strings.ToLower(name)]:
			add(fmt.Sprintf("partners[%d].name", i), "%q is used twice", name)
		}
		seenPartner[strings.ToLower(name)] = true
		if len([]rune(pa.Fits)) > 150 {
			add(fmt.Sprintf("partners[%d].fits", i), "must be at most 150 characters")
		}
	}

	for _, d := range []struct {
		key string
		d   Duration
	}{
		{"reminders.after", c.Reminders.After},
		{"reminders.escalate_after", c.Reminders.EscalateAfter},
		{"digest.revisit_after", c.Digest.RevisitAfter},
		{"research.timeout", c.Research.Timeout},
		{"research.cache_ttl", c.Research.CacheTTL},
		{"privacy.retention", c.Privacy.Retention},
	} {
		if d.d.Invalid != "" {
			add(d.key, "%q is not a duration (examples: 90m, 4h, 2160h)", d.d.Invalid)
		}
	}
	if c.Reminders.After.Duration < 0 {
		add("reminders.after", "must not be negative")
	}
	if c.Reminders.EscalateAfter.Duration < 0 {
		add("reminders.escalate_after", "must not be negative")
	}
	if c.Reminders.EscalateAfter.Duration > 0 && c.Reminders.EscalateAfter.Duration < c.Reminders.After.Duration {
		add("reminders.escalate_after", "%s comes before reminders.after (%s)", c.Reminders.EscalateAfter, c.Reminders.After)
	}
	if err := checkSchedule(c.Reminders.Check); err != nil {
		add("reminders.check", "%v", err)
	}
	// The domain's parser decides, so that check and serve agree; each
	// field is parsed on its own to report every problem, not the first.
	for _, in := range [][3]string{
		{c.Reminders.BusinessHours, "", ""},
		{"", c.Reminders.Workdays, ""},
		{"", "", c.Reminders.Timezone},
	} {
		if _, err := triage.ParseBusinessHours(in[0], in[1], in[2]); err != nil {
			var fe *triage.FieldError
			if errors.As(err, &fe) {
				add("reminders."+fe.Field, "%s", fe.Problem)
			} else {
				add("reminders", "%v", err)
			}
		}
	}
	if err := checkSchedule(c.Digest.Schedule); err != nil {
		add("digest.schedule", "%v", err)
	}
	if _, err := time.LoadLocation(c.Digest.Timezone); err != nil {
		add("digest.timezone", "%q is not a time zone (e.g. Europe/Amsterdam; \"\" = UTC)", c.Digest.Timezone)
	}
	if c.Digest.RevisitAfter.Duration < 0 {
		add("digest.revisit_after", "must not be negative")
	}

	if c.Research.Timeout.Invalid == "" && (c.Research.Timeout.Duration <= 0 || c.Research.Timeout.Duration > 2*time.Minute) {
		add("research.timeout", "%s is not possible (more than 0, at most 2m)", c.Research.Timeout)
	}
	if c.Research.CacheTTL.Duration < 0 {
		add("research.cache_ttl", "must not be negative")
	}
	if c.Research.RDAPURL != "" && !strings.HasPrefix(c.Research.RDAPURL, "http://") && !strings.HasPrefix(c.Research.RDAPURL, "https://") {
		add("research.rdap_url", "%q is not an http(s) URL", c.Research.RDAPURL)
	}
	if c.Research.DNSServer != "" && !strings.Contains(c.Research.DNSServer, ":") {
		add("research.dns_server", "%q is not host:port", c.Research.DNSServer)
	}

	for i, u := range c.Access.Users {
		if !userID.MatchString(u) {
			add(fmt.Sprintf("access.users[%d]", i), "%q is not a user id (U…)", u)
		}
	}
	for i, g := range c.Access.Usergroups {
		if !groupID.MatchString(g) {
			add(fmt.Sprintf("access.usergroups[%d]", i), "%q is not a user group id (S…)", g)
		}
	}
	for i, ch := range c.Access.Channels {
		if !channelID.MatchString(ch) {
			add(fmt.Sprintf("access.channels[%d]", i), "%q is not a channel id (C…)", ch)
		}
	}
	if c.Privacy.Retention.Duration < 0 {
		add("privacy.retention", "must not be negative")
	}
	switch c.Log.Format {
	case "text", "json":
	default:
		add("log.format", "%q is not a format (text or json)", c.Log.Format)
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		add("log.level", "%q is not a level (debug, info, warn or error)", c.Log.Level)
	}
	return p
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

	KvKKey            string // KVK_API_KEY: Dutch Chamber of Commerce API (optional)
	CompaniesHouseKey string // COMPANIES_HOUSE_API_KEY: UK Companies House API (optional)
}

// LoadEnv reads the secrets with getenv.
func LoadEnv(getenv func(string) string) Env {
	return Env{
		BotToken:       strings.TrimSpace(getenv("SLACK_BOT_TOKEN")),
		AppToken:       strings.TrimSpace(getenv("SLACK_APP_TOKEN")),
		SigningSecrets: splitSecrets(getenv("SLACK_SIGNING_SECRET")),
		IntakeSecrets:  splitSecrets(getenv("LEADTRIAGE_INTAKE_SECRET")),
		APIToken:       strings.TrimSpace(getenv("LEADTRIAGE_API_TOKEN")),

		KvKKey:            strings.TrimSpace(getenv("KVK_API_KEY")),
		CompaniesHouseKey: strings.TrimSpace(getenv("COMPANIES_HOUSE_API_KEY")),
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
	if e.APIToken != "" && contains(e.IntakeSecrets, e.APIToken) {
		problems = append(problems, "LEADTRIAGE_API_TOKEN equals LEADTRIAGE_INTAKE_SECRET: use two different values")
	}
	sort.Strings(warnings)
	return problems, warnings
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
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
		SkipEmpty:    c.Digest.SkipEmpty,
		MaxPerPart:   triage.DefaultDigestPart,
	}, nil
}
