package bot_test

import (
	"github.com/leadtriage/leadtriage/bot"
	"github.com/leadtriage/leadtriage/triage"
	"github.com/leadtriage/leadtriage/triage/triagetest"
)

// fullStore is the store as the service and the bot share it, for test
// wrappers that inject a failure into one method.
type fullStore interface {
	triage.Store
	bot.Store
}

// The in-memory fake stands in for the database in the bot's tests too.
var _ fullStore = (*triagetest.Store)(nil)
