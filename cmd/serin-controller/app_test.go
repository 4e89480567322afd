package main

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/kubernetes"
	kubefake "k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	argofake "github.com/serin-dev/serin/pkg/client/clientset/versioned/fake"
	"github.com/serin-dev/serin/pkg/controllermetrics"
)

// fakeDynamic serves objects as the API server's JSON does (unstructured),
// for the informers of Serin's kinds, which read through the dynamic client.
func fakeDynamic(t *testing.T, objs ...runtime.Object) *dynamicfake.FakeDynamicClient {
	t.Helper()
	gv := v1alpha1.SchemeGroupVersion
	lists := map[schema.GroupVersionResource]string{}
	for _, kind := range []string{"Rollout", "AnalysisRun", "AnalysisTemplate", "ClusterAnalysisTemplate", "Experiment"} {
		lists[gv.WithResource(strings.ToLower(kind)+"s")] = kind + "List"
	}
	// The ALBCleanup sweep starts the Ingress cache.
	lists[schema.GroupVersionResource{Group: "networking.k8s.io", Version: "v1", Resource: "ingresses"}] = "IngressList"
	var us []runtime.Object
	for _, obj := range objs {
		m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
		if err != nil {
			t.Fatal(err)
		}
		u := &unstructured.Unstructured{Object: m}
		u.SetGroupVersionKind(gv.WithKind(reflect.TypeOf(obj).Elem().Name()))
		us = append(us, u)
	}
	return dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), lists, us...)
}

func testRollout(name string, lbls map[string]string) *v1alpha1.Rollout {
	replicas := int32(2)
	return &v1alpha1.Rollout{
		ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: name, UID: types.UID("uid-" + name), Labels: lbls},
		Spec: v1alpha1.RolloutSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": name}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "shop:v1"}}},
			},
			Strategy: v1alpha1.RolloutStrategy{Canary: &v1alpha1.CanaryStrategy{}},
		},
	}
}

// TestAppReconcilesThroughTheWiring runs the real informers, Rollout
// controller and metrics against fake clientsets.
func TestAppReconcilesThroughTheWiring(t *testing.T) {
	kube := kubefake.NewClientset()
	web, foreign := testRollout("web", nil), testRollout("foreign", map[string]string{v1alpha1.LabelControllerInstanceID: "blue"})
	argo := argofake.NewSimpleClientset(web, foreign)
	o := parse(t, "--rollout-threads", "2")
	m := controllermetrics.New("test")
	ctx, cancel := context.WithCancel(context.Background())
	a, err := newApp(ctx, o, clients{kube: kube, argo: argo, dynamic: fakeDynamic(t, web, foreign)}, metav1.NamespaceAll, m, nil)
	if err != nil {
		t.Fatal(err)
	}
	if names := controllerNames(a); !slices.Contains(names, "Rollouts") || !slices.Contains(names, "AnalysisRuns") {
		t.Fatalf("controllers %v, want the Rollout and AnalysisRun controllers", names)
	}
	done := make(chan error, 1)
	go func() { done <- a.run(ctx) }()
	defer func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("run: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Error("app did not stop")
		}
	}()

	// The Rollout is reconciled: the controller creates its ReplicaSet.
	err = wait.PollUntilContextTimeout(ctx, 5*time.Millisecond, 5*time.Second, true, func(ctx context.Context) (bool, error) {
		rss, err := kube.AppsV1().ReplicaSets("shop").List(ctx, metav1.ListOptions{})
		return err == nil && len(rss.Items) > 0, nil
	})
	if err != nil {
		t.Fatalf("no ReplicaSet created for shop/web: %v", err)
	}
	rss, _ := kube.AppsV1().ReplicaSets("shop").List(ctx, metav1.ListOptions{})
	for _, rs := range rss.Items {
		if ref := metav1.GetControllerOf(&rs); ref == nil || ref.Name != "web" {
			t.Errorf("ReplicaSet %s is not web's: the foreign instance's Rollout was reconciled?", rs.Name)
		}
	}

	err = wait.PollUntilContextTimeout(ctx, 5*time.Millisecond, 5*time.Second, true, func(context.Context) (bool, error) {
		n, err := testutil.GatherAndCount(m.Registry(), "rollout_reconcile")
		return err == nil && n > 0, nil
	})
	if err != nil {
		t.Fatalf("no rollout_reconcile observation: %v", err)
	}
	families, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	var info []string
	for _, f := range families {
		if f.GetName() != "rollout_info" {
			continue
		}
		for _, metric := range f.GetMetric() {
			for _, l := range metric.GetLabel() {
				if l.GetName() == "name" {
					info = append(info, l.GetValue())
				}
			}
		}
	}
	if strings.Join(info, ",") != "web" {
		t.Errorf("rollout_info reports %v, want only web (instance-id filter)", info)
	}
	if n, _ := testutil.GatherAndCount(m.Registry(), "workqueue_adds_total"); n == 0 {
		t.Error("the Rollouts queue reports no workqueue metrics")
	}
}

