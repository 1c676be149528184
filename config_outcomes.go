package main

import "time"

// OutcomesConfig is [outcomes]: when to ask what became of a decided lead.
type OutcomesConfig struct {
	// AskAfter is how long after the decision a lead with no outcome gets
	// the outcome buttons on its card and a line in the digest; 0 = never.
	AskAfter Duration `toml:"ask_after"`
}

// defaultAskAfter is 30 days: long enough for most deals to close.
const defaultAskAfter = 720 * time.Hour

func (c OutcomesConfig) validate(p *problems) {
	p.duration("outcomes.ask_after", c.AskAfter)
	if c.AskAfter.Duration < 0 {
		p.add("outcomes.ask_after", "must not be negative (\"0s\" = never ask)")
	}
}
