package bot

import (
	"sync"
	"time"
)

// Slack limits each Web API method on its own, per workspace and app, and
// chat.postMessage also to "generally one message per second per channel"
// with short bursts (SLACK-NOTES §4.4). The outbox keeps under each limit
// with a token bucket per limit, and a 429 holds back only the limit that
// earned it: a 429 on chat.update never delays a new card's
// chat.postMessage (issue 17), and confirmations never wait for card
// updates (issue 9, item 7).
const (
	methodPost      = "chat.postMessage"
	methodUpdate    = "chat.update"
	methodDelete    = "chat.delete"
	methodEphemeral = "chat.postEphemeral"
	methodHistory   = "conversations.history"
	methodReplies   = "conversations.replies"

	paceEvery = time.Second // one message per channel per second, sustained
	paceBurst = 3           // messages a quiet channel may take at once

	// chat.update and chat.delete are Tier 3 (50+ calls per minute per
	// workspace): a little under a call a second, with a short burst, so
	// that quick votes still fold into few updates.
	tier3Every = 1200 * time.Millisecond
	tier3Burst = 3

	// chat.postEphemeral is a Tier 4 method (100+ calls per minute per
	// workspace, with generous bursts), not a channel message.
	ephemeralEvery = 600 * time.Millisecond // 100 per minute, sustained
	ephemeralBurst = 20                     // a round of quick votes at once
)

// ephemeralKey is the confirmations' limit in outboxState.
var ephemeralKey = limitKey(methodEphemeral, "")

// budget is one token bucket's rate: a message per every, up to burst at once.
type budget struct {
	every time.Duration
	burst float64
}

// budgets are the outbox's pace per Web API method. A method without one
// (the history look-ups before a post) is not paced, but a 429 on it still
// holds it back.
var budgets = map[string]budget{
	methodPost:      {every: paceEvery, burst: paceBurst},
	methodUpdate:    {every: tier3Every, burst: tier3Burst},
	methodDelete:    {every: tier3Every, burst: tier3Burst},
	methodEphemeral: {every: ephemeralEvery, burst: ephemeralBurst},
}

// limitKey names the limit a call of method to channel counts against:
// the method's, and for chat.postMessage the channel's within it (a DM's
// "channel" is the user id). It cannot collide with a channel or user id.
func limitKey(method, channel string) string {
	if method == methodPost {
		return "method:" + method + ":" + channel
	}
	return "method:" + method
}

// outboxState is the delivery worker's memory between passes: pacing per
// limit (limitKey), limits Slack told us to leave alone for a while, causes
// that block deliveries (blocked.go), and when each permanent error was last
// logged loudly. Its zero value is ready to use. It lives
// only in memory: after a restart a burst is allowed again, and the persisted
// NextAt of rate-limited items still holds them back.
type outboxState struct {
	mu      sync.Mutex
	buckets map[string]*tokenBucket
	paused  map[string]time.Time // limit key -> not before (429 Retry-After)
	logged  map[string]time.Time // error code -> last error-level log
	poll    time.Duration        // RunOutbox's longest sleep; 0 = defaultPoll
	// posted holds posts Slack took whose record failed, by item id, so
	// the next pass records them instead of posting again (issue 10).
	posted map[uint64]placement
	// blocks holds the causes a person must fix, by what they concern: a
	// channel or user id, or "" for the whole workspace (blocked.go).
	blocks map[string]*block
}

// placement is where Slack put a posted message.
type placement struct{ channel, ts string }

// remember notes that Slack took item id's post at (channel, ts).
func (s *outboxState) remember(id uint64, channel, ts string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.posted == nil {
		s.posted = map[uint64]placement{}
	}
	s.posted[id] = placement{channel, ts}
}

// recall returns where Slack put item id's post if its record failed.
func (s *outboxState) recall(id uint64) (placement, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	at, ok := s.posted[id]
	return at, ok
}

// forget drops item id's placement once it is recorded.
func (s *outboxState) forget(id uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.posted, id)
}

// tokenBucket runs on the injected clock, not on wall time, so tests can
// drive it and a restart cannot confuse it.
type tokenBucket struct {
	tokens float64
	last   time.Time
}

// take spends one call of method to channel from its limit's budget at
// now. If there is none it reports when there will be; the caller leaves
// the item due until then. A method without a budget only honours a pause.
func (s *outboxState) take(method, channel string, now time.Time) (ok bool, retryAt time.Time) {
	key, rate := limitKey(method, channel), budgets[method]
	s.mu.Lock()
	defer s.mu.Unlock()
	if until, paused := s.paused[key]; paused {
		if now.Before(until) {
			return false, until
		}
		delete(s.paused, key)
	}
	if rate.every <= 0 {
		return true, time.Time{}
	}
	if s.buckets == nil {
		s.buckets = map[string]*tokenBucket{}
	}
	b := s.buckets[key]
	if b == nil {
		b = &tokenBucket{tokens: rate.burst, last: now}
		s.buckets[key] = b
	}
	if now.After(b.last) {
		b.tokens = min(rate.burst, b.tokens+float64(now.Sub(b.last))/float64(rate.every))
		b.last = now
	}
	// A hair under one token is one: float rounding of a refill rate that
	// is not a whole second must not leave the item a nanosecond short.
	if b.tokens >= 1-1e-6 {
		b.tokens = max(b.tokens-1, 0)
		return true, time.Time{}
	}
	wait := time.Duration((1 - b.tokens) * float64(rate.every))
	return false, b.last.Add(wait)
}

// pause holds every call against limit key until until: the next one
// would only earn another 429. Other limits go on.
func (s *outboxState) pause(key string, until time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.paused == nil {
		s.paused = map[string]time.Time{}
	}
	if until.After(s.paused[key]) {
		s.paused[key] = until
	}
}

// loud reports whether a permanent failure with code should be logged at
// error level now: once per code per hour, so a revoked token does not
// flood the logs (RELIABILITY O5).
func (s *outboxState) loud(code string, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if last, ok := s.logged[code]; ok && now.Sub(last) < time.Hour && !now.Before(last) {
		return false
	}
	if s.logged == nil {
		s.logged = map[string]time.Time{}
	}
	s.logged[code] = now
	return true
}
