package bot_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/leadtriage/leadtriage/slackfake"
	"github.com/slack-go/slack"
)

// verifyOnly is the benchmark's baseline: a bare handler that reads the
// body, checks the signature with slack-go's verifier and answers 200.
func verifyOnly(secrets []string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		if err != nil {
			http.Error(w, "too large", http.StatusRequestEntityTooLarge)
			return
		}
		for _, s := range secrets {
			sv, err := slack.NewSecretsVerifier(r.Header, s)
			if err != nil {
				continue
			}
			_, _ = sv.Write(body)
			if sv.Ensure() == nil {
				w.WriteHeader(http.StatusOK)
				return
			}
		}
		http.Error(w, "unauthorized", http.StatusUnauthorized)
	})
}

// BenchmarkAck compares acknowledging a signed block_actions click through
// the bot's real handler (signature, form, spawning the work) with the bare
// verify-only handler. Only ServeHTTP is timed: the work after the ack is
// drained with the timer stopped, so it neither counts nor competes for the
// CPU with the next ack. The click is on an action id the dispatcher does
// not handle, so the drained work is only the payload decoding; the acked
// path is the same for every click (view_submission aside, which
// BenchmarkViewSubmission measures).
func BenchmarkAck(b *testing.B) {
	body := clickBody("UBENCH", "lead.bench", 1)
	run := func(b *testing.B, h http.Handler, at func() time.Time, after func()) {
		hdr := signedAt("/slack/interactions", secretOld, formType, body, at()).Header
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			req := httptest.NewRequest(http.MethodPost, "http://bot.example/slack/interactions", bytes.NewReader(body))
			req.Header = hdr
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			b.StopTimer()
			if rec.Code != http.StatusOK {
				b.Fatalf("status %d", rec.Code)
			}
			after()
			b.StartTimer()
		}
	}
	b.Run("handler", func(b *testing.B) {
		h := newHarness(b)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		run(b, h.h, func() time.Time { return now }, func() {
			if err := h.bot.Drain(ctx); err != nil {
				b.Fatal(err)
			}
		})
	})
	b.Run("verify-only", func(b *testing.B) {
		run(b, verifyOnly([]string{secretOld, secretNew}), time.Now, func() {})
	})
}

// BenchmarkViewSubmission measures a decide dialog's submission, which is
// answered in the response (decoding, validation, the domain call): it must
// stay far below Slack's 3 s. The submission lacks an outcome, so every
// iteration does the same work and writes nothing.
func BenchmarkViewSubmission(b *testing.B) {
	h := newHarness(b, withDeliberation)
	body := []byte(slackfake.ViewSubmissionForm("ULEAD", "lead.decide", h.lead.ID.String(), nil).Encode())
	hdr := signedAt("/slack/interactions", secretOld, formType, body, now).Header
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "http://bot.example/slack/interactions", bytes.NewReader(body))
		req.Header = hdr
		rec := httptest.NewRecorder()
		h.h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK || !bytes.Contains(rec.Body.Bytes(), []byte(`"errors"`)) {
			b.Fatalf("status %d: %s", rec.Code, rec.Body.String())
		}
	}
}
