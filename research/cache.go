package research

import (
	"context"
	"encoding/json"
	"time"
)

// Cache is a TTL key-value store; storage.DB implements it in bbolt.
type Cache interface {
	// GetCache returns the value under key; expired entries count as missing.
	GetCache(ctx context.Context, key string, now time.Time) (val []byte, ok bool, err error)
	// PutCache stores val under key until expires.
	PutCache(ctx context.Context, key string, val []byte, expires time.Time) error
}

// cacheVersion is part of every key: bump it when a cached shape changes,
// and old entries are simply never read again (and expire).
const cacheVersion = "v1"

func cacheKey(provider, subject string) string {
	return "research/" + cacheVersion + "/" + provider + "/" + subject
}

// loadCached reads a provider's cached result into v. Cache trouble is
// logged and treated as a miss: research goes on without it.
func (r *Researcher) loadCached(ctx context.Context, provider, subject string, v any) bool {
	if r.cfg.Cache == nil || r.cfg.CacheTTL <= 0 || subject == "" {
		return false
	}
	b, ok, err := r.cfg.Cache.GetCache(ctx, cacheKey(provider, subject), r.now())
	if err != nil {
		r.log.Warn("reading research cache", "provider", provider, "error", err)
		return false
	}
	if !ok {
		return false
	}
	if err := json.Unmarshal(b, v); err != nil {
		r.log.Warn("decoding research cache entry", "provider", provider, "error", err)
		return false
	}
	return true
}

// storeCached writes a provider's successful result.
func (r *Researcher) storeCached(ctx context.Context, provider, subject string, v any) {
	if r.cfg.Cache == nil || r.cfg.CacheTTL <= 0 || subject == "" {
		return
	}
	b, err := json.Marshal(v)
	if err != nil {
		r.log.Warn("encoding research cache entry", "provider", provider, "error", err)
		return
	}
	if err := r.cfg.Cache.PutCache(ctx, cacheKey(provider, subject), b, r.now().Add(r.cfg.CacheTTL)); err != nil {
		r.log.Warn("writing research cache", "provider", provider, "error", err)
	}
}
