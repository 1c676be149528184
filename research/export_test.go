package research

import (
	"context"
	"net/url"

	"github.com/leadtriage/leadtriage/triage"
)

// SetTestHook makes every networked provider call f first: tests inject
// panics and hangs with it.
func SetTestHook(r *Researcher, f func(ctx context.Context, provider string)) { r.testHook = f }

// SetBootstrapURL points the IANA bootstrap at a test server.
func SetBootstrapURL(r *Researcher, u *url.URL) { r.boot.BaseURL = u }

// ParseHomePage is parseHomePage.
func ParseHomePage(page []byte, contentType string) triage.Website {
	return parseHomePage(page, contentType)
}

// SameCompany is sameCompany.
func SameCompany(a, b string) bool { return sameCompany(a, b) }
