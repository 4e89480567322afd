package plan

import (
	"encoding/json"
	"fmt"
	"strconv"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/serin-dev/serin/pkg/analysis/templates"
	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/event"
	"github.com/serin-dev/serin/pkg/podhash"
	"github.com/serin-dev/serin/pkg/trafficrouting"
)

// world is an in-memory cluster for driving plans: it applies a plan's writes
// the way the reconciler and the API server would, and a fake kubelet makes
// pods of healthy templates available at once.
type world struct {
	t        testing.TB
	now      time.Time
	ro       *v1alpha1.Rollout
	rss      map[string]*appsv1.ReplicaSet
	services map[string]*corev1.Service
	events   []event.Event
	// broken makes pods of ReplicaSets with these hashes never available.
	broken map[string]bool
	uid    int
	last   Plan
	// routers and their objects.
	routers       []trafficrouting.Router
	routerObjects map[trafficrouting.Ref]*unstructured.Unstructured
	// workload is the object spec.workloadRef names.
	workload *unstructured.Unstructured
	// templates and runs of the analysis world.
	templates map[string]*v1alpha1.AnalysisTemplate
	runs      map[string]*v1alpha1.AnalysisRun
	// experiments the Rollout created.
	experiments map[string]*v1alpha1.Experiment
	// pods per ReplicaSet name; the kubelet keeps their number at spec.replicas.
	pods     map[string][]*corev1.Pod
	evicted  int
	maxEvict int // the most evictions one plan asked for
	// elb, when set, answers the ALB verification's lookups (it stands in
	// for the reconciler asking ELBv2).
	elb func(State) *ALBVerification
	// targets, when set, answers the TargetGroupBinding registration check.
	targets func(State) *TargetVerification
	// finished collects the plans' Finished records, as the metrics see them.
	finished []v1alpha1.RolloutDurationStatus
	// calls are the traffic-router plugin calls made, and verify answers
	// VerifyWeight for a plugin (nil: no plugin is asked).
	calls  []trafficrouting.Call
	verify func(plugin string, weight int32) *bool
	// stepPlugin answers step plugin calls (nil: none is made), and
	// stepCalls records them.
	stepPlugin func(StepPluginCall) StepPluginAnswer
	stepCalls  []StepPluginCall
}

var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func newWorld(t testing.TB, ro *v1alpha1.Rollout) *world {
	ro.UID = "rollout-uid"
	ro.Namespace = "default"
	ro.Generation = 1
	w := &world{t: t, now: epoch, ro: ro, rss: map[string]*appsv1.ReplicaSet{}, services: map[string]*corev1.Service{}, broken: map[string]bool{}, pods: map[string][]*corev1.Pod{},
		templates: map[string]*v1alpha1.AnalysisTemplate{}, runs: map[string]*v1alpha1.AnalysisRun{}, experiments: map[string]*v1alpha1.Experiment{}}
	return w
}

func (w *world) addService(name string) {
	w.services[name] = &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"},
		Spec:       corev1.ServiceSpec{Selector: map[string]string{"app": "demo"}},
	}
}

func (w *world) state() State {
	st := State{Rollout: w.ro.DeepCopy(), Now: w.now, Services: map[string]*corev1.Service{}}
	for _, rs := range w.rss {
		st.ReplicaSets = append(st.ReplicaSets, rs.DeepCopy())
	}
	for n, s := range w.services {
		st.Services[n] = s.DeepCopy()
	}
	for _, pods := range w.pods {
		for _, pod := range pods {
			st.Pods = append(st.Pods, pod.DeepCopy())
		}
	}
	for _, r := range w.runs {
		st.AnalysisRuns = append(st.AnalysisRuns, r.DeepCopy())
	}
	for _, ex := range w.experiments {
		st.Experiments = append(st.Experiments, ex.DeepCopy())
	}
	if w.workload != nil {
		st.Workload = w.workload.DeepCopy()
	}
	if len(w.routers) > 0 {
		st.Routers = w.routers
		st.RouterObjects = map[trafficrouting.Ref]*unstructured.Unstructured{}
		for ref, obj := range w.routerObjects {
			st.RouterObjects[ref] = obj.DeepCopy()
		}
	}
	if w.elb != nil {
		st.ALB = w.elb(st)
	}
	if w.targets != nil {
		st.Targets = w.targets(st)
	}
	w.verifyWeights(&st)
	if w.stepPlugin != nil {
		for _, c := range StepPluginCalls(st) {
			w.stepCalls = append(w.stepCalls, c)
			st.StepPluginAnswers = append(st.StepPluginAnswers, w.stepPlugin(c))
		}
	}
	st.Templates, st.TemplateErrors = map[string]templates.Set{}, map[string]error{}
	for key, a := range Analyses(st.Rollout) {
		set, err := templates.Resolve("default", a.Templates, w)
		if err != nil {
			st.TemplateErrors[key] = err
			continue
		}
		st.Templates[key] = set
	}
	return st
}

