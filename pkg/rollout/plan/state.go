package plan

import (
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/serin-dev/serin/pkg/analysis/templates"
	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/event"
	"github.com/serin-dev/serin/pkg/trafficrouting"
)

// State is everything a reconcile of one Rollout looks at.
type State struct {
	// Rollout as the informer last saw it. It is never modified.
	Rollout *v1alpha1.Rollout
	// ReplicaSets the Rollout controls (its controller owner reference).
	ReplicaSets []*appsv1.ReplicaSet
	// Pods carrying the rollouts-pod-template-hash label in the Rollout's
	// namespace; only those of its own ReplicaSets are looked at.
	Pods []*corev1.Pod
	// Services in the Rollout's namespace that it names, by name. A name
	// the Rollout uses but that is missing here does not exist.
	Services map[string]*corev1.Service
	// Deployments in the Rollout's namespace, read only while a Service it
	// names is not yet marked as its own: a Service that feeds a running
	// Deployment is not taken over.
	Deployments []*appsv1.Deployment
	// Routers are the traffic routers the Rollout's spec enables, and
	// RouterObjects the objects they reference that exist. RouterErrors are
	// references that could not be read (a CRD that is not installed);
	// UnsupportedRouters the configured providers no router handles.
	Routers            []trafficrouting.Router
	RouterObjects      map[trafficrouting.Ref]*unstructured.Unstructured
	RouterErrors       []error
	UnsupportedRouters []string
	// ALB, when set, turns ALB target group verification on and holds
	// ELBv2's answers about the Rollout's load balancers.
	ALB *ALBVerification
	// Targets, when set, holds ELBv2's answers about the registration of
	// the pods of the Service alb.TargetsService names.
	Targets *TargetVerification
	// Verifications are the traffic-router plugins' answers to
	// VerifyWeight for the split WeightToVerify names, by plugin name. A
	// plugin router missing here was not asked.
	Verifications map[string]Verification
	// VerifyRetryInterval is how soon a split not yet verified is looked
	// at again; 0 means DefaultVerifyRetryInterval.
	VerifyRetryInterval time.Duration
	// Workload is the object spec.workloadRef names, when it exists.
	Workload *unstructured.Unstructured
	// AnalysisRuns the Rollout controls.
	AnalysisRuns []*v1alpha1.AnalysisRun
	// Experiments the Rollout controls.
	Experiments []*v1alpha1.Experiment
	// Templates are the resolved templates of each analysis in the spec,
	// keyed as Analyses keys them; TemplateErrors holds those that could not
	// be resolved.
	Templates      map[string]templates.Set
	TemplateErrors map[string]error
	// StepPluginAnswers are the answers to the calls StepPluginCalls
	// decided, made before planning.
	StepPluginAnswers []StepPluginAnswer
	// Now is the time the decision is made at.
	Now time.Time
}

// Plan is what one reconcile does. The reconciler ((*Reconciler).apply in
// pkg/rollout) applies it in this order, which is not the order of the
// fields below:
//
//  1. the Rollout's own metadata and spec patch (DefaultReplicas, Revision,
//     WorkloadGeneration);
//  2. the ReplicaSet to Create;
//  3. ReplicaSet Updates;
//  4. ReplicaSet Deletes;
//  5. the workload scale (WorkloadReplicas);
//  6. RouterWrites;
//  7. Experiments: CreateExperiment, then TerminateExperiments, then
//     DeleteExperiments;
//  8. AnalysisRuns: CreateRuns, then TerminateRuns, then DeleteRuns;
//  9. PodPatches;
//  10. Evictions;
//  11. ServiceSwitches;
//  12. the Status, last;
//  13. then the Finished update is reported and the Events recorded, once
//     every write succeeded.
//
// The first write that fails ends the apply there, and so does a ReplicaSet
// create that finds the ReplicaSet already made.
type Plan struct {
	// DefaultReplicas writes spec.replicas: 1 into a Rollout that has none.
	DefaultReplicas bool
	// Revision, when set, is the new value of the Rollout's revision annotation.
	Revision string
	// WorkloadGeneration, when set, is the new value of the Rollout's
	// workload-generation annotation.
	WorkloadGeneration string
	// WorkloadReplicas, when set, scales the referenced Deployment.
	WorkloadReplicas *int32
	// Create is a ReplicaSet to create.
	Create *appsv1.ReplicaSet
	// Grows are changed copies of existing ReplicaSets whose spec.replicas
	// go up: written before the router writes, so that pods are asked for
	// before any traffic is sent their way.
	Grows []*appsv1.ReplicaSet
	// Updates are the other changed copies of existing ReplicaSets (scale
	// downs, annotations): written after the router writes, so that traffic
	// leaves pods before they go and an abort's first write moves traffic.
	Updates []*appsv1.ReplicaSet
	// Deletes are ReplicaSets past the revision history limit.
	Deletes []*appsv1.ReplicaSet
	// PodPatches change the ephemeral labels and annotations of running pods.
	PodPatches []PodPatch
	// CreateRuns, TerminateRuns and DeleteRuns start, stop (spec.terminate)
	// and remove AnalysisRuns.
	CreateRuns    []*v1alpha1.AnalysisRun
	TerminateRuns []*v1alpha1.AnalysisRun
	DeleteRuns    []*v1alpha1.AnalysisRun
	// CreateExperiment starts the Experiment of an experiment step;
	// TerminateExperiments stop Experiments (spec.terminate) and
	// DeleteExperiments remove them.
	CreateExperiment     *v1alpha1.Experiment
	TerminateExperiments []*v1alpha1.Experiment
	DeleteExperiments    []*v1alpha1.Experiment
	// RouterWrites change traffic-routing objects, in order.
	RouterWrites []trafficrouting.Write
	// Evictions are pods replaced for spec.restartAt.
	Evictions []*corev1.Pod
	// ServiceSwitches point Services at a revision.
	ServiceSwitches []ServiceSwitch
	// Status is the status to write; the reconciler patches only what differs
	// from the observed status.
	Status v1alpha1.RolloutStatus
	// Events to record once the writes succeeded.
	Events []event.Event
	// Finished is the status.duration record of an update that ended in
	// this reconcile, for the duration metrics: the reconciler reports it
	// once the status is written. It is not always the new
	// status.duration: an update replaced by a newer revision ends in the
	// reconcile where the newer one starts.
	Finished *v1alpha1.RolloutDurationStatus
	// RequeueAfter asks for another reconcile after this long (0: none).
	RequeueAfter time.Duration
}

// ServiceSwitch sets a Service's rollouts-pod-template-hash selector and marks
// it as managed by the Rollout.
type ServiceSwitch struct {
	Service *corev1.Service
	Hash    string
}

// requeue keeps the earliest positive wait.
func (p *Plan) requeue(after time.Duration) {
	if after <= 0 {
		after = time.Second
	}
	if p.RequeueAfter == 0 || after < p.RequeueAfter {
		p.RequeueAfter = after
	}
}

// PodPatch sets (a value) or removes (nil) labels and annotations of a pod.
type PodPatch struct {
	Pod         *corev1.Pod
	Labels      map[string]*string
	Annotations map[string]*string
}
