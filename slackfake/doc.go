// Package slackfake is an in-process fake of the parts of Slack leadtriage
// talks to, so every test runs offline against the real slack-go client.
//
// slack-go's own slacktest is not enough: it lacks chat.update, views.* and
// conversations.replies, issues colliding second-resolution ts values,
// speaks RTM instead of Socket Mode and records nothing (SLACK-NOTES §3).
//
// One fake per test:
//
//	fake := slackfake.New(t)          // httptest server on 127.0.0.1, closed by t.Cleanup
//	api := fake.Client()              // *slack.Client: BotToken, AppToken, APIURL, 5 s timeout
//	_, ts, err := api.PostMessage("C1", slack.MsgOptionText("hi", false))
//	fake.WaitCalls(t, "chat.postMessage", 1, 2*time.Second)
//	msg, _ := fake.Message("C1", ts)  // the stored state, blocks as sent
//
// What it models:
//
//   - Web API at APIURL()+method: auth.test, chat.postMessage/update/
//     postEphemeral/delete/getPermalink, conversations.replies/history,
//     users.info, reactions.add/remove/get, views.open/push/update/publish,
//     usergroups.users.list (groups made with AddUsergroup) and
//     apps.connections.open, with the wire formats slack-go uses (form
//     with a token field, JSON or GET with a bearer header). Unknown methods
//     answer 404. Every request, faulted or not, is recorded as a Call.
//   - State: channels of messages with unique, strictly increasing ts values
//     ("1700000000.000001", ...), threads, reactions, edits and deletions,
//     ephemerals, views, users. PostAsUser and AddReaction play the humans.
//   - Block Kit limits: messages and views carrying blocks that Slack would
//     reject are answered with invalid_blocks (and Slack-style messages in
//     response_metadata), msg_blocks_too_long or msg_too_long.
//     ValidateBlocks and ValidateView expose the same checks to renderer
//     tests.
//   - Interactivity: trigger_ids (NewTriggerID) expire after 3 s and can be
//     exchanged once; response_urls (NewResponseURL) take 5 posts within
//     30 min. SetNow injects the clock used for both ages.
//   - Faults: Fail queues per-method faults (HTTP 429 with or without
//     Retry-After, 5xx, ok:false errors, delays, dropped connections before
//     or after applying the call); SetDown drops everything.
//   - Socket Mode: apps.connections.open hands out a ws:// URL; the fake
//     sends hello, pings every second, and lets the test push envelopes
//     (SendEnvelope, Resend, SendRaw), read acks (WaitAck) and force
//     reconnects (Disconnect).
//   - HTTP mode: Sign and NewSignedRequest sign bodies exactly as Slack does,
//     and the *JSON / *Form builders produce the payloads Slack sends
//     (block actions, message shortcuts, slash commands, view submissions,
//     events).
//   - Emulator (emulator.go, for the playground): Start runs a fake without
//     a test and keeps no call log; Changed feeds live pages; Modals keeps
//     Slack's per-user modal stack (views.open/push) and ViewResponse applies
//     a view_submission's answer (close, errors, update, push, clear);
//     ActionForm and ViewSubmissionFormFor build payloads for any element,
//     in messages and in views; PlacedEphemerals says where each ephemeral
//     appeared.
//
// Things worth knowing:
//
//   - Calls are recorded before the answer is written, so a test that gets a
//     reply may inspect Calls at once. Call.Error is "" only for ok:true;
//     faults show up as "http_429", "dropped", "dropped_after" (DropAfter:
//     applied but unanswered) or "canceled" (the client gave up during a
//     Delay). WaitCalls counts only ok:true calls.
//   - ts values start at "1700000000.000001" on every fake, whatever the
//     clock; compare them as strings (fixed width) or parse them.
//   - chat.postMessage to a user id added with AddUser lands in the DM
//     channel "D"+userID, which is the channel the response names.
//   - net/http replays an idempotent GET that hit a dropped keep-alive
//     connection, so Drop on chat.getPermalink (the only GET) is usually
//     retried transparently: queue it with Times: 2 to make the client fail.
//   - The package-level payload builders carry PlaceholderTriggerID and
//     PlaceholderResponseURL; the Server methods of the same name
//     (BlockActionJSON, BlockActionForm, MessageActionJSON, MessageActionForm)
//     issue live ones bound to the message.
//
// Helpers that take a testing.TB fail the test and must be called from the
// test goroutine. The fake keeps no global state; tests using it can run
// with t.Parallel.
package slackfake
