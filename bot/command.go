package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/leadtriage/leadtriage/triage"
	"github.com/slack-go/slack"
)

// commandWords renders /qualify's help and list lines (command_list.go).
type commandWords struct{ words }

// helpText lists the grammar from DESIGN.md and how to answer the team's
// criteria (cs) in a card's thread.
func (w commandWords) helpText(name string, cs []triage.Criterion, reactions map[string]triage.Choice) string {
	if name == "" {
		name = "/qualify"
	}
	code := func(s string) string { return "`" + s + "`" }
	var b strings.Builder
	b.WriteString(w.t("help.intro", bold(name)) + "\n")
	b.WriteString("• " + w.t("help.modal", code(name)) + "\n")
	b.WriteString("• " + w.t("help.add", code(name+" "+w.t("help.add.what")), code(name+" add <text>")) + "\n")
	b.WriteString("• " + w.t("help.list", code(name+" list"), code(name+" list mine"), code(name+" list all")) + "\n")
	b.WriteString("• " + w.t("help.show", code(name+" L-42")) + "\n")
	b.WriteString("• " + w.t("help.history", code(name+" L-42 history")) + "\n")
	b.WriteString("• " + w.t("help.outcome", code(name+" L-42 won|lost|no-deal [value] [note]"), code("12k")) + "\n")
	b.WriteString("• " + w.t("help.digest", code(name+" digest")) + "\n")
	b.WriteString("• " + w.t("help.help", code(name+" help")) + "\n")
	b.WriteString("• " + w.t("help.shortcut", bold(w.t("home.shortcut"))) + "\n")
	b.WriteString("• " + w.t("help.home", bold("Home")) + "\n")
	b.WriteString(w.t("help.vote", bold(w.t("button.decide"))) + "\n")
	if r := w.reactionHelp(reactions); r != "" {
		b.WriteString(w.t("help.reactions", r) + "\n")
	}
	b.WriteString(w.t("help.dutch_words") + "\n")
	if len(cs) > 0 {
		b.WriteString(w.t("help.criteria", code(cs[0].ID+": "+w.t("answer.yes"))) + "\n")
		for i, c := range cs {
			if i == maxHelpCriteria {
				b.WriteString("• … " + w.t("more", len(cs)-i) + "\n")
				break
			}
			fmt.Fprintf(&b, "• `%s`: %s (%s)\n", esc(c.ID), escTrunc(c.Question, 150, false), esc(w.acceptedForms(c)))
		}
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// reactionHelp lists the voting reactions, in the order of the vote buttons.
func (w commandWords) reactionHelp(reactions map[string]triage.Choice) string {
	var parts []string
	for _, c := range []triage.Choice{triage.ChoiceQualify, triage.ChoiceDisqualify, triage.ChoiceUnsure} {
		var names []string
		for name, rc := range reactions {
			if rc == c && reactionName.MatchString(name) {
				names = append(names, ":"+name+":")
			}
		}
		if len(names) > 0 {
			sort.Strings(names)
			parts = append(parts, strings.Join(names, " ")+" "+w.choice(c))
		}
	}
	return strings.Join(parts, ", ")
}

// reactionName is what an emoji name looks like; anything else stays out of
// the help rather than being escaped into it.
var reactionName = regexp.MustCompile(`^[a-z0-9_+'-]{1,100}$`)

// maxHelpCriteria bounds the criteria the help lists, to keep it one screen.
const maxHelpCriteria = 20

// Timing and limits of a slash command's answer (SLACK-NOTES §2.6, §4.7;
// RELIABILITY S11): Slack wants the ack within 3 s, we give it within 1 s.
const (
	// commandAckWait is how long the ack waits for the command's result;
	// a slower result goes to the response_url.
	commandAckWait = 500 * time.Millisecond
	// cardWait and cardPoll: how long "add" waits for the outbox to post
	// the new lead's card, and how often it looks.
	cardWait = 2 * time.Second
	cardPoll = 100 * time.Millisecond
	// cardFollowUp and cardFollowUpPoll: how long a card that was not up
	// in time is watched for, to send its link afterwards.
	cardFollowUp     = 30 * time.Second
	cardFollowUpPoll = 250 * time.Millisecond
	// maxResponsePosts and responseURLTTL are Slack's limits on one
	// response_url.
	maxResponsePosts = 5
	responseURLTTL   = 30 * time.Minute
	// responseTimeout bounds one post to a response_url.
	responseTimeout = 5 * time.Second
)

// Block Kit budgets of a command's reply (SLACK-NOTES §4.6): Slack allows 50
// blocks and about 12 000 characters of block text in a message.
const (
	maxReplyText  = 11000
	maxListLeads  = 100
	maxListLabel  = 80
	maxEventLine  = 400
	maxHintArg    = 80
	maxCommandArg = 80
)

// slashReply is the ephemeral answer to a slash command: the HTTP response
// body, the Socket Mode ack payload, or a post to the response_url.
type slashReply struct {
	ResponseType string        `json:"response_type"`
	Text         string        `json:"text"`
	Blocks       []slack.Block `json:"blocks,omitempty"`

	// after runs once the reply is on its way (acked or posted): the
	// follow-up that sends a late card's link.
	after func()
}

func ephemeralReply(text string, blocks ...slack.Block) *slashReply {
	return &slashReply{ResponseType: slack.ResponseTypeEphemeral, Text: text, Blocks: blocks}
}

// commandName is the name the invoker typed, for the help and hints: the
// app may register another name than /qualify.
var commandName = regexp.MustCompile(`^/[a-z0-9_-]{1,31}$`)

// commands answers /qualify: the text is parsed in command_parse.go (pure),
// answered here and listed in command_list.go. It reaches the rest of the
// bot only through what it is given; Bot routes to it (runCommand).
type commands struct {
	cfg      *Config
	api      *slack.Client
	svc      *triage.Service
	store    Store // whether a new lead's card is up yet
	words    words
	log      *slog.Logger
	links    *links
	gate     *gate
	inbox    *inbox   // finish: the command's inbox entry is done
	dialogs  *dialogs // the add-lead dialog that a bare /qualify opens
	now      func() time.Time
	root     func() context.Context // shutdown ends a card's follow-up
	spawn    func(kind string, fn func(ctx context.Context))
	inflight *sync.WaitGroup // Drain waits for a card's follow-up too
}

// run answers a slash command. The command runs in a tracked
// goroutine; its result is the ack (the returned reply) if it is ready
// within commandAckWait, else the ack says "Working on it…" and the result
// goes to cmd.ResponseURL when it is ready. A nil reply is an empty ack
// (the add-lead dialog opened). ctx only bounds the wait.
func (cm *commands) run(ctx context.Context, cmd slack.SlashCommand) *slashReply {
	if cmd.Command != "" && cmd.Command != cm.cfg.Command {
		cm.log.DebugContext(ctx, "slash command under another name", "command", cmd.Command)
	}
	c := parseCommand(cmd.Text)
	// The text may carry an e-mail address: log the kind, never the text.
	log := cm.log.With("kind", string(c.kind), "user", cmd.UserID, "channel", cmd.ChannelID)
	log.DebugContext(ctx, "slash command")
	rs := &responder{url: cmd.ResponseURL, issued: time.Now()}
	run := &commandRun{done: make(chan struct{})}
	key := triage.InboxKey(ctx) // the work runs in a context of its own: carry the inbox entry over
	cm.spawn("command", func(hctx context.Context) {
		hctx = triage.WithInboxKey(hctx, key)
		answered := false
		answer := func(r *slashReply) { // to the ack, or else the response_url
			answered = true
			if run.offer(r) {
				return // the ack carries it
			}
			if r != nil {
				cm.respond(hctx, log, rs, r)
			}
		}
		defer func() {
			if p := recover(); p != nil {
				if !answered {
					answer(ephemeralReply(errorWords{cm.words}.text(errors.New("panic"))))
				}
				panic(p) // spawn logs it
			}
		}()
		r := cm.exec(hctx, log, cmd, c, rs)
		answer(r)
		if r != nil && r.after != nil {
			r.after()
		}
		cm.inbox.finish(hctx, key)
	})

	t := time.NewTimer(commandAckWait)
	defer t.Stop()
	select {
	case <-run.done:
		return run.result
	case <-t.C:
	case <-ctx.Done():
	}
	if r, ok := run.giveUp(); ok {
		return r
	}
	log.DebugContext(ctx, "slash command answered through the response_url")
	if c.kind == cmdModal {
		return nil // the dialog is opening; a failure is told through the response_url
	}
	return ephemeralReply(cm.words.t("command.working"))
}

// commandRun hands a command's result to the ack, or tells the command
// that the ack went out without it.
type commandRun struct {
	mu       sync.Mutex
	finished bool // result is set and done closed
	late     bool // the ack went out without the result
	result   *slashReply
	done     chan struct{}
}

// offer hands res to the ack; false when the ack already went without it.
func (r *commandRun) offer(res *slashReply) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.late {
		return false
	}
	r.result, r.finished = res, true
	close(r.done)
	return true
}

// giveUp is the ack's side: the result if it is there after all, else it
// marks the run late so that the result goes to the response_url.
func (r *commandRun) giveUp() (*slashReply, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.finished {
		return r.result, true
	}
	r.late = true
	return nil, false
}

// responder posts to one response_url, at most maxResponsePosts times and
// within responseURLTTL of the command.
type responder struct {
	url    string
	issued time.Time
	mu     sync.Mutex
	used   int
}

// take reserves one post; false when none is left.
func (r *responder) take() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.usableLocked() {
		return false
	}
	r.used++
	return true
}

