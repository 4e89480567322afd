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

// coldPoll is how often the cold start reads the controller's /metrics to
// tell whether every Rollout has been reconciled: 100 µs per Rollout,
// between 0.1 s and 1 s. Each scrape builds every Rollout's series in the
// controller (tens of MB at 10 000 Rollouts), so scraping 10 times a
// second would measure the suite's own scrapes in the peak RSS;
// Prometheus scrapes every 15 s or more.
func coldPoll(n int) time.Duration {
	return min(max(time.Duration(n)*100*time.Microsecond, 100*time.Millisecond), time.Second)
}

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
	ready, err := r.ctrl.WaitReconciled(wctx, r.opts.N, coldPoll(r.opts.N))
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
