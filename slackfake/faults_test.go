package slackfake_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/leadtriage/leadtriage/slackfake"
)

func post(api *slack.Client, text string) (string, error) {
	_, ts, err := api.PostMessage("C1", slack.MsgOptionText(text, false))
	return ts, err
}

func TestFault_RateLimited(t *testing.T) {
	t.Parallel()
	fake := slackfake.New(t)
	api := fake.Client()

	fake.Fail("chat.postMessage", slackfake.Fault{Status: http.StatusTooManyRequests, RetryAfter: "2"})
	_, err := post(api, "a")
	var rl *slack.RateLimitedError
	if !errors.As(err, &rl) || rl.RetryAfter != 2*time.Second {
		t.Fatalf("429 with Retry-After: error %v (%T), want *slack.RateLimitedError{2s}", err, err)
	}

	fake.Fail("chat.postMessage", slackfake.Fault{Status: http.StatusTooManyRequests})
	_, err = post(api, "b")
	var sce slack.StatusCodeError
	if !errors.As(err, &sce) || sce.Code != http.StatusTooManyRequests || errors.As(err, &rl) {
		t.Fatalf("429 without Retry-After: error %v (%T), want slack.StatusCodeError{429}", err, err)
	}

	if _, err := post(api, "c"); err != nil {
		t.Fatalf("post after the faults were consumed: %v", err)
	}
	if n := len(fake.Messages("C1")); n != 1 {
		t.Errorf("stored %d messages, want only the unfaulted one", n)
	}
	calls := fake.Calls("chat.postMessage")
	if len(calls) != 3 || calls[0].Error != "http_429" || calls[0].Status != 429 || !calls[2].OK() {
		t.Errorf("calls = %+v", calls)
	}
}

func TestFault_ServerError(t *testing.T) {
	t.Parallel()
	fake := slackfake.New(t)
	api := fake.Client()
	fake.Fail("chat.update", slackfake.Fault{Status: http.StatusInternalServerError})
	fake.Fail("chat.update", slackfake.Fault{Status: http.StatusServiceUnavailable})

	ts, err := post(api, "lead")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []int{500, 503} {
		_, _, _, err = api.UpdateMessage("C1", ts, slack.MsgOptionText("x", false))
		var sce slack.StatusCodeError
		if !errors.As(err, &sce) || sce.Code != want {
			t.Errorf("error %v (%T), want StatusCodeError{%d}", err, err, want)
		}
	}
	if m, _ := fake.Message("C1", ts); m.Updates != 0 || m.Text != "lead" {
		t.Errorf("faulted updates were applied: %+v", m)
	}
}

func TestFault_SlackError(t *testing.T) {
	t.Parallel()
	fake := slackfake.New(t)
	api := fake.Client()
	fake.Fail("chat.postMessage", slackfake.Fault{Error: "not_in_channel", Times: 2})

	for i := range 2 {
		_, err := post(api, "x")
		if got := slackErr(t, err).Err; got != "not_in_channel" {
			t.Errorf("call %d error = %q, want not_in_channel", i, got)
		}
	}
	if _, err := post(api, "x"); err != nil {
		t.Errorf("third call (Times exhausted): %v", err)
	}
	calls := fake.Calls()
	if len(calls) != 3 || calls[0].Error != "not_in_channel" || calls[0].Status != 200 {
		t.Errorf("calls = %+v", calls)
	}
}

func TestFault_WildcardOrderAndClear(t *testing.T) {
	t.Parallel()
	fake := slackfake.New(t)
	api := fake.Client()
	fake.Fail("*", slackfake.Fault{Error: "first"})
	fake.Fail("auth.test", slackfake.Fault{Error: "second"})
	fake.Fail("*", slackfake.Fault{Error: "third"})

	if _, err := api.AuthTest(); slackErr(t, err).Err != "first" {
		t.Errorf("first auth.test error = %v, want first", err)
	}
	if _, err := post(api, "x"); slackErr(t, err).Err != "third" {
		t.Errorf("postMessage error = %v, want third (second is auth.test only)", err)
	}
	fake.ClearFaults()
	if _, err := api.AuthTest(); err != nil {
		t.Errorf("auth.test after ClearFaults: %v", err)
	}
}

func TestFault_Drop(t *testing.T) {
	t.Parallel()
	fake := slackfake.New(t)
	api := fake.Client()
	fake.Fail("chat.postMessage", slackfake.Fault{Drop: true})

	if _, err := post(api, "lost"); err == nil {
		t.Fatal("dropped call returned no error")
	}
	if n := len(fake.Messages("C1")); n != 0 {
		t.Errorf("Drop applied the call: %d messages", n)
	}
	if c := fake.Calls(); len(c) != 1 || c[0].Error != "dropped" || c[0].Status != 0 {
		t.Errorf("calls = %+v", c)
	}
}

