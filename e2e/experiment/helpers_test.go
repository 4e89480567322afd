package experiment

import (
	"context"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/yaml"

	"github.com/serin-dev/serin/e2e/framework"
	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

// E is an Experiment under test.
type E struct {
	f    *framework.T
	Name string
}

// create creates an Experiment from YAML in the test's namespace.
func create(f *framework.T, manifest string) *E {
	f.Helper()
	ex := &v1alpha1.Experiment{}
	if err := yaml.UnmarshalStrict([]byte(manifest), ex); err != nil {
		f.Fatalf("experiment manifest: %v", err)
	}
	ex.Namespace = f.Namespace
	created, err := f.Env.Rollouts.ArgoprojV1alpha1().Experiments(f.Namespace).Create(context.Background(), ex, metav1.CreateOptions{})
	if err != nil {
		f.Fatalf("creating Experiment: %v", err)
	}
	return &E{f: f, Name: created.Name}
}

// Get reads the Experiment.
func (e *E) Get() *v1alpha1.Experiment {
	e.f.Helper()
	ex, err := e.f.Env.Rollouts.ArgoprojV1alpha1().Experiments(e.f.Namespace).Get(context.Background(), e.Name, metav1.GetOptions{})
	if err != nil {
		e.f.Fatalf("reading Experiment %s: %v", e.Name, err)
	}
	return ex
}

// WaitFor polls the Experiment until cond holds.
func (e *E) WaitFor(what string, cond func(*v1alpha1.Experiment) bool) *v1alpha1.Experiment {
	e.f.Helper()
	var last *v1alpha1.Experiment
	err := wait.PollUntilContextTimeout(context.Background(), 200*time.Millisecond, framework.DefaultTimeout, true, func(ctx context.Context) (bool, error) {
		ex, err := e.f.Env.Rollouts.ArgoprojV1alpha1().Experiments(e.f.Namespace).Get(ctx, e.Name, metav1.GetOptions{})
		if err != nil {
			return false, nil
		}
		last = ex
		return cond(ex), nil
	})
	if err != nil {
		e.f.Fatalf("waiting for %s: %v; last status: %s", what, err, describe(last))
	}
	return last
}

// WaitForPhase waits for a phase.
func (e *E) WaitForPhase(phase v1alpha1.AnalysisPhase) *v1alpha1.Experiment {
	e.f.Helper()
	return e.WaitFor("phase "+string(phase), func(ex *v1alpha1.Experiment) bool { return ex.Status.Phase == phase })
}

func describe(ex *v1alpha1.Experiment) string {
	if ex == nil {
		return "(never read)"
	}
	data, _ := yaml.Marshal(ex.Status)
	return "\n" + string(data)
}

// Patch sends a merge patch, as the plugin's terminate and retry verbs do.
func (e *E) Patch(body string) {
	e.f.Helper()
	_, err := e.f.Env.Rollouts.ArgoprojV1alpha1().Experiments(e.f.Namespace).Patch(context.Background(), e.Name, types.MergePatchType, []byte(body), metav1.PatchOptions{})
	if err != nil {
		e.f.Fatalf("patching Experiment %s with %s: %v", e.Name, body, err)
	}
}

// Terminate is `kubectl argo rollouts terminate experiment`.
func (e *E) Terminate() { e.f.Helper(); e.Patch(`{"spec":{"terminate":true}}`) }

// Retry is `kubectl argo rollouts retry experiment`.
func (e *E) Retry() { e.f.Helper(); e.Patch(`{"status":null}`) }

// ReplicaSet reads a template's ReplicaSet.
func (e *E) ReplicaSet(template string) *appsv1.ReplicaSet {
	e.f.Helper()
	rs, err := e.f.Env.Kube.AppsV1().ReplicaSets(e.f.Namespace).Get(context.Background(), e.Name+"-"+template, metav1.GetOptions{})
	if err != nil {
		e.f.Fatalf("reading the ReplicaSet of template %s: %v", template, err)
	}
	return rs
}

// WaitForReplicas waits until each template's ReplicaSet runs that many
// available pods, and no more.
func (e *E) WaitForReplicas(want map[string]int32) {
	e.f.Helper()
	var last map[string]string
	err := wait.PollUntilContextTimeout(context.Background(), 200*time.Millisecond, framework.DefaultTimeout, true, func(ctx context.Context) (bool, error) {
		last = map[string]string{}
		done := true
		for tmpl, n := range want {
			rs, err := e.f.Env.Kube.AppsV1().ReplicaSets(e.f.Namespace).Get(ctx, e.Name+"-"+tmpl, metav1.GetOptions{})
			if err != nil {
				last[tmpl] = err.Error()
				done = false
				continue
			}
			last[tmpl] = fmt.Sprintf("spec %d, available %d, pods %d", *rs.Spec.Replicas, rs.Status.AvailableReplicas, rs.Status.Replicas)
			done = done && *rs.Spec.Replicas == n && rs.Status.AvailableReplicas == n && rs.Status.Replicas == n
		}
		return done, nil
	})
	if err != nil {
		e.f.Fatalf("waiting for ReplicaSets %v: last %v", want, last)
	}
}

// WaitForNoService waits until the named Service is gone.
func (e *E) WaitForNoService(name string) {
	e.f.Helper()
	err := wait.PollUntilContextTimeout(context.Background(), 200*time.Millisecond, framework.DefaultTimeout, true, func(ctx context.Context) (bool, error) {
		_, err := e.f.Env.Kube.CoreV1().Services(e.f.Namespace).Get(ctx, name, metav1.GetOptions{})
		return apierrors.IsNotFound(err), nil
	})
	if err != nil {
		e.f.Fatalf("Service %s was not deleted: %v", name, err)
	}
}

// Events counts the Experiment's events with a reason.
func (e *E) Events(reason string) int {
	e.f.Helper()
	list, err := e.f.Env.Kube.CoreV1().Events(e.f.Namespace).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		e.f.Fatal(err)
	}
	n := 0
	for _, ev := range list.Items {
		if ev.InvolvedObject.Kind == "Experiment" && ev.InvolvedObject.Name == e.Name && ev.Reason == reason {
			n++
		}
	}
	return n
}
