package main

import (
	"strings"
	"testing"
	"time"
)

func TestConfig_Outcomes(t *testing.T) {
	t.Parallel()
	if got := DefaultConfig().Outcomes.AskAfter.Duration; got != 720*time.Hour {
		t.Errorf("default ask_after = %v, want 720h", got)
	}
	for _, tc := range []struct {
		body, problem string
		want          time.Duration
	}{
		{"[outcomes]\nask_after = \"0s\"\n", "", 0},
		{"[outcomes]\nask_after = \"240h\"\n", "", 240 * time.Hour},
		{"[outcomes]\nask_after = \"-1h\"\n", "outcomes.ask_after: must not be negative", 0},
		{"[outcomes]\nask_after = \"a month\"\n", "outcomes.ask_after: \"a month\" is not a duration", 0},
		{"[outcomes]\nask_afterr = \"1h\"\n", "unknown key \"outcomes.ask_afterr\"", 0},
	} {
		cfg, problems := LoadConfig(writeConfig(t, "[slack]\nchannel = \"C0123\"\n"+tc.body))
		var own []string
		for _, p := range problems {
			if strings.Contains(p, "outcomes") {
				own = append(own, p)
			}
		}
		switch {
		case tc.problem == "" && len(own) > 0:
			t.Errorf("%q: problems %q", tc.body, own)
		case tc.problem == "" && cfg.Outcomes.AskAfter.Duration != tc.want:
			t.Errorf("%q: ask_after = %v, want %v", tc.body, cfg.Outcomes.AskAfter.Duration, tc.want)
		case tc.problem != "" && (len(own) != 1 || !strings.Contains(own[0], tc.problem)):
			t.Errorf("%q: problems %q, want one with %q", tc.body, own, tc.problem)
		}
	}
	// The digest hears of it.
	cfg := DefaultConfig()
	cfg.Slack.Channel = "C0123"
	if o, err := cfg.DigestOptions(); err != nil || o.AskAfter != 720*time.Hour {
		t.Errorf("DigestOptions().AskAfter = %v, %v", o.AskAfter, err)
	}
}
