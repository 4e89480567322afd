package bench

import (
	"strings"
	"testing"
)

const exposition = `# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.
# TYPE process_cpu_seconds_total counter
process_cpu_seconds_total 12.5
# TYPE process_resident_memory_bytes gauge
process_resident_memory_bytes 8.0e+07
# TYPE controller_clientset_k8s_request_total counter
controller_clientset_k8s_request_total{kind="rollouts",name="",namespace="",status_code="200",verb="List"} 1
controller_clientset_k8s_request_total{kind="rollouts",name="",namespace="",status_code="200",verb="Watch"} 3
controller_clientset_k8s_request_total{kind="rollouts",name="a",namespace="x",status_code="200",verb="Update"} 4
controller_clientset_k8s_request_total{kind="replicasets",name="",namespace="x",status_code="201",verb="Create"} 2
controller_clientset_k8s_request_total{kind="replicasets",name="b",namespace="x",status_code="409",verb="Update"} 1
# TYPE rollout_reconcile histogram
rollout_reconcile_bucket{name="a",namespace="x",le="+Inf"} 2
rollout_reconcile_sum{name="a",namespace="x"} 0.1
rollout_reconcile_count{name="a",namespace="x"} 2
rollout_reconcile_bucket{name="b",namespace="x",le="+Inf"} 0
rollout_reconcile_sum{name="b",namespace="x"} 0
rollout_reconcile_count{name="b",namespace="x"} 0
`

func TestParseMetricsSumsRequestsByVerb(t *testing.T) {
	s, err := ParseMetrics(strings.NewReader(exposition))
	if err != nil {
		t.Fatal(err)
	}
	if s.CPUSeconds != 12.5 || s.RSSBytes != 8e7 {
		t.Errorf("cpu %v rss %v, want 12.5 and 8e7", s.CPUSeconds, s.RSSBytes)
	}
	want := map[string]float64{"List": 1, "Watch": 3, "Update": 5, "Create": 2}
	for verb, n := range want {
		if s.Requests[verb] != n {
			t.Errorf("%s = %v, want %v", verb, s.Requests[verb], n)
		}
	}
	if s.Reconciled != 1 {
		t.Errorf("reconciled = %d, want 1 (b has no reconcile yet)", s.Reconciled)
	}
	if len(s.WritesByKind) != 2 || s.WritesByKind["rollouts"] != 4 || s.WritesByKind["replicasets"] != 3 {
		t.Errorf("writes by kind %v, want rollouts 4 and replicasets 3", s.WritesByKind)
	}
	if s.Writes() != 7 || s.BeyondWatches() != 8 {
		t.Errorf("writes %v beyond watches %v, want 7 and 8", s.Writes(), s.BeyondWatches())
	}
}

func TestSinceTakesDifferences(t *testing.T) {
	before := Snapshot{CPUSeconds: 2, Requests: map[string]float64{"Watch": 3, "Get": 1}, WritesByKind: map[string]float64{"events": 4}}
	after := Snapshot{CPUSeconds: 2.5, RSSBytes: 10, Requests: map[string]float64{"Watch": 5, "Get": 1, "Patch": 2},
		WritesByKind: map[string]float64{"events": 4, "rollouts": 2}}
	d := after.Since(before)
	if d.CPUSeconds != 0.5 || d.RSSBytes != 10 {
		t.Errorf("cpu %v rss %v, want 0.5 and 10", d.CPUSeconds, d.RSSBytes)
	}
	if len(d.Requests) != 2 || d.Requests["Watch"] != 2 || d.Requests["Patch"] != 2 {
		t.Errorf("requests %v, want Watch 2 and Patch 2 only", d.Requests)
	}
	if len(d.WritesByKind) != 1 || d.WritesByKind["rollouts"] != 2 {
		t.Errorf("writes by kind %v, want rollouts 2 only", d.WritesByKind)
	}
	if d.BeyondWatches() != 2 {
		t.Errorf("beyond watches %v, want 2", d.BeyondWatches())
	}
}

func TestParseMetricsRejectsGarbage(t *testing.T) {
	if _, err := ParseMetrics(strings.NewReader("not{ a metric")); err == nil {
		t.Fatal("want an error for malformed input")
	}
}

func TestVMHWMReadsPeakRSSInBytes(t *testing.T) {
	status := "Name:\tserin-controller\nVmPeak:\t 1000 kB\nVmHWM:\t   79104 kB\nVmRSS:\t 70000 kB\n"
	got, err := vmHWM(strings.NewReader(status))
	if err != nil || got != 79104*1024 {
		t.Fatalf("vmHWM = %v, %v; want %v", got, err, 79104*1024)
	}
	if _, err := vmHWM(strings.NewReader("Name:\tx\n")); err == nil {
		t.Error("want an error when VmHWM is missing")
	}
}

func TestStatCPUSecondsReadsUtimeAndStime(t *testing.T) {
	stat := "4242 (serin (ctl) x) S 1 4242 4242 0 -1 4194560 9000 0 0 0 1234 566 0 0 20 0 30 0 100 0 0"
	got, err := statCPUSeconds(stat)
	if err != nil || got != 18 {
		t.Fatalf("statCPUSeconds = %v, %v; want 18 (1800 ticks)", got, err)
	}
	for _, bad := range []string{"no name here", "1 (x) S 1 2", "1 (x) S 1 2 3 4 5 6 7 8 9 10 x 0"} {
		if _, err := statCPUSeconds(bad); err == nil {
			t.Errorf("%q: want an error", bad)
		}
	}
}
