package main

import (
	"bytes"
	"io"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/leadtriage/leadtriage/intake"
	"github.com/leadtriage/leadtriage/slackfake"
)

// TestEndToEnd_SignedIntake: the real program accepts a signed lead once.
// The captured request, replayed with a fresh Idempotency-Key, is refused,
// also after a restart (the signature is remembered in the database), and
// the legacy body-only signature is refused while accept_legacy_signature is
// off (the default).
func TestEndToEnd_SignedIntake(t *testing.T) {
	t.Parallel()
	fake := slackfake.New(t)
	dbPath := filepath.Join(t.TempDir(), "leadtriage.db")
	app := MustRunMain(t, appOptions{fake: fake, dbPath: dbPath})

	body := []byte(`{"company":"Signed BV","email":"info@signed.example"}`)
	sig := intake.Sign(testIntakeSecret, time.Now(), body)
	post := func(app *testApp, sig, key string) int {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, app.Base+"/leads", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(intake.SignatureHeader, sig)
		if key != "" {
			req.Header.Set("Idempotency-Key", key)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("POST /leads: %v", err)
		}
		defer resp.Body.Close()
		_, _ = io.Copy(io.Discard, resp.Body)
		return resp.StatusCode
	}

	if got := post(app, sig, "first"); got != http.StatusCreated {
		t.Fatalf("signed lead: status %d, want 201", got)
	}
	if got := post(app, sig, "second"); got != http.StatusUnauthorized {
		t.Errorf("replay with a new key: status %d, want 401", got)
	}
	if got := post(app, intake.SignLegacy(testIntakeSecret, body), "third"); got != http.StatusUnauthorized {
		t.Errorf("legacy signature: status %d, want 401", got)
	}
	if err := app.Close(); err != nil {
		t.Fatal(err)
	}

	app2 := MustRunMain(t, appOptions{fake: fake, dbPath: dbPath})
	if got := post(app2, sig, "after-restart"); got != http.StatusUnauthorized {
		t.Errorf("replay after a restart: status %d, want 401", got)
	}
	if leads := app2.apiLeads(t, "all"); len(leads) != 1 {
		t.Errorf("%d leads stored, want 1", len(leads))
	}
}
