package playground

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/leadtriage/leadtriage/slackfake"
)

//go:embed assets
var assets embed.FS

var page = template.Must(template.New("page.html").Funcs(template.FuncMap{
	"reactions": func() []string { return quickReactions },
	"emoji":     Emoji,
}).ParseFS(assets, "assets/page.html"))

// Handler serves the page and its small API, and passes everything else
// (POST /leads, /slack/*, /api/*, /healthz) to next, the bot's server.
func (p *Playground) Handler(next http.Handler) http.Handler {
	mux := http.NewServeMux()
	static, _ := fs.Sub(assets, "assets")
	mux.Handle("GET /playground/static/", http.StripPrefix("/playground/static/", http.FileServerFS(static)))
	mux.HandleFunc("GET /{$}", p.servePage)
	mux.HandleFunc("GET /playground/state", p.serveState)
	mux.HandleFunc("GET /playground/events", p.serveEvents)
	mux.HandleFunc("POST /playground/action", p.api(p.postAction))
	mux.HandleFunc("POST /playground/message", p.api(p.postMessage))
	mux.HandleFunc("POST /playground/react", p.api(p.postReact))
	mux.HandleFunc("POST /playground/shortcut", p.api(p.postShortcut))
	mux.HandleFunc("POST /playground/submit", p.api(p.postSubmit))
	mux.HandleFunc("POST /playground/close", p.api(p.postClose))
	mux.HandleFunc("POST /playground/home", p.api(p.postHome))
	mux.HandleFunc("POST /playground/samples", p.api(p.postSamples))
	mux.HandleFunc("POST /playground/forward", p.api(p.postForward))
	mux.Handle("/", next)
	return mux
}

// request is what the page's script posts; each endpoint reads its part.
type request struct {
	User     string                                  `json:"user"`
	Channel  string                                  `json:"channel"`
	TS       string                                  `json:"ts"`
	ThreadTS string                                  `json:"thread_ts"`
	ViewID   string                                  `json:"view_id"`
	ActionID string                                  `json:"action_id"`
	BlockID  string                                  `json:"block_id"`
	Type     string                                  `json:"type"`
	Value    string                                  `json:"value"`
	Text     string                                  `json:"text"` // message text, or the chosen option's text
	Name     string                                  `json:"name"` // reaction
	Duration string                                  `json:"duration"`
	All      bool                                    `json:"all"`
	Values   map[string]map[string]slack.BlockAction `json:"values"`
}

// api wraps a page action: JSON in, {"ok":true} or {"error":"…"} out. Bad
// input changes nothing and says what is wrong.
func (p *Playground) api(fn func(ctx context.Context, r request) error) http.HandlerFunc {
	return func(w http.ResponseWriter, hr *http.Request) {
		// JSON only: another site's page cannot send that to loopback
		// without a CORS preflight, which this server never grants.
		if ct := hr.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			writeJSON(w, http.StatusUnsupportedMediaType, map[string]string{"error": "send application/json"})
			return
		}
		var r request
		if err := json.NewDecoder(http.MaxBytesReader(w, hr.Body, 1<<20)).Decode(&r); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "decoding the request: " + err.Error()})
			return
		}
		if hr.URL.Path != "/playground/samples" && hr.URL.Path != "/playground/forward" {
			if _, ok := p.user(r.User); !ok {
				writeJSON(w, http.StatusBadRequest, map[string]string{"error": fmt.Sprintf("unknown user %q", r.User)})
				return
			}
		}
		ctx, cancel := context.WithTimeout(hr.Context(), 20*time.Second)
		defer cancel()
		if err := fn(ctx, r); err != nil {
			p.log.Warn("playground action failed", "path", hr.URL.Path, "error", err)
			writeJSON(w, http.StatusUnprocessableEntity, map[string]string{"error": err.Error()})
			return
		}
		writeJSON(w, http.StatusOK, map[string]bool{"ok": true})
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (p *Playground) postAction(ctx context.Context, r request) error {
	if r.ActionID == "" {
		return errors.New("no action_id")
	}
	a := slackfake.Action{User: r.User, Channel: r.Channel, MessageTS: r.TS, ViewID: r.ViewID,
		ActionID: r.ActionID, BlockID: r.BlockID, Type: r.Type, Value: r.Value}
	switch r.Type {
	case "static_select", "overflow", "radio_buttons":
		a.Selected = &slack.OptionBlockObject{Text: slack.NewTextBlockObject(slack.PlainTextType, r.Text, false, false), Value: r.Value}
	case "users_select":
		a.SelectedUser = r.Value
	}
	return p.Click(ctx, a)
}

