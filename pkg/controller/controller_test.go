package controller

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/tools/cache"
	clocktesting "k8s.io/utils/clock/testing"
)

var testKey = cache.NewObjectName("default", "app")

// call is one Reconcile invocation as a fake reconciler saw it.
type call struct {
	key cache.ObjectName
	at  time.Time // fake-clock time
}

// scripted is a Reconciler that answers from a script, one step per call,
// repeating the last step once the script runs out.
type scripted struct {
	clock *clocktesting.FakeClock
	calls chan call
	mu    sync.Mutex
	steps []func(ctx context.Context) (Result, error)
}

func newScripted(clk *clocktesting.FakeClock, steps ...func(ctx context.Context) (Result, error)) *scripted {
	return &scripted{clock: clk, calls: make(chan call, 100), steps: steps}
}

func (s *scripted) Reconcile(ctx context.Context, key cache.ObjectName) (Result, error) {
	s.mu.Lock()
	step := s.steps[0]
	if len(s.steps) > 1 {
		s.steps = s.steps[1:]
	}
	s.mu.Unlock()
	s.calls <- call{key: key, at: s.clock.Now()}
	return step(ctx)
}

func fail(ctx context.Context) (Result, error) { return Result{}, errors.New("boom") }
func ok(ctx context.Context) (Result, error)   { return Result{}, nil }
func requeueAfter(d time.Duration) func(context.Context) (Result, error) {
	return func(context.Context) (Result, error) { return Result{RequeueAfter: d}, nil }
}

// start runs c until the test ends and waits for Run to return.
func start(t *testing.T, c *Controller) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
}

// next returns the next call, advancing the fake clock by step every
// millisecond of real time until it comes (step 0 leaves the clock alone).
func next(t *testing.T, s *scripted, step time.Duration) call {
	t.Helper()
	var got call
	err := wait.PollUntilContextTimeout(context.Background(), time.Millisecond, 2*time.Second, true, func(context.Context) (bool, error) {
		select {
		case got = <-s.calls:
			return true, nil
		default:
			if step > 0 {
				s.clock.Step(step)
			}
			return false, nil
		}
	})
	if err != nil {
		t.Fatalf("no reconcile happened: %v", err)
	}
	return got
}

// none asserts that no reconcile happens within a short real-time window.
func none(t *testing.T, s *scripted) {
	t.Helper()
	select {
	case c := <-s.calls:
		t.Fatalf("unexpected reconcile of %v", c.key)
	case <-time.After(30 * time.Millisecond):
	}
}

