package slackfake

import "slices"

// AddUsergroup creates (or replaces) the user group id ("S…") with the given
// members, for usergroups.users.list. A group that was never added answers
// no_such_subteam, as Slack does for an unknown id.
func (s *Server) AddUsergroup(id string, members ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.usergroups[id] = slices.Clone(members)
	s.notifyLocked()
}

// usergroupsUsersList answers usergroups.users.list: the members of the
// group named by the usergroup parameter.
func (s *Server) usergroupsUsersList(r *apiRequest) apiResponse {
	id := r.params.Get("usergroup")
	if id == "" {
		return errResp("invalid_arguments", "[ERROR] missing required field: usergroup")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	members, ok := s.usergroups[id]
	if !ok {
		return errResp("no_such_subteam")
	}
	users := slices.Clone(members)
	if users == nil {
		users = []string{}
	}
	return okResp(map[string]any{"users": users})
}
