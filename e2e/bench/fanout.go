package bench

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/cache"
	"sigs.k8s.io/yaml"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	argoinformers "github.com/serin-dev/serin/pkg/client/informers/externalversions"
)

// FanoutNamespace holds the fan-out scenario's AnalysisRuns.
const FanoutNamespace = "bench-fanout"

// Shape of each fan-out AnalysisRun: fanoutCount measurements
// fanoutInterval apart, each a query to the real Prometheus.
const (
	fanoutInterval = 10 * time.Second
	fanoutCount    = 6
)

const fanoutRunYAML = `
apiVersion: argoproj.io/v1alpha1
kind: AnalysisRun
metadata:
  name: %s
spec:
  metrics:
  - name: up
    interval: 10s
    count: %d
    successCondition: result[0] >= 0
    provider:
      prometheus:
        address: %s
        query: vector(1)
`

// measurementLog is when the suite's watch saw each run's measurements
// appear.
type measurementLog struct {
	mu   sync.Mutex
	seen map[string][]time.Time
	now  func() time.Time
}

func (l *measurementLog) record(obj any) {
	run, ok := obj.(*v1alpha1.AnalysisRun)
	if !ok {
		return
	}
	n := 0
	for _, m := range run.Status.MetricResults {
		n += int(m.Count) + int(m.Error)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for len(l.seen[run.Name]) < n {
		l.seen[run.Name] = append(l.seen[run.Name], l.now())
	}
}

// lateness is, for every measurement after a run's first, how long after
// the previous one plus the interval the watch saw it.
func (l *measurementLog) lateness(interval time.Duration) []time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []time.Duration
	for _, times := range l.seen {
		for k := 1; k < len(times); k++ {
			out = append(out, times[k].Sub(times[k-1])-interval)
		}
	}
	return out
}

// fanout creates FanoutN AnalysisRuns at once and follows every
// measurement: its lateness against the interval, and the controller's
// CPU over the whole run.
func (r *run) fanout(ctx context.Context) error {
	f := r.opts.FanoutN
	if err := r.cluster.CreateNamespace(ctx, FanoutNamespace); err != nil {
		return err
	}
	log := &measurementLog{seen: map[string][]time.Time{}, now: time.Now}
	af := argoinformers.NewSharedInformerFactoryWithOptions(r.argo, 0, argoinformers.WithNamespace(FanoutNamespace))
	inf := af.Argoproj().V1alpha1().AnalysisRuns().Informer()
	if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{AddFunc: log.record, UpdateFunc: func(_, o any) { log.record(o) }}); err != nil {
		return err
	}
	af.Start(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), inf.HasSynced) {
		return fmt.Errorf("the fan-out informer did not sync")
	}
	before, err := r.ctrl.Scrape(ctx)
	if err != nil {
		return err
	}
	r.progress.Printf("fan-out: creating %d AnalysisRuns (%d measurements %s apart each)", f, fanoutCount, fanoutInterval)
	if err := forEach(ctx, f, func(ctx context.Context, i int) error { return r.createFanoutRun(ctx, "run-"+strconv.Itoa(i)) }); err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, fanoutInterval*fanoutCount+5*time.Minute)
	defer cancel()
	if _, err := waitAll(wctx, r.progress, "AnalysisRuns Successful", inf.GetStore(), f, runSuccessful); err != nil {
		return err
	}
	after, err := r.ctrl.Scrape(ctx)
	if err != nil {
		return err
	}
	r.recordFanout(log.lateness(fanoutInterval), after.Since(before))
	return nil
}

func runSuccessful(obj any) bool {
	return obj.(*v1alpha1.AnalysisRun).Status.Phase == v1alpha1.AnalysisPhaseSuccessful
}

func (r *run) createFanoutRun(ctx context.Context, name string) error {
	var run v1alpha1.AnalysisRun
	if err := yaml.UnmarshalStrict(fmt.Appendf(nil, fanoutRunYAML, name, fanoutCount, r.cluster.PrometheusURL()), &run); err != nil {
		return fmt.Errorf("the fan-out AnalysisRun: %w", err)
	}
	_, err := r.argo.ArgoprojV1alpha1().AnalysisRuns(FanoutNamespace).Create(ctx, &run, metav1.CreateOptions{})
	return err
}

func (r *run) recordFanout(late []time.Duration, d Snapshot) {
	sc := "fan-out N=" + strconv.Itoa(r.opts.FanoutN)
	measurements := float64(r.opts.FanoutN * fanoutCount)
	rep := r.report
	rep.Add(sc, "measurement lateness p50", ms(percentile(late, 50)), "ms")
	rep.AddTarget(sc, "measurement lateness p99", ms(percentile(late, 99)), "ms", 1000)
	rep.Add(sc, "controller CPU", d.CPUSeconds, "CPU-s")
	rep.Add(sc, "controller CPU per measurement", d.CPUSeconds/measurements*1000, "ms")
	rep.Add(sc, "writes per measurement", d.Writes()/measurements, "requests")
}
