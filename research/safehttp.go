// The SSRF-safe HTTP client: everything research fetches on a lead's behalf
// goes through it, because a lead chooses the URL and a URL can point inside
// our network (RELIABILITY.md §8.5, E1–E6).

package research

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"

	"code.dny.dev/ssrf"
)

// Limits of the safe client. The overall time-out is configurable; the
// per-phase ones stop a slow server from eating the whole budget in one step.
const (
	defaultFetchTimeout  = 10 * time.Second
	dialTimeout          = 5 * time.Second
	tlsHandshakeTimeout  = 5 * time.Second
	responseHeaderTimout = 5 * time.Second
	maxResponseHeader    = 64 << 10
	maxRedirects         = 3
)

// ErrRefused is matched (errors.Is) by every error of the safe client that
// refused a URL or an address before connecting: a non-public address, a
// scheme other than http(s), credentials, an IP literal, a port other than
// 80/443, or too many redirects.
var ErrRefused = errors.New("refused")

// refusal is a refusal with a short message that is safe to show on a card.
type refusal struct {
	msg   string
	cause error
}

func (e *refusal) Error() string   { return e.msg }
func (e *refusal) Unwrap() []error { return []error{ErrRefused, e.cause} }

func refuse(msg string) error { return &refusal{msg: msg} }

var errTooManyRedirects = refuse("too many redirects")

// SafeClientOptions configures NewSafeClient.
type SafeClientOptions struct {
	// AllowPrivate turns every address and URL check off except the scheme
	// and credential checks (research.allow_private_addresses): tests only.
	AllowPrivate bool
	// Timeout bounds a whole request including redirects and reading the
	// body; default 10 s.
	Timeout time.Duration
	// Resolver resolves host names at dial time; nil means
	// net.DefaultResolver. Tests point it at a loopback DNS server.
	Resolver *net.Resolver
	// AllowedForTest lets tests treat otherwise-denied prefixes as public
	// (e.g. 127.0.0.2/32). When set, any port is allowed too, because test
	// servers cannot listen on 80 or 443. Never set it outside tests.
	AllowedForTest []netip.Prefix
}

// NewSafeClient returns an *http.Client that never connects to a non-public
// address on a lead's behalf. The address check runs in the dialer's Control
// hook, on the address actually connected, so a DNS answer that changes
// between checks (rebinding) cannot get past it. Proxy variables in the
// environment are ignored: a proxy would connect for us, unchecked.
func NewSafeClient(o SafeClientOptions) *http.Client {
	if o.Timeout <= 0 {
		o.Timeout = defaultFetchTimeout
	}
	p := urlPolicy{allowPrivate: o.AllowPrivate, allowed: o.AllowedForTest}
	dialer := &net.Dialer{
		Timeout:   dialTimeout,
		KeepAlive: -1,
		Resolver:  o.Resolver,
	}
	if !o.AllowPrivate {
		dialer.Control = newGuard(o.AllowedForTest)
	}
	tr := &http.Transport{
		Proxy:                  nil, // E5: never HTTP_PROXY / HTTPS_PROXY
		DialContext:            dialer.DialContext,
		TLSClientConfig:        &tls.Config{MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:    tlsHandshakeTimeout,
		ResponseHeaderTimeout:  responseHeaderTimout,
		MaxResponseHeaderBytes: maxResponseHeader,
		// One home page per lead: nothing worth reusing, and no idle
		// connections left behind by a long-lived client.
		DisableKeepAlives: true,
	}
	return &http.Client{
		Transport: &checkedTransport{base: tr, policy: p},
		Timeout:   o.Timeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) > maxRedirects {
				return errTooManyRedirects
			}
			return p.check(req.URL)
		},
	}
}

// newGuard returns the dial-time check. code.dny.dev/ssrf denies the IANA
// special-purpose IPv4 ranges (loopback, RFC 1918, link-local incl. the
// metadata address, CGNAT, 0/8, multicast, broadcast, documentation and
// benchmarking) and every IPv6 address outside 2000::/3 plus the special
// ranges inside it; that covers ::1, fc00::/7, fe80::/10, IPv4-mapped
// (::ffff:0:0/96), NAT64 (64:ff9b::/96) and 6to4 (2002::/16) wholesale.
func newGuard(allowed []netip.Prefix) func(network, address string, c syscall.RawConn) error {
	opts := []ssrf.Option{ssrf.WithPorts(80, 443)}
	if len(allowed) > 0 {
		var v4, v6 []netip.Prefix
		for _, p := range allowed {
			if p.Addr().Is4() {
				v4 = append(v4, p)
			} else {
				v6 = append(v6, p)
			}
		}
		opts = []ssrf.Option{ssrf.WithAnyPort(), ssrf.WithAllowedV4Prefixes(v4...), ssrf.WithAllowedV6Prefixes(v6...)}
	}
	g := ssrf.New(opts...)
	return func(network, address string, c syscall.RawConn) error {
		err := g.Safe(network, address, c)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, ssrf.ErrProhibitedPort):
			return &refusal{msg: "refused: port not allowed", cause: err}
		default:
			return &refusal{msg: "refused: private address", cause: err}
		}
	}
}

