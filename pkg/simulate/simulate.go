// Package simulate runs Serin's planner (pkg/rollout/plan) on a Rollout in
// an in-memory cluster, to show before it is applied what the rollout will
// do: each step's replicas and traffic weights, the pauses and analyses
// that gate it, the least time to full promotion, and any InvalidSpec it
// would hit. It is pure: objects and a start time go in, a Report comes out.
package simulate

import (
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/rollout/plan"
	"github.com/serin-dev/serin/pkg/trafficrouting"
)

// Input is what a simulation starts from.
type Input struct {
	// Rollout to roll out. Its status is the starting point: empty for a
	// Rollout not yet applied, the live status for one that runs.
	Rollout *v1alpha1.Rollout
	// ReplicaSets the Rollout already controls, with their status.
	ReplicaSets []*appsv1.ReplicaSet
	// Services in the Rollout's namespace, by name.
	Services map[string]*corev1.Service
	// AnalysisTemplates and ClusterAnalysisTemplates by name.
	AnalysisTemplates        map[string]*v1alpha1.AnalysisTemplate
	ClusterAnalysisTemplates map[string]*v1alpha1.ClusterAnalysisTemplate
	// Routers are the traffic routers the Rollout enables, and
	// RouterObjects the objects they reference.
	Routers       []trafficrouting.Router
	RouterObjects map[trafficrouting.Ref]*unstructured.Unstructured
	// PodReady is how long a pod takes to become ready (0: at once).
	PodReady time.Duration
	// Start is the simulated time the simulation begins at.
	Start time.Time
	// AsUpdate simulates a Rollout with no status as an update: a previous
	// revision runs fully first, so that the steps show.
	AsUpdate bool
}

// Limits of one simulation: a rollout that has not completed by then is
// reported as stuck.
const (
	maxReconciles = 2000
	maxSimulated  = 30 * 24 * time.Hour
)

// Run simulates the Rollout until it is fully promoted, aborted, invalid or
// stuck.
func Run(in Input) Report {
	w := newWorld(in)
	r := Report{Rollout: w.ro.Name, Namespace: w.ro.Namespace, Strategy: strategy(w.ro)}
	for _, err := range plan.Validate(w.ro) {
		r.InvalidSpec = append(r.InvalidSpec, plan.InvalidSpecMessage(w.ro, err))
	}
	if in.AsUpdate && w.ro.Status.CurrentPodHash == "" && len(r.InvalidSpec) == 0 {
		w.deployPrevious(in.Start)
		r.Notes = append(r.Notes, "simulated as an update: a previous revision of the template ran fully first")
	}
	w.drive(&r, in.Start)
	return r.finish(w, in.Start)
}

// drive reconciles until the rollout ends, recording its settled states.
func (w *world) drive(r *Report, start time.Time) {
	for i := 0; i < maxReconciles && w.now.Sub(start) <= maxSimulated; i++ {
		before := w.snapshot()
		st := w.state()
		st.StepPluginAnswers = answerStepPlugins(plan.StepPluginCalls(st))
		last := plan.Settle(st)
		w.apply(last)
		w.kubelet()
		if msg := invalidSpec(w.ro.Status); msg != "" {
			r.addInvalid(msg)
			r.End = "InvalidSpec: the Rollout stops here"
			return
		}
		if w.snapshot() != before {
			if n := len(r.Rows); n == 0 || r.Rows[n-1].Step != stepLabel(w.ro) {
				r.record(w, start, "") // a step passed without waiting
			}
			continue // not settled yet: reconcile again at once
		}
		if end, done := w.ended(); done {
			r.record(w, start, "")
			r.End = end
			return
		}
		if !w.next(r, start, last.RequeueAfter) {
			r.End = "stuck: nothing more would happen (" + string(w.ro.Status.Phase) + ": " + w.ro.Status.Message + ")"
			return
		}
	}
	r.End = "stopped: the simulation limit was reached before the rollout completed"
}

// previousAnnotation marks the template of the made-up previous revision.
const previousAnnotation = "serin.dev/simulated-previous-revision"

// deployPrevious rolls out, a day before start, a previous revision of the
// template (the same template with one more annotation) until it is
// stable, then brings the Rollout's own template back as an update.
func (w *world) deployPrevious(start time.Time) {
	tmpl := w.ro.Spec.Template.DeepCopy()
	if w.ro.Spec.Template.Annotations == nil {
		w.ro.Spec.Template.Annotations = map[string]string{}
	}
	w.ro.Spec.Template.Annotations[previousAnnotation] = "true"
	w.now = start.Add(-24 * time.Hour)
	w.drive(&Report{}, w.now)
	w.ro.Spec.Template = *tmpl
	w.ro.Generation++
	w.now = start
}

func newWorld(in Input) *world {
	ro := in.Rollout.DeepCopy()
	if ro.Namespace == "" {
		ro.Namespace = "default"
	}
	if ro.UID == "" {
		ro.UID = "simulated-rollout"
	}
	if ro.Generation == 0 {
		ro.Generation = 1
	}
	w := &world{now: in.Start, podReady: in.PodReady, ro: ro, rss: map[string]*appsv1.ReplicaSet{},
		podsSince: map[string][]time.Time{}, services: map[string]*corev1.Service{},
		routers: in.Routers, objects: map[trafficrouting.Ref]*unstructured.Unstructured{},
		templates: templateMaps{namespaced: in.AnalysisTemplates, cluster: in.ClusterAnalysisTemplates},
		runs:      map[string]*v1alpha1.AnalysisRun{}, exps: map[string]*v1alpha1.Experiment{}}
	for _, rs := range in.ReplicaSets {
		w.rss[rs.Name] = rs.DeepCopy()
		for range rs.Status.AvailableReplicas {
			w.podsSince[rs.Name] = append(w.podsSince[rs.Name], in.Start.Add(-in.PodReady))
		}
	}
	for n, s := range in.Services {
		w.services[n] = s.DeepCopy()
	}
	for ref, obj := range in.RouterObjects {
		w.objects[ref] = obj.DeepCopy()
	}
	return w
}

// invalidSpec returns the message of a true InvalidSpec condition.
func invalidSpec(s v1alpha1.RolloutStatus) string {
	for _, c := range s.Conditions {
		if c.Type == v1alpha1.InvalidSpec && c.Status == corev1.ConditionTrue {
			return c.Message
		}
	}
	return ""
}

func strategy(ro *v1alpha1.Rollout) string {
	if ro.Spec.Strategy.BlueGreen != nil {
		return "blueGreen"
	}
	return "canary"
}
