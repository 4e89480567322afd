package leaderelection

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	coordv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

const ns, lease = "argo-rollouts", "argo-rollouts-controller-lock"

func testConfig(client *fake.Clientset, id string) Config {
	return Config{
		Client:        client.CoordinationV1(),
		Namespace:     ns,
		Name:          lease,
		Identity:      id,
		LeaseDuration: 600 * time.Millisecond,
		RenewDeadline: 400 * time.Millisecond,
		RetryPeriod:   50 * time.Millisecond,
	}
}

func holder(t *testing.T, client *fake.Clientset) string {
	t.Helper()
	l, err := client.CoordinationV1().Leases(ns).Get(context.Background(), lease, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if l.Spec.HolderIdentity == nil {
		return ""
	}
	return *l.Spec.HolderIdentity
}

func within(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(3 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
	}
}

func TestShutdownStopsWorkBeforeReleasing(t *testing.T) {
	client := fake.NewClientset()
	ctx, cancel := context.WithCancel(context.Background())
	leading := make(chan struct{})
	var holderWhileStopping atomic.Value
	returned := make(chan error, 1)
	go func() {
		returned <- New(testConfig(client, "me")).Run(ctx, func(ctx context.Context) {
			close(leading)
			<-ctx.Done()
			// Still winding down: the Lease must still be ours.
			holderWhileStopping.Store(holder(t, client))
		})
	}()

	within(t, leading, "leadership")
	if h := holder(t, client); h != "me" {
		t.Fatalf("holder = %q while leading, want me", h)
	}
	cancel()
	select {
	case err := <-returned:
		if err != nil {
			t.Fatalf("Run = %v, want nil", err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	if h := holderWhileStopping.Load(); h != "me" {
		t.Errorf("holder while work was stopping = %v, want me (released too early)", h)
	}
	if h := holder(t, client); h != "" {
		t.Errorf("holder after shutdown = %q, want the Lease released", h)
	}
}

func TestLostLeaseStopsWorkAndReportsIt(t *testing.T) {
	client := fake.NewClientset()
	var failing atomic.Bool
	client.PrependReactor("update", "leases", func(k8stesting.Action) (bool, runtime.Object, error) {
		if failing.Load() {
			return true, nil, errors.New("apiserver unreachable")
		}
		return false, nil, nil
	})
	cfg := testConfig(client, "me")

	leading := make(chan struct{})
	workStopped := make(chan struct{})
	returned := make(chan error, 1)
	go func() {
		returned <- New(cfg).Run(context.Background(), func(ctx context.Context) {
			close(leading)
			<-ctx.Done()
			close(workStopped)
		})
	}()

	within(t, leading, "leadership")
	failing.Store(true)
	select {
	case err := <-returned:
		if !errors.Is(err, ErrLost) {
			t.Errorf("Run = %v, want ErrLost", err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("Run did not return after losing the lease")
	}
	within(t, workStopped, "work to stop")
}

func TestTakeoverIsNoticedBeforeTheRenewDeadline(t *testing.T) {
	client := fake.NewClientset()
	var conflicts atomic.Bool
	client.PrependReactor("update", "leases", func(k8stesting.Action) (bool, runtime.Object, error) {
		if conflicts.Load() {
			return true, nil, apierrors.NewConflict(coordv1.Resource("leases"), lease, errors.New("changed"))
		}
		return false, nil, nil
	})
	cfg := testConfig(client, "me")
	cfg.LeaseDuration, cfg.RenewDeadline = 20*time.Second, 10*time.Second

	leading := make(chan struct{})
	returned := make(chan error, 1)
	go func() {
		returned <- New(cfg).Run(context.Background(), func(ctx context.Context) {
			close(leading)
			<-ctx.Done()
		})
	}()
	within(t, leading, "leadership")

	// Another instance takes the Lease over (say we were frozen): our next
	// renewal conflicts and re-reads the Lease. Renewals fail from here on,
	// so none can slip in between and take the Lease back.
	conflicts.Store(true)
	l, err := client.CoordinationV1().Leases(ns).Get(context.Background(), lease, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	other := "other"
	l.Spec.HolderIdentity = &other
	now := metav1.NewMicroTime(time.Now())
	l.Spec.RenewTime = &now
	if err := client.Tracker().Update(coordv1.SchemeGroupVersion.WithResource("leases"), l, ns); err != nil {
		t.Fatal(err)
	}

	start := time.Now()
	select {
	case err := <-returned:
		if !errors.Is(err, ErrLost) {
			t.Errorf("Run = %v, want ErrLost", err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("timed out waiting for Run to report the takeover")
	}
	if d := time.Since(start); d >= cfg.RenewDeadline/2 {
		t.Errorf("takeover noticed after %v; the renew deadline is %v", d, cfg.RenewDeadline)
	}
}

func TestStandbyNeverLeads(t *testing.T) {
	client := fake.NewClientset()
	other, now := "other", metav1.NewMicroTime(time.Now())
	seconds := int32(3600)
	_, err := client.CoordinationV1().Leases(ns).Create(context.Background(), &coordv1.Lease{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: lease},
		Spec: coordv1.LeaseSpec{
			HolderIdentity: &other, LeaseDurationSeconds: &seconds, AcquireTime: &now, RenewTime: &now,
		},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}

	cfg := testConfig(client, "me")
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	var led atomic.Bool
	if err := New(cfg).Run(ctx, func(context.Context) { led.Store(true) }); err != nil {
		t.Fatalf("Run = %v (a standby never loses a Lease it never held)", err)
	}
	if led.Load() {
		t.Error("lead ran while another instance held the Lease")
	}
	if h := holder(t, client); h != "other" {
		t.Errorf("holder = %q, want other (untouched)", h)
	}
}

func TestLosingTheLeaseReturnsErrLostWithoutWaitingForTheWork(t *testing.T) {
	// The library no longer exits the process: Run hands the loss back to
	// its caller at once, even while the work is still winding down (here,
	// work that ignores its cancelled context), and the caller decides to
	// exit. That this test keeps running proves nothing called os.Exit.
	client := fake.NewClientset()
	var failing atomic.Bool
	client.PrependReactor("update", "leases", func(k8stesting.Action) (bool, runtime.Object, error) {
		if failing.Load() {
			return true, nil, errors.New("apiserver unreachable")
		}
		return false, nil, nil
	})
	leading := make(chan struct{})
	cancelled := make(chan struct{})
	release := make(chan struct{})
	workReturned := make(chan struct{})
	returned := make(chan error, 1)
	go func() {
		returned <- New(testConfig(client, "me")).Run(context.Background(), func(ctx context.Context) {
			defer close(workReturned)
			close(leading)
			<-ctx.Done()
			close(cancelled)
			<-release
		})
	}()

	within(t, leading, "leadership")
	failing.Store(true)
	select {
	case err := <-returned:
		if !errors.Is(err, ErrLost) || err.Error() != "leader election lease lost" {
			t.Fatalf("Run = %v, want ErrLost", err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("Run did not return while the work was still stopping")
	}
	within(t, cancelled, "the work's context to be cancelled")
	select {
	case <-workReturned:
		t.Fatal("the work returned before it was released; the test proves nothing")
	default:
	}
	close(release)
	within(t, workReturned, "the work to return")
}
