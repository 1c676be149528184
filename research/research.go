package research

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/openrdap/rdap/bootstrap"
	"golang.org/x/net/publicsuffix"

	"github.com/leadtriage/leadtriage/triage"
)

// Defaults for Config.
const (
	DefaultTimeout  = 10 * time.Second
	DefaultCacheTTL = 168 * time.Hour
	// maxProviderTimeout bounds one provider, so one slow source leaves the
	// others time to answer within the overall deadline.
	maxProviderTimeout = 8 * time.Second
	userAgent          = "leadtriage-research/1 (+https://github.com/leadtriage/leadtriage)"
)

// Config configures a Researcher. Zero values are usable defaults.
type Config struct {
	Timeout               time.Duration  // one Research call (research.timeout); default 10 s
	CacheTTL              time.Duration  // research.cache_ttl; 0 = no caching
	Cache                 Cache          // nil = no cache
	RDAPURL               string         // research.rdap_url; "" = IANA bootstrap
	DNSServer             string         // research.dns_server host:port; "" = the system resolver
	AllowPrivateAddresses bool           // research.allow_private_addresses (tests only)
	KvKKey                string         // KVK_API_KEY; "" = KvK off
	CompaniesHouseKey     string         // COMPANIES_HOUSE_API_KEY; "" = Companies House off
	KvKURL                string         // base URL override for tests; "" = https://api.kvk.nl
	CompaniesHouseURL     string         // base URL override for tests; "" = the real API
	WebHistory            bool           // research.web_history: first certificate (crt.sh) and first archive capture (Wayback)
	CrtshURL              string         // research.crtsh_url; "" = https://crt.sh
	WaybackURL            string         // research.wayback_url; "" = https://web.archive.org
	CreditsafeUsername    string         // CREDITSAFE_USERNAME; with the password: the credit check is on
	CreditsafePassword    string         // CREDITSAFE_PASSWORD
	CreditsafeURL         string         // research.creditsafe_url; "" = https://connect.creditsafe.com/v1
	Bureaus               []CreditBureau // further credit bureaus, asked after Creditsafe
	HTTPClient            *http.Client   // RDAP and registries; nil = a client with a timeout, proxy env ignored
	WebsiteClient         *http.Client   // nil = NewSafeClient(...)
	Now                   func() time.Time
	Log                   *slog.Logger
}

// Researcher runs the providers for a lead. It is safe for concurrent use.
type Researcher struct {
	cfg      Config
	log      *slog.Logger
	http     *http.Client
	web      *http.Client
	resolver *net.Resolver
	limits   limits

	bootMu sync.Mutex // bootstrap.Client is not safe for concurrent use
	boot   *bootstrap.Client

	wg sync.WaitGroup // provider goroutines, including ones cut off by the deadline

	creditsafe *creditsafe // nil without credentials

	// testHook, when set, runs at the start of every networked provider
	// (export_test.go): tests inject panics and hangs through it.
	testHook func(ctx context.Context, provider string)
}

var _ triage.Researcher = (*Researcher)(nil)

// New returns a Researcher.
func New(cfg Config) *Researcher {
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	r := &Researcher{cfg: cfg, log: cfg.Log, limits: limits{until: map[string]time.Time{}}}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	r.resolver = &net.Resolver{PreferGo: true}
	if cfg.DNSServer != "" {
		server := cfg.DNSServer
		r.resolver.Dial = func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, server)
		}
	}
	r.http = cfg.HTTPClient
	if r.http == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.Proxy = nil // the environment's proxy is not ours to use for lookups about leads
		r.http = &http.Client{Transport: tr, Timeout: r.providerTimeout()}
	}
	r.web = cfg.WebsiteClient
	if r.web == nil {
		o := SafeClientOptions{AllowPrivate: cfg.AllowPrivateAddresses, Timeout: r.providerTimeout()}
		if cfg.DNSServer != "" {
			o.Resolver = r.resolver
		}
		r.web = NewSafeClient(o)
	}
	r.boot = &bootstrap.Client{HTTP: r.http, Verbose: func(string) {}}
	if cfg.CreditsafeUsername != "" && cfg.CreditsafePassword != "" {
		r.creditsafe = &creditsafe{r: r, user: cfg.CreditsafeUsername, pass: cfg.CreditsafePassword,
			base: baseURL(cfg.CreditsafeURL, creditsafeBaseURL)}
	}
	return r
}

func (r *Researcher) now() time.Time { return r.cfg.Now() }

func (r *Researcher) providerTimeout() time.Duration {
	return min(r.cfg.Timeout, maxProviderTimeout)
}

// failure is a provider failure with a short reason fit for the card: no
// URLs, keys or server text.
type failure string

func (f failure) Error() string { return string(f) }

// reason turns a provider error into ProviderResult.Error.
func reason(err error) string {
	var f failure
	switch {
	case errors.As(err, &f):
		return string(f)
	case errors.Is(err, context.DeadlineExceeded):
		return "timed out"
	case errors.Is(err, context.Canceled):
		return "cancelled"
	}
	return "failed"
}

