package slackfake

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"
)

// TriggerTTL is how long a trigger_id can be exchanged for a view.
const TriggerTTL = 3 * time.Second

// View is one successful views.* call.
type View struct {
	Method    string          // "views.open", "views.push", "views.update", "views.publish"
	TriggerID string          // views.open / views.push
	UserID    string          // views.publish, or the user the trigger was issued for
	ViewID    string          // id the fake assigned (stable across updates)
	JSON      json.RawMessage // the view object as sent
}

type trigger struct {
	issued time.Time
	user   string
	used   bool
}

type viewState struct {
	id, externalID, hash, user string
	json                       json.RawMessage
}

// NewTriggerID issues a trigger_id that views.open and views.push accept
// once, within TriggerTTL of issue (measured with the SetNow clock).
func (s *Server) NewTriggerID() string { return s.NewTriggerIDFor("") }

// NewTriggerIDFor is NewTriggerID for a trigger caused by user (recorded in
// View.UserID).
func (s *Server) NewTriggerIDFor(user string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.nextIDLocked()
	id := fmt.Sprintf("%d.%d.%016x", tsBase, n, uint64(n)*0x9e3779b97f4a7c15)
	s.triggers[id] = &trigger{issued: s.now(), user: user}
	return id
}

// Views returns the successful views.* calls in order.
func (s *Server) Views() []View {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]View, len(s.views))
	for i, v := range s.views {
		v.JSON = cloneRaw(v.JSON)
		out[i] = v
	}
	return out
}

// exchangeTriggerLocked validates and consumes a trigger_id.
func (s *Server) exchangeTriggerLocked(id string) (*trigger, string) {
	if id == "" {
		return nil, "invalid_arguments"
	}
	t := s.triggers[id]
	switch {
	case t == nil:
		return nil, "invalid_trigger_id"
	case t.used:
		return nil, "exchanged_trigger_id"
	case s.now().Sub(t.issued) >= TriggerTTL:
		return nil, "expired_trigger_id"
	}
	t.used = true
	return t, ""
}

func (s *Server) viewParam(r *apiRequest) (json.RawMessage, *apiResponse) {
	raw := r.params.Get("view")
	if raw == "" || !json.Valid([]byte(raw)) {
		e := errResp("invalid_arguments", "[ERROR] missing required field: view [json-pointer:/view]")
		return nil, &e
	}
	view := json.RawMessage(raw)
	if problems := ValidateView(view); len(problems) > 0 {
		e := errResp("invalid_blocks", problems...)
		return nil, &e
	}
	return view, nil
}

func viewType(view json.RawMessage) string {
	var v struct {
		Type string `json:"type"`
	}
	_ = json.Unmarshal(view, &v)
	return v.Type
}

// storeViewLocked saves a view under id (new when id == "") and renders the
// response's view object.
func (s *Server) storeViewLocked(id, user string, view json.RawMessage) (*viewState, map[string]any) {
	vs := s.viewsByID[id]
	if vs == nil {
		id = fmt.Sprintf("VFAKE%06d", s.nextIDLocked())
		vs = &viewState{id: id}
		s.viewsByID[id] = vs
	}
	vs.user = user
	vs.json = view
	vs.hash = fmt.Sprintf("%d.%08x", tsBase, s.nextIDLocked())
	fields := vs.wire()
	if ext, ok := fields["external_id"].(string); ok {
		vs.externalID = ext
	}
	s.notifyLocked()
	return vs, fields
}

// wire renders the view object as views.* responses and interaction
// payloads carry it.
func (vs *viewState) wire() map[string]any {
	var fields map[string]any
	_ = json.Unmarshal(vs.json, &fields)
	if fields == nil {
		fields = map[string]any{}
	}
	fields["id"] = vs.id
	fields["team_id"] = TeamID
	fields["app_id"] = AppID
	fields["bot_id"] = BotID
	fields["hash"] = vs.hash
	fields["root_view_id"] = vs.id
	fields["app_installed_team_id"] = TeamID
	fields["state"] = map[string]any{"values": map[string]any{}}
	for _, k := range []string{"private_metadata", "callback_id", "external_id"} {
		if _, ok := fields[k]; !ok {
			fields[k] = ""
		}
	}
	return fields
}

func (s *Server) openOrPush(r *apiRequest) apiResponse {
	view, bad := s.viewParam(r)
	if bad != nil {
		return *bad
	}
	if viewType(view) != "modal" {
		return errResp("invalid_arguments", "[ERROR] must be modal [json-pointer:/view/type]")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	triggerID := r.params.Get("trigger_id")
	t, code := s.exchangeTriggerLocked(triggerID)
	if code != "" {
		return errResp(code)
	}
	vs, wire := s.storeViewLocked("", t.user, view)
	s.views = append(s.views, View{Method: r.method, TriggerID: triggerID, UserID: t.user, ViewID: vs.id, JSON: cloneRaw(view)})
	s.stackModalLocked(r.method, t.user, vs.id)
	return okResp(map[string]any{"view": wire})
}

func (s *Server) viewsOpen(r *apiRequest) apiResponse { return s.openOrPush(r) }
func (s *Server) viewsPush(r *apiRequest) apiResponse { return s.openOrPush(r) }

func (s *Server) viewsUpdate(r *apiRequest) apiResponse {
	view, bad := s.viewParam(r)
	if bad != nil {
		return *bad
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ext := r.params.Get("view_id"), r.params.Get("external_id")
	var vs *viewState
	if id != "" {
		vs = s.viewsByID[id]
	} else if ext != "" {
		for _, v := range s.viewsByID {
			if v.externalID == ext {
				vs = v
				break
			}
		}
	} else {
		return errResp("invalid_arguments")
	}
	if vs == nil {
		return errResp("not_found")
	}
	if h := r.params.Get("hash"); h != "" && h != vs.hash {
		return errResp("hash_conflict")
	}
	vs, wire := s.storeViewLocked(vs.id, vs.user, view)
	delete(s.viewErrors, vs.id) // an updated view starts without inline errors
	s.views = append(s.views, View{Method: r.method, UserID: vs.user, ViewID: vs.id, JSON: cloneRaw(view)})
	return okResp(map[string]any{"view": wire})
}

func (s *Server) viewsPublish(r *apiRequest) apiResponse {
	view, bad := s.viewParam(r)
	if bad != nil {
		return *bad
	}
	if viewType(view) != "home" {
		return errResp("invalid_arguments", "[ERROR] must be home [json-pointer:/view/type]")
	}
	user := r.params.Get("user_id")
	if user == "" {
		return errResp("invalid_arguments", "[ERROR] missing required field: user_id [json-pointer:/user_id]")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.homeViews[user]
	if h := r.params.Get("hash"); h != "" && id != "" && h != s.viewsByID[id].hash {
		return errResp("hash_conflict")
	}
	vs, wire := s.storeViewLocked(id, user, view)
	s.homeViews[user] = vs.id
	s.views = append(s.views, View{Method: r.method, UserID: user, ViewID: vs.id, JSON: cloneRaw(view)})
	return okResp(map[string]any{"view": wire})
}

// HomeView returns the JSON of the Home tab last published for user.
func (s *Server) HomeView(user string) (json.RawMessage, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.homeViews[user]
	if !ok {
		return nil, false
	}
	return slices.Clone(s.viewsByID[id].json), true
}
