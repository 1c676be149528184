package research

import (
	"bufio"
	"bytes"
	_ "embed"
	"fmt"
	"strings"

	"golang.org/x/net/publicsuffix"

	"github.com/leadtriage/leadtriage/triage"
)

var (
	//go:embed data/freemail.txt
	freemailData []byte
	//go:embed data/disposable.txt
	disposableData []byte

	freemailList   = parseDomainList(freemailData)
	disposableList = parseDomainList(disposableData)
)

// roleLocals are local parts that name a function, not a person: worth
// noting, because nobody in particular asked.
var roleLocals = map[string]bool{
	"info": true, "sales": true, "contact": true, "hello": true, "hi": true, "office": true,
	"admin": true, "administrator": true, "support": true, "team": true, "mail": true,
	"post": true, "postmaster": true, "webmaster": true, "hostmaster": true, "help": true,
	"enquiries": true, "enquiry": true, "inquiries": true, "inquiry": true, "marketing": true,
	"service": true, "customerservice": true, "billing": true, "accounts": true, "finance": true,
	"hr": true, "jobs": true, "careers": true, "press": true, "media": true, "noreply": true,
	"no-reply": true, "reception": true, "secretariaat": true, "receptie": true,
	"verkoop": true, "klantenservice": true, "administratie": true, "algemeen": true,
	"welkom": true, "bureau": true, "kantoor": true, "vragen": true,
}

// domainList is a set of domains plus "name.*" wildcards.
type domainList struct {
	exact map[string]bool
	any   map[string]bool // name -> matches name.<any public suffix>
}

func parseDomainList(data []byte) domainList {
	l := domainList{exact: map[string]bool{}, any: map[string]bool{}}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.ToLower(strings.TrimSpace(sc.Text()))
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if name, ok := strings.CutSuffix(line, ".*"); ok {
			l.any[name] = true
			continue
		}
		l.exact[line] = true
	}
	return l
}

// match reports whether domain, or its registrable domain, is on the list,
// and which entry matched (for the flag's detail).
func (l domainList) match(domain string) (string, bool) {
	domain = strings.TrimSuffix(strings.ToLower(domain), ".")
	if domain == "" {
		return "", false
	}
	if l.exact[domain] {
		return domain, true
	}
	reg, err := publicsuffix.EffectiveTLDPlusOne(domain)
	if err != nil {
		return "", false
	}
	if l.exact[reg] {
		return reg, true
	}
	suffix, _ := publicsuffix.PublicSuffix(reg)
	if name := strings.TrimSuffix(reg, "."+suffix); l.any[name] {
		return reg, true
	}
	return "", false
}

// FreeMailDomain reports whether domain belongs to a free-mail provider.
func FreeMailDomain(domain string) bool { _, ok := freemailList.match(domain); return ok }

// DisposableDomain reports whether domain belongs to a throw-away mail service.
func DisposableDomain(domain string) bool { _, ok := disposableList.match(domain); return ok }

// emailFacts are the e-mail checks: no network, never cached.
type emailFacts struct {
	Domain     string
	FreeMail   bool
	Disposable bool
	Role       bool
	Flags      []triage.Flag
}

// checkEmail looks at an address. It returns ok false when the address has
// no usable domain.
func checkEmail(addr string) (emailFacts, bool) {
	addr = strings.TrimSpace(addr)
	at := strings.LastIndexByte(addr, '@')
	if at <= 0 || at == len(addr)-1 {
		return emailFacts{}, false
	}
	local := strings.ToLower(addr[:at])
	domain := strings.TrimSuffix(strings.ToLower(addr[at+1:]), ".")
	if !strings.Contains(domain, ".") || strings.ContainsAny(domain, " @/\\") {
		return emailFacts{}, false
	}
	f := emailFacts{Domain: domain}
	// "sales+leads@" is still sales@.
	if plus := strings.IndexByte(local, '+'); plus > 0 {
		local = local[:plus]
	}
	f.Role = roleLocals[local]
	if entry, ok := disposableList.match(domain); ok {
		f.Disposable = true
		f.Flags = append(f.Flags, triage.Flag{Code: triage.FlagDisposableEmail, Source: "email",
			Detail: fmt.Sprintf("Disposable address at %s: it stops working after a while.", entry),
			Args:   map[string]string{triage.ArgDomain: entry}})
	} else if _, ok := freemailList.match(domain); ok {
		f.FreeMail = true
		f.Flags = append(f.Flags, triage.Flag{Code: triage.FlagFreeEmail, Source: "email",
			Detail: fmt.Sprintf("Free-mail address at %s: no company domain behind it.", domain),
			Args:   map[string]string{triage.ArgDomain: domain}})
	}
	return f, true
}
