package bench

import (
	"context"
	"fmt"
	"path/filepath"
	"time"
)

// idleSettle lets the work a wave leaves behind (scale-downs, status
// writes) end before the idle window opens.
const idleSettle = 30 * time.Second

// idle watches N converged Rollouts for the idle window: requests beyond
// watches, CPU per minute, and a CPU profile of the window.
func (r *run) idle(ctx context.Context) error {
	if err := r.ensureFleets(ctx); err != nil {
		return err
	}
	r.progress.Printf("idle: %s to settle", idleSettle)
	time.Sleep(idleSettle)
	window := r.opts.IdleWindow
	before, err := r.ctrl.Scrape(ctx)
	if err != nil {
		return err
	}
	// CPU from /proc, read after the first scrape and before the last, so
	// that serving /metrics does not count as idle work.
	cpuBefore, err := r.ctrl.CPUSeconds()
	if err != nil {
		return err
	}
	profile := filepath.Join(r.opts.OutDir, "idle-cpu.pprof")
	profiled := make(chan error, 1)
	go func() { profiled <- r.ctrl.CPUProfile(ctx, window, profile) }()
	r.progress.Printf("idle: watching %d converged Rollouts for %s (CPU profile to %s)", r.opts.N, window, profile)
	for left := window; left > 0; left -= time.Minute {
		time.Sleep(min(left, time.Minute))
		if left > time.Minute {
			r.progress.Printf("  idle: %s left", left-time.Minute)
		}
	}
	if err := <-profiled; err != nil {
		return fmt.Errorf("CPU profile: %w", err)
	}
	cpuAfter, err := r.ctrl.CPUSeconds()
	if err != nil {
		return err
	}
	after, err := r.ctrl.Scrape(ctx)
	if err != nil {
		return err
	}
	d := after.Since(before)
	d.CPUSeconds = cpuAfter - cpuBefore
	r.report.Profiles = append(r.report.Profiles, profile)
	r.recordIdle(window, d, after.RSSBytes)
	return nil
}

func (r *run) recordIdle(window time.Duration, d Snapshot, rss float64) {
	sc := fmt.Sprintf("idle N=%d %s", r.opts.N, window)
	perMinute := d.CPUSeconds / window.Minutes()
	rep := r.report
	rep.AddTarget(sc, "requests beyond watches", d.BeyondWatches(), "requests", 0)
	rep.Add(sc, "watches opened", d.Requests["Watch"], "requests")
	rep.Add(sc, "controller CPU per minute", perMinute, "CPU-s/min")
	rep.AddTarget(sc, "controller CPU per minute per 1000 Rollouts", perMinute*1000/float64(r.opts.N), "CPU-s/min", 0.05)
	rep.Add(sc, "controller RSS", rss/mib, "MiB")
}
