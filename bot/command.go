package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/leadtriage/leadtriage/triage"
	"github.com/slack-go/slack"
)

// commandKind is what a /qualify invocation asks for (the grammar in
// DESIGN.md).
type commandKind string

const (
	cmdHelp    commandKind = "help"    // "help", and anything the grammar does not know
	cmdModal   commandKind = "modal"   // no text: open the add-lead dialog
	cmdAdd     commandKind = "add"     // an e-mail, domain, URL or company name; "add <text>"
	cmdList    commandKind = "list"    // "list [mine|pending|all]"
	cmdShow    commandKind = "show"    // "L-42": one lead
	cmdHistory commandKind = "history" // "L-42 history": its audit trail
	cmdDigest  commandKind = "digest"  // "digest": the digest, now
)

// listFilter selects the leads "/qualify list" shows.
type listFilter string

const (
	listPending listFilter = "pending" // the default
	listMine    listFilter = "mine"    // owned or added by the caller
	listAll     listFilter = "all"
)

// command is a parsed /qualify text. It is pure data, so the parser is
// table-tested without Slack.
type command struct {
	kind   commandKind
	lead   triage.LeadID // show, history; 0 with an L-form the domain cannot hold ("L-0")
	arg    string        // add: the text to add; show/history: the id as typed; help: the text that was not understood
	filter listFilter    // list
	// suggestion is, for help, the /qualify text the user probably meant
	// ("list", "L-42 history"); "" = plain help.
	suggestion string
	// addHint says that the text could also have been a company name, so
	// help points at "/qualify add <text>".
	addHint bool
}

// subcommands are the words a single-word typo is compared with.
var subcommands = []string{"help", "list", "digest", "history"}

// listFilters are the words after "list", in the order help lists them.
var listFilters = []listFilter{listMine, listPending, listAll}

// maxTypoDistance is how far (in edits) a word may be from a keyword to be
// taken for a typo of it.
const maxTypoDistance = 2

// leadIDForm is the L-form of a lead id; a bare number is not one (a
// company may be called "42").
var leadIDForm = regexp.MustCompile(`^[lL]-[0-9]+$`)

// parseCommand turns the text after /qualify into a command. It never fails:
// text that fits no rule of the grammar is added as a company name, or asks
// for help with a suggestion when it looks like a mistyped keyword.
func parseCommand(text string) command {
	fields := strings.Fields(text)
	if len(fields) == 0 {
		return command{kind: cmdModal}
	}
	joined := strings.Join(fields, " ")
	first := strings.ToLower(fields[0])
	rest := fields[1:]

	switch first {
	case "help":
		return command{kind: cmdHelp}
	case "add":
		if len(rest) == 0 {
			return command{kind: cmdModal}
		}
		return command{kind: cmdAdd, arg: strings.Join(rest, " ")}
	case "list":
		return parseList(rest, joined)
	case "digest":
		if len(rest) == 0 {
			return command{kind: cmdDigest}
		}
		return command{kind: cmdHelp, arg: joined, suggestion: "digest"}
	case "history":
		// The lead comes first: "/qualify L-42 history".
		return command{kind: cmdHelp, arg: joined, suggestion: "L-42 history", addHint: len(rest) == 0}
	}

	if leadIDForm.MatchString(fields[0]) {
		c := command{kind: cmdShow, arg: fields[0]}
		if id, err := triage.ParseLeadID(fields[0]); err == nil {
			c.lead = id
		}
		idText := "L-" + fields[0][2:]
		switch {
		case len(rest) == 0:
			return c
		case len(rest) == 1 && strings.EqualFold(rest[0], "history"):
			c.kind = cmdHistory
			return c
		case len(rest) >= 1 && (strings.EqualFold(rest[0], "history") || typoOf(rest[0], "history")):
			return command{kind: cmdHelp, arg: joined, suggestion: idText + " history"}
		default:
			return command{kind: cmdHelp, arg: joined, suggestion: idText}
		}
	}

	if isAddress(fields[0]) {
		return command{kind: cmdAdd, arg: joined}
	}
	if len(fields) == 1 {
		if isNumber(first) {
			return command{kind: cmdHelp, arg: joined, suggestion: "L-" + strings.TrimLeft(first, "0"), addHint: true}
		}
		if kw, ok := closest(first, subcommands); ok {
			s := kw
			if kw == "history" {
				s = "L-42 history"
			}
			return command{kind: cmdHelp, arg: joined, suggestion: s, addHint: true}
		}
	}
	// "lsit mine": a typo of list followed by a filter.
	if len(fields) == 2 && typoOf(first, "list") {
		if f, ok := closest(strings.ToLower(fields[1]), filterWords()); ok {
			return command{kind: cmdHelp, arg: joined, suggestion: "list " + f, addHint: true}
		}
	}
	return command{kind: cmdAdd, arg: joined}
}

