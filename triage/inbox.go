package triage

import (
	"context"
	"sync/atomic"
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

// inboxRun is the entry a handler acts for, and whether a change it made
// for it could not be stored.
type inboxRun struct {
	key    string
	done   atomic.Bool // a change under it was stored, and took the entry
	failed atomic.Bool // a change under it could not be stored
}

// WithInboxKey returns ctx carrying an inbox entry's key. Every Store method
// that changes state, called with that ctx, removes the entry in the same
// transaction as its change: the entry leaves the inbox exactly when its
// effect is durable, so a crash either replays it or finds it done.
func WithInboxKey(ctx context.Context, key string) context.Context {
	return context.WithValue(ctx, inboxKeyCtx{}, &inboxRun{key: key})
}

// InboxKey returns the inbox entry key ctx carries; "" = none, and "" once
// a change under it could not be stored (NoteInboxFailure): a later change
// of the same handler, such as the error reply, must not take away an
// entry whose effect did not happen.
func InboxKey(ctx context.Context) string {
	r, _ := ctx.Value(inboxKeyCtx{}).(*inboxRun)
	if r == nil || r.failed.Load() || r.done.Load() {
		return ""
	}
	return r.key
}

// NoteInboxDone records that a change made with ctx was stored and took
// ctx's entry with it.
func NoteInboxDone(ctx context.Context) {
	if r, _ := ctx.Value(inboxKeyCtx{}).(*inboxRun); r != nil {
		r.done.Store(true)
	}
}

// NoteInboxFailure records that a change made with ctx could not be stored
// (the store failed, not the rules) before any change took ctx's entry: the
// entry stays in the inbox, to be tried again. A failure after the effect
// was stored (the confirmation after a vote) leaves the entry done.
func NoteInboxFailure(ctx context.Context) {
	if r, _ := ctx.Value(inboxKeyCtx{}).(*inboxRun); r != nil && !r.done.Load() {
		r.failed.Store(true)
	}
}

// InboxFailed reports whether ctx's inbox entry is still waiting for its
// effect because the store could not take it.
func InboxFailed(ctx context.Context) bool {
	r, _ := ctx.Value(inboxKeyCtx{}).(*inboxRun)
	return r != nil && r.failed.Load() && !r.done.Load()
}
