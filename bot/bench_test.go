package bot_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/leadtriage/leadtriage/slackfake"
	"github.com/leadtriage/leadtriage/storage/storagetest"
	"github.com/slack-go/slack"
	bolt "go.etcd.io/bbolt"
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
// the bot's real handler (signature, form, the inbox write with its fsync,
// spawning the work) with the bare verify-only handler. Only ServeHTTP is
// timed: the work after the ack is drained with the timer stopped, so it
// neither counts nor competes for the CPU with the next ack. The click is on
// an action id the dispatcher does not handle, so the drained work is the
// payload decoding and removing the inbox entry. Every click is another
// user's: the inbox would take a repeated body for a replay and skip it.
//
// bbolt-commit is the fsync the inbox adds: one small Put committed in a
// database in the same directory, the cost the target allows on top of 1.5
// times verify-only.
func BenchmarkAck(b *testing.B) {
	run := func(b *testing.B, h http.Handler, at func() time.Time, after func()) {
		bodies := make([][]byte, b.N)
		hdrs := make([]http.Header, b.N)
		for i := range b.N {
			bodies[i] = clickBody(fmt.Sprintf("UBENCH%d", i), "lead.bench", 1)
			hdrs[i] = signedAt("/slack/interactions", secretOld, formType, bodies[i], at()).Header
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			req := httptest.NewRequest(http.MethodPost, "http://bot.example/slack/interactions", bytes.NewReader(bodies[i]))
			req.Header = hdrs[i]
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
	b.Run("bbolt-commit", func(b *testing.B) {
		commit := newCommitter(b)
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			commit(i)
		}
	})
	// parallel acknowledges clicks from 32 concurrent senders: the inbox
	// writes of clicks that arrive while a commit is in flight share the
	// next one (group commit), so an ack costs far less than a commit of
	// its own. The work after the acks runs meanwhile, as in production.
	b.Run("parallel", func(b *testing.B) {
		h := newHarness(b)
		var seq atomic.Int64
		b.SetParallelism(16)
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				body := clickBody(fmt.Sprintf("UPAR%d", seq.Add(1)), "lead.bench", 1)
				req := httptest.NewRequest(http.MethodPost, "http://bot.example/slack/interactions", bytes.NewReader(body))
				req.Header = signedAt("/slack/interactions", secretOld, formType, body, now).Header
				rec := httptest.NewRecorder()
				h.h.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Errorf("status %d", rec.Code)
					return
				}
			}
		})
		b.StopTimer()
		h.drain(b)
	})
	// interleaved runs the three side by side, one of each per iteration,
	// so that the load of a shared machine weighs on all three alike, and
	// reports their medians and the target's figure, the handler's median
	// over 1.5 times verify-only's plus the commit's (≤ 1 meets it).
	b.Run("interleaved", func(b *testing.B) {
		h := newHarness(b)
		verify := verifyOnly([]string{secretOld, secretNew})
		commit := newCommitter(b)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		var tHandler, tVerify, tCommit []time.Duration
		serve := func(hh http.Handler, body []byte, hdr http.Header) time.Duration {
			req := httptest.NewRequest(http.MethodPost, "http://bot.example/slack/interactions", bytes.NewReader(body))
			req.Header = hdr
			rec := httptest.NewRecorder()
			start := time.Now()
			hh.ServeHTTP(rec, req)
			d := time.Since(start)
			if rec.Code != http.StatusOK {
				b.Fatalf("status %d", rec.Code)
			}
			return d
		}
		for i := 0; b.Loop(); i++ {
			body := clickBody(fmt.Sprintf("UBENCH%d", i), "lead.bench", 1)
			tVerify = append(tVerify, serve(verify, body, signedAt("/slack/interactions", secretOld, formType, body, time.Now()).Header))
			start := time.Now()
			commit(i)
			tCommit = append(tCommit, time.Since(start))
			tHandler = append(tHandler, serve(h.h, body, signedAt("/slack/interactions", secretOld, formType, body, now).Header))
			if err := h.bot.Drain(ctx); err != nil {
				b.Fatal(err)
			}
		}
		mh, mv, mc := median(tHandler), median(tVerify), median(tCommit)
		b.ReportMetric(float64(mh.Nanoseconds()), "handler-ns")
		b.ReportMetric(float64(mv.Nanoseconds()), "verify-ns")
		b.ReportMetric(float64(mc.Nanoseconds()), "commit-ns")
		b.ReportMetric(float64(mh)/(1.5*float64(mv)+float64(mc)), "of-target")
	})
}

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// newCommitter returns a function that commits one small Put in a fresh
// database of its own, with the store's options: one bbolt commit, fsync
// included.
func newCommitter(b *testing.B) func(i int) {
	db := storagetest.MustOpen(b)
	bucket := []byte("bench")
	if err := db.Bolt().Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucket(bucket); return err }); err != nil {
		b.Fatal(err)
	}
	val := make([]byte, 512)
	return func(i int) {
		if err := db.Bolt().Update(func(tx *bolt.Tx) error {
			return tx.Bucket(bucket).Put(binary.BigEndian.AppendUint64(nil, uint64(i)), val)
		}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkViewSubmission measures a decide dialog's submission, which is
// answered in the response (the inbox write, decoding, validation, the
// domain call, removing the inbox entry): it must stay far below Slack's
// 3 s. The submission lacks an outcome, so every iteration does the same
// work and changes no lead.
func BenchmarkViewSubmission(b *testing.B) {
	h := newHarness(b, withDeliberation)
	// Every submission is another user's: the inbox would skip a repeat.
	bodies := make([][]byte, b.N)
	hdrs := make([]http.Header, b.N)
	for i := range b.N {
		bodies[i] = []byte(slackfake.ViewSubmissionForm(fmt.Sprintf("ULEAD%d", i), "lead.decide", h.lead.ID.String(), nil).Encode())
		hdrs[i] = signedAt("/slack/interactions", secretOld, formType, bodies[i], now).Header
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		req := httptest.NewRequest(http.MethodPost, "http://bot.example/slack/interactions", bytes.NewReader(bodies[i]))
		req.Header = hdrs[i]
		rec := httptest.NewRecorder()
		h.h.ServeHTTP(rec, req)
		b.StopTimer()
		if rec.Code != http.StatusOK || !bytes.Contains(rec.Body.Bytes(), []byte(`"errors"`)) {
			b.Fatalf("status %d: %s", rec.Code, rec.Body.String())
		}
		h.drain(b) // the entry's removal, after the answer
		b.StartTimer()
	}
}
