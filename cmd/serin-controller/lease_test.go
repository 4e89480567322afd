package main

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/rest"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/klog/v2"
	"k8s.io/klog/v2/textlogger"

	"github.com/serin-dev/serin/pkg/leaderelection"
)

func TestLeaseConfigKeepsTheLeaseNameTimingsAndAUniqueIdentity(t *testing.T) {
	o := &options{instanceID: "blue", leaseDuration: 15 * time.Second, renewDeadline: 10 * time.Second, retryPeriod: 2 * time.Second}
	kube := fake.NewClientset()
	cfg := leaseConfig(o, kube, "argo-rollouts")
	if cfg.Namespace != "argo-rollouts" || cfg.Name != "argo-rollouts-controller-lock-blue" {
		t.Errorf("Lease %s/%s, want argo-rollouts/argo-rollouts-controller-lock-blue", cfg.Namespace, cfg.Name)
	}
	if cfg.LeaseDuration != o.leaseDuration || cfg.RenewDeadline != o.renewDeadline || cfg.RetryPeriod != o.retryPeriod {
		t.Errorf("timings %v/%v/%v, want the flags' %v/%v/%v", cfg.LeaseDuration, cfg.RenewDeadline, cfg.RetryPeriod,
			o.leaseDuration, o.renewDeadline, o.retryPeriod)
	}
	if !strings.HasPrefix(cfg.Identity, identity("")) || cfg.Identity == identity("") {
		t.Errorf("identity %q, want the host name and a random suffix", cfg.Identity)
	}
	if other := leaseConfig(o, kube, "argo-rollouts"); other.Identity == cfg.Identity {
		t.Errorf("two processes would share the identity %q", cfg.Identity)
	}
}

// losableLease returns a Lease configuration whose renewals fail once lose
// is called.
func losableLease() (leaderelection.Config, func()) {
	kube := fake.NewClientset()
	var failing atomic.Bool
	kube.PrependReactor("update", "leases", func(k8stesting.Action) (bool, runtime.Object, error) {
		if failing.Load() {
			return true, nil, errors.New("apiserver unreachable")
		}
		return false, nil, nil
	})
	cfg := leaderelection.Config{
		Client: kube.CoordinationV1(), Namespace: "argo-rollouts", Name: leaseName(""), Identity: "me",
		LeaseDuration: 600 * time.Millisecond, RenewDeadline: 400 * time.Millisecond, RetryPeriod: 50 * time.Millisecond,
	}
	return cfg, func() { failing.Store(true) }
}

// syncBuffer is a log destination safe for concurrent writers.
type syncBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestLosingTheLeaseExitsWithCodeOneAndSaysWhy(t *testing.T) {
	cfg, lose := losableLease()
	var logged syncBuffer
	ctx := klog.NewContext(context.Background(), textlogger.NewLogger(textlogger.NewConfig(textlogger.Output(&logged))))

	leading := make(chan struct{})
	exited := make(chan int, 1)
	returned := make(chan error, 1)
	go func() {
		returned <- holdLease(ctx, leaderelection.New(cfg), func(ctx context.Context) {
			close(leading)
			<-ctx.Done()
		}, func(code int) { exited <- code })
	}()
	select {
	case <-leading:
	case <-time.After(3 * time.Second):
		t.Fatal("never led")
	}
	lose()
	select {
	case code := <-exited:
		if code != 1 {
			t.Errorf("exit code %d, want 1", code)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("losing the Lease did not end the process")
	}
	if err := <-returned; !errors.Is(err, leaderelection.ErrLost) {
		t.Errorf("holdLease = %v after exit returned, want ErrLost", err)
	}
	want := `"Lost the leader election lease; exiting so that only the new leader reconciles" lease="argo-rollouts/argo-rollouts-controller-lock" identity="me"`
	if !strings.Contains(logged.String(), want) {
		t.Errorf("no log line says the Lease was lost; logged:\n%s", logged.String())
	}
}

func TestAShutdownWhileLeadingDoesNotExit(t *testing.T) {
	cfg, _ := losableLease()
	ctx, cancel := context.WithCancel(context.Background())
	leading := make(chan struct{})
	returned := make(chan error, 1)
	go func() {
		returned <- holdLease(ctx, leaderelection.New(cfg), func(ctx context.Context) {
			close(leading)
			<-ctx.Done()
		}, func(code int) { t.Errorf("exit(%d) on an orderly shutdown", code) })
	}()
	select {
	case <-leading:
	case <-time.After(3 * time.Second):
		t.Fatal("never led")
	}
	cancel()
	select {
	case err := <-returned:
		if err != nil {
			t.Errorf("holdLease = %v, want nil", err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("holdLease did not return after the shutdown")
	}
}

// apiRecorder is an API server that answers every request with an empty
// object and records the methods it got.
func apiRecorder(t *testing.T) (*rest.Config, func() []string) {
	var mu sync.Mutex
	var methods []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		methods = append(methods, r.Method)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x"}}`))
	}))
	t.Cleanup(srv.Close)
	return &rest.Config{Host: srv.URL}, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(methods)
	}
}

func TestClientsMadeAfterElectAndFenceWriteOnlyWhileLeading(t *testing.T) {
	o := &options{leaderElect: true, leaseDuration: 15 * time.Second, renewDeadline: 10 * time.Second, retryPeriod: 2 * time.Second}
	cfg, methods := apiRecorder(t)
	elector, err := electAndFence(o, cfg, "argo-rollouts")
	if err != nil || elector == nil {
		t.Fatalf("electAndFence = %v, %v; want an elector", elector, err)
	}
	kube := kubernetes.NewForConfigOrDie(cfg)
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "x"}}
	if _, err := kube.CoreV1().ConfigMaps("a").Create(context.Background(), cm, metav1.CreateOptions{}); !errors.Is(err, leaderelection.ErrNotHolding) {
		t.Errorf("a write before leading returned %v, want ErrNotHolding", err)
	}
	if _, err := kube.CoreV1().ConfigMaps("a").Get(context.Background(), "x", metav1.GetOptions{}); err != nil {
		t.Errorf("a read before leading: %v", err)
	}
	if got := methods(); !slices.Equal(got, []string{http.MethodGet}) {
		t.Errorf("the API server got %v, want only the read", got)
	}
}

func TestElectAndFenceLeavesClientsAloneWithoutLeaderElection(t *testing.T) {
	cfg, methods := apiRecorder(t)
	elector, err := electAndFence(&options{leaderElect: false}, cfg, "argo-rollouts")
	if err != nil || elector != nil {
		t.Fatalf("electAndFence = %v, %v; want no elector", elector, err)
	}
	kube := kubernetes.NewForConfigOrDie(cfg)
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "x"}}
	if _, err := kube.CoreV1().ConfigMaps("a").Create(context.Background(), cm, metav1.CreateOptions{}); err != nil {
		t.Errorf("a write without leader election: %v", err)
	}
	if got := methods(); !slices.Equal(got, []string{http.MethodPost}) {
		t.Errorf("the API server got %v, want the write", got)
	}
}