// usable reports whether a post is still possible.
func (r *responder) usable() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.usableLocked()
}

func (r *responder) usableLocked() bool {
	u, err := url.Parse(r.url)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" &&
		r.used < maxResponsePosts && time.Since(r.issued) < responseURLTTL
}

// respond posts reply to the command's response_url, with the Web API
// client's HTTP client. A failure is logged: the user sees no answer, which
// the ack's "Working on it…" already hinted at.
func (cm *commands) respond(ctx context.Context, log *slog.Logger, rs *responder, reply *slashReply) {
	if !rs.take() {
		log.WarnContext(ctx, "slash command reply dropped: no response_url use left")
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), responseTimeout)
	defer cancel()
	opts := []slack.MsgOption{
		slack.MsgOptionResponseURL(rs.url, slack.ResponseTypeEphemeral),
		slack.MsgOptionText(reply.Text, false),
	}
	if len(reply.Blocks) > 0 {
		opts = append(opts, slack.MsgOptionBlocks(reply.Blocks...))
	}
	if _, _, _, err := cm.api.SendMessageContext(ctx, "", opts...); err != nil {
		log.WarnContext(ctx, "posting to a slash command's response_url", "error", err)
	}
}

// exec does what c asks for user cmd.UserID and returns the reply;
// nil when the add-lead dialog opened.
func (cm *commands) exec(ctx context.Context, log *slog.Logger, cmd slack.SlashCommand, c command, rs *responder) *slashReply {
	if ok, msg := cm.gate.allowed(ctx, cmd.UserID, cmd.ChannelID); !ok {
		log.DebugContext(ctx, "slash command refused: access")
		return ephemeralReply(msg)
	}
	name := cm.cfg.Command
	if commandName.MatchString(cmd.Command) {
		name = cmd.Command
	}
	switch c.kind {
	case cmdModal:
		// views.open is the first Slack call: the trigger lasts 3 s.
		if err := cm.dialogs.openAddLead(ctx, cmd.TriggerID, cmd.ChannelID, cmd.ResponseURL, triage.LeadInput{}); err != nil {
			log.WarnContext(ctx, "opening the add-lead dialog", "error", err)
			return ephemeralReply(cm.words.t("command.no_form", "`"+name+" "+cm.words.t("help.add.what")+"`"))
		}
		return nil
	case cmdAdd:
		return cm.add(ctx, log, cmd.UserID, c.arg, rs)
	case cmdList:
		return cm.list(ctx, log, cmd.UserID, c.filter, name)
	case cmdShow, cmdHistory:
		if c.lead == 0 {
			return ephemeralReply(cm.words.t("command.no_lead", bold(escTrunc(c.arg, maxCommandArg, false))))
		}
		l, err := cm.svc.Lead(ctx, c.lead)
		if errors.Is(err, triage.ErrNotFound) {
			return ephemeralReply(cm.words.t("command.no_lead", bold(c.lead.String())))
		}
		if err != nil {
			return cm.failed(ctx, log, err)
		}
		if c.kind == cmdHistory {
			return commandWords{cm.words}.historyReply(l)
		}
		return cm.showReply(l)
	case cmdDigest:
		return cm.digest(ctx, log)
	case cmdOutcome:
		return cm.outcome(ctx, log, cmd.UserID, c)
	default:
		return ephemeralReply(cm.help(name, c))
	}
}