func TestFault_DropAfter(t *testing.T) {
	t.Parallel()
	fake := slackfake.New(t)
	api := fake.Client()
	fake.Fail("chat.postMessage", slackfake.Fault{DropAfter: true})

	_, err := post(api, "ambiguous")
	if err == nil {
		t.Fatal("DropAfter returned no error to the client")
	}
	if !strings.Contains(err.Error(), "EOF") {
		t.Errorf("error %q does not look like a closed connection", err)
	}
	msgs := fake.Messages("C1")
	if len(msgs) != 1 || msgs[0].Text != "ambiguous" {
		t.Fatalf("DropAfter must apply the call; messages = %+v", msgs)
	}
	// A naive retry duplicates the post, which is what the bot must avoid.
	if _, err := post(api, "ambiguous"); err != nil {
		t.Fatal(err)
	}
	if n := len(fake.Messages("C1")); n != 2 {
		t.Errorf("after retry: %d messages, want 2 (duplicate)", n)
	}
	if c := fake.Calls(); c[0].Error != "dropped_after" || len(fake.WaitCalls(t, "chat.postMessage", 1, time.Second)) != 1 {
		t.Errorf("calls = %+v, want dropped_after then one success", c)
	}
}

func TestFault_Delay(t *testing.T) {
	t.Parallel()
	fake := slackfake.New(t)

	t.Run("ClientTimeout", func(t *testing.T) {
		api := fake.Client(slack.OptionHTTPClient(fake.HTTPClient(100 * time.Millisecond)))
		fake.Fail("chat.update", slackfake.Fault{Delay: time.Minute})
		start := time.Now()
		_, _, _, err := api.UpdateMessage("C1", "1700000000.000001", slack.MsgOptionText("x", false))
		if err == nil {
			t.Fatal("delayed call did not time out")
		}
		if d := time.Since(start); d > 30*time.Second {
			t.Errorf("timeout took %v; the delay must not hold the client", d)
		}
		// The fake notices the client going away and records the call.
		fake.WaitUntil(t, 5*time.Second, "the canceled call", func() bool {
			c := fake.Calls("chat.update")
			return len(c) == 1 && c[0].Error == "canceled"
		})
	})

	t.Run("ContextDeadline", func(t *testing.T) {
		fake.Fail("chat.postMessage", slackfake.Fault{Delay: time.Minute})
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		_, _, err := fake.Client().PostMessageContext(ctx, "C1", slack.MsgOptionText("late", false))
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("error = %v, want context.DeadlineExceeded", err)
		}
		fake.WaitUntil(t, 5*time.Second, "the canceled post", func() bool {
			c := fake.Calls("chat.postMessage")
			return len(c) == 1 && c[0].Error == "canceled"
		})
		if n := len(fake.Messages("C1")); n != 0 {
			t.Errorf("canceled post was applied: %d messages", n)
		}
	})

	t.Run("Answered", func(t *testing.T) {
		fake.Fail("auth.test", slackfake.Fault{Delay: 50 * time.Millisecond})
		start := time.Now()
		if _, err := fake.Client().AuthTest(); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d < 50*time.Millisecond {
			t.Errorf("answered after %v, want at least the 50ms delay", d)
		}
	})
}

func TestServer_SetDown(t *testing.T) {
	t.Parallel()
	fake := slackfake.New(t)
	api := fake.Client()
	fake.SetDown(true)
	if _, err := api.AuthTest(); err == nil {
		t.Fatal("request succeeded while down")
	}
	if _, err := post(api, "x"); err == nil {
		t.Fatal("post succeeded while down")
	}
	fake.SetDown(false)
	if _, err := api.AuthTest(); err != nil {
		t.Fatalf("after recovery: %v", err)
	}
	c := fake.Calls()
	if len(c) != 3 || c[0].Error != "dropped" || c[1].Error != "dropped" || !c[2].OK() {
		t.Errorf("calls = %+v", c)
	}
}

func TestFault_DelayDoesNotBlockCleanup(t *testing.T) {
	t.Parallel()
	// A request stuck in a long delay must not hold up the fake's cleanup.
	done := make(chan struct{})
	var fake *slackfake.Server
	t.Run("inner", func(t *testing.T) {
		fake = slackfake.New(t)
		fake.Fail("auth.test", slackfake.Fault{Delay: time.Hour})
		go func() {
			defer close(done)
			_, _ = fake.Client().AuthTest()
		}()
		fake.WaitUntil(t, 5*time.Second, "the request to be in flight", func() bool { return fake.Pending() == 1 })
	})
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("client still blocked after the fake was closed")
	}
	if c := fake.Calls(); len(c) != 1 || c[0].Error != "canceled" || fake.Pending() != 0 {
		t.Errorf("after cleanup: pending %d, calls %+v; want one canceled call", fake.Pending(), c)
	}
}

// TestFault_DelayAfter: the post is applied at once, but a client that gives
// up while the answer is held back never learns of it.
func TestFault_DelayAfter(t *testing.T) {
	t.Parallel()
	fake := slackfake.New(t)
	api := fake.Client()
	fake.Fail("chat.postMessage", slackfake.Fault{DelayAfter: time.Minute})

	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error, 1)
	go func() {
		_, _, err := api.PostMessageContext(ctx, "C1", slack.MsgOptionText("accepted", false))
		errc <- err
	}()
	for deadline := time.Now().Add(5 * time.Second); len(fake.Messages("C1")) == 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the post was not applied before its answer")
		}
	}
	cancel() // the process dies before the answer comes
	if err := <-errc; err == nil {
		t.Fatal("the client got an answer although it went away first")
	}
	if msgs := fake.Messages("C1"); len(msgs) != 1 || msgs[0].Text != "accepted" {
		t.Fatalf("DelayAfter must apply the call first; messages = %+v", msgs)
	}
	// The fake records the call once its handler sees the client gone.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		c := fake.Calls()
		if len(c) == 1 && c[0].Error == "canceled_after" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("calls = %+v, want one canceled_after", c)
		}
	}
}
