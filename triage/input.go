package triage

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	"golang.org/x/net/idna"
)

// LeadInput is a lead as a person or a form submitted it: untrusted text.
type LeadInput struct {
	Company   string
	Name      string
	Email     string
	Phone     string
	Website   string
	Message   string
	Source    string
	Founded   string
	Employees string
	Extra     map[string]string
}

// Length caps, in runes. Generous for real input, small enough to keep a card
// inside Block Kit limits and a flood out of the database.
const (
	MaxShortField = 200
	MaxEmail      = 254
	MaxPhone      = 40
	MaxWebsite    = 2000
	MaxMessage    = 5000
	MaxExtraKeys  = 30
	MaxExtraKey   = 64
	MaxExtraValue = 1000
)

// Fields lists the input fields in the order validation reports them.
var Fields = []string{"company", "name", "email", "phone", "website", "message", "source", "founded", "employees"}

// NewLead validates and normalises in. It returns a *FieldError naming the
// first field that is wrong. The lead has no ID yet; the store assigns it.
func NewLead(in LeadInput, now time.Time) (Lead, error) {
	l := Lead{
		Status:    StatusPending,
		Company:   cleanLine(in.Company),
		Name:      cleanLine(in.Name),
		Email:     cleanLine(in.Email),
		Phone:     cleanLine(in.Phone),
		Website:   cleanLine(in.Website),
		Message:   cleanText(in.Message),
		Source:    cleanLine(in.Source),
		CreatedAt: now.UTC(),
	}
	for _, c := range []struct {
		field string
		v     string
		max   int
	}{
		{"company", l.Company, MaxShortField},
		{"name", l.Name, MaxShortField},
		{"email", l.Email, MaxEmail},
		{"phone", l.Phone, MaxPhone},
		{"website", l.Website, MaxWebsite},
		{"message", l.Message, MaxMessage},
		{"source", l.Source, MaxShortField},
	} {
		if n := len([]rune(c.v)); n > c.max {
			return Lead{}, &FieldError{Field: c.field, Problem: fmt.Sprintf("too long (%d characters, at most %d)", n, c.max), Reason: ReasonTooLong, N: n, Max: c.max}
		}
	}
	if l.Company == "" && l.Email == "" && l.Website == "" {
		return Lead{}, &FieldError{Field: "company", Problem: "at least one of company, email or website is required", Reason: ReasonRequired}
	}
	if l.Email != "" {
		email, err := NormaliseEmail(l.Email)
		if err != nil {
			return Lead{}, fieldError("email", err)
		}
		l.Email = email
	}
	if l.Phone != "" {
		if err := checkPhone(l.Phone); err != nil {
			return Lead{}, fieldError("phone", err)
		}
	}
	if l.Website != "" {
		site, err := NormaliseWebsite(l.Website)
		if err != nil {
			return Lead{}, fieldError("website", err)
		}
		l.Website = site
		u, _ := url.Parse(site)
		l.Domain = strings.TrimPrefix(u.Hostname(), "www.")
	} else if l.Email != "" {
		l.Domain = l.Email[strings.LastIndexByte(l.Email, '@')+1:]
	}
	if s := cleanLine(in.Founded); s != "" {
		y, err := strconv.Atoi(s)
		if err != nil {
			return Lead{}, &FieldError{Field: "founded", Problem: fmt.Sprintf("%q is not a year", truncateRunes(s, 20)), Reason: ReasonNotYear, Value: truncateRunes(s, 20)}
		}
		if y < 1800 || y > now.Year() {
			return Lead{}, &FieldError{Field: "founded", Problem: fmt.Sprintf("%d is not a plausible founding year (1800–%d)", y, now.Year()), Reason: ReasonYearRange, N: y, Max: now.Year()}
		}
		l.Founded = y
	}
	if s := cleanLine(in.Employees); s != "" {
		n, err := strconv.Atoi(strings.ReplaceAll(s, "_", ""))
		if err != nil {
			return Lead{}, &FieldError{Field: "employees", Problem: fmt.Sprintf("%q is not a whole number", truncateRunes(s, 20)), Reason: ReasonNotNumber, Value: truncateRunes(s, 20)}
		}
		if n < 0 || n > 10_000_000 {
			return Lead{}, &FieldError{Field: "employees", Problem: fmt.Sprintf("%d is not a plausible number of employees", n), Reason: ReasonEmployeesRange, N: n}
		}
		l.Employees = n
	}
	if len(in.Extra) > MaxExtraKeys {
		return Lead{}, &FieldError{Field: "extra", Problem: fmt.Sprintf("too many extra fields (%d, at most %d)", len(in.Extra), MaxExtraKeys), Reason: ReasonTooManyExtra, N: len(in.Extra), Max: MaxExtraKeys}
	}
	for k, v := range in.Extra {
		k, v = cleanLine(k), cleanText(v)
		if k == "" {
			continue
		}
		if len([]rune(k)) > MaxExtraKey {
			return Lead{}, &FieldError{Field: "extra", Problem: fmt.Sprintf("field name %q is too long (at most %d characters)", truncateRunes(k, 20), MaxExtraKey), Reason: ReasonExtraName, Value: truncateRunes(k, 20), Max: MaxExtraKey}
		}
		if len([]rune(v)) > MaxExtraValue {
			return Lead{}, &FieldError{Field: k, Problem: fmt.Sprintf("too long (at most %d characters)", MaxExtraValue), Reason: ReasonTooLong, Max: MaxExtraValue}
		}
		if l.Extra == nil {
			l.Extra = map[string]string{}
		}
		l.Extra[k] = v
	}
	return l, nil
}

