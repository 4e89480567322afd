package plan

import (
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

// Validate returns why the spec cannot be acted upon, or "" when it can.
// The first checks, and their messages, are Argo Rollouts'; the others name
// the offending field, for input Argo Rollouts only refuses later (when the
// API server rejects the ReplicaSet) or not at all.
func Validate(ex *v1alpha1.Experiment) string {
	deadline := progressDeadlineSeconds(ex)
	names := map[string]bool{}
	for i := range ex.Spec.Templates {
		t := &ex.Spec.Templates[i]
		if msg := validateTemplate(ex, t, i, deadline); msg != "" {
			return msg
		}
		if names[t.Name] {
			return fmt.Sprintf(MessageRepeatedTemplate, ex.Name, t.Name)
		}
		names[t.Name] = true
	}
	if msg := validateTimes(ex); msg != "" {
		return msg
	}
	return validateAnalyses(ex)
}

func validateTemplate(ex *v1alpha1.Experiment, t *v1alpha1.TemplateSpec, i int, deadline int32) string {
	switch {
	case t.Selector == nil:
		return fmt.Sprintf(MessageMissingField, fmt.Sprintf(".Spec.Templates[%d].Selector", i))
	case len(t.Selector.MatchLabels) == 0 && len(t.Selector.MatchExpressions) == 0:
		return fmt.Sprintf(MessageSelectAll, i)
	case t.MinReadySeconds > deadline:
		return fmt.Sprintf(MessageMinReadyTooLong, i)
	case t.Name == "":
		return fmt.Sprintf(MessageEmptyTemplateName, ex.Name, i)
	case t.Replicas != nil && *t.Replicas < 0:
		return fmt.Sprintf("spec.templates[%d].replicas: must not be negative, got %d", i, *t.Replicas)
	case t.MinReadySeconds < 0:
		return fmt.Sprintf("spec.templates[%d].minReadySeconds: must not be negative, got %d", i, t.MinReadySeconds)
	}
	selector, err := metav1.LabelSelectorAsSelector(t.Selector)
	if err != nil {
		return fmt.Sprintf("spec.templates[%d].selector: %v", i, err)
	}
	if !selector.Matches(labels.Set(t.Template.Labels)) {
		return fmt.Sprintf("spec.templates[%d].selector: it does not match the labels of spec.templates[%d].template.metadata.labels (template '%s')", i, i, t.Name)
	}
	return ""
}

func validateTimes(ex *v1alpha1.Experiment) string {
	if d := ex.Spec.Duration; d != "" {
		v, err := d.Duration()
		if err != nil {
			return fmt.Sprintf("spec.duration: %v", err)
		}
		if v < 0 {
			return fmt.Sprintf("spec.duration: must not be negative, got %s", d)
		}
	}
	if p := ex.Spec.ProgressDeadlineSeconds; p != nil && *p < 0 {
		return fmt.Sprintf("spec.progressDeadlineSeconds: must not be negative, got %d", *p)
	}
	if s := ex.Spec.ScaleDownDelaySeconds; s != nil && *s < 0 {
		return fmt.Sprintf("spec.scaleDownDelaySeconds: must not be negative, got %d", *s)
	}
	return ""
}

func validateAnalyses(ex *v1alpha1.Experiment) string {
	names := map[string]bool{}
	for i, a := range ex.Spec.Analyses {
		switch {
		case a.Name == "":
			return fmt.Sprintf("spec.analyses[%d].name: must not be empty", i)
		case a.TemplateName == "":
			return fmt.Sprintf("spec.analyses[%d].templateName: must not be empty", i)
		case names[a.Name]:
			return fmt.Sprintf("spec.analyses[%d].name: repeated analysis name '%s'", i, a.Name)
		}
		names[a.Name] = true
	}
	return ""
}

// progressDeadlineSeconds is spec.progressDeadlineSeconds or its default.
func progressDeadlineSeconds(ex *v1alpha1.Experiment) int32 {
	if p := ex.Spec.ProgressDeadlineSeconds; p != nil {
		return *p
	}
	return DefaultProgressDeadlineSeconds
}

// scaleDownDelaySeconds is spec.scaleDownDelaySeconds or its default.
func scaleDownDelaySeconds(ex *v1alpha1.Experiment) int32 {
	if s := ex.Spec.ScaleDownDelaySeconds; s != nil {
		return *s
	}
	return DefaultScaleDownDelaySeconds
}

// templateReplicas is a template's replicas or the default, 1.
func templateReplicas(t *v1alpha1.TemplateSpec) int32 {
	if t.Replicas != nil {
		return *t.Replicas
	}
	return 1
}
