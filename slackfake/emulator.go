package slackfake

// The emulator side of the fake: what the playground (a person clicking in a
// browser, not a test) needs on top of what tests use. A long-running fake
// with no testing.TB, a change feed, the modal stack Slack keeps per user,
// and payload builders for elements other than message buttons.

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"

	"github.com/slack-go/slack"
)

// Start serves a fake on addr (e.g. "127.0.0.1:0") outside tests. It keeps
// no call log, so a fake that runs for days does not grow with every call.
// Close stops it.
func Start(addr string) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listening on %s: %w", addr, err)
	}
	s := newServer()
	s.noCalls = true
	s.srv = &httptest.Server{Listener: ln, Config: &http.Server{Handler: s.mux()}}
	s.srv.Start()
	return s, nil
}

// Close stops a fake made with Start (New's fakes close at test cleanup).
func (s *Server) Close() { s.close() }

// Changed returns a channel that is closed at the next change of the fake's
// state: wait on it, then call Changed again.
func (s *Server) Changed() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.changed
}

// lastTSLocked is the ts of the newest message ("" before the first).
func (s *Server) lastTSLocked() string {
	if s.tsSeq == 0 {
		return ""
	}
	return fmt.Sprintf("%d.%06d", tsBase+s.tsSeq/1000000, s.tsSeq%1000000)
}

// PlacedEphemeral is an ephemeral message with its place in the
// conversation: it arrived after the message with ts After ("" = before any).
// Slack shows ephemerals inline; the fake's ephemerals carry no ts of their
// own, so tests comparing Ephemerals are unaffected.
type PlacedEphemeral struct {
	Ephemeral
	After string
}

// PlacedEphemerals returns every ephemeral with its place, in posting order.
func (s *Server) PlacedEphemerals() []PlacedEphemeral {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]PlacedEphemeral, len(s.ephemerals))
	for i, e := range s.ephemerals {
		e.Blocks = cloneRaw(e.Blocks)
		out[i] = PlacedEphemeral{Ephemeral: e, After: s.ephemeralsAt[i]}
	}
	return out
}

// ---------------------------------------------------------------------------
// Modals

// Modal is one view of a user's open modal stack.
type Modal struct {
	ID, Hash string
	JSON     json.RawMessage   // the view as the app sent it
	Errors   map[string]string // block id -> inline error from response_action "errors"
}

// stackModalLocked keeps Slack's per-user modal stack: views.open starts a
// new stack, views.push adds on top (Slack allows three).
func (s *Server) stackModalLocked(method, user, id string) {
	if user == "" {
		return
	}
	if method == "views.open" {
		s.modals[user] = []string{id}
		return
	}
	s.modals[user] = append(s.modals[user], id)
}

// Modals returns the user's open modals, bottom first: the last is shown.
func (s *Server) Modals(user string) []Modal {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Modal
	for _, id := range s.modals[user] {
		vs := s.viewsByID[id]
		if vs == nil {
			continue
		}
		m := Modal{ID: id, Hash: vs.hash, JSON: cloneRaw(vs.json)}
		if errs := s.viewErrors[id]; len(errs) > 0 {
			m.Errors = make(map[string]string, len(errs))
			for k, v := range errs {
				m.Errors[k] = v
			}
		}
		out = append(out, m)
	}
	return out
}

// CloseModal closes the user's top modal (all of them with all), as the
// Cancel button or the close cross does.
func (s *Server) CloseModal(user string, all bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.popModalLocked(user, all)
	s.notifyLocked()
}

func (s *Server) popModalLocked(user string, all bool) {
	st := s.modals[user]
	if all || len(st) <= 1 {
		for _, id := range st {
			delete(s.viewErrors, id)
		}
		delete(s.modals, user)
		return
	}
	delete(s.viewErrors, st[len(st)-1])
	s.modals[user] = st[:len(st)-1]
}

