// Package leaderelection runs work only while this process holds a
// coordination.k8s.io Lease, with two guarantees beyond client-go's elector:
//
//   - On shutdown the work is stopped and waited for before the Lease is
//     released, so the next leader never overlaps with us.
//   - Losing the Lease while running ends the process (by default), because a
//     leader that lost its Lease and keeps reconciling is a second writer
//     (argoproj/argo-rollouts#2117, #727). Loss is noticed when renewing
//     fails for RenewDeadline, or within about one RetryPeriod once a renewal
//     finds another holder in the Lease.
package leaderelection

import (
	"context"
	"errors"
	"os"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	coordinationv1 "k8s.io/client-go/kubernetes/typed/coordination/v1"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
	"k8s.io/klog/v2"
)

// Config says which Lease to hold and how.
type Config struct {
	// Client reads and writes the Lease.
	Client coordinationv1.LeasesGetter
	// Namespace and Name of the Lease.
	Namespace, Name string
	// Identity is written into the Lease as its holder; unique per process.
	Identity string
	// LeaseDuration, RenewDeadline and RetryPeriod have client-go's meaning.
	LeaseDuration, RenewDeadline, RetryPeriod time.Duration
	// OnLost runs when the Lease is lost while leading and not shutting down.
	// Nil means log and os.Exit(1). If it returns, Run waits for lead to
	// return (its context is cancelled) and returns ErrLost.
	OnLost func()
}

// ErrLost is returned by Run when the Lease was lost and OnLost returned.
var ErrLost = errors.New("leader election lease lost")

// Run campaigns for the Lease until ctx is done. While it holds the Lease it
// calls lead with a context that ends when ctx does or the Lease is lost.
// When ctx is done, Run waits for lead to return, then releases the Lease
// and returns nil.
func Run(ctx context.Context, cfg Config, lead func(ctx context.Context)) error {
	logger := klog.FromContext(ctx).WithValues("lease", klog.KRef(cfg.Namespace, cfg.Name), "identity", cfg.Identity)
	onLost := cfg.OnLost
	if onLost == nil {
		onLost = func() {
			logger.Error(nil, "Lost the leader election lease; exiting so that only the new leader reconciles")
			klog.Flush()
			os.Exit(1)
		}
	}

	var (
		mu       sync.Mutex
		started  bool // lead was called
		stopping bool // ctx is done; lead must not start
		done     = make(chan struct{})
		lost     bool
		lostOnce sync.Once
		elector  *leaderelection.LeaderElector
	)
	// reportLost runs onLost once, whether the loss was seen by the watchdog
	// or by the elector giving up.
	reportLost := func() {
		lostOnce.Do(func() {
			mu.Lock()
			lost = true
			mu.Unlock()
			onLost()
		})
	}
	// The elector gets its own context so that it keeps renewing while lead
	// winds down; it is cancelled once lead has returned.
	electCtx, stopElecting := context.WithCancel(context.WithoutCancel(ctx))
	defer stopElecting()

	var err error
	elector, err = leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
		Lock: &resourcelock.LeaseLock{
			LeaseMeta:  metav1.ObjectMeta{Namespace: cfg.Namespace, Name: cfg.Name},
			Client:     cfg.Client,
			LockConfig: resourcelock.ResourceLockConfig{Identity: cfg.Identity},
		},
		LeaseDuration:   cfg.LeaseDuration,
		RenewDeadline:   cfg.RenewDeadline,
		RetryPeriod:     cfg.RetryPeriod,
		ReleaseOnCancel: true,
		Name:            cfg.Name,
		Callbacks: leaderelection.LeaderCallbacks{
			OnStartedLeading: func(leaseCtx context.Context) {
				defer close(done)
				mu.Lock()
				if stopping {
					mu.Unlock()
					return
				}
				started = true
				mu.Unlock()

				workCtx, cancel := context.WithCancel(leaseCtx)
				defer cancel()
				stop := context.AfterFunc(ctx, cancel)
				defer stop()
				logger.Info("Acquired the leader election lease")
				go watchdog(workCtx, cfg.RetryPeriod, elector, func() {
					if ctx.Err() == nil {
						logger.Info("The leader election lease has another holder")
						reportLost()
						cancel()
					}
				})
				lead(workCtx)
			},
			OnStoppedLeading: func() {
				if ctx.Err() != nil {
					mu.Lock()
					led := started
					mu.Unlock()
					if led {
						logger.Info("Released the leader election lease")
					}
					return
				}
				reportLost()
			},
			OnNewLeader: func(identity string) {
				if identity != cfg.Identity {
					logger.Info("Another instance holds the leader election lease", "leader", identity)
				}
			},
		},
	})
	if err != nil {
		return err
	}

	go func() {
		select {
		case <-ctx.Done():
		case <-electCtx.Done():
			return
		}
		mu.Lock()
		stopping = true
		wait := started
		mu.Unlock()
		if wait {
			<-done
		}
		stopElecting()
	}()

	logger.Info("Waiting for the leader election lease")
	elector.Run(electCtx)
	mu.Lock()
	wasLost := lost
	mu.Unlock()
	if wasLost {
		// OnLost returned instead of exiting: lead's context is already
		// cancelled; let it finish before reporting.
		mu.Lock()
		led := started
		mu.Unlock()
		if led {
			<-done
		}
		return ErrLost
	}
	return nil
}

// watchdog calls lost as soon as the elector has seen another holder in the
// Lease. client-go's elector keeps retrying to renew until RenewDeadline
// even after seeing a new leader, and until then our workers would write
// alongside it; checking every half RetryPeriod shortens that window to
// about one RetryPeriod.
func watchdog(ctx context.Context, retryPeriod time.Duration, elector *leaderelection.LeaderElector, lost func()) {
	t := time.NewTicker(max(retryPeriod/2, time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if !elector.IsLeader() {
				lost()
				return
			}
		}
	}
}
