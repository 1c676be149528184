package main

import (
	"strings"
	"testing"
)

func TestLoadConfig_CRM(t *testing.T) {
	t.Parallel()
	valid := "[slack]\nchannel = \"C0123456\"\n"
	t.Run("valid", func(t *testing.T) {
		t.Parallel()
		cfg, problems := LoadConfig(writeConfig(t, valid+"[crm]\nhubspot = true\napi_url = \"http://127.0.0.1:9999\"\nowners = { \"U0ANA\" = \"ana@example.com\" }\n"))
		if len(problems) != 0 {
			t.Fatalf("problems = %q", problems)
		}
		if !cfg.CRM.HubSpot || cfg.CRM.OwnerEmail("U0ANA") != "ana@example.com" || cfg.CRM.OwnerEmail("U0BOB") != "" {
			t.Errorf("crm = %+v", cfg.CRM)
		}
	})
	for _, tc := range []struct {
		name, body string
		want       []string
	}{
		{"both", "[crm]\nhubspot = true\npipedrive = true\n", []string{"crm.hubspot: and crm.pipedrive are both on"}},
		{"api url", "[crm]\napi_url = \"127.0.0.1:9\"\n", []string{"crm.api_url:"}},
		{"owner id", "[crm]\nowners = { \"ana\" = \"ana@example.com\" }\n", []string{`crm.owners: "ana" is not a Slack user id`}},
		{"owner e-mail", "[crm]\nowners = { \"U0ANA\" = \"Ana <ana@example.com>\" }\n", []string{"crm.owners: U0ANA:", "not an e-mail address"}},
		{"unknown key", "[crm]\nsalesforce = true\n", []string{`unknown key "crm.salesforce"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, problems := LoadConfig(writeConfig(t, valid+tc.body))
			all := strings.Join(problems, "\n")
			for _, w := range tc.want {
				if !strings.Contains(all, w) {
					t.Errorf("problems %q lack %q", all, w)
				}
			}
		})
	}
}

func TestEnv_Problems_CRMTokens(t *testing.T) {
	t.Parallel()
	base := map[string]string{"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1"}
	env := func(extra map[string]string) Env {
		return LoadEnv(func(k string) string {
			if v, ok := extra[k]; ok {
				return v
			}
			return base[k]
		})
	}
	hubspot, pipedrive := DefaultConfig(), DefaultConfig()
	hubspot.CRM.HubSpot = true
	pipedrive.CRM.Pipedrive = true
	for _, tc := range []struct {
		name  string
		cfg   Config
		extra map[string]string
		want  string
	}{
		{"off needs nothing", DefaultConfig(), nil, ""},
		{"hubspot without token", hubspot, nil, "HUBSPOT_TOKEN is not set but crm.hubspot is on"},
		{"hubspot with token", hubspot, map[string]string{"HUBSPOT_TOKEN": "pat-eu1-secret"}, ""},
		{"pipedrive without token", pipedrive, nil, "PIPEDRIVE_API_TOKEN is not set but crm.pipedrive is on"},
		{"pipedrive with token", pipedrive, map[string]string{"PIPEDRIVE_API_TOKEN": "secret"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			problems, _ := env(tc.extra).Problems(tc.cfg)
			all := strings.Join(problems, "\n")
			if tc.want == "" && all != "" || !strings.Contains(all, tc.want) {
				t.Errorf("problems = %q, want %q", all, tc.want)
			}
		})
	}
	if NewCRM(DefaultConfig().CRM, Env{}, nil) != nil {
		t.Error("NewCRM with the hand-off off: want nil")
	}
	if c := NewCRM(pipedrive.CRM, Env{PipedriveToken: "t"}, nil); c == nil || c.Name() != "pipedrive" {
		t.Errorf("NewCRM(pipedrive) = %v", c)
	}
}
