package triage

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// ForgottenJobPrefix prefixes the audit entries of erasure requests in the
// job log: "forgotten|<salted hash of the subject>|<by>|<lead ids>", at the
// time of the request. The hash lets a later request for the same address
// be matched to it without the log holding the address (GDPR art. 17).
const ForgottenJobPrefix = "forgotten|"

// ForgetRequest names whom to erase: exactly one of Email, Domain, ID.
type ForgetRequest struct {
	Email  string
	Domain string
	ID     string
}

// subject returns the request's one subject, lowercased, or a FieldError.
func (r ForgetRequest) subject() (field, value string, err error) {
	var set []string
	for _, f := range []struct{ name, v string }{{"email", r.Email}, {"domain", r.Domain}, {"id", r.ID}} {
		if v := strings.TrimSpace(f.v); v != "" {
			field, value = f.name, v
			set = append(set, f.name)
		}
	}
	switch len(set) {
	case 1:
		return field, value, nil
	case 0:
		return "", "", &FieldError{Field: "email", Problem: "give one of email, domain or id"}
	default:
		return "", "", &FieldError{Field: set[1], Problem: "give only one of email, domain or id"}
	}
}

// AuditHash is the salted hash an audit entry holds instead of value.
func AuditHash(salt []byte, value string) string {
	m := hmac.New(sha256.New, salt)
	m.Write([]byte(strings.ToLower(strings.TrimSpace(value))))
	return hex.EncodeToString(m.Sum(nil))[:32]
}

// Forget erases every lead the request names, as the retention purge does
// (Store.PurgeLead: the lead, its indexes, idempotency keys, outbox items
// and cached research, and queues chat.delete for its Slack messages), and
// records a PII-free audit entry: the salted hash of the subject, by whom,
// when, and the ids erased. A lead purged meanwhile (retention, or another
// request) counts as gone, so concurrent erasures agree. It returns the ids
// erased by this call and how many Slack deletions it queued.
func (s *Service) Forget(ctx context.Context, r ForgetRequest, by string, salt []byte) (forgotten []LeadID, deletions int, err error) {
	field, value, err := r.subject()
	if err != nil {
		return nil, 0, err
	}
	var leads []Lead
	switch field {
	case "email":
		leads, err = s.LeadsOfPerson(ctx, value)
	case "domain":
		leads, err = s.Store.LeadsByDomain(ctx, strings.TrimPrefix(strings.ToLower(value), "www."))
	case "id":
		var id LeadID
		id, err = ParseLeadID(strings.ToUpper(value))
		if err != nil {
			return nil, 0, &FieldError{Field: "id", Problem: err.Error()}
		}
		var l Lead
		l, err = s.Store.Lead(ctx, id)
		if errors.Is(err, ErrNotFound) {
			err = nil
		} else if err == nil {
			leads = []Lead{l}
		}
	}
	if err != nil {
		return nil, 0, fmt.Errorf("finding the leads to forget: %w", err)
	}
	now := s.now()
	for _, l := range leads {
		var n int
		err := s.Store.PurgeLead(ctx, l.ID, now, func(l Lead) ([]OutboxItem, error) {
			items := deleteMessages(l, now)
			n = len(items)
			return items, nil
		})
		switch {
		case errors.Is(err, ErrNotFound):
			continue // purged meanwhile
		case err != nil:
			return forgotten, deletions, fmt.Errorf("forgetting %s: %w", l.ID, err)
		}
		forgotten = append(forgotten, l.ID)
		deletions += n
	}
	ids := make([]string, len(forgotten))
	for i, id := range forgotten {
		ids[i] = id.String()
	}
	key := ForgottenJobPrefix + AuditHash(salt, value) + "|" + by + "|" + now.Format("20060102T150405.000000000") + "|" + strings.Join(ids, ",")
	if len(key) > 512 {
		key = key[:512]
	}
	if _, err := s.Store.MarkJob(ctx, key, now, nil); err != nil {
		return forgotten, deletions, fmt.Errorf("recording the erasure: %w", err)
	}
	if len(forgotten) > 0 {
		s.wake()
	}
	return forgotten, deletions, nil
}

// LeadsOfPerson returns every lead with e-mail address email, whatever the
// case of its local part (one person typed it differently over time): the
// exact address through the e-mail index, and the others of its domain. A
// *FieldError if email is not an address.
func (s *Service) LeadsOfPerson(ctx context.Context, email string) ([]Lead, error) {
	norm, err := NormaliseEmail(strings.TrimSpace(email))
	if err != nil {
		return nil, &FieldError{Field: "email", Problem: err.Error()}
	}
	exact, err := s.Store.LeadsByEmail(ctx, norm)
	if err != nil {
		return nil, err
	}
	sameDomain, err := s.Store.LeadsByDomain(ctx, norm[strings.LastIndexByte(norm, '@')+1:])
	if err != nil {
		return nil, err
	}
	seen := map[LeadID]bool{}
	var out []Lead
	for _, l := range append(exact, sameDomain...) {
		if !seen[l.ID] && strings.EqualFold(l.Email, norm) {
			seen[l.ID] = true
			out = append(out, l)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}
