package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestNewLogger_PII(t *testing.T) {
	t.Parallel()
	log := func(pii bool) string {
		var buf bytes.Buffer
		l := newLogger(&buf, LogConfig{Format: "json", Level: "info", PII: pii})
		l.Info("lead arrived", "lead_id", "L-7", "email", "jan@voorbeeld.nl", "name", "Jan Jansen",
			"detail", "call +31 6 1234 5678 or 020-1234567, mail jan.jansen+x@voorbeeld.nl",
			"err", errors.New(`"jan@@voorbeeld.nl" is not an e-mail address near piet@example.com`),
			"ts", "1700000000.000004", "at_unix", "1764892800")
		return buf.String()
	}
	got := log(false)
	for _, pii := range []string{"voorbeeld.nl", "Jan Jansen", "1234 5678", "1234567", "piet@example.com"} {
		if strings.Contains(got, pii) {
			t.Errorf("log.pii = false logged %q:\n%s", pii, got)
		}
	}
	for _, keep := range []string{"L-7", "1700000000.000004", "1764892800", "lead arrived", "is not an e-mail address"} {
		if !strings.Contains(got, keep) {
			t.Errorf("log.pii = false lost %q:\n%s", keep, got)
		}
	}
	if got := log(true); !strings.Contains(got, "jan@voorbeeld.nl") || !strings.Contains(got, "Jan Jansen") {
		t.Errorf("log.pii = true redacted:\n%s", got)
	}
}
