package main

import (
	"log/slog"
	"regexp"
	"strings"
)

// Personal data in the logs (log.pii = false, the default): attributes
// named after a person's details are replaced whole, and e-mail addresses
// and phone numbers are masked wherever they appear in a logged string or
// error (an error may quote a lead's input). Logs are kept longer and
// shared wider than the database, and an erasure cannot reach them.
var (
	piiKeys = map[string]bool{
		"email": true, "e-mail": true, "name": true, "phone": true, "company": true,
		"address": true, "contact": true, "real_name": true, "user_email": true,
	}
	// Anything around an @, so that a malformed address quoted by an error
	// is masked too.
	emailPattern = regexp.MustCompile(`[^\s"'<>,;()\[\]]*@[^\s"'<>,;()\[\]]+`)
	// International (+31 6 1234 5678, 0031…) or Dutch national (020-1234567,
	// 0612345678) numbers; not Slack timestamps or unix times, which never
	// start with + or 0.
	phonePattern = regexp.MustCompile(`(?:\+|\b00)\d[\d ()\-]{6,}\d|\b0\d{1,3}[ \-]?\d{6,8}\b`)
)

const redacted = "[redacted]"

// redactPII is a slog ReplaceAttr that removes personal data.
func redactPII(_ []string, a slog.Attr) slog.Attr {
	if piiKeys[strings.ToLower(a.Key)] {
		return slog.String(a.Key, redacted)
	}
	var s string
	switch v := a.Value.Resolve(); v.Kind() {
	case slog.KindString:
		s = v.String()
	case slog.KindAny:
		err, ok := v.Any().(error)
		if !ok {
			return a
		}
		s = err.Error()
	default:
		return a
	}
	// Each pattern runs once per attribute: this is on every log line.
	if m := maskPII(s); m != s {
		return slog.String(a.Key, m)
	}
	return a
}

func maskPII(s string) string {
	s = emailPattern.ReplaceAllString(s, redacted)
	return phonePattern.ReplaceAllString(s, redacted)
}
