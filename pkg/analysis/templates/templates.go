// Package templates builds AnalysisRun specs from AnalysisTemplates and
// ClusterAnalysisTemplates, the way Argo Rollouts does for Rollouts and
// Experiments: the referenced templates (and the templates they compose
// through spec.templates) are merged into one set of metrics, arguments,
// dry-run and retention rules, and the caller's arguments fill in the
// template's. It is pure: templates are found through a Getter, which the
// caller backs with listers or maps.
package templates

import (
	"fmt"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

// Getter finds templates by name.
type Getter interface {
	AnalysisTemplate(namespace, name string) (*v1alpha1.AnalysisTemplate, error)
	ClusterAnalysisTemplate(name string) (*v1alpha1.ClusterAnalysisTemplate, error)
}

// Set is the templates a run is built from, each at most once, in the order
// they were referenced (a template before the ones it composes).
type Set struct {
	Templates        []*v1alpha1.AnalysisTemplate
	ClusterTemplates []*v1alpha1.ClusterAnalysisTemplate
}

// Resolve looks up the referenced templates in namespace (cluster templates
// cluster-wide) and, recursively, the templates they list in spec.templates.
// A template referenced twice is used once. A missing template is an error
// that wraps the Getter's (so apierrors.IsNotFound still works).
func Resolve(namespace string, refs []v1alpha1.AnalysisTemplateRef, g Getter) (Set, error) {
	var s Set
	seen := map[string]bool{}
	var walk func(refs []v1alpha1.AnalysisTemplateRef) error
	walk = func(refs []v1alpha1.AnalysisTemplateRef) error {
		for _, ref := range refs {
			key := "namespaced/" + ref.TemplateName
			if ref.IsClusterScope() {
				key = "cluster/" + ref.TemplateName
			}
			if seen[key] {
				continue
			}
			seen[key] = true
			var nested []v1alpha1.AnalysisTemplateRef
			if ref.IsClusterScope() {
				t, err := g.ClusterAnalysisTemplate(ref.TemplateName)
				if err != nil {
					return fmt.Errorf("ClusterAnalysisTemplate %q: %w", ref.TemplateName, err)
				}
				s.ClusterTemplates = append(s.ClusterTemplates, t)
				nested = t.Spec.Templates
			} else {
				t, err := g.AnalysisTemplate(namespace, ref.TemplateName)
				if err != nil {
					return fmt.Errorf("AnalysisTemplate %q: %w", ref.TemplateName, err)
				}
				s.Templates = append(s.Templates, t)
				nested = t.Spec.Templates
			}
			if err := walk(nested); err != nil {
				return err
			}
		}
		return nil
	}
	return s, walk(refs)
}

// specs lists the template specs of a set: namespaced templates first, then
// cluster templates, as Argo Rollouts merges them.
func (s Set) specs() []v1alpha1.AnalysisTemplateSpec {
	out := make([]v1alpha1.AnalysisTemplateSpec, 0, len(s.Templates)+len(s.ClusterTemplates))
	for _, t := range s.Templates {
		out = append(out, t.Spec)
	}
	for _, t := range s.ClusterTemplates {
		out = append(out, t.Spec)
	}
	return out
}

// Flatten merges the templates of a set into one spec. Metric names must be
// unique across templates, and so must dry-run and retention rules. An
// argument declared by several templates is merged: a value wins over no
// value, and two different values are an error.
func Flatten(s Set) (v1alpha1.AnalysisTemplateSpec, error) {
	var out v1alpha1.AnalysisTemplateSpec
	metricNames := map[string]bool{}
	for _, spec := range s.specs() {
		for _, m := range spec.Metrics {
			if metricNames[m.Name] {
				return out, fmt.Errorf("two metrics have the same name '%s'", m.Name)
			}
			metricNames[m.Name] = true
			out.Metrics = append(out.Metrics, *m.DeepCopy())
		}
		for _, a := range spec.Args {
			var err error
			if out.Args, err = mergeTemplateArg(out.Args, a); err != nil {
				return out, err
			}
		}
		out.DryRun = append(out.DryRun, spec.DryRun...)
		out.MeasurementRetention = append(out.MeasurementRetention, spec.MeasurementRetention...)
	}
	if err := uniqueDryRun(out.DryRun); err != nil {
		return out, err
	}
	return out, uniqueRetention(out.MeasurementRetention)
}

// mergeTemplateArg adds one template's declaration of an argument.
func mergeTemplateArg(args []v1alpha1.Argument, a v1alpha1.Argument) ([]v1alpha1.Argument, error) {
	for i, prev := range args {
		if prev.Name != a.Name {
			continue
		}
		if prev.Value != nil && a.Value != nil && *prev.Value != *a.Value {
			return nil, fmt.Errorf("Argument `%s` specified multiple times with different values: '%s', '%s'", a.Name, *prev.Value, *a.Value)
		}
		if prev.Value == nil {
			args[i] = *a.DeepCopy()
		}
		return args, nil
	}
	return append(args, *a.DeepCopy()), nil
}

func uniqueDryRun(rules []v1alpha1.DryRun) error {
	seen := map[string]bool{}
	for _, r := range rules {
		if seen[r.MetricName] {
			return fmt.Errorf("two Dry-Run metric rules have the same name '%s'", r.MetricName)
		}
		seen[r.MetricName] = true
	}
	return nil
}

func uniqueRetention(rules []v1alpha1.MeasurementRetention) error {
	seen := map[string]bool{}
	for _, r := range rules {
		if seen[r.MetricName] {
			return fmt.Errorf("two Measurement Retention metric rules have the same name '%s'", r.MetricName)
		}
		seen[r.MetricName] = true
	}
	return nil
}

// MergeArgs fills the template's arguments with the caller's: a caller's
// value (or valueFrom) replaces the template's default; arguments the
// template does not declare are ignored. Every argument must end up with a
// value or a valueFrom, otherwise the error is "args.<name> was not resolved".
func MergeArgs(given, declared []v1alpha1.Argument) ([]v1alpha1.Argument, error) {
	out := make([]v1alpha1.Argument, len(declared))
	for i, a := range declared {
		out[i] = *a.DeepCopy()
	}
	for _, g := range given {
		for i := range out {
			if out[i].Name != g.Name {
				continue
			}
			switch {
			case g.Value != nil:
				v := *g.Value
				out[i].Value = &v
			case g.ValueFrom != nil:
				out[i].ValueFrom = g.ValueFrom.DeepCopy()
			}
		}
	}
	for _, a := range out {
		if a.Value == nil && a.ValueFrom == nil {
			return nil, fmt.Errorf("args.%s was not resolved", a.Name)
		}
	}
	return out, nil
}

// RunOptions describe the AnalysisRun NewRun builds, besides its templates.
type RunOptions struct {
	Name, GenerateName, Namespace string
	Labels, Annotations           map[string]string
	// Args are the caller's argument values (see MergeArgs).
	Args []v1alpha1.Argument
	// DryRun and MeasurementRetention are the caller's rules, added to the
	// templates'.
	DryRun               []v1alpha1.DryRun
	MeasurementRetention []v1alpha1.MeasurementRetention
}

// NewRun builds an AnalysisRun from a set of templates: the flattened
// metrics, the merged arguments, and the caller's dry-run and retention
// rules followed by the templates'. The caller sets the owner reference.
func NewRun(s Set, o RunOptions) (*v1alpha1.AnalysisRun, error) {
	spec, err := Flatten(s)
	if err != nil {
		return nil, err
	}
	args, err := MergeArgs(o.Args, spec.Args)
	if err != nil {
		return nil, err
	}
	dryRun := append(append([]v1alpha1.DryRun(nil), o.DryRun...), spec.DryRun...)
	if err := uniqueDryRun(dryRun); err != nil {
		return nil, err
	}
	retention := append(append([]v1alpha1.MeasurementRetention(nil), o.MeasurementRetention...), spec.MeasurementRetention...)
	if err := uniqueRetention(retention); err != nil {
		return nil, err
	}
	run := &v1alpha1.AnalysisRun{
		Spec: v1alpha1.AnalysisRunSpec{
			Metrics:              spec.Metrics,
			Args:                 args,
			DryRun:               dryRun,
			MeasurementRetention: retention,
		},
	}
	run.Name, run.GenerateName, run.Namespace = o.Name, o.GenerateName, o.Namespace
	run.Labels, run.Annotations = o.Labels, o.Annotations
	return run, nil
}
