package research

import (
	"context"
	"sync"

	"github.com/leadtriage/leadtriage/triage"
)

// CreditBureau is a credit bureau research can ask about a company.
// Creditsafe is built in (CreditsafeUsername/Password); another bureau
// (Graydon, Altares, …) implements this interface and goes in
// Config.Bureaus. Each bureau is one provider, named by Name on the card
// and in research_incomplete; its answers are cached per company for
// Config.CacheTTL.
type CreditBureau interface {
	// Name is the provider's name: lowercase, stable ("creditsafe").
	Name() string
	// Check finds the company and reads its credit report, within ctx's
	// deadline. It returns nil, nil when the bureau knows no such company.
	// An error made with Fail shows its reason on the card; any other
	// error shows as "failed", so that no secret or server text leaks.
	Check(ctx context.Context, q CreditQuery) (*triage.Credit, error)
}

// CreditQuery is what a bureau is asked: the registration number when a
// registry matched, else the name, always with the country.
type CreditQuery struct {
	Name    string // the company's name as the lead gave it
	Country string // ISO 3166-1 alpha-2: "NL", "GB"
	RegNo   string // KvK or Companies House number; "" = search by name
	Domain  string // the company's domain, for bureaus that search by it
}

// Fail returns a provider error whose reason ("rate limited", "login
// refused") is fit for the card: short, with no URL, key or server text.
func Fail(reason string) error { return failure(reason) }

// creditResult is what a bureau provider caches; a nil Credit means the
// bureau knows no such company.
type creditResult struct {
	Credit *triage.Credit `json:"credit,omitempty"`
}

// bureaus returns the configured credit bureaus: Creditsafe when its
// credentials are set, then Config.Bureaus.
func (r *Researcher) bureaus() []CreditBureau {
	var out []CreditBureau
	if r.creditsafe != nil {
		out = append(out, r.creditsafe)
	}
	return append(out, r.cfg.Bureaus...)
}

// creditProviders returns one provider per bureau. The registry providers
// run alongside; a bureau waits for their answer (registry) so that it can
// look the company up by its registration number, the one match that
// cannot be wrong.
func (r *Researcher) creditProviders(l triage.Lead, company, emailDomain string, registry func(context.Context) *triage.Registry, refresh bool) []provider {
	bs := r.bureaus()
	if len(bs) == 0 || normalizeCompany(l.Company) == "" {
		return nil
	}
	var ps []provider
	for _, b := range bs {
		ps = append(ps, provider{b.Name(), func(ctx context.Context) (apply, bool, error) {
			q := creditQuery(l, company, emailDomain, registry(ctx))
			if q.Country == "" {
				// A bureau search needs a country; without one there is nothing to ask.
				return nil, false, nil
			}
			subject := q.Country + ":name:" + normalizeCompany(q.Name)
			if q.RegNo != "" {
				subject = q.Country + ":no:" + q.RegNo
			}
			if company != "" {
				// Ending in the domain lets forgetting a domain drop its
				// cached report too (storage purges keys ending in "/"+domain).
				subject += "/" + company
			}
			var res creditResult
			cached := !refresh && r.loadCached(ctx, b.Name(), subject, &res)
			if !cached {
				c, err := b.Check(ctx, q)
				if err != nil {
					return nil, false, err
				}
				if c != nil {
					c.Source = b.Name()
				}
				res.Credit = c
				r.storeCached(ctx, b.Name(), subject, res)
			}
			return func(f *triage.Findings) {
				// Bureaus apply in order (Creditsafe first): the first report wins.
				if f.Facts.Credit == nil && res.Credit != nil {
					c := *res.Credit
					f.Facts.Credit = &c
				}
			}, cached, nil
		}})
	}
	return ps
}

// creditQuery builds the question for a bureau from what the registries
// found, or else from the lead's name and the country its name and domains
// suggest.
func creditQuery(l triage.Lead, company, emailDomain string, reg *triage.Registry) CreditQuery {
	q := CreditQuery{Name: l.Company, Domain: company}
	if reg != nil {
		switch reg.Source {
		case "kvk":
			q.Country = "NL"
		case "companies_house":
			q.Country = "GB"
		}
		if q.Country != "" {
			q.RegNo = reg.Number
			return q
		}
	}
	switch dutch, british := country(l.Company, company, emailDomain); {
	case dutch && !british:
		q.Country = "NL"
	case british && !dutch:
		q.Country = "GB"
	}
	return q
}

// registryWatch lets the credit providers wait for the registry providers
// of the same run: it wraps their run functions and records what they found.
type registryWatch struct {
	mu    sync.Mutex
	found []*triage.Registry
	done  chan struct{}
}

// watchRegistries wraps ps (the registry providers) in place.
func watchRegistries(ps []provider) *registryWatch {
	w := &registryWatch{found: make([]*triage.Registry, len(ps)), done: make(chan struct{})}
	var wg sync.WaitGroup
	wg.Add(len(ps))
	for i := range ps {
		run := ps[i].run
		ps[i].run = func(ctx context.Context) (apply, bool, error) {
			defer wg.Done() // also when run panics
			a, cached, err := run(ctx)
			if err == nil && a != nil {
				// apply is pure: running it on a scratch value reads the result.
				var scratch triage.Findings
				a(&scratch)
				w.mu.Lock()
				w.found[i] = scratch.Facts.Registry
				w.mu.Unlock()
			}
			return a, cached, err
		}
	}
	go func() { wg.Wait(); close(w.done) }()
	return w
}

// registry waits for every registry provider (or ctx) and returns the first
// match in provider order, as the findings will show it.
func (w *registryWatch) registry(ctx context.Context) *triage.Registry {
	select {
	case <-w.done:
	case <-ctx.Done():
		return nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, r := range w.found {
		if r != nil {
			return r
		}
	}
	return nil
}
