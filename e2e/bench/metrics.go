package bench

import (
	"fmt"
	"io"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Snapshot is what the controller's /metrics endpoint said at one moment:
// the figures the scenarios take differences of.
type Snapshot struct {
	// CPUSeconds is process_cpu_seconds_total.
	CPUSeconds float64
	// RSSBytes is process_resident_memory_bytes.
	RSSBytes float64
	// Requests counts controller_clientset_k8s_request_total by verb
	// (Get, List, Watch, Create, Update, Patch, Delete).
	Requests map[string]float64
	// WritesByKind counts the writes (Create, Update, Patch, Delete) of
	// controller_clientset_k8s_request_total by resource (rollouts,
	// replicasets, events, ...).
	WritesByKind map[string]float64
	// Reconciled is how many Rollouts have been reconciled at least once
	// (series of rollout_reconcile with a non-zero count).
	Reconciled int
}

// ParseMetrics reads a Prometheus text exposition into a Snapshot.
func ParseMetrics(r io.Reader) (Snapshot, error) {
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(r)
	if err != nil {
		return Snapshot{}, fmt.Errorf("parsing /metrics: %w", err)
	}
	s := Snapshot{Requests: map[string]float64{}, WritesByKind: map[string]float64{}}
	if f := families["process_cpu_seconds_total"]; f != nil && len(f.GetMetric()) > 0 {
		s.CPUSeconds = value(f.GetMetric()[0])
	}
	if f := families["process_resident_memory_bytes"]; f != nil && len(f.GetMetric()) > 0 {
		s.RSSBytes = value(f.GetMetric()[0])
	}
	if f := families["controller_clientset_k8s_request_total"]; f != nil {
		for _, m := range f.GetMetric() {
			verb := labelValue(m, "verb")
			s.Requests[verb] += value(m)
			if writeVerbs[verb] {
				s.WritesByKind[labelValue(m, "kind")] += value(m)
			}
		}
	}
	if f := families["rollout_reconcile"]; f != nil {
		for _, m := range f.GetMetric() {
			if m.GetHistogram().GetSampleCount() > 0 {
				s.Reconciled++
			}
		}
	}
	return s, nil
}

func value(m *dto.Metric) float64 {
	switch {
	case m.GetCounter() != nil:
		return m.GetCounter().GetValue()
	case m.GetGauge() != nil:
		return m.GetGauge().GetValue()
	case m.GetUntyped() != nil:
		return m.GetUntyped().GetValue()
	}
	return 0
}

func labelValue(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

var writeVerbs = map[string]bool{"Create": true, "Update": true, "Patch": true, "Delete": true}

// Since is the change from before to s: CPU-seconds and request counts
// become differences; RSS and Reconciled stay s's.
func (s Snapshot) Since(before Snapshot) Snapshot {
	return Snapshot{
		CPUSeconds:   s.CPUSeconds - before.CPUSeconds,
		RSSBytes:     s.RSSBytes,
		Reconciled:   s.Reconciled,
		Requests:     difference(s.Requests, before.Requests),
		WritesByKind: difference(s.WritesByKind, before.WritesByKind),
	}
}

// difference is after minus before, key by key, without the zeroes.
func difference(after, before map[string]float64) map[string]float64 {
	d := map[string]float64{}
	for k, n := range after {
		if diff := n - before[k]; diff != 0 {
			d[k] = diff
		}
	}
	return d
}

// Writes is the number of requests that change objects.
func (s Snapshot) Writes() float64 {
	total := 0.0
	for verb := range writeVerbs {
		total += s.Requests[verb]
	}
	return total
}

// BeyondWatches is every request but the long-lived watches.
func (s Snapshot) BeyondWatches() float64 {
	total := 0.0
	for verb, n := range s.Requests {
		if verb != "Watch" {
			total += n
		}
	}
	return total
}
