package bench

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"time"

	"github.com/serin-dev/serin/e2e/cluster"
	"github.com/serin-dev/serin/pkg/client/clientset/versioned"
)

// start brings up the cluster, the namespaces, the suite's watches and
// the controller.
func (r *run) start(ctx context.Context) error {
	r.progress.Printf("starting the local cluster")
	c, err := cluster.Start(ctx, cluster.Options{RepoRoot: r.root, Build: true, Out: r.opts.Out, Timeout: 5 * time.Minute, PriorityAndFairness: true})
	if err != nil {
		return fmt.Errorf("starting the cluster: %w", err)
	}
	r.cluster = c
	cfg := c.RESTConfig()
	cfg.QPS, cfg.Burst = 1000, 2000
	if r.argo, err = versioned.NewForConfig(cfg); err != nil {
		return err
	}
	r.kube = c.Client()
	for _, ns := range []string{ControllerNamespace, DeploymentNamespace, RolloutNamespace} {
		if err := c.CreateNamespace(ctx, ns); err != nil {
			return err
		}
	}
	if r.watches, err = StartWatches(ctx, r.kube, r.argo); err != nil {
		return err
	}
	return r.startController()
}

func (r *run) startController() error {
	ctrl, err := StartController(r.root, r.cluster.Kubeconfig(), filepath.Join(r.opts.OutDir, "serin-controller.log"), r.opts.ControllerArgs)
	if err != nil {
		return fmt.Errorf("starting serin-controller: %w", err)
	}
	r.ctrl = ctrl
	return nil
}

func (r *run) stop() {
	if r.ctrl != nil {
		r.ctrl.Stop()
	}
	if r.cluster != nil {
		r.cluster.Stop()
	}
}

// Images of the two revisions of every workload.
const (
	imageV1 = "registry.example/bench:v1"
	imageV2 = "registry.example/bench:v2"
)

// ensureFleets creates N Rollouts at imageV1, and N Deployments when the
// wave runs (they are its floor), once, and waits until all are available
// and Healthy.
func (r *run) ensureFleets(ctx context.Context) error {
	if r.converged != "" {
		return nil
	}
	n := r.opts.N
	withDeployments := slices.Contains(r.opts.Scenarios, "wave")
	r.progress.Printf("creating %d Rollouts (and Deployments: %v)", n, withDeployments)
	if err := createFleets(ctx, r.kube, r.argo, n, imageV1, withDeployments); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, fleetTimeout(n))
	defer cancel()
	if withDeployments {
		if _, err := waitAll(ctx, r.progress, "Deployments available", r.watches.deployments, n, deploymentDone(imageV1)); err != nil {
			return err
		}
	}
	if _, err := waitAll(ctx, r.progress, "Rollouts Healthy", r.watches.rollouts, n, rolloutDone(imageV1)); err != nil {
		return err
	}
	r.converged = imageV1
	r.progress.Printf("the fleet converged")
	return nil
}

// fleetTimeout bounds the creation of n Rollouts: 10 minutes, and more for
// very large fleets.
func fleetTimeout(n int) time.Duration {
	return max(10*time.Minute, time.Duration(n)*100*time.Millisecond)
}

// release changes every Rollout's image to the other one and waits until
// all are Healthy.
func (r *run) release(ctx context.Context) error {
	next := imageV2
	if r.converged == imageV2 {
		next = imageV1
	}
	ctx, cancel := context.WithTimeout(ctx, fleetTimeout(r.opts.N))
	defer cancel()
	if err := setRolloutImages(ctx, r.argo, RolloutNamespace, r.opts.N, next); err != nil {
		return err
	}
	if _, err := waitAll(ctx, r.progress, "Rollouts Healthy", r.watches.rollouts, r.opts.N, rolloutDone(next)); err != nil {
		return err
	}
	r.converged = next
	return nil
}
