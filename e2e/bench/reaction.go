package bench

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

// reaction runs ReactionN Istio canaries to their indefinite pause and
// makes every analysis fail at once. From the suite's own watches it
// takes, per canary, the time from the timed pause's end (its start as
// the Rollout states it, plus its duration) to the next weight in the
// VirtualService, and from the first Failed measurement in the
// AnalysisRun to the VirtualService's canary weight at 0.
func (r *run) reaction(ctx context.Context) error {
	m := r.opts.ReactionN
	names := make([]string, m)
	for i := range names {
		names[i] = objectName(i)
		r.cluster.Exporter().Set(reactionMetric, map[string]string{"rollout": names[i]}, 1)
	}
	if err := r.cluster.CreateNamespace(ctx, ReactionNamespace); err != nil {
		return err
	}
	log := newReactionLog(time.Now)
	rollouts, err := watchReaction(ctx, log, r.cluster.Dynamic(), r.argo)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	if err := r.cluster.WaitForPrometheusValue(ctx, fmt.Sprintf("count(%s == 1)", reactionMetric), float64(m)); err != nil {
		return err
	}
	r.progress.Printf("reaction: creating %d Istio canaries", m)
	if err := r.createReactionTemplate(ctx); err != nil {
		return err
	}
	if err := forEach(ctx, m, func(ctx context.Context, i int) error { return r.createReactionCanary(ctx, names[i]) }); err != nil {
		return err
	}
	if _, err := waitAll(ctx, r.progress, "reaction Rollouts Healthy", rollouts, m, rolloutDone(imageV1)); err != nil {
		return err
	}
	r.progress.Printf("reaction: releasing %d canaries to their indefinite pause", m)
	if err := setRolloutImages(ctx, r.argo, ReactionNamespace, m, imageV2); err != nil {
		return err
	}
	if _, err := waitAll(ctx, r.progress, "canaries at the indefinite pause", rollouts, m, pausedAt(3)); err != nil {
		return err
	}
	pauses, err := log.pauseToWeight(names, reactionPauseSeconds*time.Second)
	if err != nil {
		return err
	}
	r.progress.Printf("reaction: failing every analysis")
	for _, name := range names {
		r.cluster.Exporter().Set(reactionMetric, map[string]string{"rollout": name}, 0)
	}
	aborts, err := waitFailuresToZero(ctx, log, names)
	if err != nil {
		return err
	}
	r.recordReaction(pauses, aborts)
	return nil
}

// pausedAt tells whether a Rollout is paused at the step index.
func pausedAt(step int32) func(any) bool {
	return func(obj any) bool {
		ro := obj.(*v1alpha1.Rollout)
		return ro.Status.CurrentStepIndex != nil && *ro.Status.CurrentStepIndex == step && len(ro.Status.PauseConditions) > 0
	}
}

func waitFailuresToZero(ctx context.Context, log *reactionLog, names []string) ([]time.Duration, error) {
	for {
		if d, ok := log.failureToZero(names); ok {
			return d, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting for every canary's weight at 0 after its failed analysis: %w", ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (r *run) recordReaction(pauses, aborts []time.Duration) {
	sc := "reaction N=" + strconv.Itoa(r.opts.ReactionN)
	rep := r.report
	rep.Add(sc, "pause end → next weight p50", ms(percentile(pauses, 50)), "ms")
	rep.AddTarget(sc, "pause end → next weight p99", ms(percentile(pauses, 99)), "ms", 100)
	rep.Add(sc, "failed measurement → weight 0 p50", ms(percentile(aborts, 50)), "ms")
	rep.AddTarget(sc, "failed measurement → weight 0 p99", ms(percentile(aborts, 99)), "ms", 100)
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// percentile is the nearest-rank p-th percentile of ds (0 for none).
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	sorted := slices.Clone(ds)
	slices.Sort(sorted)
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	return sorted[max(rank, 1)-1]
}
