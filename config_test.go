package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/leadtriage/leadtriage/triage"
)

// writeConfig writes body to a config file in a temp dir and returns its path.
func writeConfig(tb testing.TB, body string) string {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "config.toml")
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		tb.Fatal(err)
	}
	return path
}

func TestLoadConfig_CommittedFile(t *testing.T) {
	t.Parallel()
	cfg, problems := LoadConfig("config.toml")
	// The committed file is the documented example: everything is valid
	// except the channel, which every team must fill in.
	if len(problems) != 1 || !strings.HasPrefix(problems[0], "slack.channel: is required") {
		t.Fatalf("problems = %q, want only the missing channel", problems)
	}
	want := DefaultConfig()
	want.Criteria, want.Disqualify = cfg.Criteria, cfg.Disqualify
	want.Voting.Deciders, want.Voting.Team = cfg.Voting.Deciders, cfg.Voting.Team
	want.Access = cfg.Access
	if diff := cmp.Diff(want, cfg); diff != "" {
		t.Errorf("config.toml and DefaultConfig disagree (-default +file):\n%s", diff)
	}
	if len(cfg.Criteria) == 0 || len(cfg.Disqualify.Reasons) == 0 {
		t.Errorf("config.toml ships no default criteria or reasons")
	}
}

func TestLoadConfig_Problems(t *testing.T) {
	t.Parallel()
	valid := "[slack]\nchannel = \"C0123456\"\n"
	for _, tc := range []struct {
		name string
		body string
		want []string // each must appear in some problem
	}{
		{"valid", valid, nil},
		{"unknown key", valid + "[voting]\nquorom = 2\n", []string{`unknown key "voting.quorom"`}},
		{"unknown section", valid + "[slak]\nmode = \"http\"\n", []string{`unknown key "slak"`}},
		{"syntax", "[slack\n", []string{"config.toml"}},
		{"mode", "[slack]\nchannel = \"C0123456\"\nmode = \"rtm\"\n", []string{"slack.mode:"}},
		{"channel name", "[slack]\nchannel = \"#leads\"\n", []string{"slack.channel:", "not a channel id"}},
		{"team lead", valid + "team_lead = \"bob\"\n", []string{"slack.team_lead:"}},
		{"api url", valid + "api_url = \"http://127.0.0.1:9/api\"\n", []string{"slack.api_url:"}},
		{"quorum", valid + "[voting]\nquorum = 0\n", []string{"voting.quorum:"}},
		{"decide", valid + "[voting]\ndecide = \"vote\"\n", []string{"voting.decide:"}},
		{"decide lead without lead", valid + "[voting]\ndecide = \"lead\"\n", []string{"voting.decide:", "team_lead"}},
		{"duration", valid + "[reminders]\nafter = \"4 hours\"\n", []string{"reminders.after", "not a duration"}},
		{"escalate before remind", valid + "[reminders]\nafter = \"4h\"\nescalate_after = \"1h\"\n", []string{"reminders.escalate_after:"}},
		{"cron", valid + "[digest]\nschedule = \"every morning\"\n", []string{"digest.schedule:"}},
		{"cron tz only panics in cron", valid + "[digest]\nschedule = \"CRON_TZ=UTC\"\n", []string{"digest.schedule:"}},
		{"timezone", valid + "[digest]\ntimezone = \"Mars/Olympus\"\n", []string{"digest.timezone:"}},
		{"business hours", valid + "[reminders]\nbusiness_hours = \"17:30-09:00\"\n", []string{"reminders.business_hours:"}},
		{"workdays", valid + "[reminders]\nworkdays = \"Mon-Funday\"\n", []string{"reminders.workdays:"}},
		{"reminders timezone", valid + "[reminders]\ntimezone = \"Europe/Atlantis\"\n", []string{"reminders.timezone:"}},
		{"business hours minute", valid + "[reminders]\nbusiness_hours = \"09:00-17:60\"\n", []string{"reminders.business_hours:"}},
		{"every reminders problem", valid + "[reminders]\nbusiness_hours = \"9-5\"\nworkdays = \"Weekdays\"\ntimezone = \"Nowhere\"\n", []string{"reminders.business_hours:", "reminders.workdays:", "reminders.timezone:"}},
		{"skip_empty type", valid + "[digest]\nskip_empty = \"yes\"\n", []string{"config.toml"}},
		{"check cron tz only", valid + "[reminders]\ncheck = \"TZ=\"\n", []string{"reminders.check:"}},
		{"criterion kind", valid + "[[criteria]]\nid = \"budget\"\nquestion = \"Budget?\"\nkind = \"maybe\"\n", []string{"criteria[0].kind:"}},
		{"criterion dup", valid + "[[criteria]]\nid = \"a\"\nquestion = \"A?\"\nkind = \"yesno\"\n[[criteria]]\nid = \"a\"\nquestion = \"B?\"\nkind = \"yesno\"\n", []string{"criteria[1].id:", "twice"}},
		{"choice without options", valid + "[[criteria]]\nid = \"t\"\nquestion = \"When?\"\nkind = \"choice\"\n", []string{"criteria[0].options:"}},
		{"reaction twice", valid + "[reactions]\nqualify = \"+1\"\nunsure = \"+1\"\n", []string{"reactions.unsure:"}},
		{"intake rate zero", valid + "[http]\nintake_rate = 0\n", []string{"http.intake_rate:"}},
		{"intake rate negative", valid + "[http]\nintake_rate = -5\n", []string{"http.intake_rate:"}},
		{"legacy signature type", valid + "[http]\naccept_legacy_signature = \"yes\"\n", []string{"config.toml"}},
		{"reactions enabled type", valid + "[reactions]\nenabled = \"no\"\n", []string{"config.toml"}},
		{"research timeout", valid + "[research]\ntimeout = \"0s\"\n", []string{"research.timeout:"}},
		{"research overrides", valid + "[research]\nweb_history = false\ncrtsh_url = \"http://127.0.0.1:1/\"\nwayback_url = \"https://w.example\"\ncreditsafe_url = \"http://127.0.0.1:2/v1\"\n", nil},
		{"research override not a URL", valid + "[research]\ncrtsh_url = \"crt.sh\"\nwayback_url = \"ftp://x\"\ncreditsafe_url = \"x\"\n",
			[]string{"research.crtsh_url:", "research.wayback_url:", "research.creditsafe_url:"}},
		{"web history type", valid + "[research]\nweb_history = \"yes\"\n", []string{"config.toml"}},
		{"language", valid + "[ui]\nlanguage = \"de\"\n", []string{"ui.language:", "en or nl"}},
		{"language dutch", valid + "[ui]\nlanguage = \"nl\"\n", nil},
		{"log level", valid + "[log]\nlevel = \"loud\"\n", []string{"log.level:"}},
		{"partner twice", valid + "[[partners]]\nname = \"P\"\n[[partners]]\nname = \"p\"\n", []string{"partners[1].name:", "twice"}},
		{"partner without name", valid + "[[partners]]\nfits = \"small shops\"\n", []string{"partners[0].name: is required"}},
		{"every problem at once", "[slack]\nmode = \"x\"\n[voting]\nquorum = -1\n[log]\nformat = \"xml\"\n", []string{"slack.mode:", "slack.channel:", "voting.quorum:", "log.format:"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, problems := LoadConfig(writeConfig(t, tc.body))
			if tc.want == nil && len(problems) > 0 {
				t.Fatalf("unexpected problems: %q", problems)
			}
			all := strings.Join(problems, "\n")
			for _, w := range tc.want {
				if !strings.Contains(all, w) {
					t.Errorf("problems %q do not mention %q", problems, w)
				}
			}
			if tc.want != nil && len(problems) == 0 {
				t.Errorf("no problems reported")
			}
		})
	}
}

