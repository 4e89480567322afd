package simulate

import (
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"

	"github.com/serin-dev/serin/pkg/analysis/templates"
	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/rollout/plan"
	"github.com/serin-dev/serin/pkg/trafficrouting"
)

// world is the in-memory cluster a simulation runs in: it applies each Plan
// the way the reconciler and the API server would, a kubelet makes pods
// ready podReady after they are asked for, and the analysis controller
// ends each run once its measurements would be taken, as Successful.
type world struct {
	now      time.Time
	podReady time.Duration
	ro       *v1alpha1.Rollout
	rss      map[string]*appsv1.ReplicaSet
	// podsSince holds, per ReplicaSet, when each of its pods was asked for.
	podsSince map[string][]time.Time
	services  map[string]*corev1.Service
	routers   []trafficrouting.Router
	objects   map[trafficrouting.Ref]*unstructured.Unstructured
	templates templateMaps
	runs      map[string]*v1alpha1.AnalysisRun
	exps      map[string]*v1alpha1.Experiment
	uid       int
}

// templateMaps backs templates.Getter with the templates given.
type templateMaps struct {
	namespaced map[string]*v1alpha1.AnalysisTemplate
	cluster    map[string]*v1alpha1.ClusterAnalysisTemplate
}

func (m templateMaps) AnalysisTemplate(_, name string) (*v1alpha1.AnalysisTemplate, error) {
	if t, ok := m.namespaced[name]; ok {
		return t, nil
	}
	return nil, fmt.Errorf("analysistemplate %q not found", name)
}

func (m templateMaps) ClusterAnalysisTemplate(name string) (*v1alpha1.ClusterAnalysisTemplate, error) {
	if t, ok := m.cluster[name]; ok {
		return t, nil
	}
	return nil, fmt.Errorf("clusteranalysistemplate %q not found", name)
}

// state is what a reconcile sees now.
func (w *world) state() plan.State {
	st := plan.State{Rollout: w.ro.DeepCopy(), Now: w.now, Services: map[string]*corev1.Service{},
		Routers: w.routers, RouterObjects: map[trafficrouting.Ref]*unstructured.Unstructured{}}
	for _, rs := range w.rss {
		st.ReplicaSets = append(st.ReplicaSets, rs.DeepCopy())
	}
	for n, s := range w.services {
		st.Services[n] = s.DeepCopy()
	}
	for ref, obj := range w.objects {
		st.RouterObjects[ref] = obj.DeepCopy()
	}
	for _, r := range w.runs {
		st.AnalysisRuns = append(st.AnalysisRuns, r.DeepCopy())
	}
	for _, ex := range w.exps {
		st.Experiments = append(st.Experiments, ex.DeepCopy())
	}
	st.Templates, st.TemplateErrors = map[string]templates.Set{}, map[string]error{}
	for key, a := range plan.Analyses(st.Rollout) {
		set, err := templates.Resolve(w.ro.Namespace, a.Templates, w.templates)
		if err != nil {
			st.TemplateErrors[key] = err
			continue
		}
		st.Templates[key] = set
	}
	return st
}

// apply makes the plan's writes, in the reconciler's order.
func (w *world) apply(p plan.Plan) {
	w.applyRollout(p)
	if p.Create != nil {
		rs := p.Create.DeepCopy()
		w.uid++
		rs.UID = types.UID(fmt.Sprintf("simulated-rs-%d", w.uid))
		rs.CreationTimestamp = metav1.NewTime(w.now)
		w.rss[rs.Name] = rs
	}
	for _, u := range p.ReplicaSetUpdates() {
		if _, ok := w.rss[u.Name]; ok {
			w.rss[u.Name] = u.DeepCopy()
		}
	}
	for _, d := range p.Deletes {
		delete(w.rss, d.Name)
		delete(w.podsSince, d.Name)
	}
	for _, rw := range p.RouterWrites {
		if rw.Op == trafficrouting.Delete {
			delete(w.objects, rw.Ref)
			continue
		}
		w.objects[rw.Ref] = rw.Object.DeepCopy()
	}
	w.applyExperiments(p)
	w.applyRuns(p)
	for _, sw := range p.ServiceSwitches {
		w.switchService(sw)
	}
	w.ro.Status = p.Status
}

func (w *world) applyRollout(p plan.Plan) {
	if p.DefaultReplicas {
		one := int32(1)
		w.ro.Spec.Replicas = &one
	}
	if w.ro.Annotations == nil {
		w.ro.Annotations = map[string]string{}
	}
	if p.Revision != "" {
		w.ro.Annotations[v1alpha1.AnnotationRevision] = p.Revision
	}
	if p.WorkloadGeneration != "" {
		w.ro.Annotations[v1alpha1.AnnotationWorkloadGeneration] = p.WorkloadGeneration
	}
}

func (w *world) applyRuns(p plan.Plan) {
	for _, r := range p.CreateRuns {
		r = r.DeepCopy()
		r.CreationTimestamp = metav1.NewTime(w.now)
		w.runs[r.Name] = r
	}
	for _, r := range p.TerminateRuns {
		if run, ok := w.runs[r.Name]; ok {
			run.Spec.Terminate = true
			run.Status.Phase = v1alpha1.AnalysisPhaseSuccessful
		}
	}
	for _, r := range p.DeleteRuns {
		delete(w.runs, r.Name)
	}
}

func (w *world) applyExperiments(p plan.Plan) {
	if ex := p.CreateExperiment; ex != nil {
		ex = ex.DeepCopy()
		ex.CreationTimestamp = metav1.NewTime(w.now)
		w.exps[ex.Name] = ex
	}
	for _, ex := range p.TerminateExperiments {
		if e, ok := w.exps[ex.Name]; ok {
			e.Spec.Terminate = true
			e.Status.Phase = v1alpha1.AnalysisPhaseSuccessful
		}
	}
	for _, ex := range p.DeleteExperiments {
		delete(w.exps, ex.Name)
	}
}

func (w *world) switchService(sw plan.ServiceSwitch) {
	svc, ok := w.services[sw.Service.Name]
	if !ok {
		return
	}
	if svc.Spec.Selector == nil {
		svc.Spec.Selector = map[string]string{}
	}
	svc.Spec.Selector[v1alpha1.LabelPodTemplateHash] = sw.Hash
	if svc.Annotations == nil {
		svc.Annotations = map[string]string{}
	}
	svc.Annotations[v1alpha1.AnnotationManagedByRollouts] = w.ro.Name
}

// kubelet keeps each ReplicaSet's pods at spec.replicas and counts those
// asked for at least podReady ago as ready and available.
func (w *world) kubelet() {
	for name, rs := range w.rss {
		want := int32(1)
		if rs.Spec.Replicas != nil {
			want = *rs.Spec.Replicas
		}
		pods := w.podsSince[name]
		if int32(len(pods)) > want {
			pods = pods[:want]
		}
		for int32(len(pods)) < want {
			pods = append(pods, w.now)
		}
		w.podsSince[name] = pods
		var ready int32
		for _, since := range pods {
			if !since.Add(w.podReady).After(w.now) {
				ready++
			}
		}
		rs.Status.Replicas, rs.Status.ReadyReplicas, rs.Status.AvailableReplicas = want, ready, ready
		rs.Status.FullyLabeledReplicas = want
		rs.Status.ObservedGeneration = rs.Generation
	}
}
