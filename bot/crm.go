package bot

import (
	"github.com/slack-go/slack"

	"github.com/leadtriage/leadtriage/triage"
)

// The CRM hand-off in Slack: the card's line with the deal's link, and the
// thread notice when the deal is made (triage.NoticeCRM).

// crmName is the CRM's name as people know it; "" for a system we do not
// know (then nothing is shown rather than an id).
func crmName(system string) string {
	switch system {
	case "hubspot":
		return "HubSpot"
	case "pipedrive":
		return "Pipedrive"
	}
	return ""
}

// crmWords renders the CRM record line on the card and the CRM notices.
type crmWords struct{ words }

// link is the deal's link labelled "Deal in HubSpot", or the words
// alone when there is no usable link. The URL comes from the CRM client,
// which built it, but is checked all the same: it goes into mrkdwn.
func (w crmWords) link(system, target string) string {
	name := crmName(system)
	if name == "" {
		return ""
	}
	label := w.t("crm.deal", name)
	if u, ok := checkedURL(target); ok && u.Scheme == "https" {
		return link(u.String(), label)
	}
	return label
}

// blocks is the card's context line for the lead's deal; none while it
// has none (or the deal was deleted in the CRM).
func (w crmWords) blocks(l triage.Lead) []slack.Block {
	deal, ok := l.Deal()
	if !ok {
		return nil
	}
	s := w.link(deal.System, deal.URL)
	if s == "" {
		return nil
	}
	return []slack.Block{slack.NewContextBlock("", mrkdwn(":link: "+s))}
}

// notice words triage.NoticeCRM.
func (w crmWords) notice(n triage.Notice) string {
	s := w.link(n.System, n.URL)
	if s == "" {
		return w.t("notice.unknown", bold(n.Lead.String()))
	}
	return w.t("notice.crm", bold(n.Lead.String()), s)
}

// ThreadLink is the link to l's card and thread in Slack, for the CRM
// note; "" while the card is not posted.
func (b *Bot) ThreadLink(l triage.Lead) string {
	if l.Slack.TS == "" {
		return ""
	}
	return b.links.permalink(l.Slack.Channel, l.Slack.TS)
}
