package main

import (
	"context"
	"errors"
	"os"

	"k8s.io/apimachinery/pkg/util/uuid"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/klog/v2"

	"github.com/serin-dev/serin/pkg/leaderelection"
)

// electAndFence returns the elector of this process's Lease, with a client
// of its own made from cfg, and wraps cfg so that every client made from it
// afterwards writes only while the Lease is fresh (see
// leaderelection.FenceWrites). With leader election off it returns nil and
// leaves cfg alone.
func electAndFence(o *options, cfg *rest.Config, ownNS string) (*leaderelection.Elector, error) {
	if !o.leaderElect {
		return nil, nil
	}
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	elector := leaderelection.New(leaseConfig(o, kube, ownNS))
	cfg.Wrap(leaderelection.FenceWrites(elector.Holding))
	return elector, nil
}

// runLeading runs the app while this process holds the Lease, or at once
// when leader election is off (elector nil), until ctx is done. If the work
// stops on its own while we lead, the whole process shuts down (releasing
// the Lease) instead of leading with nothing running.
func (a *app) runLeading(ctx context.Context, elector *leaderelection.Elector) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var runErr error
	lead := func(leadCtx context.Context) {
		runErr = a.run(leadCtx)
		cancel()
	}
	if elector == nil {
		klog.FromContext(ctx).Info("Leader election is off; running as the only instance")
		lead(ctx)
		return runErr
	}
	err := holdLease(ctx, elector, lead, func(code int) {
		a.plugins.Kill() // no deferred Shutdown runs after os.Exit
		os.Exit(code)
	})
	return errors.Join(err, runErr)
}

// leaseConfig is the Lease this process campaigns for: Argo Rollouts' name
// (per instance ID), in the controller's namespace, held under an identity
// unique to this process.
func leaseConfig(o *options, kube kubernetes.Interface, namespace string) leaderelection.Config {
	return leaderelection.Config{
		Client:        kube.CoordinationV1(),
		Namespace:     namespace,
		Name:          leaseName(o.instanceID),
		Identity:      identity(string(uuid.NewUUID())),
		LeaseDuration: o.leaseDuration,
		RenewDeadline: o.renewDeadline,
		RetryPeriod:   o.retryPeriod,
	}
}

// holdLease runs lead while this process holds the Lease, and returns once
// ctx is done and lead has stopped. Losing the Lease ends the process at
// once with exit(1), without waiting for the workers to stop: a leader that
// lost its Lease and kept reconciling meanwhile would be a second writer.
// exit is os.Exit outside tests.
func holdLease(ctx context.Context, elector *leaderelection.Elector, lead func(context.Context), exit func(code int)) error {
	err := elector.Run(ctx, lead)
	if errors.Is(err, leaderelection.ErrLost) {
		cfg := elector.Config()
		logger := klog.FromContext(ctx).WithValues("lease", klog.KRef(cfg.Namespace, cfg.Name), "identity", cfg.Identity)
		logger.Error(nil, "Lost the leader election lease; exiting so that only the new leader reconciles")
		klog.Flush()
		exit(1)
	}
	return err
}
