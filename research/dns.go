package research

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/leadtriage/leadtriage/triage"
)

// dnsResult is what DNS says about an e-mail domain; it is what gets cached.
type dnsResult struct {
	MX   []string `json:"mx,omitempty"`
	Live bool     `json:"live"`
}

func (r *Researcher) dnsProvider(ctx context.Context, domain string, refresh bool) (apply, bool, error) {
	var res dnsResult
	cached := !refresh && r.loadCached(ctx, "dns", domain, &res)
	if !cached {
		var err error
		if res, err = r.mailServers(ctx, domain); err != nil {
			return nil, false, err
		}
		r.storeCached(ctx, "dns", domain, res)
	}
	return func(f *triage.Findings) {
		f.Facts.MX = res.MX
		f.Facts.EmailDomainLive = res.Live
		if !res.Live {
			f.Flags = append(f.Flags, triage.Flag{Code: triage.FlagInvalidEmailDomain, Source: "dns",
				Detail: fmt.Sprintf("%s has no mail servers: mail to it bounces.", domain),
				Args:   map[string]string{triage.ArgDomain: domain}})
		}
	}, cached, nil
}

// mailServers looks up domain's MX records and, without any, its A/AAAA
// records (RFC 5321 §5.1: the implicit MX). Only a definite "no such
// records" answer counts as not live; a resolver that fails or does not
// answer is an error, because we do not know.
func (r *Researcher) mailServers(ctx context.Context, domain string) (dnsResult, error) {
	// Fully qualified, so the resolver's search list is not tried.
	fqdn := strings.TrimSuffix(domain, ".") + "."
	mxs, err := r.resolver.LookupMX(ctx, fqdn)
	if err != nil && !notFound(err) {
		return dnsResult{}, dnsFailure(ctx, err)
	}
	if len(mxs) > 0 {
		var res dnsResult
		for _, mx := range mxs {
			if h := strings.TrimSuffix(mx.Host, "."); h != "" {
				res.MX = append(res.MX, h)
			}
		}
		// A "null MX" (RFC 7505, a single "." exchanger) says: no mail here.
		res.Live = len(res.MX) > 0
		return res, nil
	}
	addrs, err := r.resolver.LookupIPAddr(ctx, fqdn)
	if err != nil && !notFound(err) {
		return dnsResult{}, dnsFailure(ctx, err)
	}
	return dnsResult{Live: len(addrs) > 0}, nil
}

func notFound(err error) bool {
	var de *net.DNSError
	return errors.As(err, &de) && de.IsNotFound
}

func dnsFailure(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	var de *net.DNSError
	if errors.As(err, &de) && de.IsTimeout {
		return failure("timed out")
	}
	return failure("resolver failed")
}
