// Package leaderelection runs work only while this process holds a
// coordination.k8s.io Lease, with three guarantees beyond client-go's elector:
//
//   - On shutdown the work is stopped and waited for before the Lease is
//     released, so the next leader never overlaps with us.
//   - Losing the Lease while running makes Run return ErrLost at once,
//     without waiting for the work, whose context is cancelled: a leader that
//     lost its Lease and keeps reconciling is a second writer
//     (argoproj/argo-rollouts#2117, #727), so the caller should end the
//     process. Loss is noticed when renewing fails for RenewDeadline, or
//     within about one RetryPeriod once a renewal finds another holder in the
//     Lease.
//   - Clients wrapped with FenceWrites(elector.Holding) send no write unless
//     the Lease was renewed within RenewDeadline, by this process's clock:
//     a process that was stopped past its Lease and wakes up with queued
//     work writes nothing before it notices the loss.
package leaderelection

import (
	"context"
	"errors"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	coordinationv1 "k8s.io/client-go/kubernetes/typed/coordination/v1"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"
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
	// Clock times renewals for Holding; default: the real clock.
	Clock clock.PassiveClock
}

// ErrLost is returned by Run when the Lease was lost while leading.
var ErrLost = errors.New("leader election lease lost")

// Elector campaigns for one Lease and runs work while it holds it.
type Elector struct {
	cfg   Config
	clock clock.PassiveClock

	mu sync.Mutex
	// renewedAt is when the last Lease write that left us the holder was
	// sent; nil while we do not hold the Lease.
	renewedAt *time.Time
}

// New returns an Elector for the Lease cfg describes. The configuration is
// checked when Run starts.
func New(cfg Config) *Elector {
	c := cfg.Clock
	if c == nil {
		c = clock.RealClock{}
	}
	return &Elector{cfg: cfg, clock: c}
}

// Config is the configuration the Elector was made with.
func (e *Elector) Config() Config { return e.cfg }

// Run campaigns for the Lease until ctx is done. While it holds the Lease it
// calls lead with a context that ends when ctx does or the Lease is lost.
//
// When ctx is done, Run waits for lead to return, then releases the Lease and
// returns nil. When the Lease is lost while ctx is not done, Run returns
// ErrLost as soon as the loss is noticed: lead's context is cancelled by
// then, but lead may still be running, because waiting for it would prolong
// the time two leaders write. The caller is expected to exit.
func (e *Elector) Run(ctx context.Context, lead func(ctx context.Context)) error {
	c := &campaign{
		cfg:    e.cfg,
		leases: leaseWrites{LeasesGetter: e.cfg.Client, e: e},
		ctx:    ctx,
		lead:   lead,
		logger: klog.FromContext(ctx).WithValues("lease", klog.KRef(e.cfg.Namespace, e.cfg.Name), "identity", e.cfg.Identity),
		done:   make(chan struct{}),
		lost:   make(chan struct{}),
	}
	// The elector gets its own context so that it keeps renewing while lead
	// winds down; it is cancelled once lead has returned, or when Run
	// returns.
	electCtx, stopElecting := context.WithCancel(context.WithoutCancel(ctx))
	defer stopElecting()
	elector, err := leaderelection.NewLeaderElector(c.electionConfig())
	if err != nil {
		return err
	}
	c.elector = elector
	go c.stopAfterWork(electCtx, stopElecting)

	c.logger.Info("Waiting for the leader election lease")
	elected := make(chan struct{})
	go func() {
		defer close(elected)
		elector.Run(electCtx)
	}()
	select {
	case <-elected:
	case <-c.lost:
	}
	select {
	case <-c.lost:
		return ErrLost
	default:
		return nil
	}
}

// campaign is the state of one Run.
type campaign struct {
	cfg     Config
	leases  coordinationv1.LeasesGetter // cfg.Client, noting our renewals
	ctx     context.Context             // the caller's: done means shut down
	lead    func(ctx context.Context)
	logger  klog.Logger
	elector *leaderelection.LeaderElector

	mu       sync.Mutex
	started  bool          // lead was called
	stopping bool          // ctx is done; lead must not start
	done     chan struct{} // closed once the leading callback has returned
	lost     chan struct{} // closed once the Lease is lost while leading
	lostOnce sync.Once
}

func (c *campaign) electionConfig() leaderelection.LeaderElectionConfig {
	return leaderelection.LeaderElectionConfig{
		Lock: &resourcelock.LeaseLock{
			LeaseMeta:  metav1.ObjectMeta{Namespace: c.cfg.Namespace, Name: c.cfg.Name},
			Client:     c.leases,
			LockConfig: resourcelock.ResourceLockConfig{Identity: c.cfg.Identity},
		},
		LeaseDuration:   c.cfg.LeaseDuration,
		RenewDeadline:   c.cfg.RenewDeadline,
		RetryPeriod:     c.cfg.RetryPeriod,
		ReleaseOnCancel: true,
		Name:            c.cfg.Name,
		Callbacks: leaderelection.LeaderCallbacks{
			OnStartedLeading: c.startedLeading,
			OnStoppedLeading: c.stoppedLeading,
			OnNewLeader: func(identity string) {
				if identity != c.cfg.Identity {
					c.logger.Info("Another instance holds the leader election lease", "leader", identity)
				}
			},
		},
	}
}

// reportLost marks the Lease lost, once, whether the loss was seen by the
// watchdog or by the elector giving up.
func (c *campaign) reportLost() {
	c.lostOnce.Do(func() { close(c.lost) })
}

// startedLeading runs lead, unless shutdown has begun, with a context that
// ends when the Lease is lost or ctx is done.
func (c *campaign) startedLeading(leaseCtx context.Context) {
	defer close(c.done)
	c.mu.Lock()
	if c.stopping {
		c.mu.Unlock()
		return
	}
	c.started = true
	c.mu.Unlock()

	workCtx, cancel := context.WithCancel(leaseCtx)
	defer cancel()
	stop := context.AfterFunc(c.ctx, cancel)
	defer stop()
	c.logger.Info("Acquired the leader election lease")
	go watchdog(workCtx, c.cfg.RetryPeriod, c.elector, func() {
		if c.ctx.Err() == nil {
			c.logger.Info("The leader election lease has another holder")
			c.reportLost()
			cancel()
		}
	})
	c.lead(workCtx)
}

// stoppedLeading tells a release on shutdown from a loss.
func (c *campaign) stoppedLeading() {
	if c.ctx.Err() != nil {
		c.mu.Lock()
		led := c.started
		c.mu.Unlock()
		if led {
			c.logger.Info("Released the leader election lease")
		}
		return
	}
	c.reportLost()
}

// stopAfterWork, once ctx is done, keeps lead from starting, waits for a
// running lead to return, and only then stops the elector, which releases
// the Lease.
func (c *campaign) stopAfterWork(electCtx context.Context, stopElecting context.CancelFunc) {
	select {
	case <-c.ctx.Done():
	case <-electCtx.Done():
		return
	}
	c.mu.Lock()
	c.stopping = true
	wait := c.started
	c.mu.Unlock()
	if wait {
		<-c.done
	}
	stopElecting()
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
