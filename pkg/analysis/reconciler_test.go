package analysis

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	rolloutfake "github.com/serin-dev/serin/pkg/client/clientset/versioned/fake"
	rolloutlisters "github.com/serin-dev/serin/pkg/client/listers/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/controller/controllertest"
	"github.com/serin-dev/serin/pkg/metric"
	"github.com/serin-dev/serin/pkg/metric/prometheus"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// factoryFunc adapts a function to metric.Factory and counts its calls.
type factoryFunc struct {
	calls atomic.Int32
	fn    func(m v1alpha1.Metric) (metric.Provider, error)
}

func (f *factoryFunc) NewProvider(_ context.Context, _ *v1alpha1.AnalysisRun, m v1alpha1.Metric) (metric.Provider, error) {
	f.calls.Add(1)
	return f.fn(m)
}

// secrets is an in-memory SecretGetter.
type secrets map[string]*corev1.Secret

func (s secrets) GetSecret(_ context.Context, namespace, name string) (*corev1.Secret, error) {
	if sec, ok := s[namespace+"/"+name]; ok {
		return sec, nil
	}
	return nil, apierrors.NewNotFound(schema.GroupResource{Resource: "secrets"}, name)
}

type fixture struct {
	t        *testing.T
	client   *rolloutfake.Clientset
	index    cache.Indexer
	clock    *clocktesting.FakeClock
	recorder *record.FakeRecorder
	factory  *factoryFunc
	secrets  secrets
	r        *Reconciler
	rv       int
}

func newFixture(t *testing.T, run *v1alpha1.AnalysisRun) *fixture {
	f := &fixture{
		t:        t,
		client:   rolloutfake.NewSimpleClientset(run),
		index:    cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc}),
		clock:    clocktesting.NewFakeClock(t0),
		recorder: record.NewFakeRecorder(100),
		secrets:  secrets{},
	}
	f.factory = &factoryFunc{fn: func(m v1alpha1.Metric) (metric.Provider, error) {
		return prometheus.New(m, prometheus.Options{Clock: f.clock})
	}}
	controllertest.Versioned(&f.client.Fake, f.client.Tracker())
	_ = f.index.Add(run)
	f.r = NewReconciler(Options{
		Client:    f.client,
		Lister:    rolloutlisters.NewAnalysisRunLister(f.index),
		Providers: f.factory,
		Secrets:   f.secrets,
		Recorder:  f.recorder,
		Clock:     f.clock,
	})
	return f
}

// reconcile runs one reconcile and then lets the cache catch up with what
// was written, as the informer would (with a new resourceVersion).
func (f *fixture) reconcile() time.Duration {
	f.t.Helper()
	res, err := f.r.Reconcile(context.Background(), cache.ObjectName{Namespace: "default", Name: "run"})
	if err != nil {
		f.t.Fatalf("reconcile: %v", err)
	}
	obj, err := f.client.ArgoprojV1alpha1().AnalysisRuns("default").Get(context.Background(), "run", metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		_ = f.index.Delete(f.run())
		return res.RequeueAfter
	}
	if err != nil {
		f.t.Fatal(err)
	}
	if old := f.run(); old == nil || old.ResourceVersion != obj.ResourceVersion || !equalStatus(old, obj) {
		f.rv++
		obj.ResourceVersion = strconv.Itoa(100 + f.rv)
		_ = f.index.Update(obj)
	}
	f.client.ClearActions()
	return res.RequeueAfter
}

func equalStatus(a, b *v1alpha1.AnalysisRun) bool {
	x, _ := json.Marshal(a.Status)
	y, _ := json.Marshal(b.Status)
	return string(x) == string(y)
}

func (f *fixture) run() *v1alpha1.AnalysisRun {
	obj, ok, _ := f.index.GetByKey("default/run")
	if !ok {
		return nil
	}
	return obj.(*v1alpha1.AnalysisRun)
}

func (f *fixture) events() []string {
	var out []string
	for {
		select {
		case e := <-f.recorder.Events:
			out = append(out, e)
		default:
			return out
		}
	}
}

