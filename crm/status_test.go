package crm

import (
	"net/http"
	"testing"
	"time"
)

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		header string
		want   time.Duration
	}{
		{"", 0},
		{"120", 2 * time.Minute},
		{"0", 0},
		{"-5", 0},
		{"soon", 0},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0},
		{"999999", maxRetryAfter},
	} {
		h := http.Header{}
		if tc.header != "" {
			h.Set("Retry-After", tc.header)
		}
		if got := parseRetryAfter(h, now); got != tc.want {
			t.Errorf("Retry-After %q = %v, want %v", tc.header, got, tc.want)
		}
	}
}

func TestStatusError_Retryable(t *testing.T) {
	t.Parallel()
	for status, want := range map[int]bool{400: false, 401: false, 404: false, 409: false, 408: true, 429: true, 500: true, 503: true} {
		if got := (&StatusError{Status: status}).Retryable(); got != want {
			t.Errorf("status %d retryable = %v, want %v", status, got, want)
		}
	}
}

func TestStatusError_KeepsTheStartOfTheAnswer(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)
	resp := &http.Response{StatusCode: 429, Header: http.Header{"Retry-After": {"7"}}}
	long := make([]byte, 2*maxErrorBody)
	for i := range long {
		long[i] = 'x'
	}
	err := statusError(resp, long, now)
	if err.Status != 429 || err.RetryAfter != 7*time.Second || !err.Retryable() {
		t.Fatalf("statusError = %+v, want 429, 7s, retryable", err)
	}
	if n := len([]rune(err.Body)); n != maxErrorBody+1 {
		t.Errorf("body kept %d runes, want %d (cut, with an ellipsis)", n, maxErrorBody+1)
	}
}
