package intake_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/leadtriage/leadtriage/intake"
	"github.com/leadtriage/leadtriage/storage/storagetest"
	"github.com/leadtriage/leadtriage/triage"
)

// TestSign_KnownAnswers pins both signature forms to values computed outside
// Go, so that a sender following the README gets the same bytes.
func TestSign_KnownAnswers(t *testing.T) {
	t.Parallel()
	// Computed with OpenSSL, as the README shows a sender doing it:
	//   printf '%s.%s' 1767225600 '{"company":"Acme BV","email":"info@acme.example"}' |
	//     openssl dgst -sha256 -hmac whsec-leadtriage-example-0123456789
	got := intake.Sign("whsec-leadtriage-example-0123456789", time.Unix(1767225600, 0),
		[]byte(`{"company":"Acme BV","email":"info@acme.example"}`))
	want := "t=1767225600,v1=972b555dacd02b16f958c10091df26c1e2adcd633b1a12ed1f34c304b134a1ca"
	if got != want {
		t.Errorf("Sign = %s\nwant   %s", got, want)
	}
	// The legacy form is GitHub's X-Hub-Signature-256; this is the test
	// vector of GitHub's "Validating webhook deliveries" documentation.
	got = intake.SignLegacy("It's a Secret to Everybody", []byte("Hello, World!"))
	want = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
	if got != want {
		t.Errorf("SignLegacy = %s\nwant         %s", got, want)
	}
}

