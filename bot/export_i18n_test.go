package bot

// Test-only exports of the i18n work for the black-box tests (bot_test).

import "github.com/leadtriage/leadtriage/triage"

// Worded fills in outbox items' Text and Plain as the worker words their
// notices (English, UTC), for the black-box tests that read the outbox.
func Worded(items []triage.OutboxItem) []triage.OutboxItem { return worded(items, nil, nil) }

// MaxMessageFromSlack is how much of a pasted message becomes a lead's.
const MaxMessageFromSlack = maxMessageFromSlack
