package bench

import (
	"context"
	"fmt"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/tools/cache"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/client/clientset/versioned"
	argoinformers "github.com/serin-dev/serin/pkg/client/informers/externalversions"
)

// weightChange is a canary weight the suite's watch saw written, and when.
type weightChange struct {
	weight int64
	seen   time.Time
}

// reactionLog is what the suite's watches saw of each canary: when its
// VirtualService's canary weight changed, when its timed pause started
// (the Rollout's own pause condition), and when its AnalysisRun first
// recorded a Failed measurement.
type reactionLog struct {
	mu         sync.Mutex
	weights    map[string][]weightChange
	pauseStart map[string]time.Time
	failed     map[string]time.Time
	now        func() time.Time
}

func newReactionLog(now func() time.Time) *reactionLog {
	return &reactionLog{weights: map[string][]weightChange{}, pauseStart: map[string]time.Time{}, failed: map[string]time.Time{}, now: now}
}

// virtualService records a change of the canary weight.
func (l *reactionLog) virtualService(obj any) {
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return
	}
	w, ok := canaryWeight(u)
	if !ok {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	changes := l.weights[u.GetName()]
	if len(changes) == 0 || changes[len(changes)-1].weight != w {
		l.weights[u.GetName()] = append(changes, weightChange{weight: w, seen: l.now()})
	}
}

// rollout records the start of the timed pause (step 1), as the Rollout
// states it.
func (l *reactionLog) rollout(obj any) {
	ro, ok := obj.(*v1alpha1.Rollout)
	if !ok || ro.Status.CurrentStepIndex == nil || *ro.Status.CurrentStepIndex != 1 {
		return
	}
	for _, c := range ro.Status.PauseConditions {
		if c.Reason == v1alpha1.PauseReasonCanaryPauseStep {
			l.mu.Lock()
			if _, seen := l.pauseStart[ro.Name]; !seen {
				l.pauseStart[ro.Name] = c.StartTime.Time
			}
			l.mu.Unlock()
		}
	}
}

// analysisRun records the first Failed measurement of a Rollout's run.
func (l *reactionLog) analysisRun(obj any) {
	run, ok := obj.(*v1alpha1.AnalysisRun)
	if !ok || len(run.OwnerReferences) == 0 {
		return
	}
	for _, m := range run.Status.MetricResults {
		for _, ms := range m.Measurements {
			if ms.Phase == v1alpha1.AnalysisPhaseFailed {
				l.mu.Lock()
				if _, seen := l.failed[run.OwnerReferences[0].Name]; !seen {
					l.failed[run.OwnerReferences[0].Name] = l.now()
				}
				l.mu.Unlock()
				return
			}
		}
	}
}

// firstWeightAfter is when name's canary weight was first seen at w at
// or after t.
func (l *reactionLog) firstWeightAfter(name string, w int64, t time.Time) (time.Time, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, c := range l.weights[name] {
		if c.weight == w && !c.seen.Before(t) {
			return c.seen, true
		}
	}
	return time.Time{}, false
}

// zeroAfterTraffic is when name's canary weight was seen back at 0
// after it last carried traffic.
func (l *reactionLog) zeroAfterTraffic(name string) (time.Time, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	changes := l.weights[name]
	last := -1
	for i, c := range changes {
		if c.weight > 0 {
			last = i
		}
	}
	if last < 0 || last == len(changes)-1 {
		return time.Time{}, false
	}
	return changes[last+1].seen, true
}

// pauseToWeight is, for each canary, the time from its timed pause's end
// to its second weight seen written.
func (l *reactionLog) pauseToWeight(names []string, pause time.Duration) ([]time.Duration, error) {
	var out []time.Duration
	for _, name := range names {
		l.mu.Lock()
		start, ok := l.pauseStart[name]
		l.mu.Unlock()
		if !ok {
			return nil, fmt.Errorf("%s: its timed pause was never seen", name)
		}
		seen, ok := l.firstWeightAfter(name, reactionSecondWeight, start)
		if !ok {
			return nil, fmt.Errorf("%s: weight %d never seen after its pause", name, reactionSecondWeight)
		}
		out = append(out, seen.Sub(start.Add(pause)))
	}
	return out, nil
}

// failureToZero is, for each canary, the time from its first Failed
// measurement to its canary weight seen at 0.
func (l *reactionLog) failureToZero(names []string) ([]time.Duration, bool) {
	var out []time.Duration
	for _, name := range names {
		l.mu.Lock()
		failed, ok := l.failed[name]
		l.mu.Unlock()
		if !ok {
			return nil, false
		}
		zero, ok := l.zeroAfterTraffic(name)
		if !ok {
			return nil, false
		}
		// The two watches are separate streams: a quick controller's
		// weight 0 can be seen a hair before the failure that caused it,
		// which shows as a small negative time.
		out = append(out, zero.Sub(failed))
	}
	return out, true
}

// watchReaction feeds the log from informers on the reaction namespace.
// It returns the store of the namespace's Rollouts.
func watchReaction(ctx context.Context, l *reactionLog, dyn dynamic.Interface, argo versioned.Interface) (cache.Store, error) {
	df := dynamicinformer.NewFilteredDynamicSharedInformerFactory(dyn, 0, ReactionNamespace, nil)
	af := argoinformers.NewSharedInformerFactoryWithOptions(argo, 0, argoinformers.WithNamespace(ReactionNamespace))
	vs := df.ForResource(virtualServices).Informer()
	ro := af.Argoproj().V1alpha1().Rollouts().Informer()
	ar := af.Argoproj().V1alpha1().AnalysisRuns().Informer()
	for inf, record := range map[cache.SharedIndexInformer]func(any){vs: l.virtualService, ro: l.rollout, ar: l.analysisRun} {
		if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
			AddFunc:    record,
			UpdateFunc: func(_, obj any) { record(obj) },
		}); err != nil {
			return nil, err
		}
	}
	df.Start(ctx.Done())
	af.Start(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), vs.HasSynced, ro.HasSynced, ar.HasSynced) {
		return nil, fmt.Errorf("the reaction informers did not sync")
	}
	return ro.GetStore(), nil
}
