package bot

import (
	"context"
	"log/slog"
	"time"

	"github.com/leadtriage/leadtriage/triage"
	"github.com/slack-go/slack"
)

// actionHomeStatsPeriod is the App Home's period select of "Did we decide
// well?" (a static_select; option values are statsPeriod). Part of the
// interface contract (DESIGN.md).
const (
	actionHomeStatsPeriod = "home.stats.period"
	blockHomeStats        = "home.stats"
)

// statsPeriod is a period "Did we decide well?" covers, up to now.
type statsPeriod string

const (
	period30d statsPeriod = "30d"
	period90d statsPeriod = "90d"
	period12m statsPeriod = "12m"
	periodAll statsPeriod = "all"
)

// statsPeriods in the select's order; the first is the default.
var statsPeriods = []statsPeriod{period30d, period90d, period12m, periodAll}

// periodKeys are the periods' catalogue keys.
var periodKeys = map[statsPeriod]string{
	period30d: "stats.period.30d", period90d: "stats.period.90d", period12m: "stats.period.12m", periodAll: "stats.period.all",
}

// from is where the period starts at now; zero for all time.
func (p statsPeriod) from(now time.Time) time.Time {
	switch p {
	case period90d:
		return now.Add(-90 * 24 * time.Hour)
	case period12m:
		return now.AddDate(-1, 0, 0)
	case periodAll:
		return time.Time{}
	}
	return now.Add(-30 * 24 * time.Hour)
}

// parseStatsPeriod reads a select value; anything else is the default.
func parseStatsPeriod(v string) statsPeriod {
	for _, p := range statsPeriods {
		if string(p) == v {
			return p
		}
	}
	return period30d
}

// reportBlocks is the App Home's "Did we decide well?" section: its
// heading with the period select, then the report.
func (w homeWords) reportBlocks(r triage.DecisionReport, p statsPeriod) []slack.Block {
	opts := make([]*slack.OptionBlockObject, len(statsPeriods))
	var initial *slack.OptionBlockObject
	for i, sp := range statsPeriods {
		opts[i] = slack.NewOptionBlockObject(string(sp), plain(w.t(periodKeys[sp])), nil)
		if sp == p {
			initial = opts[i]
		}
	}
	sel := slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, plain(w.t("stats.period")), actionHomeStatsPeriod, opts...)
	sel.InitialOption = initial
	head := slack.NewSectionBlock(mrkdwn(bold(w.t("stats.title"))+"\n"+w.t("stats.intro")), nil,
		slack.NewAccessory(sel), slack.SectionBlockOptionBlockID(blockHomeStats))
	figures := statsWords(w).decisionBlocks(bold(w.t(periodKeys[p])), r)
	return append([]slack.Block{slack.NewDividerBlock(), head}, figures...)
}

// publish gathers and publishes user's Home with "Did we decide well?"
// over period. If the report cannot be read the Home goes up without it;
// if the Home cannot, the last published one stays.
func (ht *homeTab) publish(ctx context.Context, log *slog.Logger, user string, period statsPeriod) {
	var view slack.HomeTabViewRequest
	if ok, msg := ht.gate.allowed(ctx, user, ""); !ok {
		view = refusedHome(msg)
	} else {
		now := ht.now()
		h, err := ht.svc.Home(ctx, user, now)
		if err != nil {
			log.ErrorContext(ctx, "gathering the app home", "error", err)
			return
		}
		view = ht.view(h, now)
		if r, err := ht.svc.DecisionStats(ctx, period.from(now), now); err != nil {
			log.ErrorContext(ctx, "gathering the decision stats", "error", err)
		} else {
			view.Blocks.BlockSet = append(view.Blocks.BlockSet, homeWords{ht.words}.reportBlocks(r, period)...)
		}
	}
	pctx, cancel := context.WithTimeout(ctx, homePublishTimeout)
	defer cancel()
	if _, err := ht.api.PublishViewContext(pctx, slack.PublishViewContextRequest{UserID: user, View: view}); err != nil {
		log.ErrorContext(ctx, "publishing the app home", "error", err)
		return
	}
	log.DebugContext(ctx, "app home published", "period", string(period))
}

// periodPicked re-renders the picker's Home over the period picked.
// The choice is not stored: the Home opens on the last 30 days again.
func (ht *homeTab) periodPicked(ctx context.Context, log *slog.Logger, user string, a slack.BlockAction) {
	ht.publish(ctx, log, user, parseStatsPeriod(a.SelectedOption.Value))
}