// step runs one reconcile and applies its plan.
func (w *world) step() Plan {
	w.t.Helper()
	p := Compute(w.state())
	w.last = p
	if p.DefaultReplicas {
		w.ro.Spec.Replicas = int32Ptr(1)
	}
	if p.WorkloadGeneration != "" {
		if w.ro.Annotations == nil {
			w.ro.Annotations = map[string]string{}
		}
		w.ro.Annotations[v1alpha1.AnnotationWorkloadGeneration] = p.WorkloadGeneration
	}
	w.applyRouterWrites(p.RouterWrites)
	if p.WorkloadReplicas != nil {
		unstructured.SetNestedField(w.workload.Object, int64(*p.WorkloadReplicas), "spec", "replicas")
	}
	if p.Revision != "" {
		if w.ro.Annotations == nil {
			w.ro.Annotations = map[string]string{}
		}
		w.ro.Annotations[v1alpha1.AnnotationRevision] = p.Revision
	}
	if p.Create != nil {
		rs := p.Create.DeepCopy()
		if _, exists := w.rss[rs.Name]; exists {
			w.t.Fatalf("plan creates %s, which exists", rs.Name)
		}
		w.uid++
		rs.UID = types.UID(fmt.Sprintf("rs-%d", w.uid))
		rs.CreationTimestamp = metav1.NewTime(w.now)
		w.rss[rs.Name] = rs
	}
	for _, u := range p.ReplicaSetUpdates() {
		if _, ok := w.rss[u.Name]; !ok {
			w.t.Fatalf("plan updates %s, which does not exist", u.Name)
		}
		w.rss[u.Name] = u.DeepCopy()
	}
	for _, d := range p.Deletes {
		delete(w.rss, d.Name)
		delete(w.pods, d.Name)
	}
	for _, r := range p.CreateRuns {
		if _, exists := w.runs[r.Name]; exists {
			w.t.Fatalf("plan creates AnalysisRun %s, which exists", r.Name)
		}
		r = r.DeepCopy()
		r.CreationTimestamp = metav1.NewTime(w.now)
		w.runs[r.Name] = r
	}
	for _, r := range p.TerminateRuns {
		w.runs[r.Name].Spec.Terminate = true
	}
	for _, r := range p.DeleteRuns {
		delete(w.runs, r.Name)
	}
	w.applyExperiments(p)
	for _, pp := range p.PodPatches {
		for _, pods := range w.pods {
			for _, pod := range pods {
				if pod.Name != pp.Pod.Name {
					continue
				}
				for k, v := range pp.Labels {
					if v == nil {
						delete(pod.Labels, k)
					} else {
						pod.Labels[k] = *v
					}
				}
			}
		}
	}
	w.maxEvict = max(w.maxEvict, len(p.Evictions))
	for _, e := range p.Evictions {
		for rs, pods := range w.pods {
			for i, pod := range pods {
				if pod.Name == e.Name {
					w.pods[rs] = append(pods[:i:i], pods[i+1:]...)
					w.evicted++
				}
			}
		}
	}
	for _, sw := range p.ServiceSwitches {
		svc := w.services[sw.Service.Name]
		svc.Spec.Selector[v1alpha1.LabelPodTemplateHash] = sw.Hash
		if svc.Annotations == nil {
			svc.Annotations = map[string]string{}
		}
		svc.Annotations[v1alpha1.AnnotationManagedByRollouts] = w.ro.Name
	}
	w.ro.Status = p.Status
	w.events = append(w.events, p.Events...)
	if p.Finished != nil {
		w.finished = append(w.finished, *p.Finished)
	}
	w.kubelet()
	return p
}

// applyRouterWrites writes the routing objects and records the plugin
// calls.
func (w *world) applyRouterWrites(writes []trafficrouting.Write) {
	for _, rw := range writes {
		switch rw.Op {
		case trafficrouting.Update, trafficrouting.Create:
			w.routerObjects[rw.Ref] = rw.Object.DeepCopy()
		case trafficrouting.Delete:
			delete(w.routerObjects, rw.Ref)
		case trafficrouting.PluginCall:
			w.calls = append(w.calls, *rw.Call)
		}
	}
}

