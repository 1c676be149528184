package bot

import "github.com/prometheus/client_golang/prometheus"

// metrics are the bot's Prometheus series. A nil Registerer gives working,
// unregistered collectors so the code never checks for nil.
type metrics struct {
	delivered *prometheus.CounterVec // by kind
	failed    *prometheus.CounterVec // by kind and error class (retry, dead)
	inbound   *prometheus.CounterVec // by type (event, interaction, command) and result
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		delivered: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "leadtriage_outbox_delivered_total", Help: "Outbox items delivered to Slack.",
		}, []string{"kind"}),
		failed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "leadtriage_outbox_failures_total", Help: "Failed outbox deliveries, by kind and outcome (retry or dead).",
		}, []string{"kind", "outcome"}),
		inbound: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "leadtriage_slack_requests_total", Help: "Requests from Slack, by type and result.",
		}, []string{"type", "result"}),
	}
	if reg != nil {
		reg.MustRegister(m.delivered, m.failed, m.inbound)
	}
	return m
}
