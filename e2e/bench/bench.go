// Package bench is Serin's benchmark suite: it starts the local cluster of
// e2e/cluster and bin/serin-controller, runs scenarios at a size N and
// reports each figure next to a yardstick measured in the same run, so
// that ratios survive a noisy machine. `make bench` runs it through
// e2e/cmd/bench.
package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"k8s.io/client-go/kubernetes"

	"github.com/serin-dev/serin/e2e/cluster"
	"github.com/serin-dev/serin/pkg/client/clientset/versioned"
)

// Scenarios the suite knows, in the order it runs them.
var Scenarios = []string{"wave", "idle", "coldstart", "reaction", "fanout"}

// Options choose what a run measures.
type Options struct {
	// Scenarios to run, a subset of Scenarios; idle and coldstart need the
	// converged Rollouts the wave leaves, and create them if it did not run.
	Scenarios []string
	// N is the number of Rollouts (and of Deployments for the floor).
	N int
	// ReactionN is the number of Istio canaries of the reaction scenario.
	ReactionN int
	// FanoutN is the number of concurrent AnalysisRuns of the fan-out scenario.
	FanoutN int
	// WaveProfile is how long the CPU profile taken from the start of the
	// Rollouts' wave lasts (the wave's length is not known in advance).
	WaveProfile time.Duration
	// ColdRevisions is how many ReplicaSets each Rollout has when the cold
	// start begins: the Rollouts are released ColdRevisions-1 more times
	// first (the 10 000 Rollouts with 30 000 ReplicaSets is 3).
	ColdRevisions int
	// IdleWindow is how long the idle scenario watches.
	IdleWindow time.Duration
	// OutDir receives the JSON report, profiles and the controller's log.
	OutDir string
	// Command is how the run was started, recorded in the report.
	Command string
	// ControllerArgs are added to the controller's arguments.
	ControllerArgs []string
	// Out receives the progress lines and the cluster's messages.
	Out io.Writer
}

// Validate refuses options the suite cannot run.
func (o Options) Validate() error {
	if o.N < 1 {
		return fmt.Errorf("N must be at least 1, got %d", o.N)
	}
	if len(o.Scenarios) == 0 {
		return fmt.Errorf("no scenario chosen; known: %s", strings.Join(Scenarios, ", "))
	}
	for _, s := range o.Scenarios {
		if !slices.Contains(Scenarios, s) {
			return fmt.Errorf("unknown scenario %q; known: %s", s, strings.Join(Scenarios, ", "))
		}
	}
	if slices.Contains(o.Scenarios, "reaction") && o.ReactionN < 1 {
		return fmt.Errorf("the reaction scenario needs at least 1 canary, got %d", o.ReactionN)
	}
	if slices.Contains(o.Scenarios, "fanout") && o.FanoutN < 1 {
		return fmt.Errorf("the fan-out scenario needs at least 1 AnalysisRun, got %d", o.FanoutN)
	}
	if slices.Contains(o.Scenarios, "wave") && o.WaveProfile < time.Second {
		return fmt.Errorf("the wave's CPU profile must last at least 1s, got %s", o.WaveProfile)
	}
	if slices.Contains(o.Scenarios, "idle") && o.IdleWindow < 10*time.Second {
		return fmt.Errorf("the idle window must be at least 10s, got %s", o.IdleWindow)
	}
	return nil
}

// run is the state one run of the suite shares between scenarios.
type run struct {
	opts     Options
	root     string
	cluster  *cluster.Cluster
	kube     kubernetes.Interface
	argo     versioned.Interface
	watches  *Watches
	ctrl     *Controller
	report   *Report
	progress *Progress
	// converged is the image every Rollout runs, Healthy; "" before the
	// fleets exist.
	converged string
	// released counts the releases of every Rollout since they were
	// created (each leaves one more ReplicaSet).
	released int
}

// Run runs the chosen scenarios and returns the report, which it has also
// saved as OutDir/bench.json.
func Run(ctx context.Context, opts Options) (*Report, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	root, err := cluster.FindRepoRoot()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(opts.OutDir, 0o755); err != nil {
		return nil, err
	}
	r := &run{opts: opts, root: root, progress: &Progress{Out: opts.Out},
		report: &Report{Started: time.Now(), Command: opts.Command, Machine: machine()}}
	defer r.stop()
	if err := r.start(ctx); err != nil {
		return nil, err
	}
	// A failed scenario is reported and the next one still runs: one bug
	// should not cost the figures of the others.
	var failed []error
	for _, name := range Scenarios {
		if !slices.Contains(opts.Scenarios, name) {
			continue
		}
		r.progress.Printf("scenario %s", name)
		if err := r.scenario(ctx, name); err != nil {
			err = fmt.Errorf("scenario %s: %w", name, err)
			r.progress.Printf("%v", err)
			r.report.Errors = append(r.report.Errors, err.Error())
			failed = append(failed, err)
		}
		if err := r.report.Save(filepath.Join(opts.OutDir, "bench.json")); err != nil {
			return r.report, err
		}
		if ctx.Err() != nil {
			break
		}
	}
	return r.report, errors.Join(failed...)
}

func (r *run) scenario(ctx context.Context, name string) error {
	switch name {
	case "wave":
		return r.wave(ctx)
	case "idle":
		return r.idle(ctx)
	case "coldstart":
		return r.coldStart(ctx)
	case "reaction":
		return r.reaction(ctx)
	case "fanout":
		return r.fanout(ctx)
	}
	return fmt.Errorf("unknown scenario %q", name)
}

// machine describes the host in a few words for the report.
func machine() string {
	return fmt.Sprintf("%d CPUs, %s/%s, %s", runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, runtime.Version())
}
