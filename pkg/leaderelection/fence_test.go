package leaderelection

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	clocktesting "k8s.io/utils/clock/testing"
)

// fencedConfig renews every few milliseconds of real time but judges the
// age of renewals by a fake clock, with a renew deadline far beyond the
// test's real duration, so that only the fake clock decides Holding.
func fencedConfig(client *fake.Clientset, clk *clocktesting.FakeClock) Config {
	cfg := testConfig(client, "me")
	cfg.LeaseDuration, cfg.RenewDeadline, cfg.RetryPeriod = 2*time.Hour, time.Hour, 20*time.Millisecond
	cfg.Clock = clk
	return cfg
}

// failableRenewals makes every Lease update fail once the returned flag is set.
func failableRenewals(client *fake.Clientset) *atomic.Bool {
	var failing atomic.Bool
	client.PrependReactor("update", "leases", func(k8stesting.Action) (bool, runtime.Object, error) {
		if failing.Load() {
			return true, nil, errors.New("apiserver unreachable")
		}
		return false, nil, nil
	})
	return &failing
}

// leadInBackground runs the elector until the test ends and waits for it to lead.
func leadInBackground(t *testing.T, e *Elector) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	leading := make(chan struct{})
	returned := make(chan struct{})
	go func() {
		defer close(returned)
		e.Run(ctx, func(ctx context.Context) {
			close(leading)
			<-ctx.Done()
		})
	}()
	within(t, leading, "leadership")
	stop = func() {
		cancel()
		<-returned
	}
	t.Cleanup(stop)
	return stop
}

func TestHoldingEndsOnceTheLastRenewalIsOlderThanTheRenewDeadline(t *testing.T) {
	client := fake.NewClientset()
	failing := failableRenewals(client)
	clk := clocktesting.NewFakeClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	e := New(fencedConfig(client, clk))
	if e.Holding() {
		t.Fatal("Holding before Run")
	}
	leadInBackground(t, e)
	if !e.Holding() {
		t.Fatal("not Holding right after acquiring the Lease")
	}
	// The process stops renewing (stalled, or cut off from the API server).
	failing.Store(true)
	clk.Step(time.Hour - time.Millisecond)
	if !e.Holding() {
		t.Fatal("not Holding within the renew deadline of the last renewal")
	}
	clk.Step(time.Millisecond)
	if e.Holding() {
		t.Fatal("still Holding a renew deadline after the last renewal")
	}
	// A renewal that succeeds again restores it.
	failing.Store(false)
	deadline := time.Now().Add(3 * time.Second)
	for !e.Holding() {
		if time.Now().After(deadline) {
			t.Fatal("a successful renewal did not restore Holding")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestReleasingTheLeaseEndsHolding(t *testing.T) {
	client := fake.NewClientset()
	clk := clocktesting.NewFakeClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	e := New(fencedConfig(client, clk))
	stop := leadInBackground(t, e)
	stop()
	if h := holder(t, client); h != "" {
		t.Fatalf("holder = %q after shutdown, want the Lease released", h)
	}
	if e.Holding() {
		t.Fatal("Holding after the Lease was released")
	}
}

// countingTransport answers every request with 200 and counts them.
type countingTransport struct{ sent atomic.Int32 }

func (c *countingTransport) RoundTrip(*http.Request) (*http.Response, error) {
	c.sent.Add(1)
	return &http.Response{StatusCode: http.StatusOK, Body: io.NopCloser(strings.NewReader("{}"))}, nil
}

// closeTracker is a request body that records being closed.
type closeTracker struct {
	io.Reader
	closed bool
}

func (c *closeTracker) Close() error { c.closed = true; return nil }

func TestFenceWritesRefusesWritesOnlyWhileNotHolding(t *testing.T) {
	for _, method := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		write := method != http.MethodGet
		for _, holding := range []bool{true, false} {
			next := &countingTransport{}
			rt := FenceWrites(func() bool { return holding })(next)
			body := &closeTracker{Reader: strings.NewReader("{}")}
			req, err := http.NewRequest(method, "https://kube.example/apis/apps/v1/namespaces/a/replicasets", body)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := rt.RoundTrip(req)
			refused := write && !holding
			switch {
			case refused && (!errors.Is(err, ErrNotHolding) || resp != nil || next.sent.Load() != 0 || !body.closed):
				t.Errorf("%s while not holding: response %v, error %v, sent %d, body closed %v; want refused unsent",
					method, resp, err, next.sent.Load(), body.closed)
			case !refused && (err != nil || next.sent.Load() != 1):
				t.Errorf("%s, holding %v: error %v, sent %d; want it passed on", method, holding, err, next.sent.Load())
			}
		}
	}
}
