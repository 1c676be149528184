package bot

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/leadtriage/leadtriage/slackfake"
	"github.com/leadtriage/leadtriage/storage/storagetest"
	"github.com/leadtriage/leadtriage/triage"
	"github.com/slack-go/slack"
	"go.uber.org/goleak"
)

func TestBackoff(t *testing.T) {
	t.Parallel()
	var got []time.Duration
	for a := range 12 {
		got = append(got, backoff(a))
	}
	s := time.Second
	want := []time.Duration{s, 2 * s, 4 * s, 8 * s, 16 * s, 32 * s, 64 * s, 128 * s, 256 * s, 5 * time.Minute, 5 * time.Minute, 5 * time.Minute}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("backoff (-want +got):\n%s", diff)
	}
	if backoff(-1) != s || backoff(1000) != 5*time.Minute {
		t.Errorf("backoff out of range: %v, %v", backoff(-1), backoff(1000))
	}
}

func TestClassify(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	transport := &url.Error{Op: "Post", URL: "http://127.0.0.1/api/chat.postMessage", Err: io.EOF}
	cases := []struct {
		name     string
		err      error
		attempts int
		want     verdict
	}{
		{"RetryAfter", &slack.RateLimitedError{RetryAfter: 3 * time.Second}, 4, verdict{at: now.Add(3 * time.Second), pause: true, code: "ratelimited"}},
		{"RetryAfterZero", &slack.RateLimitedError{}, 0, verdict{at: now.Add(time.Second), pause: true, code: "ratelimited"}},
		{"Wrapped429", fmt.Errorf("posting: %w", &slack.RateLimitedError{RetryAfter: 2 * time.Second}), 0, verdict{at: now.Add(2 * time.Second), pause: true, code: "ratelimited"}},
		{"429NoHeader", slack.StatusCodeError{Code: 429, Status: "429 Too Many Requests"}, 0, verdict{at: now.Add(time.Minute), pause: true, code: "http_429"}},
		{"503", slack.StatusCodeError{Code: 503}, 3, verdict{at: now.Add(8 * time.Second), code: "http_503"}},
		{"Permanent", slack.SlackErrorResponse{Err: "msg_too_long"}, 0, verdict{dead: true, code: "msg_too_long"}},
		{"Fixable", slack.SlackErrorResponse{Err: "token_revoked"}, 0, verdict{blocked: "token_revoked", code: "token_revoked"}},
		{"FixableChannel", slack.SlackErrorResponse{Err: "not_in_channel"}, 0, verdict{blocked: "not_in_channel", code: "not_in_channel"}},
		{"RatelimitedCode", slack.SlackErrorResponse{Err: "ratelimited"}, 0, verdict{at: now.Add(time.Minute), pause: true, code: "ratelimited"}},
		{"OtherCode", slack.SlackErrorResponse{Err: "internal_error"}, 1, verdict{at: now.Add(2 * time.Second), code: "internal_error"}},
		{"OddCode", slack.SlackErrorResponse{Err: "x <!channel>"}, 0, verdict{at: now.Add(time.Second), code: "x___channel_"}},
		{"Transport", transport, 0, verdict{at: now.Add(time.Second), ambiguous: true, code: "transport_error"}},
		{"Timeout", fmt.Errorf("posting: %w", context.DeadlineExceeded), 20, verdict{at: now.Add(5 * time.Minute), ambiguous: true, code: "timeout"}},
		{"Unknown", errors.New("boom"), 2, verdict{at: now.Add(4 * time.Second), ambiguous: true, code: "transport_error"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := classify(tc.err, tc.attempts, now)
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(verdict{})); diff != "" {
				t.Errorf("classify (-want +got):\n%s", diff)
			}
		})
	}
}

func TestOutboxState_Take(t *testing.T) {
	t.Parallel()
	var s outboxState
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	for i := range paceBurst {
		if ok, _ := s.take(methodPost, "C1", now); !ok {
			t.Fatalf("message %d of the burst refused", i+1)
		}
	}
	ok, at := s.take(methodPost, "C1", now)
	if ok || !at.Equal(now.Add(time.Second)) {
		t.Errorf("over the burst: ok=%v at=%v, want refused until %v", ok, at, now.Add(time.Second))
	}
	if ok, _ := s.take(methodPost, "C2", now); !ok {
		t.Error("another channel is paced by C1's budget")
	}
	if ok, _ := s.take(methodPost, "C1", now.Add(time.Second)); !ok {
		t.Error("no budget one second later")
	}
	s.pause(limitKey(methodPost, "C2"), now.Add(time.Minute))
	if ok, at := s.take(methodPost, "C2", now.Add(30*time.Second)); ok || !at.Equal(now.Add(time.Minute)) {
		t.Errorf("paused channel: ok=%v at=%v, want refused until %v", ok, at, now.Add(time.Minute))
	}
	if ok, _ := s.take(methodPost, "C2", now.Add(time.Minute)); !ok {
		t.Error("channel still paused after the pause ended")
	}
}

