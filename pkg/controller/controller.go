// Package controller runs a Reconciler over a work queue of object names.
//
// It is the generic half of every Serin controller: informer event handlers
// put keys on the queue (see HandleAll, HandleOwner and HandleMapped), a fixed
// number of workers take them off and call Reconcile, and the outcome decides
// what happens to the key next:
//
//   - an error puts the key back with per-key exponential backoff;
//   - success forgets the key's failure history and, when the Result asks for
//     it, schedules one more reconcile after RequeueAfter.
//
// Informer events always enqueue with a plain Add. Backoff is only ever a
// consequence of a failed reconcile, never of how many events arrived for a
// key (Argo Rollouts rate-limits every event, which delays busy keys by up to
// the backoff cap).
package controller

import (
	"context"
	"fmt"
	"runtime/debug"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"
)

// Result tells the runner what to do with a key after a successful reconcile.
type Result struct {
	// RequeueAfter, when positive, reconciles the key again after this long
	// even if no event arrives, e.g. when a canary pause ends.
	RequeueAfter time.Duration
}

// Reconciler brings the object named by key towards its desired state. It is
// called from several workers at once, but never concurrently for one key.
// A key whose object no longer exists must be treated as done (return nil).
type Reconciler interface {
	Reconcile(ctx context.Context, key cache.ObjectName) (Result, error)
}

// ReconcilerFunc adapts a function to the Reconciler interface.
type ReconcilerFunc func(ctx context.Context, key cache.ObjectName) (Result, error)

// Reconcile calls f.
func (f ReconcilerFunc) Reconcile(ctx context.Context, key cache.ObjectName) (Result, error) {
	return f(ctx, key)
}

// Enqueuer is the part of a Controller that event handlers need.
type Enqueuer interface {
	EnqueueKey(key cache.ObjectName)
}

// Options tune a Controller. The zero value gives one worker, the default
// rate limiter, the real clock and the global workqueue metrics provider.
type Options struct {
	// Workers is the number of keys reconciled in parallel. Values below 1
	// mean 1.
	Workers int
	// RateLimiter decides the delay before a failed key is retried. Defaults
	// to DefaultRateLimiter().
	RateLimiter workqueue.TypedRateLimiter[cache.ObjectName]
	// MetricsProvider receives the queue's workqueue_* metrics, labelled with
	// the controller's name. Nil uses client-go's global provider (a no-op
	// unless workqueue.SetProvider was called).
	MetricsProvider workqueue.MetricsProvider
	// Clock drives delayed requeues and reconcile timing; tests pass a fake.
	Clock clock.WithTicker
	// Observe, if set, is called after every reconcile with how long it took
	// and the error it returned (a recovered panic counts as an error).
	Observe func(key cache.ObjectName, took time.Duration, err error)
}

// Backoff bounds of DefaultRateLimiter.
const (
	DefaultBaseDelay = 5 * time.Millisecond
	DefaultMaxDelay  = 10 * time.Second
)

// DefaultRateLimiter retries a failing key after 5ms, doubling per
// consecutive failure up to 10s. There is deliberately no shared token bucket:
// one key's failures must not slow down the others. The 10s cap is the one
// Argo Rollouts settled on after client-go's 1000s default left rollouts stuck
// for a quarter of an hour (argoproj/argo-rollouts#1193).
func DefaultRateLimiter() workqueue.TypedRateLimiter[cache.ObjectName] {
	return workqueue.NewTypedItemExponentialFailureRateLimiter[cache.ObjectName](DefaultBaseDelay, DefaultMaxDelay)
}

// Controller feeds keys from its queue to a Reconciler.
type Controller struct {
	name       string
	reconciler Reconciler
	queue      workqueue.TypedRateLimitingInterface[cache.ObjectName]
	workers    int
	clock      clock.PassiveClock
	observe    func(cache.ObjectName, time.Duration, error)
}