// apply merges a provider's result into the findings. It runs on the
// caller's goroutine, so a provider that finishes after the deadline can
// never touch findings already returned.
type apply func(f *triage.Findings)

// provider is one source of facts for one lead.
type provider struct {
	name string
	run  func(ctx context.Context) (apply, bool, error) // bool: answered from the cache
}

type outcome struct {
	apply  apply
	err    error
	cached bool
	took   time.Duration
}

// Research looks into l. It returns when every provider has finished or the
// deadline (Config.Timeout, or ctx's if sooner) is hit; a provider still
// running then is reported as timed out and cancelled. It fails only when
// ctx is already done.
func (r *Researcher) Research(ctx context.Context, l triage.Lead, refresh bool) (triage.Findings, error) {
	if err := ctx.Err(); err != nil {
		return triage.Findings{}, fmt.Errorf("researching %s: %w", l.ID, err)
	}
	ctx, cancel := context.WithTimeout(ctx, r.cfg.Timeout)
	defer cancel()

	var f triage.Findings
	start := time.Now()
	email, hasEmail := checkEmail(l.Email)
	if l.Email != "" {
		pr := triage.ProviderResult{Name: "email", OK: hasEmail, Took: time.Since(start)}
		if hasEmail {
			f.Facts.EmailDomain = email.Domain
			f.Facts.FreeMail = email.FreeMail
			f.Facts.Disposable = email.Disposable
			f.Facts.RoleAddress = email.Role
			f.Flags = append(f.Flags, email.Flags...)
		} else {
			pr.Error = "not an e-mail address"
		}
		f.Providers = append(f.Providers, pr)
	}

	// A free-mail or disposable domain says nothing about the company.
	company := l.Domain
	if company != "" && (FreeMailDomain(company) || DisposableDomain(company)) {
		company = ""
	}

	var ps []provider
	if reg, err := publicsuffix.EffectiveTLDPlusOne(company); company != "" && err == nil {
		ps = append(ps, provider{"rdap", func(ctx context.Context) (apply, bool, error) { return r.rdapProvider(ctx, reg, refresh) }})
	}
	if hasEmail {
		ps = append(ps, provider{"dns", func(ctx context.Context) (apply, bool, error) { return r.dnsProvider(ctx, email.Domain, refresh) }})
	}
	switch {
	case l.Website != "" || company != "":
		ps = append(ps, provider{"website", func(ctx context.Context) (apply, bool, error) { return r.websiteProvider(ctx, l, company, refresh) }})
	case hasEmail:
		f.Flags = append(f.Flags, triage.Flag{Code: triage.FlagNoWebsite, Source: "website",
			Detail: "No website given and only a free-mail address.",
			Args:   map[string]string{triage.ArgVariant: triage.VariantFreeMail}})
	default:
		f.Flags = append(f.Flags, triage.Flag{Code: triage.FlagNoWebsite, Source: "website",
			Detail: "No website or e-mail domain given.",
			Args:   map[string]string{triage.ArgVariant: triage.VariantNothing}})
	}
	if reg, err := publicsuffix.EffectiveTLDPlusOne(company); company != "" && err == nil {
		ps = append(ps, r.webHistoryProviders(reg, refresh)...)
	}
	regs := r.registryProviders(l, company, email.Domain, refresh)
	if len(r.bureaus()) > 0 {
		watch := watchRegistries(regs)
		ps = append(ps, regs...)
		ps = append(ps, r.creditProviders(l, company, email.Domain, watch.registry, refresh)...)
	} else {
		ps = append(ps, regs...)
	}

	outs := r.runAll(ctx, ps)
	for i, p := range ps {
		o := outs[i]
		pr := triage.ProviderResult{Name: p.name, OK: o.err == nil, Took: o.took}
		if o.err != nil {
			pr.Error = reason(o.err)
			r.log.Info("research provider failed", "lead_id", l.ID.String(), "provider", p.name, "reason", pr.Error)
		} else if o.apply != nil {
			o.apply(&f)
		}
		f.Providers = append(f.Providers, pr)
	}
	return f, nil
}

// Wait waits until every provider goroutine has ended, also those a
// deadline cut off (they finish in the background and may still write the
// cache), or until ctx ends. Shutdown calls it before the cache's store
// closes.
func (r *Researcher) Wait(ctx context.Context) error {
	done := make(chan struct{})
	go func() { r.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("waiting for research providers: %w", ctx.Err())
	}
}