// digest shows the caller the digest as the next scheduled run would
// post it, rendered like the channel digest, all parts in one reply as far
// as it fits; nothing is marked as shown.
func (cm *commands) digest(ctx context.Context, log *slog.Logger) *slashReply {
	parts, err := cm.svc.DigestFor(ctx, cm.now(), cm.cfg.Digest)
	if err != nil {
		return cm.failed(ctx, log, err)
	}
	if len(parts) == 0 {
		return ephemeralReply(cm.words.t("command.digest.nothing") + " :tada:")
	}
	text, blocks := digestWords{cm.words}.part(mergeDigest(parts), cm.links.permalink, cm.cfg.digestLocation(), cm.now())
	blocks = append(blocks, slack.NewContextBlock("", mrkdwn(cm.words.t("command.digest.preview"))))
	return ephemeralReply(text, blocks...)
}

// failed tells the user what went wrong, in words fit for people;
// only unknown errors are logged at error level.
func (cm *commands) failed(ctx context.Context, log *slog.Logger, err error) *slashReply {
	if triage.IsInternal(err) {
		log.ErrorContext(ctx, "handling a slash command", "error", err)
	} else {
		log.DebugContext(ctx, "slash command refused", "error", err)
	}
	return ephemeralReply(errorWords{cm.words}.text(err)) // escaped: it may quote what the user typed
}