func promServer(t *testing.T, value func() string) (*httptest.Server, *atomic.Int32) {
	var queries atomic.Int32
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		queries.Add(1)
		_ = r.ParseForm()
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1767225600,%q]}]}}`, value())
	}))
	t.Cleanup(s.Close)
	return s, &queries
}

func promRun(address string) *v1alpha1.AnalysisRun {
	count := intstr.FromInt32(3)
	return &v1alpha1.AnalysisRun{
		ObjectMeta: metav1.ObjectMeta{Name: "run", Namespace: "default", UID: "uid-1", ResourceVersion: "1"},
		Spec: v1alpha1.AnalysisRunSpec{Metrics: []v1alpha1.Metric{{
			Name:             "success-rate",
			Interval:         "1m",
			Count:            &count,
			SuccessCondition: "result[0] >= 0.9",
			Provider:         v1alpha1.MetricProvider{Prometheus: &v1alpha1.PrometheusMetric{Address: address, Query: `rate{service="{{args.service}}"}`}},
		}}, Args: []v1alpha1.Argument{{Name: "service", Value: ptr("checkout")}}},
	}
}

func ptr(s string) *string { return &s }

func TestRunGoesSuccessfulWithExactRequeues(t *testing.T) {
	s, queries := promServer(t, func() string { return "0.95" })
	f := newFixture(t, promRun(s.URL))

	for i := 1; i <= 3; i++ {
		requeue := f.reconcile()
		run := f.run()
		r := run.Status.MetricResultByName("success-rate")
		if r == nil || int(r.Count) != i || len(r.Measurements) != i {
			t.Fatalf("reconcile %d: result %+v", i, r)
		}
		if i < 3 {
			if run.Status.Phase != v1alpha1.AnalysisPhaseRunning || requeue != time.Minute {
				t.Fatalf("reconcile %d: phase %s, requeue %v; want Running, 1m", i, run.Status.Phase, requeue)
			}
			// Early wake-ups measure nothing and ask for the remainder.
			f.clock.Step(40 * time.Second)
			if got := f.reconcile(); got != 20*time.Second || int(queries.Load()) != i {
				t.Fatalf("early reconcile: requeue %v, %d queries", got, queries.Load())
			}
			f.clock.Step(20 * time.Second)
			continue
		}
		if run.Status.Phase != v1alpha1.AnalysisPhaseSuccessful || requeue != 0 {
			t.Fatalf("final: phase %s requeue %v", run.Status.Phase, requeue)
		}
	}
	run := f.run()
	r := run.Status.MetricResults[0]
	for i, m := range r.Measurements {
		if want := t0.Add(time.Duration(i) * time.Minute); !m.StartedAt.Time.Equal(want) || !m.FinishedAt.Time.Equal(want) || m.Value != "[0.95]" {
			t.Errorf("measurement %d: %+v", i, m)
		}
	}
	if r.Metadata[prometheus.ResolvedQueryKey] != `rate{service="checkout"}` {
		t.Errorf("metadata %v", r.Metadata)
	}
	st := run.Status
	if !st.StartedAt.Time.Equal(t0) || !st.CompletedAt.Time.Equal(t0.Add(2*time.Minute)) || st.RunSummary != (v1alpha1.RunSummary{Count: 1, Successful: 1}) {
		t.Errorf("status %+v", st)
	}
	events := f.events()
	want := []string{"Normal MetricSuccessful Metric 'success-rate' Completed. Result: Successful", "Normal AnalysisRunSuccessful Analysis Completed. Result: Successful"}
	if strings.Join(events, "|") != strings.Join(want, "|") {
		t.Errorf("events %q", events)
	}
	if queries.Load() != 3 {
		t.Errorf("%d queries, want 3", queries.Load())
	}
}

func TestOnePatchPerReconcileOnTheMainResource(t *testing.T) {
	s, _ := promServer(t, func() string { return "0.5" })
	f := newFixture(t, promRun(s.URL))
	if _, err := f.r.Reconcile(context.Background(), cache.ObjectName{Namespace: "default", Name: "run"}); err != nil {
		t.Fatal(err)
	}
	actions := f.client.Actions()
	if len(actions) != 1 || actions[0].GetVerb() != "patch" || actions[0].GetSubresource() != "" {
		t.Fatalf("actions %v", actions)
	}
	patch := actions[0].(k8stesting.PatchAction)
	if patch.GetPatchType() != "application/merge-patch+json" || !strings.Contains(string(patch.GetPatch()), `"resourceVersion":"1"`) {
		t.Errorf("patch %s %s", patch.GetPatchType(), patch.GetPatch())
	}
}

func TestFailedRunMessage(t *testing.T) {
	s, _ := promServer(t, func() string { return "0.5" })
	f := newFixture(t, promRun(s.URL))
	f.reconcile()
	st := f.run().Status
	want := `Metric "success-rate" assessed Failed due to failed (1) > failureLimit (0)`
	if st.Phase != v1alpha1.AnalysisPhaseFailed || st.Message != want {
		t.Errorf("%s %q", st.Phase, st.Message)
	}
}

func TestCompletedRunMakesNoRequests(t *testing.T) {
	run := promRun("http://127.0.0.1:1")
	run.Status = v1alpha1.AnalysisRunStatus{Phase: v1alpha1.AnalysisPhaseSuccessful, CompletedAt: &metav1.Time{Time: t0}}
	f := newFixture(t, run)
	f.client.ClearActions()
	res, err := f.r.Reconcile(context.Background(), cache.ObjectName{Namespace: "default", Name: "run"})
	if err != nil || res.RequeueAfter != 0 {
		t.Fatal(res, err)
	}
	if n := len(f.client.Actions()); n != 0 || f.factory.calls.Load() != 0 {
		t.Errorf("%d API requests, %d providers built", n, f.factory.calls.Load())
	}
	if len(f.events()) != 0 {
		t.Error("events recorded")
	}
}

func TestRunningRunWithNothingDueMakesNoRequests(t *testing.T) {
	s, _ := promServer(t, func() string { return "0.95" })
	f := newFixture(t, promRun(s.URL))
	f.reconcile()
	f.clock.Step(10 * time.Second)
	if _, err := f.r.Reconcile(context.Background(), cache.ObjectName{Namespace: "default", Name: "run"}); err != nil {
		t.Fatal(err)
	}
	if n := len(f.client.Actions()); n != 0 {
		t.Errorf("%d API requests: %v", n, f.client.Actions())
	}
}

func TestTTLDeletesAtTheExactTime(t *testing.T) {
	run := promRun("http://127.0.0.1:1")
	ttl := int32(300)
	run.Spec.TTLStrategy = &v1alpha1.TTLStrategy{SecondsAfterCompletion: &ttl}
	run.Status = v1alpha1.AnalysisRunStatus{Phase: v1alpha1.AnalysisPhaseFailed, CompletedAt: &metav1.Time{Time: t0.Add(-time.Minute)}}
	f := newFixture(t, run)
	f.client.ClearActions()
	if got := f.reconcile(); got != 4*time.Minute {
		t.Fatalf("requeue %v, want 4m", got)
	}
	f.clock.Step(4 * time.Minute)
	f.reconcile()
	if f.run() != nil {
		t.Fatal("run not deleted")
	}
}

func TestStaleCacheIsNotMeasuredTwice(t *testing.T) {
	s, queries := promServer(t, func() string { return "0.95" })
	f := newFixture(t, promRun(s.URL))
	key := cache.ObjectName{Namespace: "default", Name: "run"}
	if _, err := f.r.Reconcile(context.Background(), key); err != nil {
		t.Fatal(err)
	}
	// The cache still holds the version the patch was made from when the
	// next measurement falls due (the interval is a minute); the guard holds
	// until the informer brings the write, or for WriteGuardTTL at most.
	f.clock.Step(90 * time.Second)
	if _, err := f.r.Reconcile(context.Background(), key); err != nil {
		t.Fatal(err)
	}
	if queries.Load() != 1 {
		t.Errorf("%d queries against a stale cache, want 1", queries.Load())
	}
}

func TestSecretsAreResolvedAtMeasurementTimeAndRedacted(t *testing.T) {
	var gotQuery atomic.Value
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		gotQuery.Store(r.Form.Get("query"))
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"status":"success","data":{"resultType":"vector","result":[]}}`))
	}))
	defer s.Close()
	run := promRun(s.URL)
	run.Spec.Metrics[0].Provider.Prometheus.Query = `up{token="{{args.token}}"}`
	run.Spec.Args = append(run.Spec.Args, v1alpha1.Argument{Name: "token", ValueFrom: &v1alpha1.ValueFrom{SecretKeyRef: &v1alpha1.SecretKeyRef{Name: "creds", Key: "token"}}})
	f := newFixture(t, run)
	f.secrets["default/creds"] = &corev1.Secret{Data: map[string][]byte{"token": []byte("s3cr3t")}}
	f.reconcile()
	if q, _ := gotQuery.Load().(string); q != `up{token="s3cr3t"}` {
		t.Fatalf("query sent %q", q)
	}
	status, _ := json.Marshal(f.run().Status)
	if strings.Contains(string(status), "s3cr3t") {
		t.Errorf("secret in status: %s", status)
	}
	if r := f.run().Status.MetricResults[0]; r.Metadata[prometheus.ResolvedQueryKey] != `up{token="*****"}` {
		t.Errorf("metadata %v", r.Metadata)
	}
	for _, e := range f.events() {
		if strings.Contains(e, "s3cr3t") {
			t.Errorf("secret in event %q", e)
		}
	}
	// An empty vector is an Error measurement, never a success.
	if m := f.run().Status.MetricResults[0].Measurements[0]; m.Phase != v1alpha1.AnalysisPhaseError || !strings.Contains(m.Message, "no data returned") {
		t.Errorf("measurement %+v", m)
	}
}