func TestServer_PostLeads_Signature(t *testing.T) {
	t.Parallel()
	body := `{"company":"Acme BV","email":"info@acme.example"}`
	post := func(e *env, body, sig string, header map[string]string) int {
		t.Helper()
		h := map[string]string{intake.SignatureHeader: sig}
		for k, v := range header {
			h[k] = v
		}
		return e.do(t, request{body: body, contentType: "application/json", header: h}).Code
	}

	t.Run("KnownAnswerAccepted", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, func(c *intake.Config) { c.IntakeSecrets = []string{"whsec-leadtriage-example-0123456789"} })
		e.clock.Set(time.Unix(1767225600, 0).Add(2 * time.Minute))
		sig := "t=1767225600,v1=972b555dacd02b16f958c10091df26c1e2adcd633b1a12ed1f34c304b134a1ca"
		if got := post(e, body, sig, nil); got != http.StatusCreated {
			t.Fatalf("status %d, want 201", got)
		}
	})

	t.Run("InsideTheToleranceBothWays", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		for i, at := range []time.Time{epoch.Add(-299 * time.Second), epoch.Add(299 * time.Second)} {
			b := fmt.Sprintf(`{"company":"Acme %d"}`, i)
			if got := post(e, b, intake.Sign(secret, at, []byte(b)), nil); got != http.StatusCreated {
				t.Errorf("signed at now%+v: status %d, want 201", at.Sub(epoch), got)
			}
		}
	})

	t.Run("ReplayWithNewIdempotencyKey", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		sig := validSig(body)
		if got := post(e, body, sig, map[string]string{"Idempotency-Key": "first"}); got != http.StatusCreated {
			t.Fatalf("first: status %d, want 201", got)
		}
		// The captured request, sent again a minute later with a fresh key,
		// or with the same key, or with other v1 values around the valid one.
		e.clock.Advance(time.Minute)
		for name, replay := range map[string]struct {
			sig string
			key string
		}{
			"new key":     {sig, "second"},
			"same key":    {sig, "first"},
			"no key":      {sig, ""},
			"extra v1":    {sig + ",v1=" + strings.Repeat("ab", 32), "third"},
			"v1 reversed": {"v1=" + strings.Repeat("cd", 32) + "," + sig, "fourth"},
		} {
			if got := post(e, body, replay.sig, map[string]string{"Idempotency-Key": replay.key}); got != http.StatusUnauthorized {
				t.Errorf("replay (%s): status %d, want 401", name, got)
			}
		}
		if n := len(e.leads(t)); n != 1 {
			t.Errorf("stored %d leads, want 1", n)
		}
		if got := counter(t, e, "replayed"); got != 5 {
			t.Errorf("replayed count = %v, want 5", got)
		}
		// After the tolerance the timestamp alone refuses it.
		e.clock.Advance(intake.SignatureTolerance)
		if got := post(e, body, sig, map[string]string{"Idempotency-Key": "late"}); got != http.StatusUnauthorized {
			t.Errorf("replay after the tolerance: status %d, want 401", got)
		}
		if n := len(e.leads(t)); n != 1 {
			t.Errorf("stored %d leads, want 1", n)
		}
	})

	t.Run("ReplayAfterRestart", func(t *testing.T) {
		t.Parallel()
		db := storagetest.MustOpen(t)
		e := start(t, &env{store: db})
		sig := validSig(body)
		if got := post(e, body, sig, nil); got != http.StatusCreated {
			t.Fatalf("first: status %d, want 201", got)
		}
		db = storagetest.MustReopen(t, db)
		e = start(t, &env{store: db})
		if got := post(e, body, sig, map[string]string{"Idempotency-Key": "after-restart"}); got != http.StatusUnauthorized {
			t.Errorf("replay after a restart: status %d, want 401", got)
		}
	})

	t.Run("RotationSeveralV1", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, func(c *intake.Config) { c.IntakeSecrets = []string{secret2} })
		// Signed with the old and the new secret, Stripe-style, plus a
		// scheme this server does not know: the new secret's v1 matches.
		old, cur := intake.Sign(secret, epoch, []byte(body)), intake.Sign(secret2, epoch, []byte(body))
		sig := old + ",v0=deadbeef," + strings.TrimPrefix(cur, "t="+epochUnix+",")
		if got := post(e, body, sig, nil); got != http.StatusCreated {
			t.Fatalf("status %d, want 201", got)
		}
		// The same request with only the other v1 is the same request.
		if got := post(e, body, cur, nil); got != http.StatusUnauthorized {
			t.Errorf("replay with one v1 dropped: status %d, want 401", got)
		}
	})

	t.Run("RefusedRequestCanBeRetried", func(t *testing.T) {
		t.Parallel()
		// A store failure changed nothing: the sender's retry of the very
		// same signed request is not a replay.
		e := newFakeEnv(t)
		var calls atomic.Int32
		e.fake.CreateLeadFn = func(context.Context, triage.Lead, triage.Idempotency, []triage.OutboxItem) error {
			if calls.Add(1) == 1 {
				return errors.New("write /data/leadtriage.db: no space left on device")
			}
			return nil
		}
		sig := validSig(body)
		if got := post(e, body, sig, nil); got != http.StatusServiceUnavailable {
			t.Fatalf("first: status %d, want 503", got)
		}
		if got := post(e, body, sig, nil); got != http.StatusCreated {
			t.Errorf("retry after the store failed: status %d, want 201", got)
		}
		// A request refused for its content may be fixed and re-signed, or
		// sent again unchanged and refused for the same reason, not as a replay.
		bad := `{"name":"Jan"}`
		badSig := validSig(bad)
		for i := range 2 {
			if got := post(e, bad, badSig, nil); got != http.StatusBadRequest {
				t.Errorf("invalid lead, attempt %d: status %d, want 400", i, got)
			}
		}
	})

	t.Run("Legacy", func(t *testing.T) {
		t.Parallel()
		off := newEnv(t)
		if got := post(off, body, intake.SignLegacy(secret, []byte(body)), nil); got != http.StatusUnauthorized {
			t.Errorf("legacy signature by default: status %d, want 401", got)
		}
		on := newEnv(t, func(c *intake.Config) { c.AcceptLegacySignature = true })
		if got := post(on, body, intake.SignLegacy(secret, []byte(body)), nil); got != http.StatusCreated {
			t.Errorf("legacy signature when accepted: status %d, want 201", got)
		}
		if got := post(on, body, intake.SignLegacy("not-the-secret", []byte(body)), nil); got != http.StatusUnauthorized {
			t.Errorf("wrong legacy signature when accepted: status %d, want 401", got)
		}
		// Accepting the legacy form does not weaken the new one.
		b := `{"company":"Other"}`
		if got := post(on, b, intake.Sign(secret, epoch.Add(-time.Hour), []byte(b)), nil); got != http.StatusUnauthorized {
			t.Errorf("stale t=,v1= signature with legacy on: status %d, want 401", got)
		}
	})
}
