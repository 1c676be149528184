package bot

import (
	"time"

	"github.com/leadtriage/leadtriage/triage"
	"github.com/slack-go/slack"
)

// Catalogue keys of a criterion's sides and signals, spelled out so that
// every key is found in the code.
var (
	sidesKeys = map[triage.CriterionKind]string{
		triage.KindYesNo: "stats.sides.yesno", triage.KindScale: "stats.sides.scale", triage.KindChoice: "stats.sides.choice",
	}
	signalKeys = map[triage.Signal]string{
		triage.SignalPredicts: "stats.signal.predicts", triage.SignalNoise: "stats.signal.noise", triage.SignalTooFew: "stats.signal.too_few",
	}
)

// statsWords renders the decision report, in the digest and on the App Home.
type statsWords struct{ words }

// decisionLines words a "did we decide well?" report: the figures, then
// per criterion the win rate after yes and after no. Criterion ids are
// config text, shown with codeSpan.
func (w statsWords) decisionLines(r triage.DecisionReport) (figures, criteria []string) {
	if r.Decided == 0 {
		return []string{"_" + w.t("stats.nothing") + "_"}, nil
	}
	figures = []string{
		"• " + label(w.t("stats.winrate")) + w.t("stats.winrate.detail", w.fraction(r.WinRate), r.Qualified, r.WithOutcome, r.Won, r.Lost, r.NoDeal),
		"• " + label(w.t("stats.cameback")) + w.t("stats.cameback.detail", w.fraction(r.CameBack), r.Returns,
			w.fraction(r.ReturnsQualified), w.fraction(r.ReturnsWon)),
		"• " + label(w.t("stats.herding")) + w.fraction(r.Herding),
		"• " + label(w.t("stats.dissent")) + w.fraction(r.Dissent),
		"• " + label(w.t("stats.time")) + w.t("stats.time.detail", w.durationText(r.MedianDecision), w.durationText(r.P90Decision), r.Decided),
	}
	for _, c := range r.Criteria {
		criteria = append(criteria, "• "+codeSpan(c.ID)+" ("+w.t(sidesKeys[c.Kind])+"): "+
			w.t("stats.criterion", w.fraction(c.Yes), w.fraction(c.No))+" → "+bold(w.t(signalKeys[c.Signal])))
	}
	return figures, criteria
}

// decisionBlocks is a report's figures and criteria as sections under
// heading, with the ≥10 rule in a context line.
func (w statsWords) decisionBlocks(heading string, r triage.DecisionReport) []slack.Block {
	figures, criteria := w.decisionLines(r)
	blocks := packSections(append([]string{heading}, figures...))
	if len(criteria) > 0 {
		blocks = append(blocks, packSections(append([]string{bold(w.t("stats.criteria"))}, criteria...))...)
	}
	if r.Decided > 0 {
		blocks = append(blocks, slack.NewContextBlock("", mrkdwn(w.t("stats.rule", triage.MinForPercent))))
	}
	return blocks
}

// digestMonth is the digest's monthly section: last month's report.
func (w statsWords) digestMonth(r triage.DecisionReport, loc *time.Location) []slack.Block {
	if loc == nil {
		loc = time.UTC
	}
	heading := bold(w.t("stats.title")) + " " + w.t("stats.month", w.monthText(r.From.In(loc)))
	return append([]slack.Block{slack.NewDividerBlock()}, w.decisionBlocks(heading, r)...)
}
