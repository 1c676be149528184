package bot

import (
	"github.com/leadtriage/leadtriage/storage"
	"github.com/leadtriage/leadtriage/triage"
)

// fullStore is the store as the service and the bot share it, for test
// wrappers that inject a failure into one method.
type fullStore interface {
	triage.Store
	Store
}

var _ fullStore = (*storage.DB)(nil)