// checkedTransport checks every request's URL before it is dialled: the
// first request and each redirect hop alike.
type checkedTransport struct {
	base   http.RoundTripper
	policy urlPolicy
}

func (t *checkedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := t.policy.check(req.URL); err != nil {
		// RoundTrip must close the body on every path.
		if req.Body != nil {
			_ = req.Body.Close()
		}
		return nil, err
	}
	return t.base.RoundTrip(req)
}

// urlPolicy is what a URL must look like before we dial anything (E4).
type urlPolicy struct {
	allowPrivate bool
	allowed      []netip.Prefix
}

func (p urlPolicy) check(u *url.URL) error {
	if u == nil {
		return refuse("refused: no URL")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return refuse("refused: not http or https")
	}
	if u.User != nil {
		return refuse("refused: credentials in URL")
	}
	host := u.Hostname()
	if host == "" {
		return refuse("refused: no host")
	}
	if p.allowPrivate {
		return nil
	}
	if port := u.Port(); port != "" && port != "80" && port != "443" && len(p.allowed) == 0 {
		return refuse("refused: port " + port)
	}
	if isIPLiteral(host) {
		if a, err := netip.ParseAddr(host); err == nil && p.allows(a) {
			return nil
		}
		return refuse("refused: IP address")
	}
	return nil
}

func (p urlPolicy) allows(a netip.Addr) bool {
	for _, pr := range p.allowed {
		if pr.Contains(a.Unmap()) {
			return true
		}
	}
	return false
}

// isIPLiteral reports whether host is, or would be taken by some parser
// for, an IP address: any IPv6 literal, dotted quads, and the forms that
// inet_aton and browsers (WHATWG "ends in a number") accept — 2130706433,
// 0177.0.0.1, 0x7f000001, 0x7f.0.0.1, 127.1. No real top-level domain is
// numeric, so a numeric last label is refused whatever the rest.
func isIPLiteral(host string) bool {
	if strings.ContainsAny(host, ":[]%") {
		return true
	}
	if _, err := netip.ParseAddr(host); err == nil {
		return true
	}
	labels := strings.Split(strings.TrimSuffix(host, "."), ".")
	last := strings.ToLower(labels[len(labels)-1])
	if last == "" {
		return false
	}
	if isDigits(last) {
		return true
	}
	if rest, ok := strings.CutPrefix(last, "0x"); ok && isHex(rest) {
		return true
	}
	return false
}

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

func isHex(s string) bool {
	for _, r := range s {
		if (r < '0' || r > '9') && (r < 'a' || r > 'f') {
			return false
		}
	}
	return true
}

// describeFetchError turns a client error into a short reason that is safe
// to show: no URL, no address, no server-controlled text.
func describeFetchError(err error) string {
	var ref *refusal
	var dnsErr *net.DNSError
	var netErr net.Error
	var certErr *tls.CertificateVerificationError
	var recErr tls.RecordHeaderError
	switch {
	case errors.As(err, &ref):
		return ref.msg
	case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
		return "no such host"
	case errors.As(err, &dnsErr) && dnsErr.IsTimeout:
		return "timed out"
	case errors.As(err, &certErr), errors.As(err, &recErr):
		return "TLS error"
	case errors.As(err, &netErr) && netErr.Timeout():
		return "timed out"
	case errors.Is(err, context.DeadlineExceeded):
		return "timed out"
	case errors.Is(err, context.Canceled):
		return "cancelled"
	}
	return "no answer"
}

// fetchError carries a short, card-safe message and the full cause for logs
// and errors.Is.
type fetchError struct {
	msg   string
	cause error
}

func (e *fetchError) Error() string { return e.msg }
func (e *fetchError) Unwrap() error { return e.cause }

func newFetchError(cause error) error {
	return &fetchError{msg: describeFetchError(cause), cause: cause}
}

func statusError(code int) error {
	return &fetchError{msg: fmt.Sprintf("HTTP %d", code)}
}