// TestOutboxState_TakePerMethod: Slack limits each method on its own
// (issue 17): a 429 on chat.update holds neither new posts nor
// confirmations, and posts out of budget hold no updates.
func TestOutboxState_TakePerMethod(t *testing.T) {
	t.Parallel()
	var s outboxState
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	s.pause(limitKey(methodUpdate, "C1"), now.Add(time.Minute))
	if ok, at := s.take(methodUpdate, "C2", now); ok || !at.Equal(now.Add(time.Minute)) {
		t.Errorf("chat.update after its 429: ok=%v at=%v, want refused until %v (the limit is the workspace's)", ok, at, now.Add(time.Minute))
	}
	if ok, _ := s.take(methodPost, "C1", now); !ok {
		t.Error("a 429 on chat.update holds a new card's chat.postMessage")
	}
	if ok, _ := s.take(methodEphemeral, "C1", now); !ok {
		t.Error("a 429 on chat.update holds the confirmations")
	}
	for range paceBurst {
		s.take(methodPost, "C3", now)
	}
	var fresh outboxState
	for range paceBurst {
		fresh.take(methodPost, "C3", now)
	}
	if ok, _ := fresh.take(methodUpdate, "C3", now); !ok {
		t.Error("a channel out of chat.postMessage budget holds its card updates")
	}
	for i := range tier3Burst - 1 {
		if ok, _ := fresh.take(methodUpdate, "C3", now); !ok {
			t.Fatalf("update %d of the burst refused", i+2)
		}
	}
	if ok, at := fresh.take(methodUpdate, "C3", now); ok || !at.Equal(now.Add(tier3Every)) {
		t.Errorf("over the Tier 3 burst: ok=%v at=%v, want refused until %v", ok, at, now.Add(tier3Every))
	}
	if ok, _ := fresh.take(methodHistory, "C3", now); !ok {
		t.Error("an unpaced method refused")
	}
}

// TestOutboxState_TakeEphemeral: confirmations have a Tier 4 budget of
// their own, untouched by a channel that is out of messages, and a 429 on
// one does not hold the other.
func TestOutboxState_TakeEphemeral(t *testing.T) {
	t.Parallel()
	var s outboxState
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	for range paceBurst {
		s.take(methodPost, "C1", now)
	}
	if ok, _ := s.take(methodPost, "C1", now); ok {
		t.Fatal("channel budget not spent")
	}
	for i := range ephemeralBurst {
		if ok, _ := s.take(methodEphemeral, "C1", now); !ok {
			t.Fatalf("confirmation %d of the burst refused while the channel is out of budget", i+1)
		}
	}
	ok, at := s.take(methodEphemeral, "C1", now)
	if want := now.Add(ephemeralEvery); ok || !at.Equal(want) {
		t.Errorf("over the burst: ok=%v at=%v, want refused until %v", ok, at, want)
	}
	s.pause(ephemeralKey, now.Add(time.Minute))
	if ok, _ := s.take(methodPost, "C2", now); !ok {
		t.Error("a 429 on chat.postEphemeral holds a channel's messages")
	}
	var fresh outboxState
	fresh.pause(limitKey(methodPost, "C1"), now.Add(time.Minute))
	if ok, _ := fresh.take(methodEphemeral, "C1", now); !ok {
		t.Error("a channel's 429 holds the confirmations")
	}
}

func TestOutboxState_Loud(t *testing.T) {
	t.Parallel()
	var s outboxState
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	got := []bool{
		s.loud("invalid_auth", now),
		s.loud("invalid_auth", now.Add(59*time.Minute)),
		s.loud("channel_not_found", now.Add(59*time.Minute)),
		s.loud("invalid_auth", now.Add(time.Hour)),
	}
	if diff := cmp.Diff([]bool{true, false, true, true}, got); diff != "" {
		t.Errorf("loud (-want +got):\n%s", diff)
	}
}

// TestBot_RunOutbox is not parallel: goleak must see only this test's
// goroutines. Parallel tests have not started yet while it runs.
func TestBot_RunOutbox(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	// Registered first, so it runs last: after the fake Slack and the store
	// have closed.
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) })

	fake := slackfake.New(t)
	db := storagetest.MustOpen(t)
	frozen := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	svc := &triage.Service{Store: db, Policy: triage.Policy{Quorum: 3}, Channel: "CTRIAGE", Now: func() time.Time { return frozen }}
	b := New(Config{Channel: "CTRIAGE", Now: svc.Now}, fake.Client(), svc, db, nil)
	svc.Wake = b.Wake
	// Only a Wake can start a pass within the test's lifetime.
	b.outbox.state.poll = time.Hour

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.RunOutbox(ctx) }()

	if _, _, err := svc.Submit(ctx, triage.LeadInput{Company: "Acme"}, triage.Submission{Via: "webhook"}); err != nil {
		t.Fatal(err)
	}
	fake.WaitCalls(t, "chat.postMessage", 1, 10*time.Second)
	if err := svc.Tell(ctx, "CTRIAGE", "UALICE", "hi"); err != nil {
		t.Fatal(err)
	}
	fake.WaitCalls(t, "chat.postEphemeral", 1, 10*time.Second)

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("RunOutbox = %v, want nil after cancel", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("RunOutbox did not return after its context was cancelled")
	}
	if n := len(fake.Messages("CTRIAGE")); n != 1 {
		t.Errorf("cards = %d, want 1", n)
	}
}