func TestConfig_ReactionsEnabled(t *testing.T) {
	t.Parallel()
	valid := "[slack]\nchannel = \"C0123456\"\n"
	for _, tc := range []struct {
		name        string
		body        string
		wantEnabled bool
		wantWarning bool
	}{
		// Slack shows everyone who reacted with what: blind voting turns
		// reaction votes off unless they are asked for.
		{"default: blind, so off", valid, false, false},
		{"not blind: on", valid + "[voting]\nblind = false\n", true, false},
		{"blind but asked for: on, with a warning", valid + "[reactions]\nenabled = true\n", true, true},
		{"not blind, switched off", valid + "[voting]\nblind = false\n[reactions]\nenabled = false\n", false, false},
		{"blind, switched off explicitly", valid + "[voting]\nblind = true\n[reactions]\nenabled = false\n", false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg, problems := LoadConfig(writeConfig(t, tc.body))
			if len(problems) > 0 {
				t.Fatalf("problems: %q", problems)
			}
			if got := cfg.ReactionsEnabled(); got != tc.wantEnabled {
				t.Errorf("ReactionsEnabled() = %v, want %v", got, tc.wantEnabled)
			}
			choices := cfg.ReactionChoices()
			if tc.wantEnabled && len(choices) != 3 || !tc.wantEnabled && len(choices) != 0 {
				t.Errorf("ReactionChoices() = %v with enabled %v", choices, tc.wantEnabled)
			}
			warned := strings.Contains(strings.Join(cfg.Warnings(), "\n"), "reactions.enabled and voting.blind")
			if warned != tc.wantWarning {
				t.Errorf("warnings = %q, want the blind-reactions warning: %v", cfg.Warnings(), tc.wantWarning)
			}
		})
	}
}

