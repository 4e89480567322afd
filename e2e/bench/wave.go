package bench

import (
	"context"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"time"
)

const mib = 1 << 20

// wave changes the image of N Deployments (the floor: the same change
// done by kube-controller-manager on the same cluster), then of N
// Rollouts, and compares the times to convergence; the controller's CPU,
// peak RSS and requests are taken over the Rollouts' wave.
func (r *run) wave(ctx context.Context) error {
	if err := r.ensureFleets(ctx); err != nil {
		return err
	}
	next := imageV2
	if r.converged == imageV2 {
		next = imageV1
	}
	n := r.opts.N
	ctx, cancel := context.WithTimeout(ctx, 15*time.Minute)
	defer cancel()

	floor, err := r.floor(ctx, next)
	if err != nil {
		return err
	}
	before, err := r.ctrl.Scrape(ctx)
	if err != nil {
		return err
	}
	if err := r.ctrl.ResetPeakRSS(); err != nil {
		return err
	}
	profile := filepath.Join(r.opts.OutDir, "wave-cpu.pprof")
	profiled := make(chan error, 1)
	go func() { profiled <- r.ctrl.CPUProfile(ctx, r.opts.WaveProfile, profile) }()
	r.progress.Printf("wave: changing the template of %d Rollouts (CPU profile of the first %s to %s)", n, r.opts.WaveProfile, profile)
	began := time.Now()
	if err := setRolloutImages(ctx, r.argo, RolloutNamespace, n, next); err != nil {
		return err
	}
	ended, err := waitAll(ctx, r.progress, "Rollouts Healthy", r.watches.rollouts, n, rolloutDone(next))
	if err != nil {
		return err
	}
	wave := ended.Sub(began)
	r.converged = next
	r.released++
	r.progress.Printf("wave: %d Rollouts Healthy in %.1fs; 5 s for the controller's last writes", n, wave.Seconds())
	time.Sleep(5 * time.Second)
	after, err := r.ctrl.Scrape(ctx)
	if err != nil {
		return err
	}
	peak, err := r.ctrl.PeakRSS()
	if err != nil {
		return err
	}
	r.recordWave(floor, wave, after.Since(before), peak)
	if err := <-profiled; err != nil {
		return fmt.Errorf("CPU profile: %w", err)
	}
	r.report.Profiles = append(r.report.Profiles, profile)
	return nil
}

// floor changes every Deployment's image to next and returns how long
// until all of them had rolled.
func (r *run) floor(ctx context.Context, next string) (time.Duration, error) {
	n := r.opts.N
	r.progress.Printf("floor: changing the image of %d Deployments", n)
	began := time.Now()
	if err := setDeploymentImages(ctx, r.kube, n, next); err != nil {
		return 0, err
	}
	ended, err := waitAll(ctx, r.progress, "Deployments rolled", r.watches.deployments, n, deploymentDone(next))
	if err != nil {
		return 0, err
	}
	floor := ended.Sub(began)
	r.progress.Printf("floor: %d Deployments rolled in %.1fs", n, floor.Seconds())
	return floor, nil
}

func (r *run) recordWave(floor, wave time.Duration, d Snapshot, peak float64) {
	n := float64(r.opts.N)
	sc := fmt.Sprintf("wave N=%d", r.opts.N)
	rep := r.report
	rep.Add(sc, "Deployments all rolled (floor)", floor.Seconds(), "s")
	rep.Add(sc, "Rollouts all Healthy", wave.Seconds(), "s")
	rep.AddTarget(sc, "Rollouts / floor", wave.Seconds()/floor.Seconds(), "×", 1.2)
	rep.Add(sc, "controller CPU", d.CPUSeconds, "CPU-s")
	rep.AddTarget(sc, "controller CPU per Rollout", d.CPUSeconds/n*1000, "ms", 5)
	rep.Add(sc, "controller peak RSS", peak/mib, "MiB")
	for _, verb := range slices.Sorted(maps.Keys(d.Requests)) {
		rep.Add(sc, "requests: "+verb, d.Requests[verb], "requests")
	}
	rep.Add(sc, "writes per Rollout", d.Writes()/n, "requests")
	for _, kind := range slices.Sorted(maps.Keys(d.WritesByKind)) {
		rep.Add(sc, "writes per Rollout: "+kind, d.WritesByKind[kind]/n, "requests")
	}
}
