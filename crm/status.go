package crm

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// StatusError is an HTTP answer other than 2xx from a webhook receiver or a
// CRM API. Every outgoing call returns it for such an answer, so one rule
// (Retryable) decides what is tried again.
type StatusError struct {
	Status int
	// RetryAfter is the wait the server asked for (Retry-After, or a CRM's
	// own rate-limit header); 0 when it asked for none.
	RetryAfter time.Duration
	// Body is the start of the answer, for the dead-letter list; never
	// lead data we sent.
	Body string
}

func (e *StatusError) Error() string {
	if e.Body == "" {
		return fmt.Sprintf("HTTP %d", e.Status)
	}
	return fmt.Sprintf("HTTP %d: %s", e.Status, e.Body)
}

// Retryable reports whether the call may succeed later: 429 and 5xx (and
// 408) are tried again, every other 4xx is final.
func (e *StatusError) Retryable() bool {
	return e.Status == http.StatusTooManyRequests || e.Status == http.StatusRequestTimeout || e.Status >= 500
}

// maxRetryAfter caps a server's Retry-After so a hostile or broken receiver
// cannot park an item beyond the give-up horizon in one answer.
const maxRetryAfter = 6 * time.Hour

// parseRetryAfter reads a Retry-After header: delay-seconds or an HTTP date
// (RFC 9110 §10.2.3). 0 when absent or unreadable.
func parseRetryAfter(h http.Header, now time.Time) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	var d time.Duration
	if secs, err := strconv.Atoi(v); err == nil && secs >= 0 {
		d = time.Duration(secs) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	return max(0, min(d, maxRetryAfter))
}

// maxErrorBody is how much of an error answer StatusError keeps.
const maxErrorBody = 300

// statusError builds the StatusError for a non-2xx answer; body is what was
// read of it.
func statusError(resp *http.Response, body []byte, now time.Time) *StatusError {
	b := strings.TrimSpace(string(body))
	if len(b) > maxErrorBody {
		b = b[:maxErrorBody] + "…"
	}
	return &StatusError{Status: resp.StatusCode, RetryAfter: parseRetryAfter(resp.Header, now), Body: b}
}
