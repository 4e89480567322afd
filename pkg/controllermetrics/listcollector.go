package controllermetrics

import (
	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/klog/v2"
)

// listCollector reports, at scrape time, the series collect derives from
// each object a lister holds. A lister error is logged and that kind
// reports nothing; the rest of the scrape goes on.
type listCollector[T any] struct {
	kind    string
	descs   []*prometheus.Desc
	list    func(labels.Selector) ([]T, error)
	collect func(chan<- prometheus.Metric, T)
}

func (c listCollector[T]) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.descs {
		ch <- d
	}
}

func (c listCollector[T]) Collect(ch chan<- prometheus.Metric) {
	objs, err := c.list(labels.Everything())
	if err != nil {
		klog.Background().Error(err, "Cannot list objects for metrics", "kind", c.kind)
		return
	}
	for _, o := range objs {
		c.collect(ch, o)
	}
}