func (p *Playground) postMessage(ctx context.Context, r request) error {
	if r.Channel == "" {
		return errors.New("no channel")
	}
	return p.Say(ctx, r.User, r.Channel, r.ThreadTS, r.Text)
}

func (p *Playground) postReact(ctx context.Context, r request) error {
	if r.Name == "" || strings.ContainsAny(r.Name, ": ") {
		return fmt.Errorf("%q is not an emoji name", r.Name)
	}
	return p.React(ctx, r.User, r.Channel, r.TS, r.Name)
}

// shortcutQualify is the bot's message shortcut (DESIGN.md: callback ids).
const shortcutQualify = "lead.from_message"

func (p *Playground) postShortcut(ctx context.Context, r request) error {
	return p.Shortcut(ctx, r.User, r.Channel, r.TS, shortcutQualify)
}

func (p *Playground) postSubmit(ctx context.Context, r request) error {
	return p.Submit(ctx, r.User, r.ViewID, r.Values)
}

func (p *Playground) postClose(_ context.Context, r request) error {
	p.Slack.CloseModal(r.User, r.All)
	return nil
}

func (p *Playground) postHome(ctx context.Context, r request) error {
	return p.OpenHome(ctx, r.User)
}

func (p *Playground) postSamples(ctx context.Context, _ request) error {
	_, err := p.LoadSamples(ctx)
	return err
}

func (p *Playground) postForward(_ context.Context, r request) error {
	d, err := time.ParseDuration(r.Duration)
	if err != nil || d <= 0 || d > 30*24*time.Hour {
		return fmt.Errorf("%q is not a duration between 0 and 720h", r.Duration)
	}
	p.FastForward(d)
	return nil
}

// serveEvents tells the page, as server-sent events, that something
// changed; the page then fetches the new state. Bursts are coalesced.
func (p *Playground) serveEvents(w http.ResponseWriter, r *http.Request) {
	fl, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	fmt.Fprint(w, "retry: 1000\n\n")
	fl.Flush()
	keepAlive := time.NewTicker(15 * time.Second)
	defer keepAlive.Stop()
	for n := 1; ; n++ {
		select {
		case <-r.Context().Done():
			return
		case <-p.closing:
			return
		case <-keepAlive.C:
			fmt.Fprint(w, ": keep-alive\n\n")
			fl.Flush()
			continue
		case <-p.Slack.Changed():
		case <-p.bumpedCh():
		}
		// Coalesce: a click changes the fake many times within a few ms.
		select {
		case <-time.After(60 * time.Millisecond):
		case <-r.Context().Done():
			return
		}
		fmt.Fprintf(w, "id: %d\ndata: changed\n\n", n)
		fl.Flush()
	}
}

// ---------------------------------------------------------------------------
// What the page shows

type pageData struct {
	Users        []User
	User         User
	View         string // a channel id, or "home"
	Thread       string
	Channels     []navItem
	IntakeSecret string
	Triage       string // the triage channel: where a command typed on the Home tab goes
	Parts        parts
}

type navItem struct {
	ID, Name string
	DM       bool
	Active   bool
	Count    int
}

// parts are the pieces of the page that change; the script swaps them in.
type parts struct {
	Title    string        `json:"title"`
	Main     template.HTML `json:"main"`
	Thread   template.HTML `json:"thread"`
	Modal    template.HTML `json:"modal"`
	ModalKey string        `json:"modal_key"`
	Clock    string        `json:"clock"`
	Nav      template.HTML `json:"nav"`
}

type msgView struct {
	TS, Channel, Author, Initials, Time string
	Bot, Edited, Deleted, Ephemeral     bool
	Body                                template.HTML
	Reactions                           []reactionView
	Replies                             int
	ThreadTS                            string
	InThread                            bool
}

type reactionView struct {
	Name, Emoji string
	Count       int
	Mine        bool
	Users       string
}

type modalView struct {
	ID, Hash, Title, Submit, Close string
	Body                           template.HTML
	Depth                          int
}

// quickReactions are the reactions offered on every message: the votes.
var quickReactions = []string{"+1", "-1", "thinking_face", "eyes"}

