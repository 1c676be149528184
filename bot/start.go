package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"sync"
	"time"

	"github.com/slack-go/slack"
)

// Auth retry backoff while Slack is unreachable at start.
const (
	authRetryFirst = 500 * time.Millisecond
	authRetryMax   = time.Minute
	authTimeout    = 10 * time.Second
)

// Start prepares the bot to serve: it makes ctx the parent of handler
// contexts (for its values; see spawn) and learns the bot's own user id with
// auth.test, so that the bot ignores its own messages. A token Slack calls
// wrong (invalid_auth, not_authed) is returned as an error: that is a setup
// mistake, best said at once. A token that worked and was revoked
// (token_revoked, account_inactive: the app was uninstalled) is not: leads
// must still be accepted, so the outbox is blocked on the token, /healthz
// says so, and auth.test is tried every blockedRetry until a working token
// is configured (issue 17). Slack being unreachable is not an error either:
// auth.test is then retried in the background, with backoff, until it
// succeeds or ctx ends. Drain waits for that retry loop, so cancel ctx
// before draining.
func (b *Bot) Start(ctx context.Context) error {
	b.rootMu.Lock()
	b.rootCtx = ctx
	b.rootMu.Unlock()

	err := b.auth.check(ctx)
	if err == nil {
		return nil
	}
	if code, revoked := revokedToken(err); revoked {
		b.outbox.blockToken(ctx, code)
		return nil
	}
	if isAuthError(err) {
		return fmt.Errorf("checking the slack bot token: %w", err)
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	b.log.Warn("slack unreachable at start, retrying auth.test in the background", "error", err)
	b.inflight.Add(1)
	go func() {
		defer b.inflight.Done()
		b.auth.retry(ctx)
	}()
	return nil
}

// slackAuth asks Slack who the bot is (auth.test) and keeps the answer: the
// bot's own user id, to ignore its own messages, and the workspace URL, for
// permalinks. Start asks first; the outbox asks again while deliveries are
// blocked on the token.
type slackAuth struct {
	api   *slack.Client
	log   *slog.Logger
	links *links // shared with the outbox worker
	// tokenWorks is told of every success: deliveries blocked on the token
	// go again (issue 17).
	tokenWorks func(ctx context.Context)

	mu     sync.Mutex // Start may learn the id in the background while handlers read it
	userID string
}

// check calls auth.test and keeps what it tells.
func (a *slackAuth) check(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, authTimeout)
	defer cancel()
	res, err := a.api.AuthTestContext(ctx)
	if err != nil {
		return fmt.Errorf("calling auth.test: %w", err)
	}
	a.setOwnUserID(res.UserID)
	if u, err := url.Parse(res.URL); err == nil && u.Scheme == "https" && u.Host != "" && u.User == nil {
		a.links.setWorkspaceURL(u.Scheme + "://" + u.Host + "/")
	}
	a.log.Info("connected to slack", "bot_user", res.UserID, "team", res.TeamID)
	a.tokenWorks(ctx)
	return nil
}

// retry calls auth.test with backoff until it succeeds, Slack refuses the
// token, or ctx ends.
func (a *slackAuth) retry(ctx context.Context) {
	wait := authRetryFirst
	for attempt := 2; ; attempt++ {
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		err := a.check(ctx)
		switch {
		case err == nil:
			return
		case ctx.Err() != nil:
			return
		case isAuthError(err):
			a.log.Error("slack rejected the bot token", "error", err)
			return
		}
		a.log.Warn("slack still unreachable", "attempt", attempt, "error", err)
		wait = min(wait*2, authRetryMax)
	}
}

// ownUserID is the bot's user id once auth.test has answered; "" before.
func (a *slackAuth) ownUserID() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.userID
}

func (a *slackAuth) setOwnUserID(id string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.userID = id
}

// revokedToken reports whether err says the token was revoked (as opposed
// to never right), and Slack's code for it.
func revokedToken(err error) (string, bool) {
	var se slack.SlackErrorResponse
	if errors.As(err, &se) && (se.Err == "token_revoked" || se.Err == "account_inactive") {
		return se.Err, true
	}
	return "", false
}

// isAuthError reports whether Slack refused the token itself, as opposed to
// being unreachable or failing.
func isAuthError(err error) bool {
	var se slack.SlackErrorResponse
	if !errors.As(err, &se) {
		return false
	}
	switch se.Err {
	case "invalid_auth", "not_authed", "token_revoked", "account_inactive":
		return true
	}
	return false
}