func TestAnalysisOnlyRunsNoRolloutController(t *testing.T) {
	o := parse(t, "--controllers", "analysis", "--namespaced")
	a, err := newApp(context.Background(), o, clients{kube: kubefake.NewClientset(), argo: argofake.NewSimpleClientset(), dynamic: fakeDynamic(t)}, "shop", controllermetrics.New("test"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer a.broadcaster.Shutdown()
	if names := controllerNames(a); !slices.Equal(names, []string{"AnalysisRuns"}) {
		t.Errorf("controllers %v with --controllers=analysis, want only AnalysisRuns", names)
	}
	// As upstream's analysis-only controller, it sends no notifications.
	if a.notifications.notifier != nil {
		t.Error("--controllers=analysis sends notifications")
	}
}

// The full controller notifies: its events go through the notifier.
func TestTheRolloutControllerNotifies(t *testing.T) {
	a, err := newApp(context.Background(), parse(t), clients{kube: kubefake.NewClientset(), argo: argofake.NewSimpleClientset(), dynamic: fakeDynamic(t)}, "shop", controllermetrics.New("test"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer a.broadcaster.Shutdown()
	if a.notifications.notifier == nil || a.notifications.conditions == nil {
		t.Error("the Rollout controller sends no notifications")
	}
}

func controllerNames(a *app) []string {
	var names []string
	for _, c := range a.controllers {
		names = append(names, c.Name())
	}
	return names
}

// A namespaced install cannot list cluster-scoped objects: no informer for
// them may exist, or the caches would never sync.
func TestNamespacedCreatesNoClusterScopedInformer(t *testing.T) {
	kube := kubefake.NewClientset()
	argo := fakeDynamic(t)
	argo.PrependReactor("list", "clusteranalysistemplates", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(v1alpha1.Resource("clusteranalysistemplates"), "", errors.New("namespaced install"))
	})
	o := parse(t, "--namespaced")
	ctx, cancel := context.WithCancel(context.Background())
	a, err := newApp(ctx, o, clients{kube: kube, argo: argofake.NewSimpleClientset(), dynamic: argo}, "shop", controllermetrics.New("test"), nil)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.run(ctx) }()
	defer func() { cancel(); <-done }()

	// Wait until the namespaced informers are watching, then check that
	// nothing cluster-scoped was ever requested.
	watching := func() map[string]bool {
		w := map[string]bool{}
		for _, act := range argo.Actions() {
			if act.GetVerb() == "watch" {
				w[act.GetResource().Resource] = true
			}
		}
		return w
	}
	err = wait.PollUntilContextTimeout(ctx, 5*time.Millisecond, 3*time.Second, true, func(context.Context) (bool, error) {
		w := watching()
		return w["rollouts"] && w["analysisruns"] && w["experiments"] && w["analysistemplates"], nil
	})
	if err != nil {
		t.Fatalf("namespaced informers not started: watching %v", watching())
	}
	for _, act := range argo.Actions() {
		if act.GetResource().Resource == "clusteranalysistemplates" {
			t.Errorf("namespaced controller requested %s %s", act.GetVerb(), act.GetResource().Resource)
		}
	}
}

// A Rollout whose pod template holds a value its Go type cannot take (the
// API server accepts it: the CRD leaves resources free-form) is reconciled
// without that field and says so in a Warning event; the Rollout next to it
// is reconciled as usual.
func TestAMalformedRolloutStopsNothing(t *testing.T) {
	good := testRollout("good", nil)
	bad := testRollout("bad", nil)
	dyn := fakeDynamic(t, good, bad)
	u, err := dyn.Resource(v1alpha1.SchemeGroupVersion.WithResource("rollouts")).Namespace("shop").Get(context.Background(), "bad", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	containers, _, _ := unstructured.NestedSlice(u.Object, "spec", "template", "spec", "containers")
	containers[0].(map[string]any)["resources"] = map[string]any{"requests": map[string]any{"memory": "invalid"}}
	if err := unstructured.SetNestedSlice(u.Object, containers, "spec", "template", "spec", "containers"); err != nil {
		t.Fatal(err)
	}
	if _, err := dyn.Resource(v1alpha1.SchemeGroupVersion.WithResource("rollouts")).Namespace("shop").Update(context.Background(), u, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	kube := kubefake.NewClientset()
	events := kubefake.NewClientset() // Events go through a client of their own
	ctx, cancel := context.WithCancel(context.Background())
	a, err := newApp(ctx, parse(t), clients{kube: kube, events: events, argo: argofake.NewSimpleClientset(good, bad), dynamic: dyn}, metav1.NamespaceAll, controllermetrics.New("test"), nil)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.run(ctx) }()
	defer func() { cancel(); <-done }()

	owners := func() map[string]bool {
		seen := map[string]bool{}
		rss, _ := kube.AppsV1().ReplicaSets("shop").List(ctx, metav1.ListOptions{})
		for _, rs := range rss.Items {
			if ref := metav1.GetControllerOf(&rs); ref != nil {
				seen[ref.Name] = true
			}
		}
		return seen
	}
	malformedEvent := func() string { return warningMessage(ctx, events, "MalformedObject", "bad") }
	err = wait.PollUntilContextTimeout(ctx, 5*time.Millisecond, 5*time.Second, true, func(context.Context) (bool, error) {
		o := owners()
		return o["good"] && o["bad"] && malformedEvent() != "", nil
	})
	if err != nil {
		t.Fatalf("ReplicaSets made for %v, malformed event %q; want both Rollouts reconciled and the event", owners(), malformedEvent())
	}
	if evs, _ := kube.CoreV1().Events("").List(ctx, metav1.ListOptions{}); len(evs.Items) != 0 {
		t.Errorf("%d Events written through the main client, want none there", len(evs.Items))
	}
	if msg := malformedEvent(); !strings.Contains(msg, "spec.template.spec.containers[0].resources.requests.memory") {
		t.Errorf("event %q does not name the field", msg)
	}
	rss, _ := kube.AppsV1().ReplicaSets("shop").List(ctx, metav1.ListOptions{})
	for _, rs := range rss.Items {
		if len(rs.Spec.Template.Spec.Containers[0].Resources.Requests) != 0 {
			t.Errorf("ReplicaSet %s carries requests %v", rs.Name, rs.Spec.Template.Spec.Containers[0].Resources.Requests)
		}
	}
}

// warningMessage is the message of the Warning event with reason about the
// object name in namespace shop, or "".
func warningMessage(ctx context.Context, client kubernetes.Interface, reason, name string) string {
	evs, _ := client.CoreV1().Events("shop").List(ctx, metav1.ListOptions{})
	for _, e := range evs.Items {
		if e.Reason == reason && e.InvolvedObject.Name == name && e.Type == corev1.EventTypeWarning {
			return e.Message
		}
	}
	return ""
}
