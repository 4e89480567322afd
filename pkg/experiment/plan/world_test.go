package plan

import (
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/serin-dev/serin/pkg/analysis/templates"
	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/event"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// world is an in-memory cluster for driving plans: step computes a plan,
// applies its writes as the API server would, and writes the status.
type world struct {
	t        *testing.T
	ex       *v1alpha1.Experiment
	rs       map[string]*appsv1.ReplicaSet
	svc      map[string]*corev1.Service
	runs     map[string]*v1alpha1.AnalysisRun
	analyses map[string]Templates
	now      time.Time
	// ready makes the kubelet bring every ReplicaSet's pods up at once.
	ready   bool
	outcome Outcome
	last    Plan
}

func newWorld(t *testing.T, ex *v1alpha1.Experiment) *world {
	return &world{t: t, ex: ex, rs: map[string]*appsv1.ReplicaSet{}, svc: map[string]*corev1.Service{},
		runs: map[string]*v1alpha1.AnalysisRun{}, analyses: map[string]Templates{}, now: t0, ready: true}
}

func (w *world) state() State {
	named := map[string]*corev1.Service{}
	for _, s := range w.svc {
		named[s.Name] = s
	}
	return State{Experiment: w.ex.DeepCopy(), ReplicaSets: w.rs, Services: w.svc, NamedServices: named,
		Runs: w.runs, Analyses: w.analyses, Now: w.now, Outcome: w.outcome}
}

// step runs one reconcile and returns its plan.
func (w *world) step() Plan {
	w.t.Helper()
	p := Compute(w.state())
	for _, rs := range p.CreateReplicaSets {
		w.rs[rs.Annotations[v1alpha1.AnnotationExperimentTemplateName]] = rs.DeepCopy()
	}
	for _, rs := range p.UpdateReplicaSets {
		w.rs[rs.Annotations[v1alpha1.AnnotationExperimentTemplateName]] = rs.DeepCopy()
	}
	for _, s := range p.CreateServices {
		w.svc[s.Annotations[v1alpha1.AnnotationExperimentTemplateName]] = s.DeepCopy()
	}
	for _, s := range p.DeleteServices {
		delete(w.svc, s.Annotations[v1alpha1.AnnotationExperimentTemplateName])
	}
	for _, c := range p.CreateRuns {
		w.runs[c.Run.Name] = c.Run.DeepCopy()
	}
	for _, r := range p.TerminateRuns {
		w.runs[r.Name].Spec.Terminate = true
	}
	w.ex.Status = *p.Status.DeepCopy()
	if w.ready {
		w.kubelet()
	}
	w.last = p
	return p
}

// kubelet makes every ReplicaSet's pods exist and be available.
func (w *world) kubelet() {
	for _, rs := range w.rs {
		n := *rs.Spec.Replicas
		rs.Status = appsv1.ReplicaSetStatus{Replicas: n, ReadyReplicas: n, AvailableReplicas: n}
	}
}

// settle steps until a plan changes nothing and asks for no requeue, or
// n steps.
func (w *world) settle(n int) Plan {
	w.t.Helper()
	var p Plan
	for range n {
		before := w.ex.Status.DeepCopy()
		p = w.step()
		if equality.Semantic.DeepEqual(before, &w.ex.Status) && !p.writes() {
			return p
		}
	}
	return p
}

func (p Plan) writes() bool {
	return len(p.CreateReplicaSets)+len(p.UpdateReplicaSets)+len(p.CreateServices)+len(p.DeleteServices)+len(p.CreateRuns)+len(p.TerminateRuns) > 0
}

func (w *world) wait(d time.Duration) { w.now = w.now.Add(d) }

func (w *world) template(name string) *v1alpha1.TemplateStatus {
	ts := w.ex.Status.TemplateStatusByName(name)
	if ts == nil {
		w.t.Fatalf("no status for template %s in %+v", name, w.ex.Status)
	}
	return ts
}

func (w *world) wantPhase(phase v1alpha1.AnalysisPhase, msg string) {
	w.t.Helper()
	if w.ex.Status.Phase != phase || w.ex.Status.Message != msg {
		w.t.Fatalf("phase %q (%q), want %q (%q)", w.ex.Status.Phase, w.ex.Status.Message, phase, msg)
	}
}

func (w *world) replicas(template string) int32 {
	w.t.Helper()
	rs := w.rs[template]
	if rs == nil {
		w.t.Fatalf("no ReplicaSet for template %s", template)
	}
	return *rs.Spec.Replicas
}

func hasEvent(events []event.Event, reason, msg string) bool {
	for _, e := range events {
		if e.Reason == reason && (msg == "" || e.Message == msg) {
			return true
		}
	}
	return false
}

func int32p(v int32) *int32 { return &v }

// experiment has templates named as given, each with one port, 1 replica by
// default.
func experiment(names ...string) *v1alpha1.Experiment {
	ex := &v1alpha1.Experiment{
		ObjectMeta: metav1.ObjectMeta{Name: "exp", Namespace: "shop", UID: types.UID("uid-exp")},
	}
	for _, n := range names {
		ex.Spec.Templates = append(ex.Spec.Templates, v1alpha1.TemplateSpec{
			Name:     n,
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web", "variant": n}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web", "variant": n}},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name: "web", Image: "nginx:" + n,
					Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080, Protocol: corev1.ProtocolTCP}},
				}}},
			},
		})
	}
	return ex
}

// analysisTemplate is a template with one metric and an argument "hash".
func analysisTemplate(name string) *v1alpha1.AnalysisTemplate {
	return &v1alpha1.AnalysisTemplate{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "shop"},
		Spec: v1alpha1.AnalysisTemplateSpec{
			Args:    []v1alpha1.Argument{{Name: "hash"}},
			Metrics: []v1alpha1.Metric{{Name: "ok", Provider: v1alpha1.MetricProvider{Web: &v1alpha1.WebMetric{URL: "http://x/{{args.hash}}"}}}},
		},
	}
}

func withAnalysis(w *world, name string, required bool) {
	hash := "{{templates.canary.podTemplateHash}}"
	w.ex.Spec.Analyses = append(w.ex.Spec.Analyses, v1alpha1.ExperimentAnalysisTemplateRef{
		Name: name, TemplateName: "check", RequiredForCompletion: required,
		Args: []v1alpha1.Argument{{Name: "hash", Value: &hash}},
	})
	w.analyses[name] = Templates{Set: templates.Set{Templates: []*v1alpha1.AnalysisTemplate{analysisTemplate("check")}}}
}

// setRun gives a run a phase, as the AnalysisRun controller would.
func (w *world) setRun(name string, phase v1alpha1.AnalysisPhase, msg string) {
	w.t.Helper()
	r := w.runs[name]
	if r == nil {
		w.t.Fatalf("no run %s", name)
	}
	r.Status.Phase, r.Status.Message = phase, msg
}