// New returns a Controller called name that reconciles with r. The name
// labels the queue's metrics and the controller's log lines.
func New(name string, r Reconciler, o Options) *Controller {
	if o.Workers < 1 {
		o.Workers = 1
	}
	if o.RateLimiter == nil {
		o.RateLimiter = DefaultRateLimiter()
	}
	if o.Clock == nil {
		o.Clock = clock.RealClock{}
	}
	q := workqueue.NewTypedRateLimitingQueueWithConfig(o.RateLimiter, workqueue.TypedRateLimitingQueueConfig[cache.ObjectName]{
		Name:            name,
		MetricsProvider: o.MetricsProvider,
		Clock:           o.Clock,
	})
	return &Controller{
		name:       name,
		reconciler: r,
		queue:      q,
		workers:    o.Workers,
		clock:      o.Clock,
		observe:    o.Observe,
	}
}

// Name is the name the Controller was created with.
func (c *Controller) Name() string { return c.name }

// Len is the number of keys waiting to be reconciled, not counting keys that
// are being reconciled or waiting out a delay.
func (c *Controller) Len() int { return c.queue.Len() }

// Enqueue queues the object's namespace/name. It accepts the tombstones that
// informers hand to delete handlers. Objects without metadata are logged and
// dropped.
func (c *Controller) Enqueue(obj any) {
	key, err := cache.DeletionHandlingObjectToName(obj)
	if err != nil {
		klog.Background().Error(err, "Cannot enqueue object", "controller", c.name)
		return
	}
	c.queue.Add(key)
}

// EnqueueKey queues key for an immediate reconcile.
func (c *Controller) EnqueueKey(key cache.ObjectName) { c.queue.Add(key) }

// EnqueueAfter queues key for a reconcile once d has passed. If the key is
// reconciled earlier for another reason, this reconcile still happens.
func (c *Controller) EnqueueAfter(key cache.ObjectName, d time.Duration) {
	c.queue.AddAfter(key, d)
}

// Run starts the workers and blocks until ctx is done. It then shuts the
// queue down, drops the keys not yet started and waits for reconciles in
// flight to return; they see ctx cancelled. A Controller runs once.
func (c *Controller) Run(ctx context.Context) {
	logger := klog.FromContext(ctx).WithValues("controller", c.name)
	ctx = klog.NewContext(ctx, logger)
	logger.Info("Starting workers", "workers", c.workers)

	var wg sync.WaitGroup
	for range c.workers {
		wg.Go(func() {
			for c.processNext(ctx) {
			}
		})
	}
	<-ctx.Done()
	logger.Info("Stopping workers")
	c.queue.ShutDown()
	wg.Wait()
	logger.Info("Workers stopped")
}

// processNext reconciles one key. It returns false once the queue is shut down.
func (c *Controller) processNext(ctx context.Context) bool {
	key, shutdown := c.queue.Get()
	if shutdown {
		return false
	}
	defer c.queue.Done(key)
	if ctx.Err() != nil {
		// Shutting down: the queue still hands out what it holds, but those
		// keys are left for whoever runs next.
		return false
	}

	logger := klog.FromContext(ctx).WithValues("key", klog.KRef(key.Namespace, key.Name))
	res, err := c.reconcile(klog.NewContext(ctx, logger), key)
	if err != nil {
		c.queue.AddRateLimited(key)
		retries := c.queue.NumRequeues(key)
		if apierrors.IsConflict(err) {
			// Someone else wrote the object since our cache saw it; the
			// watch event is on its way. Expected, so keep it quiet.
			logger.V(2).Info("Reconcile hit a write conflict, will retry", "err", err.Error(), "retries", retries)
		} else {
			logger.Error(err, "Reconcile failed, will retry", "retries", retries)
		}
		return true
	}
	c.queue.Forget(key)
	if res.RequeueAfter > 0 {
		c.queue.AddAfter(key, res.RequeueAfter)
	}
	return true
}

// reconcile calls the Reconciler, turning a panic into an error so that one
// malformed object cannot crash-loop the controller and stall every other key.
func (c *Controller) reconcile(ctx context.Context, key cache.ObjectName) (res Result, err error) {
	start := c.clock.Now()
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("reconcile panicked: %v", p)
			klog.FromContext(ctx).Error(err, "Recovered from panic", "stack", string(debug.Stack()))
			res = Result{}
		}
		if c.observe != nil {
			c.observe(key, c.clock.Since(start), err)
		}
	}()
	return c.reconciler.Reconcile(ctx, key)
}