func (p *Playground) renderer() render {
	users := p.Slack.Users()
	users[slackfake.BotUserID] = "leadbot"
	channels := map[string]string{p.cfg.Channel: "lead-triage"}
	if p.cfg.DigestChannel != p.cfg.Channel {
		channels[p.cfg.DigestChannel] = "lead-digest"
	}
	return render{users: users, channels: channels, loc: time.Local}
}

func (p *Playground) pageData(r *http.Request) (pageData, error) {
	q := r.URL.Query()
	uid := q.Get("user")
	if uid == "" {
		uid = p.cfg.Users[0].ID
	}
	u, ok := p.user(uid)
	if !ok {
		return pageData{}, fmt.Errorf("unknown user %q", uid)
	}
	view := q.Get("view")
	if view == "" {
		view = p.cfg.Channel
	}
	d := pageData{Users: p.cfg.Users, User: u, View: view, Thread: q.Get("thread"), IntakeSecret: p.cfg.IntakeSecret, Triage: p.cfg.Channel}
	d.Channels = p.nav(u, view)
	d.Parts = p.parts(u, view, d.Thread, d.Channels)
	return d, nil
}

func (p *Playground) nav(u User, view string) []navItem {
	items := []navItem{{ID: p.cfg.Channel, Name: "lead-triage"}}
	if p.cfg.DigestChannel != p.cfg.Channel {
		items = append(items, navItem{ID: p.cfg.DigestChannel, Name: "lead-digest"})
	}
	dm := "D" + u.ID
	n := 0
	for _, m := range p.Slack.Messages(dm) {
		if !m.Deleted {
			n++
		}
	}
	items = append(items, navItem{ID: dm, Name: "leadbot", DM: true, Count: n}, navItem{ID: "home", Name: "leadbot · Home"})
	for i := range items {
		items[i].Active = items[i].ID == view
	}
	return items
}

func (p *Playground) parts(u User, view, thread string, nav []navItem) parts {
	rd := p.renderer()
	var out parts
	now := p.cfg.Clock.Now()
	out.Clock = now.Format("Mon 2 Jan 15:04")
	if off := p.cfg.Clock.Offset().Round(time.Minute); off > 0 {
		out.Clock += fmt.Sprintf(" (+%dh%02d)", int(off.Hours()), int(off.Minutes())%60)
	}
	var navBuf bytes.Buffer
	_ = page.ExecuteTemplate(&navBuf, "nav", nav)
	out.Nav = template.HTML(navBuf.String()) //nolint:gosec // template output
	if view == "home" {
		out.Title = "leadbot · Home"
		raw, ok := p.Slack.HomeView(u.ID)
		var v struct {
			Blocks json.RawMessage `json:"blocks"`
		}
		body := template.HTML(`<p class="empty">The bot has not published a Home tab for you yet.</p>`)
		if ok && json.Unmarshal(raw, &v) == nil {
			body = rd.Blocks(v.Blocks, nil)
		}
		out.Main = template.HTML(`<div class="home" data-view-id="`+template.HTMLEscapeString(p.homeViewID(u.ID))+`">`) + body + `</div>`
	} else {
		for _, n := range nav {
			if n.ID == view {
				out.Title = n.Name
				if !n.DM {
					out.Title = "#" + n.Name
				}
			}
		}
		out.Main = p.exec("messages", p.messages(rd, u, view, ""))
		if thread != "" {
			out.Thread = p.exec("thread", struct {
				Channel, TS string
				Messages    []msgView
			}{view, thread, p.messages(rd, u, view, thread)})
		}
	}
	if ms := p.Slack.Modals(u.ID); len(ms) > 0 {
		top := ms[len(ms)-1]
		var v struct {
			Title  map[string]any  `json:"title"`
			Submit map[string]any  `json:"submit"`
			Close  map[string]any  `json:"close"`
			Blocks json.RawMessage `json:"blocks"`
		}
		_ = json.Unmarshal(top.JSON, &v)
		mv := modalView{ID: top.ID, Hash: top.Hash, Title: str(v.Title, "text"), Submit: str(v.Submit, "text"),
			Close: str(v.Close, "text"), Body: rd.Blocks(v.Blocks, top.Errors), Depth: len(ms)}
		if mv.Close == "" {
			mv.Close = "Cancel"
		}
		out.Modal = p.exec("modal", mv)
		out.ModalKey = top.ID + "/" + top.Hash + "/" + fmt.Sprint(len(top.Errors))
	}
	return out
}

