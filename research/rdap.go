package research

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/openrdap/rdap"
	"github.com/openrdap/rdap/bootstrap"

	"github.com/leadtriage/leadtriage/triage"
)

// rdapResult is what RDAP says about a domain; it is what gets cached.
type rdapResult struct {
	Found      bool      `json:"found"`
	Registered time.Time `json:"registered,omitzero"`
	Registrar  string    `json:"registrar,omitempty"`
}

func (r *Researcher) rdapProvider(ctx context.Context, domain string, refresh bool) (apply, bool, error) {
	var res rdapResult
	cached := !refresh && r.loadCached(ctx, "rdap", domain, &res)
	if !cached {
		var err error
		if res, err = r.rdapLookup(ctx, domain); err != nil {
			return nil, false, err
		}
		r.storeCached(ctx, "rdap", domain, res)
	}
	// Not found: the fact stays zero; an unregistered domain shows up in
	// the DNS and website checks anyway.
	return func(f *triage.Findings) {
		f.Facts.DomainRegistered = res.Registered
		f.Facts.Registrar = res.Registrar
	}, cached, nil
}

// rdapServers returns the RDAP base URLs for domain: the configured one, or
// the IANA bootstrap's.
func (r *Researcher) rdapServers(ctx context.Context, domain string) ([]string, error) {
	if r.cfg.RDAPURL != "" {
		return []string{r.cfg.RDAPURL}, nil
	}
	r.bootMu.Lock()
	defer r.bootMu.Unlock()
	q := (&bootstrap.Question{RegistryType: bootstrap.DNS, Query: domain}).WithContext(ctx)
	a, err := r.boot.Lookup(q)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, failure("bootstrap failed")
	}
	var out []string
	for _, u := range a.URLs {
		out = append(out, u.String())
	}
	if len(out) == 0 {
		return nil, failure("no RDAP server for this TLD")
	}
	// HTTPS first: the bootstrap lists both for some TLDs.
	slices.SortStableFunc(out, func(a, b string) int {
		return boolInt(!strings.HasPrefix(a, "https:")) - boolInt(!strings.HasPrefix(b, "https:"))
	})
	return out, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// rdapLookup asks the domain's RDAP servers in turn. A 404 is an answer
// (not registered); 429 blocks that server until its Retry-After.
func (r *Researcher) rdapLookup(ctx context.Context, domain string) (rdapResult, error) {
	servers, err := r.rdapServers(ctx, domain)
	if err != nil {
		return rdapResult{}, err
	}
	var last error = failure("no answer")
	for _, s := range servers {
		res, err := r.rdapQuery(ctx, s, domain)
		if err == nil || ctx.Err() != nil {
			return res, err
		}
		last = err
	}
	return rdapResult{}, last
}

func (r *Researcher) rdapQuery(ctx context.Context, server, domain string) (rdapResult, error) {
	// A fresh URL per request: rdap.Request.URL() writes to Server.
	u, err := url.Parse(server)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return rdapResult{}, failure("bad RDAP server URL")
	}
	key := "rdap:" + u.Host
	if r.limits.blocked(key, r.now()) {
		return rdapResult{}, failure("rate limited")
	}
	c := &rdap.Client{HTTP: r.http, Bootstrap: r.boot, Verbose: func(string) {}, UserAgent: userAgent}
	req := (&rdap.Request{Type: rdap.DomainRequest, Query: domain, Server: u}).WithContext(ctx)
	resp, err := c.Do(req)
	if err == nil {
		return rdapFromObject(resp.Object)
	}
	if ctx.Err() != nil {
		return rdapResult{}, ctx.Err()
	}
	var ce *rdap.ClientError
	if errors.As(err, &ce) && ce.Type == rdap.ObjectDoesNotExist {
		return rdapResult{}, nil
	}
	var hr *http.Response
	if resp != nil && len(resp.HTTP) > 0 {
		hr = resp.HTTP[len(resp.HTTP)-1].Response
	}
	switch {
	case hr == nil:
		return rdapResult{}, failure("no answer")
	case hr.StatusCode == http.StatusTooManyRequests:
		// Never wait for it: the deadline is short and the next lead can try.
		r.limits.block(key, r.now().Add(retryAfter(hr.Header, r.now())))
		return rdapResult{}, failure("rate limited")
	case hr.StatusCode >= 200 && hr.StatusCode < 300:
		return rdapResult{}, failure("bad answer")
	}
	return rdapResult{}, failure(fmt.Sprintf("HTTP %d", hr.StatusCode))
}

// parseRDAP decodes an RDAP domain answer the way rdap.Client.Do does; the
// fuzz test feeds it arbitrary bytes.
func parseRDAP(body []byte) (rdapResult, error) {
	obj, err := rdap.NewDecoder(body).Decode()
	if err != nil {
		return rdapResult{}, failure("bad answer")
	}
	return rdapFromObject(obj)
}

// rdapFromObject reads the registration date and registrar from a decoded
// RDAP object.
func rdapFromObject(obj any) (rdapResult, error) {
	d, ok := obj.(*rdap.Domain)
	if !ok || d == nil {
		return rdapResult{}, failure("bad answer")
	}
	res := rdapResult{Found: true}
	for _, e := range d.Events {
		if strings.EqualFold(e.Action, "registration") {
			if t, ok := parseRDAPTime(e.Date); ok {
				res.Registered = t
				break
			}
		}
	}
	for _, e := range d.Entities {
		if !slices.ContainsFunc(e.Roles, func(s string) bool { return strings.EqualFold(s, "registrar") }) {
			continue
		}
		if e.VCard != nil {
			res.Registrar = truncate(strings.TrimSpace(e.VCard.Name()), 100)
		}
		break
	}
	return res, nil
}

func parseRDAPTime(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}