// parseList reads the words after "list".
func parseList(rest []string, joined string) command {
	if len(rest) == 0 {
		return command{kind: cmdList, filter: listPending}
	}
	word := strings.ToLower(rest[0])
	for _, f := range listFilters {
		if word == string(f) {
			if len(rest) == 1 {
				return command{kind: cmdList, filter: f}
			}
			return command{kind: cmdHelp, arg: joined, suggestion: "list " + string(f)}
		}
	}
	if f, ok := closest(word, filterWords()); ok {
		return command{kind: cmdHelp, arg: joined, suggestion: "list " + f}
	}
	return command{kind: cmdHelp, arg: joined, suggestion: "list"}
}

func filterWords() []string {
	w := make([]string, len(listFilters))
	for i, f := range listFilters {
		w[i] = string(f)
	}
	return w
}

// closest returns the keyword word is a typo of: the nearest within
// maxTypoDistance edits, the first in keywords on a tie.
func closest(word string, keywords []string) (string, bool) {
	best, bestD := "", maxTypoDistance+1
	for _, k := range keywords {
		if d := editDistance(word, k); d < bestD {
			best, bestD = k, d
		}
	}
	return best, best != ""
}

func typoOf(word, keyword string) bool {
	return editDistance(strings.ToLower(word), keyword) <= maxTypoDistance
}

// editDistance is the optimal string alignment distance between a and b, in
// runes: insertions, deletions, substitutions and transpositions of two
// neighbours ("histroy") each count one. Long words are cut short: nothing
// that long is a typo of a keyword.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	if len(ra) > 40 || len(rb) > 40 {
		return 40
	}
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}

// isAddress reports whether s reads as an e-mail address, a URL or a bare
// domain (possibly in Slack's <…|…> link form): such text is a lead to add,
// never a typo.
func isAddress(s string) bool {
	s = strings.TrimSuffix(strings.TrimPrefix(s, "<"), ">")
	if i := strings.IndexByte(s, '|'); i >= 0 {
		s = s[:i]
	}
	s = strings.ToLower(s)
	switch {
	case strings.HasPrefix(s, "mailto:"), strings.HasPrefix(s, "http://"), strings.HasPrefix(s, "https://"):
		return true
	case strings.Contains(s, "@"):
		at := strings.LastIndexByte(s, '@')
		return at > 0 && strings.Contains(s[at+1:], ".")
	}
	host, _, _ := strings.Cut(s, "/")
	dot := strings.LastIndexByte(host, '.')
	if dot <= 0 || dot == len(host)-1 {
		return false
	}
	tld := host[dot+1:]
	if utf8.RuneCountInString(tld) < 2 {
		return false
	}
	for _, r := range tld {
		if !(r >= 'a' && r <= 'z' || r > 127 || r == '-' || r >= '0' && r <= '9') {
			return false
		}
	}
	return !isNumber(tld)
}

