package bench

import (
	"context"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"time"
)

// coldSettle is how long after every Rollout's first reconcile the
// cold start still counts writes.
const coldSettle = 10 * time.Second

// coldStart restarts the controller over N converged Rollouts: the time
// until each has been reconciled once, the writes that start issues
// (none are needed) and the new process's peak RSS.
func (r *run) coldStart(ctx context.Context) error {
	if err := r.ensureFleets(ctx); err != nil {
		return err
	}
	for i := r.revisions(); i < r.opts.ColdRevisions; i++ {
		r.progress.Printf("cold start: releasing the %d Rollouts once more (revision %d of %d)", r.opts.N, i+1, r.opts.ColdRevisions)
		if err := r.release(ctx); err != nil {
			return err
		}
		r.released++
	}
	r.progress.Printf("cold start: stopping the controller")
	r.ctrl.Stop()
	r.ctrl = nil
	if err := r.startController(); err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	ready, err := r.ctrl.WaitReconciled(wctx, r.opts.N, 100*time.Millisecond)
	if err != nil {
		return err
	}
	r.progress.Printf("cold start: every Rollout reconciled %.2fs after the process started; %s more for late writes", ready.Seconds(), coldSettle)
	time.Sleep(coldSettle)
	s, err := r.ctrl.Scrape(ctx)
	if err != nil {
		return err
	}
	peak, err := r.ctrl.PeakRSS()
	if err != nil {
		return err
	}
	heap := filepath.Join(r.opts.OutDir, "coldstart-heap.pprof")
	if err := r.ctrl.Profile(ctx, "heap", heap); err != nil {
		return fmt.Errorf("heap profile: %w", err)
	}
	r.report.Profiles = append(r.report.Profiles, heap)
	sc := fmt.Sprintf("cold start N=%d, %d ReplicaSets", r.opts.N, r.opts.N*max(r.revisions(), 1))
	rep := r.report
	rep.AddTarget(sc, "time to every Rollout reconciled", ready.Seconds(), "s", 30)
	rep.AddTarget(sc, "writes", s.Writes(), "requests", 0)
	for _, verb := range slices.Sorted(maps.Keys(s.Requests)) {
		rep.Add(sc, "requests: "+verb, s.Requests[verb], "requests")
	}
	rep.AddTarget(sc, "controller peak RSS", peak/mib, "MiB", 512)
	return nil
}

// revisions is how many ReplicaSets each Rollout has: one for its first
// revision and one per release since (the revision history limit, 10 by
// default, is not reached here).
func (r *run) revisions() int {
	if r.converged == "" {
		return 0
	}
	return 1 + r.released
}
