package plan

import (
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/serin-dev/serin/pkg/analysis/templates"
	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/event"
)

// Defaults of the Experiment spec, as in Argo Rollouts.
const (
	DefaultProgressDeadlineSeconds int32 = 600
	DefaultScaleDownDelaySeconds   int32 = 30
)

// State is what one reconcile of an Experiment looks at. Nothing in it is
// modified.
type State struct {
	// Experiment as the informer last saw it.
	Experiment *v1alpha1.Experiment
	// ReplicaSets are the Experiment's ReplicaSets, by template name.
	ReplicaSets map[string]*appsv1.ReplicaSet
	// Services are the Experiment's Services, by template name.
	Services map[string]*corev1.Service
	// NamedServices are the Services, the Experiment's or not, that hold the
	// names the templates' Services would take, by name.
	NamedServices map[string]*corev1.Service
	// Runs are the AnalysisRuns the Experiment controls, by name.
	Runs map[string]*v1alpha1.AnalysisRun
	// LostRuns explains, by run name, why a run named in the status could
	// not be read (it was deleted, usually).
	LostRuns map[string]string
	// Analyses are the templates of each analysis, by analysis name.
	Analyses map[string]Templates
	// Now is the time the decision is made at.
	Now time.Time
	// Outcome reports the writes of a first plan that failed for good; it
	// is empty for the first plan.
	Outcome Outcome
}

// Templates are the analysis templates of one analysis, or why they could
// not be read.
type Templates struct {
	Set templates.Set
	// Err is the error of the lookup of the analysis' own template, or of
	// a template it composes.
	Err error
}

// Outcome is what went wrong, for good, when a plan's writes were made.
type Outcome struct {
	// TemplateErrors are status messages of templates whose ReplicaSet or
	// Service could not be created, scaled or deleted, by template name.
	TemplateErrors map[string]string
	// Collisions are the templates whose ReplicaSet name is held by a
	// ReplicaSet that is not theirs.
	Collisions map[string]bool
	// RunErrors are the errors of AnalysisRuns that could not be created,
	// by analysis name.
	RunErrors map[string]string
	// RunNames are the names runs were created under when the planned name
	// was taken, by analysis name.
	RunNames map[string]string
}

// Empty reports whether the outcome changes nothing in the plan.
func (o Outcome) Empty() bool {
	return len(o.TemplateErrors) == 0 && len(o.Collisions) == 0 && len(o.RunErrors) == 0 && len(o.RunNames) == 0
}

// RunCreate is an AnalysisRun to create for an analysis.
type RunCreate struct {
	Analysis string
	Run      *v1alpha1.AnalysisRun
}

// Plan is the outcome of one reconcile.
type Plan struct {
	// Status is the Experiment's next status.
	Status v1alpha1.ExperimentStatus
	// CreateReplicaSets are new template ReplicaSets, with no replicas.
	CreateReplicaSets []*appsv1.ReplicaSet
	// UpdateReplicaSets are changed copies of cached ReplicaSets (replicas,
	// scale-down deadline), to write with an update.
	UpdateReplicaSets []*appsv1.ReplicaSet
	// CreateServices and DeleteServices are the templates' Services to
	// create and to delete.
	CreateServices []*corev1.Service
	DeleteServices []*corev1.Service
	// CreateRuns are the AnalysisRuns to start.
	CreateRuns []RunCreate
	// TerminateRuns are the AnalysisRuns to stop (spec.terminate).
	TerminateRuns []*v1alpha1.AnalysisRun
	// Events are recorded on the Experiment once its status is written.
	Events []event.Event
	// RolloutEvents are recorded on the Rollout that owns the Experiment,
	// if any, so that its notifications see its analyses.
	RolloutEvents []event.Event
	// RequeueAfter, when positive, is when to reconcile again: the end of
	// the duration, a progress or scale-down deadline.
	RequeueAfter time.Duration
}