func isNumber(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// helpText lists the grammar from DESIGN.md and how to answer the team's
// criteria (cs) in a card's thread.
func helpText(name string, cs []triage.Criterion, reactions map[string]triage.Choice) string {
	if name == "" {
		name = "/qualify"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "*%s* helps the team triage inbound leads.\n", name)
	fmt.Fprintf(&b, "• `%s`: open a form to add a lead\n", name)
	fmt.Fprintf(&b, "• `%s <e-mail, domain, URL or company>`: add a lead; `%s add <text>` adds a company whose name looks like a command\n", name, name)
	fmt.Fprintf(&b, "• `%s list`: the pending leads, oldest first; `%s list mine`: yours (owned or added by you); `%s list all`: every lead, newest first\n", name, name, name)
	fmt.Fprintf(&b, "• `%s L-42`: one lead: status, research, criteria, votes, decision\n", name)
	fmt.Fprintf(&b, "• `%s L-42 history`: a lead's audit trail\n", name)
	fmt.Fprintf(&b, "• `%s digest`: the daily digest as it stands now (pending, decided since the last digest, worth another look), for you only\n", name)
	fmt.Fprintf(&b, "• `%s help`: this help\n", name)
	b.WriteString("• *Qualify this message* (in a message's ⋮ menu, under shortcuts): add a lead from a message, e.g. a forwarded e-mail\n")
	b.WriteString("• The bot's *Home* tab: leads waiting for your vote, your leads, the team's pending leads and the last 30 days in numbers\n")
	b.WriteString("Vote on a lead, or claim it, with the buttons on its card in the triage channel; deciders decide with *Decide*.\n")
	if r := reactionHelp(reactions); r != "" {
		b.WriteString("Reactions on the card vote too: " + r + ".\n")
	}
	if len(cs) > 0 {
		b.WriteString("Answer the criteria with the checklist in the card's thread, or reply there with one line per answer, e.g. `" + cs[0].ID + ": yes`:\n")
		for i, c := range cs {
			if i == maxHelpCriteria {
				fmt.Fprintf(&b, "• … and %d more\n", len(cs)-i)
				break
			}
			fmt.Fprintf(&b, "• `%s`: %s (%s)\n", esc(c.ID), escTrunc(c.Question, 150, false), esc(triage.AcceptedForms(c)))
		}
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// reactionHelp lists the voting reactions, in the order of the vote buttons.
func reactionHelp(reactions map[string]triage.Choice) string {
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
			parts = append(parts, strings.Join(names, " ")+" "+string(c))
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

	workingText = "Working on it…"
	// digestPreview ends /qualify digest: it is the caller's alone.
	digestPreview = "Only you see this preview; nothing in it is marked as shown. The channel digest comes at its scheduled time."
	// digestNothing answers /qualify digest when digest.skip_empty finds
	// nothing to say.
	digestNothing = "Nothing pending, decided since the last digest or worth another look. :tada:"
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

// runCommand answers a slash command. The command runs in a tracked
// goroutine; its result is the ack (the returned reply) if it is ready
// within commandAckWait, else the ack says "Working on it…" and the result
// goes to cmd.ResponseURL when it is ready. A nil reply is an empty ack
// (the add-lead dialog opened). ctx only bounds the wait.
func (b *Bot) runCommand(ctx context.Context, cmd slack.SlashCommand) *slashReply {
	if cmd.Command != "" && cmd.Command != b.cfg.Command {
		b.log.DebugContext(ctx, "slash command under another name", "command", cmd.Command)
	}
	c := parseCommand(cmd.Text)
	// The text may carry an e-mail address: log the kind, never the text.
	log := b.log.With("kind", string(c.kind), "user", cmd.UserID, "channel", cmd.ChannelID)
	log.DebugContext(ctx, "slash command")
	rs := &responder{url: cmd.ResponseURL, issued: time.Now()}
	run := &commandRun{done: make(chan struct{})}
	key := triage.InboxKey(ctx) // the work runs in a context of its own: carry the inbox entry over
	b.spawn("command", func(hctx context.Context) {
		hctx = triage.WithInboxKey(hctx, key)
		delivered := false
		deliver := func(r *slashReply) {
			delivered = true
			if run.finish(r) {
				return // the ack carries it
			}
			if r != nil {
				b.respond(hctx, log, rs, r)
			}
		}
		defer func() {
			if p := recover(); p != nil {
				if !delivered {
					deliver(ephemeralReply(triage.Message(errors.New("panic"))))
				}
				panic(p) // spawn logs it
			}
		}()
		r := b.execCommand(hctx, log, cmd, c, rs)
		deliver(r)
		if r != nil && r.after != nil {
			r.after()
		}
		b.finishEntry(hctx, key)
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
	return ephemeralReply(workingText)
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

// finish offers r to the ack; false when the ack already went without it.
func (r *commandRun) finish(res *slashReply) bool {
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
func (b *Bot) respond(ctx context.Context, log *slog.Logger, rs *responder, reply *slashReply) {
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
	if _, _, _, err := b.api.SendMessageContext(ctx, "", opts...); err != nil {
		log.WarnContext(ctx, "posting to a slash command's response_url", "error", err)
	}
}

// execCommand does what c asks for user cmd.UserID and returns the reply;
// nil when the add-lead dialog opened.
func (b *Bot) execCommand(ctx context.Context, log *slog.Logger, cmd slack.SlashCommand, c command, rs *responder) *slashReply {
	if ok, msg := b.allowed(ctx, cmd.UserID, cmd.ChannelID); !ok {
		log.DebugContext(ctx, "slash command refused: access")
		return ephemeralReply(msg)
	}
	name := b.cfg.Command
	if commandName.MatchString(cmd.Command) {
		name = cmd.Command
	}
	switch c.kind {
	case cmdModal:
		// views.open is the first Slack call: the trigger lasts 3 s.
		if err := b.openAddLeadModal(ctx, cmd.TriggerID, cmd.ChannelID, cmd.ResponseURL, triage.LeadInput{}); err != nil {
			log.WarnContext(ctx, "opening the add-lead dialog", "error", err)
			return ephemeralReply(fmt.Sprintf("Could not open the form; try again, or add the lead with `%s <e-mail, domain, URL or company>`.", name))
		}
		return nil
	case cmdAdd:
		return b.commandAdd(ctx, log, cmd.UserID, c.arg, rs)
	case cmdList:
		return b.commandList(ctx, log, cmd.UserID, c.filter, name)
	case cmdShow, cmdHistory:
		if c.lead == 0 {
			return ephemeralReply(fmt.Sprintf("There is no *%s*.", escTrunc(c.arg, maxCommandArg, false)))
		}
		l, err := b.svc.Lead(ctx, c.lead)
		if errors.Is(err, triage.ErrNotFound) {
			return ephemeralReply(fmt.Sprintf("There is no *%s*.", c.lead))
		}
		if err != nil {
			return b.commandError(ctx, log, err)
		}
		if c.kind == cmdHistory {
			return historyReply(l)
		}
		return b.showReply(l)
	case cmdDigest:
		return b.commandDigest(ctx, log)
	default:
		return ephemeralReply(b.commandHelp(name, c))
	}
}

// commandDigest shows the caller the digest as the next scheduled run would
// post it, rendered like the channel digest, all parts in one reply as far
// as it fits; nothing is marked as shown.
func (b *Bot) commandDigest(ctx context.Context, log *slog.Logger) *slashReply {
	parts, err := b.svc.DigestFor(ctx, b.now(), b.cfg.Digest)
	if err != nil {
		return b.commandError(ctx, log, err)
	}
	if len(parts) == 0 {
		return ephemeralReply(digestNothing)
	}
	text, blocks := renderDigestPart(mergeDigest(parts), b.permalink, b.digestLocation(), b.now())
	blocks = append(blocks, slack.NewContextBlock("", mrkdwn(digestPreview)))
	return ephemeralReply(text, blocks...)
}

// commandError tells the user what went wrong, in words fit for people;
// only unknown errors are logged at error level.
func (b *Bot) commandError(ctx context.Context, log *slog.Logger, err error) *slashReply {
	if triage.IsInternal(err) {
		log.ErrorContext(ctx, "handling a slash command", "error", err)
	} else {
		log.DebugContext(ctx, "slash command refused", "error", err)
	}
	msg := triage.Message(err)
	var fe *triage.FieldError
	if errors.As(err, &fe) {
		msg = esc(msg) // it may quote what the user typed
	}
	return ephemeralReply(msg)
}

// commandHelp is the help, led by a "did you mean" when the parser has a
// suggestion.
func (b *Bot) commandHelp(name string, c command) string {
	help := helpText(name, b.svc.Policy.Criteria, b.cfg.Reactions)
	if c.suggestion == "" {
		return help
	}
	s := fmt.Sprintf("Did you mean `%s %s`?", name, c.suggestion)
	if c.addHint {
		// A backtick would end the code span early.
		arg := escTrunc(strings.ReplaceAll(c.arg, "`", "'"), maxHintArg, false)
		s += fmt.Sprintf(" To add a company with that name, use `%s add %s`.", name, arg)
	}
	return s + "\n\n" + help
}

// commandAdd adds a lead from what was typed and answers with a link to its
// card: at once if the outbox posts it within cardWait, else through the
// response_url when it is up.
func (b *Bot) commandAdd(ctx context.Context, log *slog.Logger, user, arg string, rs *responder) *slashReply {
	l, created, err := b.svc.AddFromSlack(ctx, user, triage.LeadInputFromText(arg))
	if err != nil {
		var fe *triage.FieldError
		if errors.As(err, &fe) {
			log.DebugContext(ctx, "slash command add refused", "field", fe.Field)
			return ephemeralReply("Could not add that: " + esc(fe.Error()))
		}
		return b.commandError(ctx, log, err)
	}
	log = log.With("lead_id", l.ID.String())
	if l.Slack.TS == "" {
		wctx, cancel := context.WithTimeout(ctx, cardWait)
		if posted, ok := b.waitForCard(wctx, l.ID, cardPoll); ok {
			l = posted
		}
		cancel()
	}
	label := escTrunc(l.Label(), maxListLabel, false)
	text := fmt.Sprintf("Added *%s* (%s) to the triage channel.", l.ID, label)
	if !created {
		text = fmt.Sprintf("That is *%s* (%s), already in triage.", l.ID, label)
	}
	if link := b.cardLink(l, "See the card"); link != "" {
		return ephemeralReply(text + " " + link)
	}
	if !rs.usable() {
		return ephemeralReply(text + " Its card is on its way.")
	}
	r := ephemeralReply(text + " Its card is on its way; I will send you its link here.")
	r.after = func() { b.followCard(log, l.ID, rs) }
	return r
}

// waitForCard polls the store until lead id's card is posted, or ctx ends.
func (b *Bot) waitForCard(ctx context.Context, id triage.LeadID, poll time.Duration) (triage.Lead, bool) {
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		l, err := b.store.Lead(ctx, id)
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
func (b *Bot) followCard(log *slog.Logger, id triage.LeadID, rs *responder) {
	b.inflight.Add(1)
	go func() {
		defer b.inflight.Done()
		defer func() {
			if p := recover(); p != nil {
				log.Error("panic in slash command follow-up", "panic", p)
			}
		}()
		ctx, cancel := context.WithTimeout(b.root(), cardFollowUp)
		defer cancel()
		l, ok := b.waitForCard(ctx, id, cardFollowUpPoll)
		if !ok {
			log.DebugContext(ctx, "card not posted within the follow-up window")
			return
		}
		b.respond(ctx, log, rs, ephemeralReply(fmt.Sprintf("The card of *%s* is up: %s", l.ID, b.cardLink(l, "See the card"))))
	}()
}

// cardLink links to l's card, labelled label (our own words); "" while
// the card is not posted.
func (b *Bot) cardLink(l triage.Lead, label string) string {
	if l.Slack.TS == "" {
		return ""
	}
	u := b.permalink(l.Slack.Channel, l.Slack.TS)
	if u == "" {
		return ""
	}
	return link(u, label)
}

// commandList lists leads: pending ones oldest first; the caller's (owned
// or added by them) or all newest first.
func (b *Bot) commandList(ctx context.Context, log *slog.Logger, user string, f listFilter, name string) *slashReply {
	var leads []triage.Lead
	var total int // of which leads is the first part (pending: a page)
	var err error
	if f == listPending {
		leads, total, err = b.pendingPage(ctx)
	} else {
		leads, err = b.store.Leads(ctx, triage.LeadFilter{})
		slices.Reverse(leads)
		if f == listMine {
			leads = slices.DeleteFunc(leads, func(l triage.Lead) bool { return l.Owner != user && l.CreatedBy != user })
		}
		total = len(leads)
	}
	if err != nil {
		return b.commandError(ctx, log, err)
	}
	return b.listReply(leads, total, f, name)
}

// listReply renders leads, one line each, packed into sections within the
// reply's Block Kit budget; what does not fit, or is not in leads, of
// total is counted in a last line.
func (b *Bot) listReply(leads []triage.Lead, total int, f listFilter, name string) *slashReply {
	var title, empty string
	switch f {
	case listMine:
		title, empty = "Your leads (owned or added by you), newest first", "You have no leads: none is owned or added by you."
	case listAll:
		title, empty = "All leads, newest first", "There are no leads yet."
	default:
		title, empty = "Pending leads, oldest first", "No lead is pending."
	}
	if len(leads) == 0 {
		return ephemeralReply(empty)
	}
	head := fmt.Sprintf("*%s:* %d", title, total)
	now := b.now()
	budget := maxReplyText - utf8.RuneCountInString(head) - 200 // room for the last line
	var lines []string
	for _, l := range leads {
		line := b.listLine(l, now)
		n := utf8.RuneCountInString(line) + 1
		if len(lines) == maxListLeads || n > budget {
			break
		}
		budget -= n
		lines = append(lines, line)
	}
	blocks := []slack.Block{section(head)}
	blocks = append(blocks, packSections(lines)...)
	if more := total - len(lines); more > 0 {
		hint := fmt.Sprintf("narrow it with `%s list mine`", name)
		if f == listMine {
			hint = "the bot's Home tab shows your leads too"
		}
		blocks = append(blocks, slack.NewContextBlock("", mrkdwn(fmt.Sprintf("… and %d more; %s.", more, hint))))
	}
	return ephemeralReply(fmt.Sprintf("%s: %d", title, total), blocks...)
}

// listLine is one lead in a list: "*L-3* · Acme · 2d old · 2 votes ·
// pending · card".
func (b *Bot) listLine(l triage.Lead, now time.Time) string {
	parts := []string{
		"*" + l.ID.String() + "*",
		escTrunc(l.Label(), maxListLabel, false),
		ageOld(now.Sub(l.CreatedAt)),
		votesPhrase(l, b.svc.Policy),
		statusWord(l.Status),
	}
	if link := b.cardLink(l, "card"); link != "" {
		parts = append(parts, link)
	} else {
		parts = append(parts, "card not posted yet")
	}
	return strings.Join(parts, " · ")
}

// votesPhrase counts a lead's votes; how they split only once they are
// revealed (blind voting: no herding).
func votesPhrase(l triage.Lead, p triage.Policy) string {
	n := len(l.Votes)
	s := fmt.Sprintf("%d votes", n)
	if n == 1 {
		s = "1 vote"
	}
	if n == 0 || !triage.Revealed(&l, p) {
		return s
	}
	t := triage.Count(l.Votes)
	var split []string
	for _, c := range []struct {
		n    int
		word string
	}{{t.Qualify, "qualify"}, {t.Disqualify, "disqualify"}, {t.Unsure, "unsure"}} {
		if c.n > 0 {
			split = append(split, fmt.Sprintf("%d %s", c.n, c.word))
		}
	}
	return s + " (" + strings.Join(split, ", ") + ")"
}

// age is a short duration for lists: "5m", "3h", "2d". It goes into mrkdwn,
// so "under a minute" is written out: a bare "<" could open a link token.
func age(d time.Duration) string {
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d/time.Hour))
	}
	return fmt.Sprintf("%dd", int(d/(24*time.Hour)))
}

// ageOld is age as a list column: "3h old", or "just now".
func ageOld(d time.Duration) string {
	if d < time.Minute {
		return age(d)
	}
	return age(d) + " old"
}

// packSections joins lines into as few sections as fit maxSection each.
// Every line must itself fit a section.
func packSections(lines []string) []slack.Block {
	var blocks []slack.Block
	var cur strings.Builder
	n := 0
	for _, line := range lines {
		w := utf8.RuneCountInString(line)
		if n > 0 && n+1+w > maxSection {
			blocks = append(blocks, section(cur.String()))
			cur.Reset()
			n = 0
		}
		if n > 0 {
			cur.WriteByte('\n')
			n++
		}
		cur.WriteString(line)
		n += w
	}
	if n > 0 {
		blocks = append(blocks, section(cur.String()))
	}
	return blocks
}

// showReply is one lead as its card shows it, without the card's buttons
// (they belong on the card), with a link to the card.
func (b *Bot) showReply(l triage.Lead) *slashReply {
	text, card := renderCard(l, b.svc.Policy, b.now())
	blocks := slices.DeleteFunc(card, func(bl slack.Block) bool { return bl.BlockType() == slack.MBTAction })
	if link := b.cardLink(l, "Open the card"); link != "" {
		blocks = append(blocks, slack.NewContextBlock("", mrkdwn(link)))
	} else {
		blocks = append(blocks, slack.NewContextBlock("", mrkdwn("The card is not posted yet.")))
	}
	return ephemeralReply(text, blocks...)
}

// historyReply is l's audit trail, oldest first; when it does not all fit,
// the newest events are kept behind a count of the earlier ones.
func historyReply(l triage.Lead) *slashReply {
	head := fmt.Sprintf("*Audit trail of %s* (%s), times in UTC", l.ID, escTrunc(l.Label(), maxListLabel, false))
	if len(l.Events) == 0 {
		return ephemeralReply(head + "\nNo events recorded.")
	}
	budget := maxReplyText - utf8.RuneCountInString(head) - 100
	var lines []string
	for i := len(l.Events) - 1; i >= 0; i-- {
		line := eventLine(l.Events[i])
		n := utf8.RuneCountInString(line) + 1
		if n > budget {
			break
		}
		budget -= n
		lines = append(lines, line)
	}
	slices.Reverse(lines)
	if earlier := len(l.Events) - len(lines); earlier > 0 {
		lines = append([]string{fmt.Sprintf("_… %d earlier events_", earlier)}, lines...)
	}
	blocks := append([]slack.Block{section(head)}, packSections(lines)...)
	return ephemeralReply(fmt.Sprintf("Audit trail of %s", l.ID), blocks...)
}

// eventLine is one event: "2026-11-28 10:02 · <@U1> · voted · qualify".
// Only a valid user id becomes a mention; "auto", "webhook" and the like
// stay words.
func eventLine(e triage.Event) string {
	by := "—"
	if e.By != "" {
		by = mention(e.By)
	}
	line := e.At.UTC().Format("2006-01-02 15:04") + " · " + by + " · " + escTrunc(e.Kind, 40, false)
	if d := escTrunc(e.Detail, 300, false); d != "" {
		line += " · " + d
	}
	return fit(line, maxEventLine)
}
