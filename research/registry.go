package research

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode"

	"github.com/leadtriage/leadtriage/triage"
)

// Registry API defaults.
const (
	kvkBaseURL            = "https://api.kvk.nl"
	companiesHouseBaseURL = "https://api.company-information.service.gov.uk"
	maxRegistryBody       = 1 << 20
)

// registryResult is what a registry said; it is what gets cached. A nil
// Registry means nothing matched the company's name.
type registryResult struct {
	Registry *triage.Registry `json:"registry,omitempty"`
}

// errNoMatch is a registry's "no results": an answer, not a failure.
var errNoMatch = errors.New("no match")

// registryProviders returns the registry providers worth asking: only those
// with a key, and the one for the lead's country when that is clear.
func (r *Researcher) registryProviders(l triage.Lead, company, emailDomain string, refresh bool) []provider {
	name := normalizeCompany(l.Company)
	if name == "" {
		return nil
	}
	kvk := r.cfg.KvKKey != ""
	ch := r.cfg.CompaniesHouseKey != ""
	dutch, british := country(l.Company, company, emailDomain)
	switch {
	case dutch && !british && kvk:
		ch = false
	case british && !dutch && ch:
		kvk = false
	}
	// Cached per company domain; without one, per name.
	subject := company
	if subject == "" {
		subject = "name:" + name
	}
	var ps []provider
	if kvk {
		ps = append(ps, provider{"kvk", func(ctx context.Context) (apply, bool, error) {
			return r.registryProvider(ctx, "kvk", subject, refresh, func(ctx context.Context) (*triage.Registry, error) {
				return r.kvkLookup(ctx, l.Company)
			})
		}})
	}
	if ch {
		ps = append(ps, provider{"companies_house", func(ctx context.Context) (apply, bool, error) {
			return r.registryProvider(ctx, "companies_house", subject, refresh, func(ctx context.Context) (*triage.Registry, error) {
				return r.companiesHouseLookup(ctx, l.Company)
			})
		}})
	}
	return ps
}

func (r *Researcher) registryProvider(ctx context.Context, name, subject string, refresh bool, lookup func(context.Context) (*triage.Registry, error)) (apply, bool, error) {
	var res registryResult
	cached := !refresh && r.loadCached(ctx, name, subject, &res)
	if !cached {
		reg, err := lookup(ctx)
		if err != nil && !errors.Is(err, errNoMatch) {
			return nil, false, err
		}
		res.Registry = reg
		r.storeCached(ctx, name, subject, res)
	}
	// Providers apply in order (KvK first): the first match wins.
	return func(f *triage.Findings) {
		if f.Facts.Registry == nil && res.Registry != nil {
			reg := *res.Registry
			f.Facts.Registry = &reg
		}
	}, cached, nil
}

// country guesses whether a lead is Dutch or British from its company name's
// legal form and its domains.
func country(companyName string, domains ...string) (dutch, british bool) {
	for _, d := range domains {
		dutch = dutch || strings.HasSuffix(d, ".nl")
		british = british || strings.HasSuffix(d, ".uk")
	}
	for _, t := range companyTokens(companyName) {
		switch t {
		case "bv", "nv", "vof", "cv":
			dutch = true
		case "ltd", "limited", "plc", "llp":
			british = true
		}
	}
	return dutch, british
}

// legalForms are dropped when comparing names: "Acme B.V." is "ACME BV".
var legalForms = map[string]bool{
	"bv": true, "nv": true, "vof": true, "cv": true, "bvba": true, "vzw": true,
	"ltd": true, "limited": true, "plc": true, "llp": true, "lp": true, "cic": true,
	"inc": true, "incorporated": true, "llc": true, "corp": true, "corporation": true,
	"gmbh": true, "ag": true, "ug": true, "sa": true, "sarl": true, "srl": true, "co": true,
}

// companyTokens splits a company name into lowercase words, dropping
// punctuation; dots vanish so that "B.V." becomes "bv", and runs of single
// letters join ("B. V." too).
func companyTokens(s string) []string {
	s = strings.ToLower(s)
	s = strings.NewReplacer(".", "", "'", "", "’", "", "&", " and ").Replace(s)
	words := strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	var out []string
	for i := 0; i < len(words); i++ {
		w := words[i]
		for len([]rune(w)) == 1 && i+1 < len(words) && len([]rune(words[i+1])) == 1 {
			i++
			w += words[i]
		}
		out = append(out, w)
	}
	return out
}

// normalizeCompany is the name a registry match is judged by.
func normalizeCompany(s string) string {
	var out []string
	for _, t := range companyTokens(s) {
		if !legalForms[t] {
			out = append(out, t)
		}
	}
	return strings.Join(out, " ")
}

// sameCompany reports whether two company names match closely: equal but for
// case, punctuation and legal form.
func sameCompany(a, b string) bool {
	na := normalizeCompany(a)
	return na != "" && na == normalizeCompany(b)
}