func TestEnv_Creditsafe(t *testing.T) {
	t.Parallel()
	e := LoadEnv(func(k string) string {
		return map[string]string{"CREDITSAFE_USERNAME": " sales@example.com ", "CREDITSAFE_PASSWORD": "pa ss "}[k]
	})
	if e.CreditsafeUsername != "sales@example.com" || e.CreditsafePassword != "pa ss " {
		t.Errorf("env = %q / %q", e.CreditsafeUsername, e.CreditsafePassword)
	}
	_, warnings := Env{BotToken: "xoxb-1", AppToken: "xapp-1", CreditsafeUsername: "u"}.Problems(DefaultConfig())
	if !strings.Contains(strings.Join(warnings, "\n"), "only one of CREDITSAFE_USERNAME and CREDITSAFE_PASSWORD is set") {
		t.Errorf("warnings = %q", warnings)
	}
}

func TestEnv_Problems(t *testing.T) {
	t.Parallel()
	socket := DefaultConfig()
	httpCfg := DefaultConfig()
	httpCfg.Slack.Mode = "http"
	good := map[string]string{
		"SLACK_BOT_TOKEN":          "xoxb-1-2-3",
		"SLACK_APP_TOKEN":          "xapp-1-2-3",
		"SLACK_SIGNING_SECRET":     "sign",
		"LEADTRIAGE_INTAKE_SECRET": "0123456789abcdef0123",
	}
	env := func(over map[string]string) Env {
		m := map[string]string{}
		for k, v := range good {
			m[k] = v
		}
		for k, v := range over {
			m[k] = v
		}
		return LoadEnv(func(k string) string { return m[k] })
	}
	for _, tc := range []struct {
		name string
		cfg  Config
		over map[string]string
		want string // "" = no problem
	}{
		{"socket ok", socket, nil, ""},
		{"http ok", httpCfg, map[string]string{"SLACK_APP_TOKEN": ""}, ""},
		{"no bot token", socket, map[string]string{"SLACK_BOT_TOKEN": ""}, "SLACK_BOT_TOKEN is not set"},
		{"user token", socket, map[string]string{"SLACK_BOT_TOKEN": "xoxp-1"}, "does not start with xoxb-"},
		{"socket without app token", socket, map[string]string{"SLACK_APP_TOKEN": ""}, "SLACK_APP_TOKEN is not set"},
		{"app token wrong", socket, map[string]string{"SLACK_APP_TOKEN": "xoxb-2"}, "does not start with xapp-"},
		{"http without signing secret", httpCfg, map[string]string{"SLACK_SIGNING_SECRET": ""}, "SLACK_SIGNING_SECRET is not set"},
		{"short intake secret", socket, map[string]string{"LEADTRIAGE_INTAKE_SECRET": "short"}, "shorter than 16"},
		{"api token equals intake secret", socket, map[string]string{"LEADTRIAGE_API_TOKEN": good["LEADTRIAGE_INTAKE_SECRET"]}, "use two different values"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			problems, _ := env(tc.over).Problems(tc.cfg)
			all := strings.Join(problems, "\n")
			if tc.want == "" && all != "" {
				t.Fatalf("unexpected problems: %s", all)
			}
			if !strings.Contains(all, tc.want) {
				t.Fatalf("problems %q do not mention %q", all, tc.want)
			}
			for _, secret := range []string{"xoxb-1-2-3", "xapp-1-2-3", "0123456789abcdef0123"} {
				if strings.Contains(all, secret) {
					t.Errorf("a problem reveals the secret %q", secret)
				}
			}
		})
	}
	_, warnings := env(map[string]string{"LEADTRIAGE_INTAKE_SECRET": ""}).Problems(socket)
	if len(warnings) != 1 || !strings.Contains(warnings[0], "POST /leads") {
		t.Errorf("missing intake secret: warnings = %q", warnings)
	}
}