func TestMissingSecretEndsTheRunInError(t *testing.T) {
	run := promRun("http://127.0.0.1:1")
	run.Spec.Args = append(run.Spec.Args, v1alpha1.Argument{Name: "token", ValueFrom: &v1alpha1.ValueFrom{SecretKeyRef: &v1alpha1.SecretKeyRef{Name: "creds", Key: "token"}}})
	f := newFixture(t, run)
	f.secrets["default/creds"] = &corev1.Secret{Data: map[string][]byte{"other": []byte("x")}}
	f.reconcile()
	st := f.run().Status
	if st.Phase != v1alpha1.AnalysisPhaseError || st.Message != "Unable to resolve metric arguments: key 'token' does not exist in secret 'creds'" {
		t.Errorf("%s %q", st.Phase, st.Message)
	}
}

func TestUnresolvedArgumentEndsTheRunInError(t *testing.T) {
	run := promRun("http://127.0.0.1:1")
	run.Spec.Args = nil
	f := newFixture(t, run)
	f.reconcile()
	st := f.run().Status
	if st.Phase != v1alpha1.AnalysisPhaseError || st.Message != "Unable to resolve metric arguments: failed to resolve {{args.service}}" {
		t.Errorf("%s %q", st.Phase, st.Message)
	}
	if ev := f.events(); len(ev) != 1 || !strings.HasPrefix(ev[0], "Warning AnalysisRunError") {
		t.Errorf("events %v", ev)
	}
	if f.factory.calls.Load() != 0 {
		t.Error("a provider was built for an invalid run")
	}
}