// ViewResponse applies the app's answer to a view_submission of viewID the
// way Slack does: an empty body closes the view; response_action "errors"
// shows inline errors, "update" replaces the view, "push" stacks a new one,
// "clear" closes them all. A body Slack would refuse is an error and changes
// nothing.
func (s *Server) ViewResponse(user, viewID string, body []byte) error {
	var resp struct {
		ResponseAction string            `json:"response_action"`
		Errors         map[string]string `json:"errors"`
		View           json.RawMessage   `json:"view"`
	}
	if len(body) > 0 {
		if err := json.Unmarshal(body, &resp); err != nil {
			return fmt.Errorf("decoding the view_submission response: %w", err)
		}
	}
	if resp.ResponseAction == "update" || resp.ResponseAction == "push" {
		if problems := ValidateView(resp.View); len(problems) > 0 {
			return fmt.Errorf("response_action %s: invalid view: %v", resp.ResponseAction, problems)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.notifyLocked()
	switch resp.ResponseAction {
	case "":
		s.popModalLocked(user, false)
	case "clear":
		s.popModalLocked(user, true)
	case "errors":
		if len(resp.Errors) == 0 {
			return errors.New(`response_action "errors" without errors`)
		}
		s.viewErrors[viewID] = resp.Errors
	case "update":
		vs := s.viewsByID[viewID]
		if vs == nil {
			return fmt.Errorf("view %s is not open", viewID)
		}
		s.storeViewLocked(viewID, vs.user, resp.View)
		delete(s.viewErrors, viewID)
		s.views = append(s.views, View{Method: "response_action.update", UserID: user, ViewID: viewID, JSON: cloneRaw(resp.View)})
	case "push":
		vs, _ := s.storeViewLocked("", user, resp.View)
		s.views = append(s.views, View{Method: "response_action.push", UserID: user, ViewID: vs.id, JSON: cloneRaw(resp.View)})
		s.modals[user] = append(s.modals[user], vs.id)
	default:
		return fmt.Errorf("unknown response_action %q", resp.ResponseAction)
	}
	return nil
}

// ---------------------------------------------------------------------------
// Interactions from any element

// Action is one interaction with a Block Kit element, in a message
// (Channel, MessageTS) or in a view (ViewID: a modal or the Home tab).
type Action struct {
	User               string
	Channel, MessageTS string
	ViewID             string
	ActionID, BlockID  string
	Type               string // "button" when empty; "static_select", "users_select", "radio_buttons", …
	Value              string // a button's value
	Selected           *slack.OptionBlockObject
	SelectedUser       string // users_select
}

// ActionForm is the HTTP-mode form body of the block_actions payload Slack
// sends for a, with a live trigger_id and, for messages, a response_url
// bound to the message. The shape follows Slack's block_actions reference
// (message and view containers, as in the MessageBlockAction and
// ViewBlockAction payload types of Slack's deno-slack-sdk / slack-edge);
// select elements carry selected_option or selected_user instead of value.
func (s *Server) ActionForm(a Action) (url.Values, error) {
	typ := a.Type
	if typ == "" {
		typ = "button"
	}
	action := map[string]any{
		"type":      typ,
		"action_id": a.ActionID,
		"block_id":  a.BlockID,
		"action_ts": actionTS(),
	}
	switch {
	case a.Selected != nil:
		action["selected_option"] = a.Selected
	case a.SelectedUser != "":
		action["selected_user"] = a.SelectedUser
	default:
		action["value"] = a.Value
	}
	p := map[string]any{
		"type":                  "block_actions",
		"token":                 VerificationToken,
		"api_app_id":            AppID,
		"user":                  userObject(a.User),
		"team":                  teamObject(),
		"enterprise":            nil,
		"is_enterprise_install": false,
		"trigger_id":            s.NewTriggerIDFor(a.User),
		"actions":               []any{action},
		"state":                 map[string]any{"values": map[string]any{}},
	}
	s.mu.Lock()
	if a.ViewID != "" {
		vs := s.viewsByID[a.ViewID]
		if vs == nil {
			s.mu.Unlock()
			return nil, fmt.Errorf("no view %s", a.ViewID)
		}
		p["container"] = map[string]any{"type": "view", "view_id": a.ViewID}
		p["view"] = vs.wire()
		s.mu.Unlock()
	} else {
		m := s.findLocked(a.Channel, a.MessageTS)
		if m == nil || m.Deleted {
			s.mu.Unlock()
			return nil, fmt.Errorf("no message %s in %s", a.MessageTS, a.Channel)
		}
		if a.BlockID == "" {
			if id, text := findAction(m.Blocks, a.ActionID, a.Value); id != "" {
				action["block_id"] = id
				if text != nil {
					action["text"] = text
				}
			}
		}
		p["container"] = map[string]any{
			"type": "message", "message_ts": a.MessageTS, "channel_id": a.Channel, "is_ephemeral": false,
		}
		p["channel"] = map[string]any{"id": a.Channel, "name": "channel-" + a.Channel}
		p["message"] = s.wireLocked(m, false)
		s.mu.Unlock()
		p["response_url"] = s.NewResponseURLFor(a.Channel, a.MessageTS, a.User)
	}
	return url.Values{"payload": {string(mustJSON(p))}}, nil
}

// ViewSubmissionFormFor is the HTTP-mode form body of the view_submission
// Slack sends when user submits the open view viewID with the state values
// (block_id -> action_id -> value). Unlike ViewSubmissionForm it carries the
// view as stored: its id, hash, blocks, callback_id and private_metadata.
func (s *Server) ViewSubmissionFormFor(user, viewID string, values map[string]map[string]slack.BlockAction) (url.Values, error) {
	if values == nil {
		values = map[string]map[string]slack.BlockAction{}
	}
	s.mu.Lock()
	vs := s.viewsByID[viewID]
	if vs == nil || !slices.Contains(s.modals[user], viewID) {
		s.mu.Unlock()
		return nil, fmt.Errorf("view %s is not open for %s", viewID, user)
	}
	view := vs.wire()
	s.mu.Unlock()
	view["state"] = map[string]any{"values": values}
	p := map[string]any{
		"type":                  "view_submission",
		"token":                 VerificationToken,
		"api_app_id":            AppID,
		"trigger_id":            s.NewTriggerIDFor(user),
		"user":                  userObject(user),
		"team":                  teamObject(),
		"enterprise":            nil,
		"view":                  view,
		"response_urls":         []any{},
		"is_enterprise_install": false,
	}
	return url.Values{"payload": {string(mustJSON(p))}}, nil
}

// Users returns the registered users (id -> name), the bot included.
func (s *Server) Users() map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]string, len(s.users))
	for k, v := range s.users {
		out[k] = v
	}
	return out
}
