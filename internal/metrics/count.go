package metrics

import (
	"context"

	"github.com/prometheus/client_golang/prometheus"
)

// count is a gauge whose value a CountFunc gives at scrape time. A failed
// count is reported to the scraper as an error of this metric alone.
type count struct {
	desc *prometheus.Desc
	fn   CountFunc
}

func newCount(name, help string, fn CountFunc) *count {
	return &count{desc: prometheus.NewDesc(name, help, nil, nil), fn: fn}
}

func (c *count) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *count) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), ScrapeTimeout)
	defer cancel()
	n, err := c.fn(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.desc, err)
		return
	}
	ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(n))
}
