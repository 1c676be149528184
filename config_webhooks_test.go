package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestConfig_Webhooks(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "config.toml")
	const toml = `
[slack]
channel = "C0123456789"
team_lead = "U0123456789"

[[webhooks]]
url = "https://hooks.example/all"

[[webhooks]]
url = "http://127.0.0.1:9000/decided"
events = ["lead.decided"]
`
	if err := os.WriteFile(path, []byte(toml), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, problems := LoadConfig(path)
	if len(problems) > 0 {
		t.Fatalf("problems: %q", problems)
	}
	want := []WebhookConfig{{URL: "https://hooks.example/all"}, {URL: "http://127.0.0.1:9000/decided", Events: []string{"lead.decided"}}}
	if diff := cmp.Diff(want, cfg.Webhooks); diff != "" {
		t.Errorf("webhooks (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]bool{"lead.created": true, "lead.decided": true, "lead.reopened": true, "lead.outcome": true}, cfg.WebhookEvents()); diff != "" {
		t.Errorf("events queued (-want +got):\n%s", diff)
	}
	// Plain http on loopback stays on the machine: no warning.
	if w := cfg.Warnings(); len(w) != 0 {
		t.Errorf("warnings = %q, want none for https and loopback http", w)
	}
	cfg.Webhooks = append(cfg.Webhooks, WebhookConfig{URL: "http://hooks.example/plain"})
	if w := strings.Join(cfg.Warnings(), "\n"); !strings.Contains(w, `webhooks[2].url "http://hooks.example/plain" is plain http`) {
		t.Errorf("warnings = %q, want one naming the plain-http receiver", w)
	}
	if got := DefaultConfig().WebhookEvents(); got != nil {
		t.Errorf("with no webhooks the service queues %v, want nothing", got)
	}
}

func TestConfig_Webhooks_Validate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		hooks []WebhookConfig
		want  string
	}{
		{[]WebhookConfig{{URL: "hooks.example/x"}}, `webhooks[0].url: "hooks.example/x" is not an absolute http or https URL`},
		{[]WebhookConfig{{URL: "ftp://hooks.example/x"}}, "webhooks[0].url"},
		{[]WebhookConfig{{URL: "https://a.example"}, {URL: "https://a.example"}}, `webhooks[1].url: "https://a.example" is configured twice`},
		{[]WebhookConfig{{URL: "https://a.example", Events: []string{"lead.won"}}}, `webhooks[0].events: "lead.won" is not an event`},
		{[]WebhookConfig{{URL: "https://a.example", Events: []string{"lead.decided", "lead.decided"}}}, `webhooks[0].events: "lead.decided" is listed twice`},
	} {
		cfg := DefaultConfig()
		cfg.Webhooks = tc.hooks
		if got := strings.Join(cfg.Validate(), "\n"); !strings.Contains(got, tc.want) {
			t.Errorf("%+v: problems %q, want %q", tc.hooks, got, tc.want)
		}
	}
}

func TestEnv_WebhookSecret(t *testing.T) {
	t.Parallel()
	cfg := DefaultConfig()
	cfg.Webhooks = []WebhookConfig{{URL: "https://a.example"}}
	base := Env{BotToken: "xoxb-1", AppToken: "xapp-1"}
	problems, _ := base.Problems(cfg)
	if !strings.Contains(strings.Join(problems, "\n"), "LEADTRIAGE_WEBHOOK_SECRET is not set") {
		t.Errorf("webhooks without a secret: problems %q, want one naming LEADTRIAGE_WEBHOOK_SECRET", problems)
	}
	bad := base
	bad.WebhookSecret = "whsec_***"
	if problems, _ := bad.Problems(cfg); !strings.Contains(strings.Join(problems, "\n"), "LEADTRIAGE_WEBHOOK_SECRET: ") || strings.Contains(strings.Join(problems, "\n"), "***") {
		t.Errorf("a malformed secret: problems %q, want one naming the variable but not the value", problems)
	}
	good := base
	good.WebhookSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	if problems, _ := good.Problems(cfg); strings.Contains(strings.Join(problems, "\n"), "WEBHOOK") {
		t.Errorf("a good secret: problems %q", problems)
	}
	if problems, _ := base.Problems(DefaultConfig()); strings.Contains(strings.Join(problems, "\n"), "WEBHOOK") {
		t.Errorf("no webhooks, no secret: problems %q, want none about it", problems)
	}
	if e := LoadEnv(func(k string) string { return map[string]string{"LEADTRIAGE_WEBHOOK_SECRET": " s3cret "}[k] }); e.WebhookSecret != "s3cret" {
		t.Errorf("LoadEnv read %q", e.WebhookSecret)
	}
}
