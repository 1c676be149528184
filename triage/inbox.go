package triage

import (
	"context"
	"time"
)

// InboxEntry is a request an adapter has accepted, and made durable before
// acknowledging it, but has not acted on yet. Its body is the adapter's
// business: storage keeps it as opaque bytes, and only the adapter that
// admitted an entry knows how to replay it.
type InboxEntry struct {
	Key  string    // assigned by AdmitInbox; opaque
	Kind string    // the adapter's name for the body's shape
	Mark string    // de-duplication mark: an entry whose mark was admitted before is a repeat; "" = none
	Body []byte    // the request as it arrived
	At   time.Time // when it was admitted
}

// InboxMarkRetention is how long an inbox mark is remembered: longer than
// any sender retries a delivery.
const InboxMarkRetention = 24 * time.Hour

type inboxKeyCtx struct{}

// WithInboxKey returns ctx carrying an inbox entry's key. Every Store method
// that changes state, called with that ctx, removes the entry in the same
// transaction as its change: the entry leaves the inbox exactly when its
// effect is durable, so a crash either replays it or finds it done.
func WithInboxKey(ctx context.Context, key string) context.Context {
	return context.WithValue(ctx, inboxKeyCtx{}, key)
}

// InboxKey returns the inbox entry key ctx carries; "" = none.
func InboxKey(ctx context.Context) string {
	k, _ := ctx.Value(inboxKeyCtx{}).(string)
	return k
}
