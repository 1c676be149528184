package bot

import (
	"sync"
	"time"
)

// Slack allows "generally one message per second per channel" with short
// bursts (SLACK-NOTES §4.4). The outbox keeps under that on its own, so a
// burst of leads never earns a 429 (RELIABILITY O6).
const (
	paceEvery = time.Second // one message per channel per second, sustained
	paceBurst = 3           // messages a quiet channel may take at once

	// chat.postEphemeral is a Tier 4 method (100+ calls per minute per
	// workspace, with generous bursts), not a channel message: confirmations
	// have a budget of their own and never wait for the card updates that
	// the channel's one message per second holds back (issue 9, item 7).
	ephemeralEvery = 600 * time.Millisecond // 100 per minute, sustained
	ephemeralBurst = 20                     // a round of quick votes at once
	// ephemeralKey is the ephemerals' budget (and 429 pause) in outboxState;
	// it cannot collide with a channel or user id.
	ephemeralKey = "method:chat.postEphemeral"
)

// budget is one token bucket's rate: a message per every, up to burst at once.
type budget struct {
	every time.Duration
	burst float64
}

var (
	channelBudget   = budget{every: paceEvery, burst: paceBurst}
	ephemeralBudget = budget{every: ephemeralEvery, burst: ephemeralBurst}
)

// outboxState is the delivery worker's memory between passes: per-channel
// pacing, channels Slack told us to leave alone, and when each permanent
// error was last logged loudly. Its zero value is ready to use. It lives
// only in memory: after a restart a burst is allowed again, and the persisted
// NextAt of rate-limited items still holds them back.
type outboxState struct {
	mu      sync.Mutex
	buckets map[string]*tokenBucket
	paused  map[string]time.Time // channel -> not before (429 Retry-After)
	logged  map[string]time.Time // error code -> last error-level log
	poll    time.Duration        // RunOutbox's longest sleep; 0 = defaultPoll
	// posted holds posts Slack took whose record failed, by item id, so
	// the next pass records them instead of posting again (issue 10).
	posted map[uint64]placement
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

// take spends one message of channel's budget at now. If there is none it
// reports when there will be; the caller leaves the item due until then.
func (s *outboxState) take(channel string, now time.Time) (ok bool, retryAt time.Time) {
	return s.takeFrom(channel, channelBudget, now)
}

// takeEphemeral spends one of the confirmations' own budget at now.
func (s *outboxState) takeEphemeral(now time.Time) (ok bool, retryAt time.Time) {
	return s.takeFrom(ephemeralKey, ephemeralBudget, now)
}

// takeFrom spends one message of key's bucket, which refills at rate.
func (s *outboxState) takeFrom(channel string, rate budget, now time.Time) (ok bool, retryAt time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if until, paused := s.paused[channel]; paused {
		if now.Before(until) {
			return false, until
		}
		delete(s.paused, channel)
	}
	if s.buckets == nil {
		s.buckets = map[string]*tokenBucket{}
	}
	b := s.buckets[channel]
	if b == nil {
		b = &tokenBucket{tokens: rate.burst, last: now}
		s.buckets[channel] = b
	}
	if now.After(b.last) {
		b.tokens = min(rate.burst, b.tokens+float64(now.Sub(b.last))/float64(rate.every))
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return true, time.Time{}
	}
	wait := time.Duration((1 - b.tokens) * float64(rate.every))
	return false, b.last.Add(wait)
}

// pause holds every message to channel until until: Slack rate-limits per
// channel, so the next item would only earn another 429.
func (s *outboxState) pause(channel string, until time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.paused == nil {
		s.paused = map[string]time.Time{}
	}
	if until.After(s.paused[channel]) {
		s.paused[channel] = until
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