func TestRun_Check(t *testing.T) {
	t.Parallel()
	getenv := func(k string) string {
		return map[string]string{"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1"}[k]
	}
	t.Run("ok", func(t *testing.T) {
		t.Parallel()
		var out, errOut bytes.Buffer
		path := writeConfig(t, "[slack]\nchannel = \"C0123456\"\n")
		if code := run(t.Context(), []string{"check", "-offline", "-config", path}, getenv, &out, &errOut); code != 0 {
			t.Fatalf("exit %d, stderr %s", code, errOut.String())
		}
		if !strings.Contains(out.String(), "are fine") {
			t.Errorf("stdout = %q", out.String())
		}
	})
	t.Run("every problem", func(t *testing.T) {
		t.Parallel()
		var out, errOut bytes.Buffer
		path := writeConfig(t, "[slack]\nmode = \"http\"\n[voting]\nquorum = 0\n")
		code := run(t.Context(), []string{"check", "-config", path}, getenv, &out, &errOut)
		if code != 1 {
			t.Fatalf("exit %d, want 1", code)
		}
		for _, want := range []string{"slack.channel", "voting.quorum", "SLACK_SIGNING_SECRET", "3 problem(s)"} {
			if !strings.Contains(errOut.String(), want) {
				t.Errorf("stderr does not mention %q:\n%s", want, errOut.String())
			}
		}
	})
	t.Run("warnings only", func(t *testing.T) {
		t.Parallel()
		// A warning is said, but it is not a problem: the exit status stays 0.
		var out, errOut bytes.Buffer
		path := writeConfig(t, "[slack]\nchannel = \"C0123456\"\n[http]\naccept_legacy_signature = true\n[reactions]\nenabled = true\n")
		if code := run(t.Context(), []string{"check", "-offline", "-config", path}, getenv, &out, &errOut); code != 0 {
			t.Fatalf("exit %d, want 0; stderr %s", code, errOut.String())
		}
		for _, want := range []string{"warning: reactions.enabled and voting.blind are both on", "warning: http.accept_legacy_signature is on", "3 warning(s) above"} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("stdout does not mention %q:\n%s", want, out.String())
			}
		}
		if errOut.Len() != 0 {
			t.Errorf("stderr = %q, want nothing", errOut.String())
		}
	})
	t.Run("warnings and problems", func(t *testing.T) {
		t.Parallel()
		var out, errOut bytes.Buffer
		path := writeConfig(t, "[slack]\nchannel = \"C0123456\"\n[reactions]\nenabled = true\n[http]\nintake_rate = 0\n")
		if code := run(t.Context(), []string{"check", "-config", path}, getenv, &out, &errOut); code != 1 {
			t.Fatalf("exit %d, want 1", code)
		}
		if !strings.Contains(out.String(), "warning: reactions.enabled") || !strings.Contains(errOut.String(), "http.intake_rate") {
			t.Errorf("stdout %q, stderr %q", out.String(), errOut.String())
		}
	})
	t.Run("missing file", func(t *testing.T) {
		t.Parallel()
		var out, errOut bytes.Buffer
		if code := run(t.Context(), []string{"check", "-config", filepath.Join(t.TempDir(), "nope.toml")}, getenv, &out, &errOut); code != 1 {
			t.Fatalf("exit %d, want 1", code)
		}
	})
	t.Run("unknown command", func(t *testing.T) {
		t.Parallel()
		var out, errOut bytes.Buffer
		if code := run(t.Context(), []string{"frobnicate"}, getenv, &out, &errOut); code != 2 {
			t.Fatalf("exit %d, want 2", code)
		}
	})
}

