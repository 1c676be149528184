package research

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/leadtriage/leadtriage/triage"
)

// First seen online: keyless public sources (research.web_history).
const (
	crtshBaseURL   = "https://crt.sh"
	waybackBaseURL = "https://web.archive.org"
	// crt.sh lists every certificate ever logged for the name; a busy domain
	// has thousands. Past this we say "answer too large" rather than guess
	// from part of the list (the earliest might be in the part not read).
	maxCrtshBody   = 8 << 20
	maxWaybackBody = 64 << 10
)

// firstSeen is what a web history provider caches: the earliest date, or
// the zero time when the source has nothing (an answer, not a failure).
type firstSeen struct {
	At time.Time `json:"at"`
}

// webHistoryProviders returns the crt.sh and Wayback providers for the
// company's registrable domain.
func (r *Researcher) webHistoryProviders(domain string, refresh bool) []provider {
	if !r.cfg.WebHistory || domain == "" {
		return nil
	}
	return []provider{
		{"crtsh", func(ctx context.Context) (apply, bool, error) {
			return r.firstSeenProvider(ctx, "crtsh", domain, refresh, r.firstCertificate,
				func(f *triage.Findings, t time.Time) { f.Facts.FirstCertificate = t })
		}},
		{"wayback", func(ctx context.Context) (apply, bool, error) {
			return r.firstSeenProvider(ctx, "wayback", domain, refresh, r.firstCapture,
				func(f *triage.Findings, t time.Time) { f.Facts.FirstCapture = t })
		}},
	}
}

func (r *Researcher) firstSeenProvider(ctx context.Context, name, domain string, refresh bool,
	lookup func(context.Context, string) (time.Time, error), set func(*triage.Findings, time.Time)) (apply, bool, error) {
	var res firstSeen
	cached := !refresh && r.loadCached(ctx, name, domain, &res)
	if !cached {
		t, err := lookup(ctx, domain)
		if err != nil {
			return nil, false, err
		}
		res.At = t
		r.storeCached(ctx, name, domain, res)
	}
	return func(f *triage.Findings) { set(f, res.At) }, cached, nil
}

// crtshEntry is one certificate in crt.sh's JSON output (crt.sh/?q=DOMAIN&output=json;
// fields as crt.sh serves them, e.g. "not_before": "2023-11-01T08:49:47",
// "entry_timestamp": "2023-11-17T22:59:21.118"), only the fields we read.
type crtshEntry struct {
	NotBefore      string `json:"not_before"`
	EntryTimestamp string `json:"entry_timestamp"`
}

// firstCertificate asks crt.sh for every logged certificate of domain and
// returns the earliest validity start; zero when there is none.
func (r *Researcher) firstCertificate(ctx context.Context, domain string) (time.Time, error) {
	base := baseURL(r.cfg.CrtshURL, crtshBaseURL)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/?"+url.Values{"q": {domain}, "output": {"json"}}.Encode(), nil)
	if err != nil {
		return time.Time{}, failure("bad crt.sh URL")
	}
	body, err := r.getCapped(ctx, "crtsh", req, maxCrtshBody)
	if err != nil {
		return time.Time{}, err
	}
	var entries []crtshEntry
	if err := json.Unmarshal(body, &entries); err != nil {
		return time.Time{}, failure("bad answer")
	}
	var first time.Time
	for _, e := range entries {
		t, ok := parseCrtshTime(e.NotBefore)
		if !ok {
			t, ok = parseCrtshTime(e.EntryTimestamp)
		}
		// A date before CT existed (2013) or in the future is a bad entry, not evidence.
		if !ok || t.Year() < 2000 || t.After(r.now().Add(48*time.Hour)) {
			continue
		}
		if first.IsZero() || t.Before(first) {
			first = t
		}
	}
	return first, nil
}

func parseCrtshTime(s string) (time.Time, bool) {
	for _, layout := range []string{"2006-01-02T15:04:05.999999999", time.RFC3339Nano} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// firstCapture asks the Wayback CDX API for the earliest capture of the
// domain's home page. The CDX server returns captures oldest first, so
// limit=1 is the first one; with output=json the answer is rows of strings,
// the first row naming the fields (internetarchive/wayback,
// wayback-cdx-server/README.md): [["timestamp"],["20150312093412"]], or []
// when there is no capture.
func (r *Researcher) firstCapture(ctx context.Context, domain string) (time.Time, error) {
	base := baseURL(r.cfg.WaybackURL, waybackBaseURL)
	q := url.Values{"url": {domain}, "output": {"json"}, "limit": {"1"}, "fl": {"timestamp"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/cdx/search/cdx?"+q.Encode(), nil)
	if err != nil {
		return time.Time{}, failure("bad Wayback URL")
	}
	body, err := r.getCapped(ctx, "wayback", req, maxWaybackBody)
	if err != nil {
		return time.Time{}, err
	}
	var rows [][]string
	if err := json.Unmarshal(body, &rows); err != nil {
		return time.Time{}, failure("bad answer")
	}
	if len(rows) < 2 {
		return time.Time{}, nil
	}
	if len(rows[0]) != 1 || rows[0][0] != "timestamp" || len(rows[1]) != 1 {
		return time.Time{}, failure("bad answer")
	}
	t, err := time.Parse("20060102150405", rows[1][0])
	if err != nil {
		return time.Time{}, failure("bad answer")
	}
	return t.UTC(), nil
}

// errTooLarge is an answer over the provider's size cap.
var errTooLarge = failure("answer too large")

// getCapped does one GET for a keyless source and returns at most limit
// bytes of body: a longer answer is errTooLarge. key names the service for
// rate limits (a 429 keeps us away until its Retry-After); errors never
// contain the URL or the server's text.
func (r *Researcher) getCapped(ctx context.Context, key string, req *http.Request, limit int64) ([]byte, error) {
	if r.limits.blocked(key, r.now()) {
		return nil, failure("rate limited")
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", userAgent)
	resp, err := r.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, failure("no answer")
	}
	defer func() { _ = resp.Body.Close() }()
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		r.limits.block(key, r.now().Add(retryAfter(resp.Header, r.now())))
		return nil, failure("rate limited")
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		return nil, failure(fmt.Sprintf("HTTP %d", resp.StatusCode))
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, failure("no answer")
	}
	if int64(len(body)) > limit {
		return nil, errTooLarge
	}
	return body, nil
}