// getJSON does one registry request and decodes the answer into v. key
// names the service for rate limits; errors never contain the URL or key.
func (r *Researcher) getJSON(ctx context.Context, key string, req *http.Request, v any) error {
	if r.limits.blocked(key, r.now()) {
		return failure("rate limited")
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", userAgent)
	resp, err := r.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return failure("no answer")
	}
	defer func() { _ = resp.Body.Close() }()
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return failure("key refused")
	case resp.StatusCode == http.StatusTooManyRequests:
		r.limits.block(key, r.now().Add(retryAfter(resp.Header, r.now())))
		return failure("rate limited")
	case resp.StatusCode == http.StatusNotFound:
		return errNoMatch
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		return failure(fmt.Sprintf("HTTP %d", resp.StatusCode))
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxRegistryBody)).Decode(v); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return failure("bad answer")
	}
	return nil
}

func baseURL(override, def string) string {
	if override != "" {
		return strings.TrimSuffix(override, "/")
	}
	return def
}

// KvK API shapes (developers.kvk.nl: Zoeken API v2, Basisprofiel API v1),
// only the fields we read.
type kvkSearch struct {
	Resultaten []struct {
		KvKNummer string `json:"kvkNummer"`
		Naam      string `json:"naam"`
	} `json:"resultaten"`
}

type kvkProfile struct {
	KvKNummer               string `json:"kvkNummer"`
	Naam                    string `json:"naam"`
	FormeleRegistratiedatum string `json:"formeleRegistratiedatum"` // YYYYMMDD
	TotaalWerkzamePersonen  int    `json:"totaalWerkzamePersonen"`
	MaterieleRegistratie    struct {
		DatumAanvang string `json:"datumAanvang"`
		DatumEinde   string `json:"datumEinde"`
	} `json:"materieleRegistratie"`
}

// kvkLookup searches the Dutch Chamber of Commerce by name and reads the
// matching company's basic profile.
func (r *Researcher) kvkLookup(ctx context.Context, company string) (*triage.Registry, error) {
	base := baseURL(r.cfg.KvKURL, kvkBaseURL)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/v2/zoeken?"+url.Values{"naam": {company}}.Encode(), nil)
	if err != nil {
		return nil, failure("bad KvK URL")
	}
	req.Header.Set("apikey", r.cfg.KvKKey)
	var s kvkSearch
	if err := r.getJSON(ctx, "kvk", req, &s); err != nil {
		return nil, err
	}
	number := ""
	for _, res := range s.Resultaten {
		if res.KvKNummer != "" && sameCompany(res.Naam, company) {
			number = res.KvKNummer
			break
		}
	}
	if number == "" {
		return nil, errNoMatch
	}
	req, err = http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/v1/basisprofielen/"+url.PathEscape(number), nil)
	if err != nil {
		return nil, failure("bad KvK URL")
	}
	req.Header.Set("apikey", r.cfg.KvKKey)
	var p kvkProfile
	if err := r.getJSON(ctx, "kvk", req, &p); err != nil {
		if errors.Is(err, errNoMatch) {
			return nil, failure("profile missing")
		}
		return nil, err
	}
	reg := &triage.Registry{Source: "kvk", Number: number, Name: p.Naam, Status: "active",
		Employees: max(p.TotaalWerkzamePersonen, 0),
		URL:       "https://www.kvk.nl/zoeken/?" + url.Values{"source": {"all"}, "q": {number}}.Encode()}
	if reg.Name == "" {
		reg.Name = company
	}
	if p.MaterieleRegistratie.DatumEinde != "" {
		reg.Status = "dissolved"
	}
	for _, d := range []string{p.FormeleRegistratiedatum, p.MaterieleRegistratie.DatumAanvang} {
		if t, err := time.Parse("20060102", d); err == nil {
			reg.Incorporated = t
			break
		}
	}
	return reg, nil
}

// Companies House search shape (developer.company-information.service.gov.uk,
// "Search companies"), only the fields we read.
type chSearch struct {
	Items []struct {
		CompanyNumber  string `json:"company_number"`
		Title          string `json:"title"`
		CompanyStatus  string `json:"company_status"`
		DateOfCreation string `json:"date_of_creation"` // YYYY-MM-DD
	} `json:"items"`
}

// companiesHouseLookup searches the UK register by name.
func (r *Researcher) companiesHouseLookup(ctx context.Context, company string) (*triage.Registry, error) {
	base := baseURL(r.cfg.CompaniesHouseURL, companiesHouseBaseURL)
	q := url.Values{"q": {company}, "items_per_page": {"5"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/search/companies?"+q.Encode(), nil)
	if err != nil {
		return nil, failure("bad Companies House URL")
	}
	// The key is the user name, with an empty password.
	req.SetBasicAuth(r.cfg.CompaniesHouseKey, "")
	var s chSearch
	if err := r.getJSON(ctx, "companies_house", req, &s); err != nil {
		return nil, err
	}
	for _, it := range s.Items {
		if it.CompanyNumber == "" || !sameCompany(it.Title, company) {
			continue
		}
		reg := &triage.Registry{Source: "companies_house", Number: it.CompanyNumber, Name: it.Title,
			Status: strings.ReplaceAll(it.CompanyStatus, "-", " "),
			URL:    "https://find-and-update.company-information.service.gov.uk/company/" + url.PathEscape(it.CompanyNumber)}
		if t, err := time.Parse("2006-01-02", it.DateOfCreation); err == nil {
			reg.Incorporated = t
		}
		return reg, nil
	}
	return nil, errNoMatch
}