// NormaliseEmail checks that s is one bare address and lowercases its domain.
func NormaliseEmail(s string) (string, error) {
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return "", &problem{msg: fmt.Sprintf("%q is not an e-mail address", truncateRunes(s, 60)), reason: ReasonNotEmail, value: truncateRunes(s, 60)}
	}
	at := strings.LastIndexByte(s, '@')
	local, domain := s[:at], s[at+1:]
	host, err := normaliseHost(domain)
	if err != nil {
		return "", &problem{msg: fmt.Sprintf("%q is not an e-mail address: %v", truncateRunes(s, 60), err), reason: ReasonNotEmail, value: truncateRunes(s, 60)}
	}
	return local + "@" + host, nil
}

// NormaliseWebsite turns "example.com", "www.example.com/x" or
// "https://Example.com" into an absolute http(s) URL with a lowercase ASCII
// host. It refuses other schemes, credentials, ports and IP addresses: a
// company's website is a public name, and anything else is a way to make the
// bot fetch something it should not.
func NormaliseWebsite(s string) (string, error) {
	raw := s
	if i := strings.Index(raw, "://"); i < 0 || strings.ContainsAny(raw[:i], "/?#") {
		if strings.Contains(strings.SplitN(raw, "/", 2)[0], ":") {
			return "", &problem{msg: fmt.Sprintf("%q is not a web address", truncateRunes(s, 60)), reason: ReasonNotWebAddress, value: truncateRunes(s, 60)}
		}
		raw = "https://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", &problem{msg: fmt.Sprintf("%q is not a web address", truncateRunes(s, 60)), reason: ReasonNotWebAddress, value: truncateRunes(s, 60)}
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
	default:
		return "", &problem{msg: fmt.Sprintf("only http and https addresses are accepted, not %q", truncateRunes(u.Scheme, 20)), reason: ReasonScheme, value: truncateRunes(u.Scheme, 20)}
	}
	if u.User != nil {
		return "", &problem{msg: "a web address with a user name or password is not accepted", reason: ReasonCredentials}
	}
	if u.Port() != "" {
		return "", &problem{msg: "a web address with a port is not accepted", reason: ReasonPort}
	}
	host, err := normaliseHost(u.Hostname())
	if err != nil {
		return "", err
	}
	u.Scheme = strings.ToLower(u.Scheme)
	u.Host = host
	u.Fragment = ""
	u.RawFragment = ""
	return u.String(), nil
}

