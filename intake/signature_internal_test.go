package intake

import (
	"crypto/sha256"
	"strings"
	"testing"
	"time"
)

func FuzzParseSignature(f *testing.F) {
	for _, s := range []string{
		"t=1767225600,v1=972b555dacd02b16f958c10091df26c1e2adcd633b1a12ed1f34c304b134a1ca",
		"t=1767225600,v1=" + strings.Repeat("ab", 32) + ",v1=" + strings.Repeat("cd", 32) + ",v0=x",
		"v1=" + strings.Repeat("ab", 32) + ", t=1",
		"t=,v1=",
		"t=1,t=2,v1=" + strings.Repeat("ab", 32),
		"t=-1,v1=" + strings.Repeat("ab", 32),
		"t=99999999999999999999,v1=" + strings.Repeat("ab", 32),
		"sha256=" + strings.Repeat("ab", 32),
		",,,",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		ts, at, sigs, ok := parseSignature(h)
		if !ok {
			return
		}
		if ts == "" || strings.Trim(ts, "0123456789") != "" || len(ts) > 12 {
			t.Fatalf("accepted the timestamp %q", ts)
		}
		if at.Before(time.Unix(0, 0)) {
			t.Fatalf("timestamp %q parsed as %v", ts, at)
		}
		if len(sigs) == 0 || len(sigs) > maxSignatures {
			t.Fatalf("%d signatures accepted", len(sigs))
		}
		for _, s := range sigs {
			if len(s) != sha256.Size {
				t.Fatalf("a signature of %d bytes accepted", len(s))
			}
		}
	})
}