// kubelet makes every ReplicaSet's pods exist, and be available unless broken.
func (w *world) kubelet() {
	for _, rs := range w.rss {
		n := rsReplicas(rs)
		pods := w.pods[rs.Name]
		for int32(len(pods)) > n {
			pods = pods[:len(pods)-1]
		}
		for int32(len(pods)) < n {
			w.uid++
			ready := corev1.ConditionTrue
			if w.broken[rs.Labels[v1alpha1.LabelPodTemplateHash]] {
				ready = corev1.ConditionFalse
			}
			pods = append(pods, &corev1.Pod{
				ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s-%d", rs.Name, w.uid), Namespace: "default", UID: types.UID(fmt.Sprintf("pod-%d", w.uid)),
					CreationTimestamp: metav1.NewTime(w.now), Labels: withLabel(rs.Spec.Template.Labels, "sim", "pod"),
					OwnerReferences: []metav1.OwnerReference{{Kind: "ReplicaSet", Name: rs.Name, UID: rs.UID, Controller: &isController}}},
				Status: corev1.PodStatus{Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: ready, LastTransitionTime: metav1.NewTime(w.now)}}},
			})
		}
		w.pods[rs.Name] = pods
		rs.Status.Replicas = n
		rs.Status.ObservedGeneration = rs.Generation
		if w.broken[rs.Labels[v1alpha1.LabelPodTemplateHash]] {
			rs.Status.ReadyReplicas, rs.Status.AvailableReplicas = 0, 0
		} else {
			rs.Status.ReadyReplicas, rs.Status.AvailableReplicas = n, n
		}
	}
}

// settle reconciles until a reconcile changes nothing, at most 30 times.
func (w *world) settle() {
	w.t.Helper()
	for i := 0; i < 30; i++ {
		before := w.snapshot()
		w.step()
		if w.snapshot() == before {
			return
		}
	}
	w.t.Fatalf("did not settle after 30 reconciles; status %+v", w.ro.Status)
}

func (w *world) snapshot() string {
	status, _ := json.Marshal(w.ro.Status)
	return fmt.Sprintf("%s|%v|%v|%d|%d|%v|%d|%d|%d|%d|%d", status, w.replicaCounts(), w.ro.Annotations, len(w.last.Events), len(w.rss), w.serviceHashes(), w.evicted, len(w.last.PodPatches), len(w.runs), len(w.last.TerminateRuns), len(w.last.RouterWrites)) + fmt.Sprint(len(w.experiments), len(w.last.TerminateExperiments))
}

func (w *world) serviceHashes() map[string]string {
	out := map[string]string{}
	for n, s := range w.services {
		out[n] = s.Spec.Selector[v1alpha1.LabelPodTemplateHash]
	}
	return out
}

// replicaCounts maps each ReplicaSet's revision to its spec.replicas.
func (w *world) replicaCounts() map[string]int32 {
	out := map[string]int32{}
	for _, rs := range w.rss {
		out["rev"+rs.Annotations[v1alpha1.AnnotationRevision]] = rsReplicas(rs)
	}
	return out
}

func (w *world) setImage(image string) {
	w.ro.Spec.Template.Spec.Containers[0].Image = image
	w.ro.Generation++
}

func (w *world) advance(d time.Duration) { w.now = w.now.Add(d) }

func (w *world) hash() string {
	return podhash.PodTemplateHash(&w.ro.Spec.Template, w.ro.Status.CollisionCount)
}

// promoteWithEvent does what `kubectl argo rollouts promote` does on a paused canary.
func (w *world) promote() {
	if len(w.ro.Status.PauseConditions) > 0 {
		w.ro.Status.PauseConditions = nil
		return
	}
	if w.ro.Status.CurrentStepIndex == nil {
		return // nothing to promote yet, as the plugin finds
	}
	next := *w.ro.Status.CurrentStepIndex + 1
	w.ro.Status.CurrentStepIndex = &next
}

func (w *world) expectPhase(phase v1alpha1.RolloutPhase, message string) {
	w.t.Helper()
	if w.ro.Status.Phase != phase || w.ro.Status.Message != message {
		w.t.Fatalf("phase/message = %s/%q, want %s/%q", w.ro.Status.Phase, w.ro.Status.Message, phase, message)
	}
}

func (w *world) expectStep(index int32) {
	w.t.Helper()
	if got := w.ro.Status.CurrentStepIndex; got == nil || *got != index {
		w.t.Fatalf("currentStepIndex = %v, want %d", ptrString(got), index)
	}
}