func TestErrorIsRetriedWithGrowingBackoff(t *testing.T) {
	clk := clocktesting.NewFakeClock(time.Unix(1000, 0))
	r := newScripted(clk, fail, fail, ok)
	var observed []error
	var mu sync.Mutex
	c := New("test", r, Options{Clock: clk, Observe: func(_ cache.ObjectName, _ time.Duration, err error) {
		mu.Lock()
		defer mu.Unlock()
		observed = append(observed, err)
	}})
	start(t, c)

	c.EnqueueKey(testKey)
	first := next(t, r, 0)
	none(t, r) // the retry waits for the clock, however long we wait in real time
	second := next(t, r, time.Millisecond)
	third := next(t, r, time.Millisecond)

	if d := second.at.Sub(first.at); d < DefaultBaseDelay {
		t.Errorf("first retry after %v, want >= %v", d, DefaultBaseDelay)
	}
	if d := third.at.Sub(second.at); d < 2*DefaultBaseDelay {
		t.Errorf("second retry after %v, want >= %v (doubled)", d, 2*DefaultBaseDelay)
	}
	none(t, r)
	if n := c.queue.NumRequeues(testKey); n != 0 {
		t.Errorf("failure count after success = %d, want 0 (forgotten)", n)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(observed) != 3 || observed[0] == nil || observed[1] == nil || observed[2] != nil {
		t.Errorf("observed errors = %v, want [err err nil]", observed)
	}
}

func TestEventDuringBackoffIsNotDelayed(t *testing.T) {
	clk := clocktesting.NewFakeClock(time.Unix(1000, 0))
	r := newScripted(clk, fail, ok)
	c := New("test", r, Options{Clock: clk})
	start(t, c)

	c.EnqueueKey(testKey)
	next(t, r, 0)
	// A new event arrives while the key waits out its backoff: it is
	// reconciled at once, with the clock standing still.
	c.EnqueueKey(testKey)
	next(t, r, 0)
}

func TestSuccessWithRequeueAfterIsRequeued(t *testing.T) {
	clk := clocktesting.NewFakeClock(time.Unix(1000, 0))
	r := newScripted(clk, requeueAfter(30*time.Second), ok)
	c := New("test", r, Options{Clock: clk})
	start(t, c)

	c.EnqueueKey(testKey)
	first := next(t, r, 0)
	none(t, r)
	second := next(t, r, time.Second)
	if d := second.at.Sub(first.at); d < 30*time.Second {
		t.Errorf("requeued after %v, want >= 30s", d)
	}
	none(t, r)
}

func TestPlainSuccessIsNotRequeued(t *testing.T) {
	clk := clocktesting.NewFakeClock(time.Unix(1000, 0))
	r := newScripted(clk, ok)
	c := New("test", r, Options{Clock: clk})
	start(t, c)

	c.EnqueueKey(testKey)
	next(t, r, 0)
	clk.Step(time.Hour)
	none(t, r)
}

func TestPanicIsRecoveredAndRetried(t *testing.T) {
	clk := clocktesting.NewFakeClock(time.Unix(1000, 0))
	r := newScripted(clk, func(context.Context) (Result, error) { panic("bad object") }, ok)
	observed := make(chan error, 2)
	c := New("test", r, Options{Clock: clk, Observe: func(_ cache.ObjectName, _ time.Duration, err error) {
		observed <- err
	}})
	start(t, c)

	c.EnqueueKey(testKey)
	next(t, r, 0)
	next(t, r, time.Millisecond)
	got := <-observed
	if got == nil {
		t.Fatal("panic was not reported as an error")
	}
}

func TestConflictIsRetried(t *testing.T) {
	clk := clocktesting.NewFakeClock(time.Unix(1000, 0))
	conflict := apierrors.NewConflict(schema.GroupResource{Group: "argoproj.io", Resource: "rollouts"}, "app", errors.New("modified"))
	r := newScripted(clk, func(context.Context) (Result, error) { return Result{}, conflict }, ok)
	c := New("test", r, Options{Clock: clk})
	start(t, c)

	c.EnqueueKey(testKey)
	next(t, r, 0)
	next(t, r, time.Millisecond)
}

func TestEnqueueAcceptsObjectsAndTombstones(t *testing.T) {
	clk := clocktesting.NewFakeClock(time.Unix(1000, 0))
	r := newScripted(clk, ok)
	c := New("test", r, Options{Clock: clk, Workers: 2})
	start(t, c)

	c.Enqueue(rs("default", "a", "1"))
	c.Enqueue(cache.DeletedFinalStateUnknown{Key: "default/b", Obj: rs("default", "b", "1")})
	c.Enqueue("not an object") // logged and dropped
	c.EnqueueAfter(cache.NewObjectName("default", "c"), time.Minute)

	seen := map[cache.ObjectName]bool{}
	for range 3 {
		seen[next(t, r, time.Second).key] = true
	}
	for _, name := range []string{"a", "b", "c"} {
		if !seen[cache.NewObjectName("default", name)] {
			t.Errorf("default/%s was not reconciled; saw %v", name, seen)
		}
	}
}

func TestRunStopsCleanly(t *testing.T) {
	clk := clocktesting.NewFakeClock(time.Unix(1000, 0))
	release := make(chan struct{})
	sawCancel := make(chan bool, 10)
	r := newScripted(clk, func(ctx context.Context) (Result, error) {
		<-release
		sawCancel <- ctx.Err() != nil
		return Result{}, ctx.Err()
	})
	c := New("test", r, Options{Clock: clk, Workers: 3})

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.Run(ctx)
	}()
	c.EnqueueKey(testKey)
	next(t, r, 0) // a reconcile is in flight
	c.EnqueueKey(cache.NewObjectName("default", "queued"))
	cancel()

	select {
	case <-done:
		t.Fatal("Run returned while a reconcile was still in flight")
	case <-time.After(30 * time.Millisecond):
	}
	close(release)
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("Run did not return after the in-flight reconcile finished")
	}
	if !<-sawCancel {
		t.Error("in-flight reconcile did not see its context cancelled")
	}
	none(t, r) // the queued key was dropped, and the failed one not retried
	c.EnqueueKey(testKey)
	none(t, r) // enqueueing after shutdown is harmless
}
