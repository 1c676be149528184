package crm

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/leadtriage/leadtriage/triage"
)

// metrics are the crm worker's Prometheus series. A nil Registerer gives
// working, unregistered collectors.
type metrics struct {
	delivered *prometheus.CounterVec // by kind and event type
	failed    *prometheus.CounterVec // by kind and outcome (retry, dead)
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		delivered: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "leadtriage_crm_delivered_total", Help: "Outgoing webhook and CRM deliveries that succeeded, by kind and event.",
		}, []string{"kind", "event"}),
		failed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "leadtriage_crm_failures_total", Help: "Failed outgoing webhook and CRM deliveries, by kind and outcome (retry or dead).",
		}, []string{"kind", "outcome"}),
	}
	if reg != nil {
		reg.MustRegister(m.delivered, m.failed)
	}
	return m
}

// DeadLetterCollector is the gauge leadtriage_deadletters{lane}: how many
// dead letters each outbox lane holds, read from list at every scrape.
func DeadLetterCollector(list func(context.Context) ([]triage.OutboxItem, error)) prometheus.Collector {
	return &deadLetterCollector{list: list, desc: prometheus.NewDesc("leadtriage_deadletters",
		"Outbox items given up on (GET /api/deadletters), by lane (slack or crm).", []string{"lane"}, nil)}
}

type deadLetterCollector struct {
	list func(context.Context) ([]triage.OutboxItem, error)
	desc *prometheus.Desc
}

func (c *deadLetterCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *deadLetterCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	items, err := c.list(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.desc, err)
		return
	}
	n := map[string]int{triage.LaneSlack: 0, triage.LaneCRM: 0}
	for _, it := range items {
		n[it.Kind.Lane()]++
	}
	for lane, v := range n {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(v), lane)
	}
}
