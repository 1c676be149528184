package bot_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

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
// CPU with the next ack. The click is on lead.decide, which the dispatcher
// does not handle yet, so the drained work is only the payload decoding.
func BenchmarkAck(b *testing.B) {
	body := clickBody("UBENCH", "lead.decide", 1)
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