func (p *Playground) homeViewID(user string) string {
	for _, v := range slices.Backward(p.Slack.Views()) {
		if v.Method == "views.publish" && v.UserID == user {
			return v.ViewID
		}
	}
	return ""
}

func (p *Playground) exec(name string, data any) template.HTML {
	var b bytes.Buffer
	if err := page.ExecuteTemplate(&b, name, data); err != nil {
		p.log.Error("rendering the playground", "template", name, "error", err)
		return template.HTML(`<p class="empty">rendering failed</p>`)
	}
	return template.HTML(b.String()) //nolint:gosec // template output
}

// messages lists a channel's top-level messages (thread "") or one thread,
// with the ephemerals the user saw there, in order.
func (p *Playground) messages(rd render, u User, channel, thread string) []msgView {
	all := p.Slack.Messages(channel)
	replies := map[string]int{}
	for _, m := range all {
		if m.ThreadTS != "" && m.ThreadTS != m.TS && !m.Deleted {
			replies[m.ThreadTS]++
		}
	}
	var eph []slackfake.PlacedEphemeral
	for _, e := range p.Slack.PlacedEphemerals() {
		if e.User == u.ID && e.Channel == channel && e.ThreadTS == thread {
			eph = append(eph, e)
		}
	}
	var out []msgView
	addEph := func(upTo string) {
		for len(eph) > 0 && (upTo == "" || eph[0].After < upTo) {
			e := eph[0]
			eph = eph[1:]
			body := rd.Blocks(e.Blocks, nil)
			if body == "" {
				body = rd.Mrkdwn(e.Text)
			}
			out = append(out, msgView{Author: "leadbot", Initials: "lb", Bot: true, Ephemeral: true, Body: body, Channel: channel, TS: e.After})
		}
	}
	for _, m := range all {
		top := m.ThreadTS == "" || m.ThreadTS == m.TS
		if thread == "" && !top || thread != "" && m.TS != thread && m.ThreadTS != thread {
			continue
		}
		if m.Deleted && replies[m.TS] == 0 {
			continue
		}
		addEph(m.TS)
		out = append(out, p.message(rd, u, m, replies[m.TS], thread != ""))
	}
	addEph("")
	return out
}

func (p *Playground) message(rd render, u User, m slackfake.Message, replies int, inThread bool) msgView {
	v := msgView{TS: m.TS, Channel: m.Channel, Edited: m.Updates > 0, Deleted: m.Deleted, Replies: replies,
		ThreadTS: m.ThreadTS, InThread: inThread, Bot: m.BotID != "" || m.User == slackfake.BotUserID}
	v.Author = rd.users[m.User]
	if v.Bot {
		v.Author = "leadbot"
	}
	if v.Author == "" {
		v.Author = m.User
	}
	v.Initials = initials(v.Author)
	if !m.Deleted {
		v.Body = rd.Blocks(m.Blocks, nil)
		if v.Body == "" {
			v.Body = rd.Mrkdwn(m.Text)
		}
	}
	names := make([]string, 0, len(m.Reactions))
	for n := range m.Reactions {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		us := m.Reactions[n]
		if len(us) == 0 {
			continue
		}
		who := make([]string, 0, len(us))
		for _, id := range us {
			who = append(who, rd.users[id])
		}
		v.Reactions = append(v.Reactions, reactionView{Name: n, Emoji: Emoji(n), Count: len(us),
			Mine: slices.Contains(us, u.ID), Users: strings.Join(who, ", ")})
	}
	return v
}

func initials(name string) string {
	var b strings.Builder
	for _, f := range strings.Fields(name) {
		r := []rune(f)
		b.WriteRune(r[0])
		if b.Len() >= 2 {
			break
		}
	}
	return strings.ToUpper(b.String())
}

func (p *Playground) servePage(w http.ResponseWriter, r *http.Request) {
	d, err := p.pageData(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var b bytes.Buffer
	if err := page.ExecuteTemplate(&b, "page.html", d); err != nil {
		p.log.Error("rendering the playground", "error", err)
		http.Error(w, "rendering failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(b.Bytes())
}

func (p *Playground) serveState(w http.ResponseWriter, r *http.Request) {
	d, err := p.pageData(r)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, d.Parts)
}