func TestConfig_FollowUpAndDigest(t *testing.T) {
	t.Parallel()
	body := `[slack]
channel = "C0123456"
digest_channel = "C0DIGEST"
team_lead = "ULEAD"
[voting]
team = ["UANNA", "UBEN"]
[reminders]
after = "3h"
escalate_after = "20h"
business_hours = "08:30-17:00"
workdays = "Sun-Thu"
timezone = "Asia/Jerusalem"
[digest]
timezone = "America/New_York"
revisit_after = "720h"
skip_empty = true
`
	cfg, problems := LoadConfig(writeConfig(t, body))
	if len(problems) > 0 {
		t.Fatalf("problems: %q", problems)
	}
	f, err := cfg.FollowUp()
	if err != nil {
		t.Fatal(err)
	}
	if f.After != 3*time.Hour || f.EscalateAfter != 20*time.Hour || f.TeamLead != "ULEAD" || !slices.Equal(f.Team, []string{"UANNA", "UBEN"}) {
		t.Errorf("follow-up = %+v", f)
	}
	h := f.Hours
	wantDays := [7]bool{true, true, true, true, true, false, false}
	if h.Location.String() != "Asia/Jerusalem" || h.Open != 8*time.Hour+30*time.Minute || h.Close != 17*time.Hour || h.Workdays != wantDays {
		t.Errorf("business hours = %v %v-%v %v", h.Location, h.Open, h.Close, h.Workdays)
	}
	d, err := cfg.DigestOptions()
	if err != nil {
		t.Fatal(err)
	}
	if d.Channel != "C0DIGEST" || d.Location.String() != "America/New_York" || d.RevisitAfter != 720*time.Hour || !d.SkipEmpty || d.MaxPerPart != triage.DefaultDigestPart {
		t.Errorf("digest options = %+v", d)
	}

	// Without a digest channel the digest goes to the triage channel; the
	// committed defaults send it, even when it is empty.
	def, _ := LoadConfig(writeConfig(t, "[slack]\nchannel = \"C0123456\"\n"))
	d, err = def.DigestOptions()
	if err != nil {
		t.Fatal(err)
	}
	if d.Channel != "C0123456" || d.SkipEmpty || d.Location.String() != "Europe/Amsterdam" {
		t.Errorf("default digest options = %+v", d)
	}
	f, err = def.FollowUp()
	if err != nil {
		t.Fatal(err)
	}
	if f.Hours.Always() || f.Hours.Location.String() != "Europe/Amsterdam" || f.TeamLead != "" {
		t.Errorf("default follow-up = %+v", f)
	}
	// business_hours = "" counts around the clock.
	always, _ := LoadConfig(writeConfig(t, "[slack]\nchannel = \"C0123456\"\n[reminders]\nbusiness_hours = \"\"\nworkdays = \"\"\n"))
	if f, err := always.FollowUp(); err != nil || !f.Hours.Always() {
		t.Errorf("business_hours = \"\": always = %v, %v", f.Hours.Always(), err)
	}
}