// help is the help, led by a "did you mean" when the parser has a
// suggestion.
func (cm *commands) help(name string, c command) string {
	help := commandWords{cm.words}.helpText(name, cm.svc.Policy.Criteria, cm.cfg.Reactions)
	if c.suggestion == "" {
		return help
	}
	s := cm.words.t("command.did_you_mean", "`"+name+" "+c.suggestion+"`")
	if c.addHint {
		// A backtick would end the code span early.
		arg := escTrunc(strings.ReplaceAll(c.arg, "`", "'"), maxHintArg, false)
		s += " " + cm.words.t("command.add_hint", "`"+name+" add "+arg+"`")
	}
	return s + "\n\n" + help
}

// add adds a lead from what was typed and answers with a link to its
// card: at once if the outbox posts it within cardWait, else through the
// response_url when it is up.
func (cm *commands) add(ctx context.Context, log *slog.Logger, user, arg string, rs *responder) *slashReply {
	l, created, err := cm.svc.AddFromSlack(ctx, user, leadInputFromText(arg))
	if err != nil {
		var fe *triage.FieldError
		if errors.As(err, &fe) {
			log.DebugContext(ctx, "slash command add refused", "field", fe.Field)
			return ephemeralReply(cm.words.t("command.add_refused", esc(errorWords{cm.words}.fieldError(fe))))
		}
		return cm.failed(ctx, log, err)
	}
	log = log.With("lead_id", l.ID.String())
	if l.Slack.TS == "" {
		wctx, cancel := context.WithTimeout(ctx, cardWait)
		if posted, ok := cm.waitForCard(wctx, l.ID, cardPoll); ok {
			l = posted
		}
		cancel()
	}
	label := escTrunc(l.Label(), maxListLabel, false)
	text := cm.words.t("command.added", bold(l.ID.String()), label)
	if !created {
		text = cm.words.t("command.repeat", bold(l.ID.String()), label)
	}
	if link := cm.links.cardLink(l, cm.words.t("command.see_card")); link != "" {
		return ephemeralReply(text + " " + link)
	}
	if !rs.usable() {
		return ephemeralReply(text + " " + cm.words.t("command.card_coming"))
	}
	r := ephemeralReply(text + " " + cm.words.t("command.card_coming.link"))
	r.after = func() { cm.followCard(log, l.ID, rs) }
	return r
}

// waitForCard polls the store until lead id's card is posted, or ctx ends.
func (cm *commands) waitForCard(ctx context.Context, id triage.LeadID, poll time.Duration) (triage.Lead, bool) {
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		l, err := cm.store.Lead(ctx, id)
		if err == nil && l.Slack.TS != "" {
			return l, true
		}
		select {
		case <-ctx.Done():
			return triage.Lead{}, false
		case <-t.C:
		}
	}
}

// followCard watches, in a goroutine that Drain waits for, for lead id's
// card for up to cardFollowUp, and sends its link through the response_url
// when it is up. Shutdown (the root context) ends the watch.
func (cm *commands) followCard(log *slog.Logger, id triage.LeadID, rs *responder) {
	cm.inflight.Add(1)
	go func() {
		defer cm.inflight.Done()
		defer func() {
			if p := recover(); p != nil {
				log.Error("panic in slash command follow-up", "panic", p)
			}
		}()
		ctx, cancel := context.WithTimeout(cm.root(), cardFollowUp)
		defer cancel()
		l, ok := cm.waitForCard(ctx, id, cardFollowUpPoll)
		if !ok {
			log.DebugContext(ctx, "card not posted within the follow-up window")
			return
		}
		cm.respond(ctx, log, rs, ephemeralReply(cm.words.t("command.card_up", bold(l.ID.String()), cm.links.cardLink(l, cm.words.t("command.see_card")))))
	}()
}

// replay runs a command whose ack went out before a crash, and sends
// its reply to the command's response_url.
func (cm *commands) replay(ctx context.Context, cmd slack.SlashCommand) {
	c := parseCommand(cmd.Text)
	log := cm.log.With("kind", string(c.kind), "user", cmd.UserID, "channel", cmd.ChannelID)
	rs := &responder{url: cmd.ResponseURL, issued: time.Now()} // the URL's real lifetime, as in run
	r := cm.exec(ctx, log, cmd, c, rs)
	if r == nil {
		return
	}
	cm.respond(ctx, log, rs, r)
	if r.after != nil {
		r.after()
	}
}