// runAll runs ps in parallel and returns their outcomes in ps's order;
// a provider still running when ctx ends gets a "timed out" outcome.
func (r *Researcher) runAll(ctx context.Context, ps []provider) []outcome {
	type done struct {
		i int
		o outcome
	}
	// Buffered: a provider finishing after we stopped listening must not block.
	ch := make(chan done, len(ps))
	start := time.Now()
	for i, p := range ps {
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			ch <- done{i, r.runOne(ctx, p)}
		}()
	}
	outs := make([]outcome, len(ps))
	got := make([]bool, len(ps))
	for n := 0; n < len(ps); n++ {
		select {
		case d := <-ch:
			outs[d.i], got[d.i] = d.o, true
		case <-ctx.Done():
			// Whatever finished just in time still counts.
			for drained := false; !drained; {
				select {
				case d := <-ch:
					outs[d.i], got[d.i] = d.o, true
				default:
					drained = true
				}
			}
			for i := range outs {
				if !got[i] {
					outs[i] = outcome{err: failure("timed out"), took: time.Since(start)}
				}
			}
			return outs
		}
	}
	return outs
}

// runOne runs one provider under its own bound, recovering a panic: one bad
// answer must not take the bot down.
func (r *Researcher) runOne(ctx context.Context, p provider) (o outcome) {
	ctx, cancel := context.WithTimeout(ctx, r.providerTimeout())
	defer cancel()
	start := time.Now()
	defer func() {
		if v := recover(); v != nil {
			r.log.Error("research provider panicked", "provider", p.name, "panic", fmt.Sprint(v))
			o = outcome{err: failure("internal error"), took: time.Since(start)}
		}
	}()
	if r.testHook != nil {
		r.testHook(ctx, p.name)
	}
	a, cached, err := p.run(ctx)
	if err != nil && ctx.Err() != nil {
		err = failure("timed out")
	}
	o = outcome{apply: a, err: err, cached: cached, took: time.Since(start)}
	if cached {
		o.took = 0
	}
	return o
}

// websiteResult is what the website provider caches.
type websiteResult struct {
	URL     string         `json:"url"`
	Website triage.Website `json:"website"`
}

// websiteProvider fetches the lead's website, or without one the company
// domain's, through the SSRF-safe client.
func (r *Researcher) websiteProvider(ctx context.Context, l triage.Lead, company string, refresh bool) (apply, bool, error) {
	target, given := l.Website, true
	if target == "" {
		target, given = "https://"+company, false
	}
	host := target
	if u, err := url.Parse(target); err == nil && u.Host != "" {
		host = u.Hostname()
	}
	var cached websiteResult
	if !refresh && r.loadCached(ctx, "website", company, &cached) && cached.URL == target {
		return func(f *triage.Findings) { f.Facts.Website = cached.Website }, true, nil
	}
	w, err := FetchWebsite(ctx, r.web, target)
	if err != nil && ctx.Err() != nil {
		return nil, false, ctx.Err()
	}
	if w.URL == "" {
		w.URL = target
	}
	if err == nil && w.Reachable {
		// Only a working site is cached: an outage is worth a fresh look.
		r.storeCached(ctx, "website", company, websiteResult{URL: target, Website: w})
		return func(f *triage.Findings) { f.Facts.Website = w }, false, nil
	}
	w.Reachable = false
	why, whyArg := "no answer", ""
	if err != nil {
		why = truncate(err.Error(), 60)
		whyArg = why
	}
	var flag triage.Flag
	if given {
		flag = triage.Flag{Code: triage.FlagWebsiteUnreachable, Source: "website",
			Detail: fmt.Sprintf("The website %s does not work: %s.", host, why),
			Args:   map[string]string{triage.ArgHost: host, triage.ArgWhy: whyArg}}
	} else {
		flag = triage.Flag{Code: triage.FlagNoWebsite, Source: "website",
			Detail: fmt.Sprintf("No website given, and nothing answers at %s.", target),
			Args:   map[string]string{triage.ArgHost: target, triage.ArgVariant: triage.VariantNoAnswer}}
	}
	return func(f *triage.Findings) {
		f.Facts.Website = w
		f.Flags = append(f.Flags, flag)
	}, false, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "…"
}

// limits remembers, per server, until when a 429 told us to stay away.
type limits struct {
	mu    sync.Mutex
	until map[string]time.Time
}

func (l *limits) blocked(key string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return now.Before(l.until[key])
}

func (l *limits) block(key string, until time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if until.After(l.until[key]) {
		l.until[key] = until
	}
}

// retryAfter reads a Retry-After header (seconds or an HTTP date); without
// one, a minute. Capped so a hostile server cannot switch us off for good.
func retryAfter(h http.Header, now time.Time) time.Duration {
	const def, maxWait = time.Minute, 6 * time.Hour
	v := strings.TrimSpace(h.Get("Retry-After"))
	d := def
	if v != "" {
		var secs int
		if _, err := fmt.Sscanf(v, "%d", &secs); err == nil && secs >= 0 && fmt.Sprint(secs) == v {
			d = time.Duration(secs) * time.Second
		} else if t, err := http.ParseTime(v); err == nil {
			d = t.Sub(now)
		}
	}
	return max(0, min(d, maxWait))
}
