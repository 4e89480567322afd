package experiment

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/serin-dev/serin/pkg/analysis/templates"
	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/controller"
	"github.com/serin-dev/serin/pkg/experiment/plan"
)

// observe gathers the plan's state from the caches. The only API read is
// of a run the status names that the cache does not show (yet).
func (r *Reconciler) observe(ctx context.Context, ex *v1alpha1.Experiment) (plan.State, error) {
	st := plan.State{Experiment: ex, Now: r.o.Clock.Now(),
		ReplicaSets: map[string]*appsv1.ReplicaSet{}, Services: map[string]*corev1.Service{},
		NamedServices: map[string]*corev1.Service{}, Runs: map[string]*v1alpha1.AnalysisRun{},
		LostRuns: map[string]string{}, Analyses: map[string]plan.Templates{}}
	if err := claim(ex, r.o.ReplicaSets, "ReplicaSets", st.ReplicaSets); err != nil {
		return st, err
	}
	if err := claim(ex, r.o.Services, "Services", st.Services); err != nil {
		return st, err
	}
	for i := range ex.Spec.Templates {
		t := &ex.Spec.Templates[i]
		if t.Service == nil {
			continue
		}
		name := plan.ReplicaSetName(ex, t.Name)
		if t.Service.Name != "" {
			name = t.Service.Name
		}
		svc, err := r.o.ServiceLister.Services(ex.Namespace).Get(name)
		if err == nil {
			st.NamedServices[name] = svc
		} else if !apierrors.IsNotFound(err) {
			return st, err
		}
	}
	owned, err := r.o.AnalysisRuns.ByIndex(controller.OwnerIndex, string(ex.UID))
	if err != nil {
		return st, err
	}
	for _, o := range owned {
		if run, ok := o.(*v1alpha1.AnalysisRun); ok {
			st.Runs[run.Name] = run
		}
	}
	if err := r.findRuns(ctx, ex, &st); err != nil {
		return st, err
	}
	for _, a := range ex.Spec.Analyses {
		st.Analyses[a.Name] = r.analysisTemplates(ex, a)
	}
	return st, nil
}

// claim puts the objects of kind T the experiment controls, annotated with
// its name and one of its templates, into byTemplate. Two objects for one
// template are an error, as in Argo Rollouts.
func claim[T metav1.Object](ex *v1alpha1.Experiment, indexer interface {
	ByIndex(string, string) ([]any, error)
}, kind string, byTemplate map[string]T) error {
	owned, err := indexer.ByIndex(controller.OwnerIndex, string(ex.UID))
	if err != nil {
		return err
	}
	defined := map[string]bool{}
	for _, t := range ex.Spec.Templates {
		defined[t.Name] = true
	}
	for _, o := range owned {
		obj, ok := o.(T)
		if !ok {
			continue
		}
		name := obj.GetAnnotations()[v1alpha1.AnnotationExperimentTemplateName]
		if !defined[name] || !plan.Owns(ex, obj, name) {
			continue
		}
		if _, dup := byTemplate[name]; dup {
			return fmt.Errorf("multiple %s match single experiment template: %s", kind, name)
		}
		byTemplate[name] = obj
	}
	return nil
}

// findRuns reads, from the API, the runs the status names that are still
// going but missing from the cache: just created, usually, and not yet
// delivered by the watch. A run that does not exist is reported lost.
func (r *Reconciler) findRuns(ctx context.Context, ex *v1alpha1.Experiment, st *plan.State) error {
	for _, s := range ex.Status.AnalysisRuns {
		if s.AnalysisRun == "" || s.Phase.Completed() || st.Runs[s.AnalysisRun] != nil {
			continue
		}
		run, err := r.o.Client.ArgoprojV1alpha1().AnalysisRuns(ex.Namespace).Get(ctx, s.AnalysisRun, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			st.LostRuns[s.AnalysisRun] = err.Error()
		case err != nil:
			return fmt.Errorf("reading AnalysisRun %s: %w", s.AnalysisRun, err)
		default:
			if ref := metav1.GetControllerOfNoCopy(run); ref != nil && ref.UID == ex.UID {
				st.Runs[run.Name] = run
			} else {
				st.LostRuns[s.AnalysisRun] = fmt.Sprintf("AnalysisRun %s is not controlled by the experiment", s.AnalysisRun)
			}
		}
	}
	return nil
}

// analysisTemplates resolves an analysis' templates. The error of the
// analysis' own template is kept as the lister gives it, for Argo Rollouts'
// verification message.
func (r *Reconciler) analysisTemplates(ex *v1alpha1.Experiment, a v1alpha1.ExperimentAnalysisTemplateRef) plan.Templates {
	g := getter{r.o.AnalysisTemplateLister, r.o.ClusterAnalysisTemplateLister}
	var err error
	if a.IsClusterScope() {
		_, err = g.ClusterAnalysisTemplate(a.TemplateName)
	} else {
		_, err = g.AnalysisTemplate(ex.Namespace, a.TemplateName)
	}
	if err != nil {
		return plan.Templates{Err: err}
	}
	set, err := templates.Resolve(ex.Namespace, []v1alpha1.AnalysisTemplateRef{{TemplateName: a.TemplateName, ClusterScope: a.ClusterScope}}, g)
	return plan.Templates{Set: set, Err: err}
}