func TestUnreachablePrometheusIsRetriedEveryTenSeconds(t *testing.T) {
	f := newFixture(t, promRun("http://127.0.0.1:1"))
	for i := 1; i <= 5; i++ {
		requeue := f.reconcile()
		r := f.run().Status.MetricResults[0]
		if int(r.Error) != i || r.Count != 0 {
			t.Fatalf("attempt %d: %+v", i, r)
		}
		if i < 5 {
			if requeue != 10*time.Second {
				t.Fatalf("attempt %d: requeue %v", i, requeue)
			}
			f.clock.Step(requeue)
		}
	}
	st := f.run().Status
	if st.Phase != v1alpha1.AnalysisPhaseError || !strings.HasPrefix(st.Message, `Metric "success-rate" assessed Error due to consecutiveErrors (5) > consecutiveErrorLimit (4): "Error Message: `) {
		t.Errorf("%s %q", st.Phase, st.Message)
	}
}

// panicking is a provider with a bug.
type panicking struct{ metric.Provider }

func (panicking) Run(context.Context, *v1alpha1.AnalysisRun, v1alpha1.Metric) v1alpha1.Measurement {
	panic("boom")
}

func TestAPanickingProviderIsAnErrorMeasurement(t *testing.T) {
	f := newFixture(t, promRun("http://127.0.0.1:1"))
	f.factory.fn = func(v1alpha1.Metric) (metric.Provider, error) { return panicking{}, nil }
	if requeue := f.reconcile(); requeue != 10*time.Second {
		t.Errorf("requeue %v", requeue)
	}
	m := f.run().Status.MetricResults[0].Measurements[0]
	if m.Phase != v1alpha1.AnalysisPhaseError || m.Message != "metric provider panicked: boom" || m.FinishedAt == nil {
		t.Errorf("%+v", m)
	}
}
