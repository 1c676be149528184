package intake

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"sync"
	"time"
)

// SignatureHeader carries the request's signature:
//
//	X-Leadtriage-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">
//
// keyed with an intake secret. Several v1= may be given (one per secret while
// a secret is rotated), as Stripe does; keys other than t and v1 are ignored
// so that a later scheme can be added next to v1. The timestamp makes a
// captured request useless after SignatureTolerance, and the server
// remembers every signature it accepted until then, so it cannot be used
// twice. The legacy "sha256=<hex HMAC-SHA256 of the raw body>" form has
// neither protection and is accepted only with Config.AcceptLegacySignature.
const SignatureHeader = "X-Leadtriage-Signature"

// SignatureTolerance is how far a signature's timestamp may lie from the
// server's clock, either way.
const SignatureTolerance = 5 * time.Minute

// maxSignatures bounds the v1= values one header may carry (and so the HMAC
// comparisons one request costs).
const maxSignatures = 8

// SignatureLedger remembers the signed requests intake accepted, so that a
// captured one cannot be replayed while its timestamp is still inside the
// tolerance. *storage.DB implements it durably.
type SignatureLedger interface {
	// SpendSignature records id until expires and reports whether it was
	// new (false: the signature was used before).
	SpendSignature(ctx context.Context, id []byte, expires, now time.Time) (first bool, err error)
	// ReleaseSignature forgets id again: the request it signed changed
	// nothing (it was refused or the store failed), so its sender may retry
	// it as it is.
	ReleaseSignature(ctx context.Context, id []byte, expires time.Time) error
}

// signedRequest is what a valid "t=,v1=" signature identifies: the request
// (its timestamp and body) and when its signature expires.
type signedRequest struct {
	id      []byte // sha256 of "<t>.<body>": the same request, whatever secret or extra v1 signed it
	expires time.Time
}

// Sign returns the X-Leadtriage-Signature value for body signed at t under
// secret, for senders and tests.
func Sign(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + hex.EncodeToString(signedMAC([]byte(secret), ts, body))
}

// SignLegacy returns the legacy body-only "sha256=<hex>" signature, accepted
// only with Config.AcceptLegacySignature.
func SignLegacy(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

func signedMAC(key []byte, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// parseSignature splits "t=…,v1=…[,v1=…]" into the timestamp as sent and
// the decoded v1 values. ok is false for anything malformed: no t, two t's,
// a t that is not plain decimal seconds, no v1, or a v1 that is not 32
// bytes of hex.
func parseSignature(h string) (ts string, at time.Time, sigs [][]byte, ok bool) {
	for item := range strings.SplitSeq(h, ",") {
		k, v, found := strings.Cut(strings.TrimSpace(item), "=")
		if !found {
			return "", time.Time{}, nil, false
		}
		switch k {
		case "t":
			if ts != "" || len(v) == 0 || len(v) > 12 || strings.Trim(v, "0123456789") != "" {
				return "", time.Time{}, nil, false
			}
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return "", time.Time{}, nil, false
			}
			ts, at = v, time.Unix(n, 0)
		case "v1":
			sig, err := hex.DecodeString(v)
			if err != nil || len(sig) != sha256.Size || len(sigs) == maxSignatures {
				return "", time.Time{}, nil, false
			}
			sigs = append(sigs, sig)
		}
	}
	return ts, at, sigs, ts != "" && len(sigs) > 0
}

// verifySignature checks the X-Leadtriage-Signature header h of body at now.
// For a valid "t=,v1=" signature it returns the request to remember; for a
// valid legacy one (when accepted) a nil request. Every configured secret is
// tried against every v1, without stopping at the first match.
func (s *Server) verifySignature(h string, body []byte, now time.Time) (*signedRequest, bool) {
	h = strings.TrimSpace(h)
	if h == "" {
		return nil, false
	}
	if legacy, found := strings.CutPrefix(h, "sha256="); found {
		if !s.cfg.AcceptLegacySignature {
			return nil, false
		}
		got, err := hex.DecodeString(strings.TrimSpace(legacy))
		if err != nil || len(got) != sha256.Size {
			return nil, false
		}
		ok := false
		for _, key := range s.secrets {
			m := hmac.New(sha256.New, key)
			m.Write(body)
			ok = hmac.Equal(got, m.Sum(nil)) || ok
		}
		return nil, ok
	}
	ts, at, sigs, ok := parseSignature(h)
	if !ok || now.Sub(at) > SignatureTolerance || at.Sub(now) > SignatureTolerance {
		return nil, false
	}
	match := false
	for _, key := range s.secrets {
		want := signedMAC(key, ts, body)
		for _, sig := range sigs {
			match = hmac.Equal(sig, want) || match
		}
	}
	if !match {
		return nil, false
	}
	id := sha256.New()
	id.Write([]byte(ts))
	id.Write([]byte{'.'})
	id.Write(body)
	// Remembered a little past the tolerance, so that a record is never
	// pruned while its timestamp could still pass the window check.
	return &signedRequest{id: id.Sum(nil), expires: at.Add(SignatureTolerance + time.Minute)}, true
}

// memoryLedger is the SignatureLedger of a Server configured without one:
// it forgets on restart, which a durable ledger does not.
type memoryLedger struct {
	mu   sync.Mutex
	seen map[string]time.Time // id → expires
}

func (m *memoryLedger) SpendSignature(_ context.Context, id []byte, expires, now time.Time) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.seen == nil {
		m.seen = map[string]time.Time{}
	}
	for k, exp := range m.seen {
		if !exp.After(now) {
			delete(m.seen, k)
		}
	}
	if _, ok := m.seen[string(id)]; ok {
		return false, nil
	}
	m.seen[string(id)] = expires
	return true, nil
}

func (m *memoryLedger) ReleaseSignature(_ context.Context, id []byte, _ time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.seen, string(id))
	return nil
}
