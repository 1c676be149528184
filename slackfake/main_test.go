package slackfake_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package if any test leaves goroutines behind: the fake
// promises that its cleanup closes servers, websockets and keep-alives.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
