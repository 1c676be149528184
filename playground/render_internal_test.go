package playground

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestRender_Mrkdwn(t *testing.T) {
	t.Parallel()
	r := render{users: map[string]string{"UANNA": "Anna de Vries"}, channels: map[string]string{"CTRIAGE": "lead-triage"}}
	tests := []struct {
		name, in, want string
	}{
		{"Bold", "*Votes:* 2", "<b>Votes:</b> 2"},
		{"Italic", "_pending_ now", "<i>pending</i> now"},
		{"Strike", "~old~", "<s>old</s>"},
		{"Code", "`need: yes` *not bold inside `code`*", "<code>need: yes</code> <b>not bold inside <code>code</code></b>"},
		{"Pre", "```a *b*```", "<pre>a *b*</pre>"},
		{"Quote", "&gt; hello\nbye", "<blockquote>hello</blockquote>bye"},
		{"User", "by <@UANNA>", `by <span class="mention" data-user="UANNA">@Anna de Vries</span>`},
		{"UnknownUser", "<@UX1>", `<span class="mention" data-user="UX1">@UX1</span>`},
		{"Channel", "in <#CTRIAGE>", `in <span class="mention">#lead-triage</span>`},
		{"Link", "<https://acme.nl/?a=1&amp;b=2|Acme>", `<a href="https://acme.nl/?a=1&amp;b=2" target="_blank" rel="noopener noreferrer">Acme</a>`},
		{"JavascriptLinkDefused", "<javascript:alert(1)|click>", `<a href="#" target="_blank" rel="noopener noreferrer">click</a>`},
		{"Special", "<!here>", `<span class="mention">@here</span>`},
		{"Emoji", ":red_circle: :unknown_thing:", "🔴 :unknown_thing:"},
		{"EscapedText", "a &lt;b&gt; &amp; c", "a &lt;b&gt; &amp; c"},
		{"NoHTMLFromText", "<img src=x onerror=alert(1)>", `<a href="#" target="_blank" rel="noopener noreferrer">img src=x onerror=alert(1)</a>`},
		{"Lines", "one\ntwo", "one<br>two"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := string(r.Mrkdwn(tt.in)); got != tt.want {
				t.Errorf("Mrkdwn(%q)\n got %s\nwant %s", tt.in, got, tt.want)
			}
		})
	}
}

func TestRender_Date(t *testing.T) {
	t.Parallel()
	r := render{}
	got := string(r.Mrkdwn("<!date^1772451000^{date_short_pretty} {time}|2026-03-02T11:30:00Z>"))
	if !strings.HasPrefix(got, "<time>") || !strings.Contains(got, "2026") {
		t.Errorf("date token = %s", got)
	}
}

// TestRender_Blocks renders the shapes the bot sends (built like the card's
// golden files in bot/testdata/golden) and checks what the page's script and
// the browser tests rely on.
func TestRender_Blocks(t *testing.T) {
	t.Parallel()
	blocks := json.RawMessage(`[
	 {"type":"header","text":{"type":"plain_text","text":"L-1 · <Acme> & Co"}},
	 {"type":"section","block_id":"b1","fields":[{"type":"mrkdwn","text":"*E-mail*\njo@acme.nl"}],
	  "accessory":{"type":"static_select","action_id":"lead.answer.choice","placeholder":{"type":"plain_text","text":"Choose…"},
	   "options":[{"text":{"type":"plain_text","text":"this month"},"value":"this month"}]}},
	 {"type":"context","elements":[{"type":"mrkdwn","text":"Check by hand"}]},
	 {"type":"divider"},
	 {"type":"actions","block_id":"card","elements":[
	  {"type":"button","action_id":"lead.vote.qualify","value":"L-1","style":"primary","text":{"type":"plain_text","text":"Qualify"}},
	  {"type":"button","action_id":"lead.vote.disqualify","value":"L-1","style":"danger","text":{"type":"plain_text","text":"Disqualify"},
	   "confirm":{"title":{"type":"plain_text","text":"Sure?"},"text":{"type":"plain_text","text":"No way back"},"confirm":{"type":"plain_text","text":"Yes"},"deny":{"type":"plain_text","text":"No"}}}]},
	 {"type":"input","block_id":"outcome","label":{"type":"plain_text","text":"Outcome"},
	  "element":{"type":"radio_buttons","action_id":"outcome","options":[{"text":{"type":"plain_text","text":"Qualify"},"value":"qualify"}]}}
	]`)
	got := string(render{}.Blocks(blocks, map[string]string{"outcome": "Pick an outcome."}))
	for _, want := range []string{
		`<div class="blk blk-header" data-block-id="">L-1 · &lt;Acme&gt; &amp; Co</div>`,
		`<div class="sec-field"><b>E-mail</b><br>jo@acme.nl</div>`,
		`data-action-id="lead.answer.choice" data-block-id="b1" data-type="static_select"`,
		`<option value="this month" data-text="this month">this month</option>`,
		`class="btn btn-primary" data-action-id="lead.vote.qualify" data-block-id="card" data-type="button" data-value="L-1"`,
		`class="btn btn-danger"`,
		`data-confirm="Sure?

No way back"`,
		`<hr class="blk blk-divider">`,
		`<input type="radio" name="outcome/outcome" value="qualify" data-text="Qualify">`,
		`<div class="in-error" role="alert">Pick an outcome.</div>`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("rendered blocks lack %s\n%s", want, got)
		}
	}
}