// hostProfile is IDNA's lookup profile plus DNS length rules, so empty or
// over-long labels are refused.
var hostProfile = idna.New(idna.MapForLookup(), idna.BidiRule(), idna.VerifyDNSLength(true))

// normaliseHost lowercases a DNS name, converts IDN to its xn-- form (so
// homoglyphs show) and refuses IP addresses and single labels.
func normaliseHost(h string) (string, error) {
	h = strings.TrimSuffix(strings.ToLower(h), ".")
	if h == "" {
		return "", &problem{msg: "the domain is missing", reason: ReasonNoDomain}
	}
	if net.ParseIP(strings.Trim(h, "[]")) != nil || looksNumeric(h) {
		return "", &problem{msg: fmt.Sprintf("%q is an IP address, not a domain name", truncateRunes(h, 60)), reason: ReasonIPAddress, value: truncateRunes(h, 60)}
	}
	a, err := hostProfile.ToASCII(h)
	if err != nil || strings.HasSuffix(a, ".") {
		return "", &problem{msg: fmt.Sprintf("%q is not a valid domain name", truncateRunes(h, 60)), reason: ReasonBadDomain, value: truncateRunes(h, 60)}
	}
	if !strings.Contains(a, ".") {
		return "", &problem{msg: fmt.Sprintf("%q is not a full domain name", truncateRunes(h, 60)), reason: ReasonNotFullDomain, value: truncateRunes(h, 60)}
	}
	if len(a) > 253 {
		return "", &problem{msg: "the domain name is too long", reason: ReasonDomainTooLong}
	}
	return a, nil
}

// looksNumeric catches IP literals in decimal, octal or hex forms
// ("2130706433", "0x7f.1") that net.ParseIP does not recognise.
func looksNumeric(h string) bool {
	last := h[strings.LastIndexByte(h, '.')+1:]
	if last == "" {
		return false
	}
	if strings.HasPrefix(last, "0x") {
		return true
	}
	for _, r := range last {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

func checkPhone(s string) error {
	digits := 0
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case strings.ContainsRune("+-()./ ", r):
		default:
			return &problem{msg: fmt.Sprintf("%q is not a phone number (digits, spaces and + - ( ) . / only)", truncateRunes(s, 40)), reason: ReasonPhoneCharacters, value: truncateRunes(s, 40)}
		}
	}
	if digits < 5 || digits > 20 {
		return &problem{msg: fmt.Sprintf("%q is not a phone number", truncateRunes(s, 40)), reason: ReasonNotPhone, value: truncateRunes(s, 40)}
	}
	return nil
}

// cleanLine trims a one-line field and removes control, bidi and zero-width
// characters, which can disguise text in Slack.
func cleanLine(s string) string {
	return strings.TrimSpace(strings.Join(strings.Fields(stripInvisible(s, false)), " "))
}

// cleanText is cleanLine for multi-line text: newlines survive.
func cleanText(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.TrimSpace(stripInvisible(s, true))
}

func stripInvisible(s string, keepNewlines bool) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\n' && keepNewlines:
			return r
		case r == '\t' || r == '\n' || r == '\r':
			return ' '
		case unicode.IsControl(r), unicode.Is(unicode.Cf, r), r == '\uFFFD':
			// Cf covers bidi overrides (U+202E) and zero-width characters (U+200B..U+200D, U+FEFF).
			return -1
		}
		return r
	}, s)
}

// Fingerprint identifies the content of a submission, so that a form posted
// twice in a row (a double click, a client retry) makes one lead.
func (in LeadInput) Fingerprint() string {
	h := sha256.New()
	for _, v := range []string{in.Company, in.Name, in.Email, in.Phone, in.Website, in.Message, in.Source, in.Founded, in.Employees} {
		v = strings.TrimSpace(v)
		fmt.Fprintf(h, "%d:%s|", len(v), v)
	}
	keys := make([]string, 0, len(in.Extra))
	for k := range in.Extra {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(h, "%d:%s=%d:%s|", len(k), k, len(in.Extra[k]), in.Extra[k])
	}
	return hex.EncodeToString(h.Sum(nil))
}