func (w *world) expectReplicas(want map[string]int32) {
	w.t.Helper()
	got := w.replicaCounts()
	for k, v := range want {
		if got[k] != v {
			w.t.Fatalf("replicas = %v, want %v", got, want)
		}
	}
	for k, v := range got {
		if _, named := want[k]; !named && v != 0 {
			w.t.Fatalf("replicas = %v, want %v (others at 0)", got, want)
		}
	}
}

func (w *world) expectCondition(t v1alpha1.RolloutConditionType, status corev1.ConditionStatus, reason string) {
	w.t.Helper()
	c := condition(w.ro.Status, t)
	if c == nil || c.Status != status || c.Reason != reason {
		w.t.Fatalf("condition %s = %+v, want %s/%s", t, c, status, reason)
	}
}

func (w *world) expectEvent(reason string) {
	w.t.Helper()
	for _, e := range w.events {
		if e.Reason == reason {
			return
		}
	}
	w.t.Fatalf("no %s event among %+v", reason, w.events)
}

func ptrString(p *int32) string {
	if p == nil {
		return "nil"
	}
	return strconv.Itoa(int(*p))
}

// canaryRollout is a replica-based canary of 5 pods with the given steps.
func canaryRollout(steps ...v1alpha1.CanaryStep) *v1alpha1.Rollout {
	return &v1alpha1.Rollout{
		ObjectMeta: metav1.ObjectMeta{Name: "demo"},
		Spec: v1alpha1.RolloutSpec{
			Replicas: int32Ptr(5),
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "demo"}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "demo"}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "demo:v1"}}},
			},
			Strategy: v1alpha1.RolloutStrategy{Canary: &v1alpha1.CanaryStrategy{Steps: steps}},
		},
	}
}

func setWeight(w int32) v1alpha1.CanaryStep { return v1alpha1.CanaryStep{SetWeight: &w} }

func pauseFor(d string) v1alpha1.CanaryStep {
	if d == "" {
		return v1alpha1.CanaryStep{Pause: &v1alpha1.RolloutPause{}}
	}
	v := intstr.FromString(d)
	return v1alpha1.CanaryStep{Pause: &v1alpha1.RolloutPause{Duration: &v}}
}

// podLabels lists a label's value on each pod of a ReplicaSet.
func (w *world) podLabels(rs, key string) []string {
	var out []string
	for _, pod := range w.pods[rs] {
		out = append(out, pod.Labels[key])
	}
	return out
}

var isController = true

// AnalysisTemplate and ClusterAnalysisTemplate make the world a templates.Getter.
func (w *world) AnalysisTemplate(namespace, name string) (*v1alpha1.AnalysisTemplate, error) {
	if t, ok := w.templates[name]; ok {
		return t, nil
	}
	return nil, fmt.Errorf("analysistemplate %q not found", name)
}

func (w *world) ClusterAnalysisTemplate(name string) (*v1alpha1.ClusterAnalysisTemplate, error) {
	return nil, fmt.Errorf("clusteranalysistemplate %q not found", name)
}

// addTemplate adds an AnalysisTemplate with one metric.
func (w *world) addTemplate(name string) {
	w.templates[name] = &v1alpha1.AnalysisTemplate{
		Spec: v1alpha1.AnalysisTemplateSpec{Args: []v1alpha1.Argument{{Name: "hash", Value: ptr("unset")}}, Metrics: []v1alpha1.Metric{{Name: "success-rate",
			Provider: v1alpha1.MetricProvider{Prometheus: &v1alpha1.PrometheusMetric{Address: "http://prometheus", Query: "up"}}}}},
	}
}

// finishRun gives the newest non-terminated run of a type a phase.
func (w *world) finishRun(rolloutType string, phase v1alpha1.AnalysisPhase, message string) *v1alpha1.AnalysisRun {
	w.t.Helper()
	var newest *v1alpha1.AnalysisRun
	for _, r := range w.runs {
		if r.Labels[v1alpha1.LabelRolloutType] == rolloutType && !r.Spec.Terminate && !r.Status.Phase.Completed() &&
			(newest == nil || r.Name > newest.Name) {
			newest = r
		}
	}
	if newest == nil {
		w.t.Fatalf("no running %s AnalysisRun among %v", rolloutType, w.runNames())
	}
	newest.Status.Phase, newest.Status.Message = phase, message
	return newest
}

func (w *world) runNames() []string {
	var out []string
	for n := range w.runs {
		out = append(out, n)
	}
	return out
}
