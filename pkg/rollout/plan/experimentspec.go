package plan

import (
	"encoding/json"
	"fmt"
	"maps"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/serin-dev/serin/pkg/analysis/templates"
	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

// newStepExperiment builds the Experiment of an experiment step: each
// template copies the pod template of the stable or the canary ReplicaSet,
// with the step's replicas, selector, extra metadata and Service; each
// analysis gets its arguments resolved against the Rollout.
func newStepExperiment(ro *v1alpha1.Rollout, step *v1alpha1.RolloutExperimentStep, stable, canary *appsv1.ReplicaSet, name string) (*v1alpha1.Experiment, error) {
	hash := canary.Labels[v1alpha1.LabelPodTemplateHash]
	labels := maps.Clone(ro.Labels)
	if labels == nil {
		labels = map[string]string{}
	}
	labels[v1alpha1.LabelPodTemplateHash] = hash
	ex := &v1alpha1.Experiment{
		ObjectMeta: metav1.ObjectMeta{
			Name:            name,
			Namespace:       ro.Namespace,
			Labels:          labels,
			Annotations:     map[string]string{v1alpha1.AnnotationRevision: canary.Annotations[v1alpha1.AnnotationRevision]},
			OwnerReferences: []metav1.OwnerReference{ownerRef(ro)},
		},
		Spec: v1alpha1.ExperimentSpec{
			Duration:                step.Duration,
			ProgressDeadlineSeconds: ro.Spec.ProgressDeadlineSeconds,
			DryRun:                  step.DryRun,
			AnalysisRunMetadata:     *step.AnalysisRunMetadata.DeepCopy(),
			ScaleDownDelaySeconds:   step.ScaleDownDelaySeconds,
		},
	}
	for i := range step.Templates {
		t, err := experimentTemplate(step.Templates[i], stable, canary)
		if err != nil {
			return nil, err
		}
		ex.Spec.Templates = append(ex.Spec.Templates, t)
	}
	for _, a := range step.Analyses {
		args, err := templates.RolloutArgs(a.Args, ro, stable.Labels[v1alpha1.LabelPodTemplateHash], hash)
		if err != nil {
			return nil, fmt.Errorf("analysis %q: %w", a.Name, err)
		}
		ex.Spec.Analyses = append(ex.Spec.Analyses, v1alpha1.ExperimentAnalysisTemplateRef{
			Name: a.Name, TemplateName: a.TemplateName, ClusterScope: a.ClusterScope,
			Args: args, RequiredForCompletion: a.RequiredForCompletion,
		})
	}
	return ex, nil
}

// experimentTemplate turns one template of an experiment step into the
// Experiment's template.
func experimentTemplate(st v1alpha1.RolloutExperimentTemplate, stable, canary *appsv1.ReplicaSet) (v1alpha1.TemplateSpec, error) {
	var from *appsv1.ReplicaSet
	switch st.SpecRef {
	case v1alpha1.CanarySpecRef:
		from = canary
	case v1alpha1.StableSpecRef:
		from = stable
	default:
		return v1alpha1.TemplateSpec{}, fmt.Errorf("template %q: specRef %q must be canary or stable", st.Name, st.SpecRef)
	}
	t := v1alpha1.TemplateSpec{
		Name:            st.Name,
		Replicas:        st.Replicas,
		MinReadySeconds: from.Spec.MinReadySeconds,
		Template:        *from.Spec.Template.DeepCopy(),
		Selector:        from.Spec.Selector.DeepCopy(),
	}
	if st.Weight != nil || st.Service != nil {
		t.Service = &v1alpha1.TemplateService{}
		if st.Service != nil {
			t.Service.Name = st.Service.Name
		}
	}
	if st.Selector != nil {
		t.Selector = st.Selector.DeepCopy()
	}
	if t.Selector == nil {
		t.Selector = &metav1.LabelSelector{}
	}
	for k, v := range st.Metadata.Labels {
		if t.Template.Labels == nil {
			t.Template.Labels = map[string]string{}
		}
		if t.Selector.MatchLabels == nil {
			t.Selector.MatchLabels = map[string]string{}
		}
		t.Template.Labels[k] = v
		t.Selector.MatchLabels[k] = v
	}
	for k, v := range st.Metadata.Annotations {
		if t.Template.Annotations == nil {
			t.Template.Annotations = map[string]string{}
		}
		t.Template.Annotations[k] = v
	}
	return t, nil
}

// SameExperimentSpec tells whether two Experiment specs ask for the same
// experiment, leaving spec.terminate aside.
func SameExperimentSpec(a, b v1alpha1.ExperimentSpec) bool {
	a.Terminate, b.Terminate = false, false
	ja, errA := json.Marshal(a)
	jb, errB := json.Marshal(b)
	return errA == nil && errB == nil && string(ja) == string(jb)
}
