package templates

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

var errNotFound = errors.New("not found")

// maps is a Getter over maps.
type maps struct {
	templates map[string]*v1alpha1.AnalysisTemplate // "namespace/name"
	cluster   map[string]*v1alpha1.ClusterAnalysisTemplate
}

func (m maps) AnalysisTemplate(namespace, name string) (*v1alpha1.AnalysisTemplate, error) {
	if t, ok := m.templates[namespace+"/"+name]; ok {
		return t, nil
	}
	return nil, errNotFound
}

func (m maps) ClusterAnalysisTemplate(name string) (*v1alpha1.ClusterAnalysisTemplate, error) {
	if t, ok := m.cluster[name]; ok {
		return t, nil
	}
	return nil, errNotFound
}

func str(s string) *string { return &s }
func yes() *bool           { b := true; return &b }

func at(name string, spec v1alpha1.AnalysisTemplateSpec) *v1alpha1.AnalysisTemplate {
	return &v1alpha1.AnalysisTemplate{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns"}, Spec: spec}
}

func cat(name string, spec v1alpha1.AnalysisTemplateSpec) *v1alpha1.ClusterAnalysisTemplate {
	return &v1alpha1.ClusterAnalysisTemplate{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: spec}
}

func metrics(names ...string) []v1alpha1.Metric {
	var out []v1alpha1.Metric
	for _, n := range names {
		out = append(out, v1alpha1.Metric{Name: n})
	}
	return out
}

func names(ms []v1alpha1.Metric) string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Name)
	}
	return strings.Join(out, ",")
}

func TestResolveFollowsNestedTemplatesOnce(t *testing.T) {
	g := maps{
		templates: map[string]*v1alpha1.AnalysisTemplate{
			"ns/parent": at("parent", v1alpha1.AnalysisTemplateSpec{Metrics: metrics("p"), Templates: []v1alpha1.AnalysisTemplateRef{
				{TemplateName: "child"}, {TemplateName: "shared", ClusterScope: yes()},
			}}),
			"ns/child": at("child", v1alpha1.AnalysisTemplateSpec{Metrics: metrics("c"), Templates: []v1alpha1.AnalysisTemplateRef{{TemplateName: "parent"}}}),
		},
		cluster: map[string]*v1alpha1.ClusterAnalysisTemplate{"shared": cat("shared", v1alpha1.AnalysisTemplateSpec{Metrics: metrics("s")})},
	}
	s, err := Resolve("ns", []v1alpha1.AnalysisTemplateRef{{TemplateName: "parent"}, {TemplateName: "shared", ClusterScope: yes()}}, g)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Templates) != 2 || len(s.ClusterTemplates) != 1 {
		t.Fatalf("%d templates, %d cluster templates", len(s.Templates), len(s.ClusterTemplates))
	}
	spec, err := Flatten(s)
	if err != nil || names(spec.Metrics) != "p,c,s" {
		t.Fatalf("metrics %s, %v", names(spec.Metrics), err)
	}
}

func TestResolveMissingTemplate(t *testing.T) {
	_, err := Resolve("ns", []v1alpha1.AnalysisTemplateRef{{TemplateName: "nope"}}, maps{})
	if !errors.Is(err, errNotFound) || !strings.Contains(err.Error(), `AnalysisTemplate "nope"`) {
		t.Errorf("%v", err)
	}
	_, err = Resolve("ns", []v1alpha1.AnalysisTemplateRef{{TemplateName: "nope", ClusterScope: yes()}}, maps{})
	if !errors.Is(err, errNotFound) || !strings.Contains(err.Error(), `ClusterAnalysisTemplate "nope"`) {
		t.Errorf("%v", err)
	}
}

func TestFlatten(t *testing.T) {
	tests := map[string]struct {
		set     Set
		wantErr string
		check   func(t *testing.T, spec v1alpha1.AnalysisTemplateSpec)
	}{
		"duplicate metric names": {
			set:     Set{Templates: []*v1alpha1.AnalysisTemplate{at("a", v1alpha1.AnalysisTemplateSpec{Metrics: metrics("m")})}, ClusterTemplates: []*v1alpha1.ClusterAnalysisTemplate{cat("b", v1alpha1.AnalysisTemplateSpec{Metrics: metrics("m")})}},
			wantErr: "two metrics have the same name 'm'",
		},
		"an argument with a value beats one without": {
			set: Set{Templates: []*v1alpha1.AnalysisTemplate{
				at("a", v1alpha1.AnalysisTemplateSpec{Args: []v1alpha1.Argument{{Name: "x"}, {Name: "y", Value: str("1")}}}),
				at("b", v1alpha1.AnalysisTemplateSpec{Args: []v1alpha1.Argument{{Name: "x", Value: str("2")}, {Name: "y"}}}),
			}},
			check: func(t *testing.T, spec v1alpha1.AnalysisTemplateSpec) {
				want := []v1alpha1.Argument{{Name: "x", Value: str("2")}, {Name: "y", Value: str("1")}}
				if !reflect.DeepEqual(spec.Args, want) {
					t.Errorf("args %+v", spec.Args)
				}
			},
		},
		"conflicting argument values": {
			set: Set{Templates: []*v1alpha1.AnalysisTemplate{
				at("a", v1alpha1.AnalysisTemplateSpec{Args: []v1alpha1.Argument{{Name: "x", Value: str("1")}}}),
				at("b", v1alpha1.AnalysisTemplateSpec{Args: []v1alpha1.Argument{{Name: "x", Value: str("2")}}}),
			}},
			wantErr: "Argument `x` specified multiple times with different values: '1', '2'",
		},
		"dry-run and retention rules are concatenated": {
			set: Set{Templates: []*v1alpha1.AnalysisTemplate{
				at("a", v1alpha1.AnalysisTemplateSpec{DryRun: []v1alpha1.DryRun{{MetricName: "a"}}, MeasurementRetention: []v1alpha1.MeasurementRetention{{MetricName: "a", Limit: 2}}}),
				at("b", v1alpha1.AnalysisTemplateSpec{DryRun: []v1alpha1.DryRun{{MetricName: "b"}}}),
			}},
			check: func(t *testing.T, spec v1alpha1.AnalysisTemplateSpec) {
				if len(spec.DryRun) != 2 || len(spec.MeasurementRetention) != 1 {
					t.Errorf("%+v", spec)
				}
			},
		},
		"duplicate dry-run rules": {
			set: Set{Templates: []*v1alpha1.AnalysisTemplate{
				at("a", v1alpha1.AnalysisTemplateSpec{DryRun: []v1alpha1.DryRun{{MetricName: "a"}}}),
				at("b", v1alpha1.AnalysisTemplateSpec{DryRun: []v1alpha1.DryRun{{MetricName: "a"}}}),
			}},
			wantErr: "two Dry-Run metric rules have the same name 'a'",
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			spec, err := Flatten(tt.set)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, spec)
		})
	}
}

func TestMergeArgs(t *testing.T) {
	secret := &v1alpha1.ValueFrom{SecretKeyRef: &v1alpha1.SecretKeyRef{Name: "s", Key: "k"}}
	declared := []v1alpha1.Argument{{Name: "service"}, {Name: "threshold", Value: str("0.9")}, {Name: "token", ValueFrom: secret}}
	got, err := MergeArgs([]v1alpha1.Argument{{Name: "service", Value: str("web")}, {Name: "threshold", Value: str("0.95")}, {Name: "unknown", Value: str("x")}}, declared)
	if err != nil {
		t.Fatal(err)
	}
	want := []v1alpha1.Argument{{Name: "service", Value: str("web")}, {Name: "threshold", Value: str("0.95")}, {Name: "token", ValueFrom: secret}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%+v", got)
	}
	if declared[0].Value != nil {
		t.Error("the template's arguments were modified")
	}
	if _, err := MergeArgs(nil, declared); err == nil || err.Error() != "args.service was not resolved" {
		t.Errorf("%v", err)
	}
}

func TestNewRun(t *testing.T) {
	g := maps{templates: map[string]*v1alpha1.AnalysisTemplate{
		"ns/rate": at("rate", v1alpha1.AnalysisTemplateSpec{
			Metrics: metrics("success-rate"),
			Args:    []v1alpha1.Argument{{Name: "service"}},
			DryRun:  []v1alpha1.DryRun{{MetricName: "success-rate"}},
		}),
	}}
	s, err := Resolve("ns", []v1alpha1.AnalysisTemplateRef{{TemplateName: "rate"}}, g)
	if err != nil {
		t.Fatal(err)
	}
	run, err := NewRun(s, RunOptions{
		Name: RunName("demo", "abc123", "2", "1"), Namespace: "ns",
		Labels:               Labels(v1alpha1.RolloutTypeStep, "abc123", "", ptr32(1)),
		Annotations:          map[string]string{v1alpha1.AnnotationRevision: "2"},
		Args:                 []v1alpha1.Argument{{Name: "service", Value: str("demo")}},
		MeasurementRetention: []v1alpha1.MeasurementRetention{{MetricName: ".*", Limit: 20}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if run.Name != "demo-abc123-2-1" || run.Labels[v1alpha1.LabelStepIndex] != "1" || run.Labels[v1alpha1.LabelRolloutType] != "Step" || run.Labels[v1alpha1.LabelPodTemplateHash] != "abc123" {
		t.Errorf("meta %+v", run.ObjectMeta)
	}
	if names(run.Spec.Metrics) != "success-rate" || *run.Spec.Args[0].Value != "demo" || len(run.Spec.DryRun) != 1 || len(run.Spec.MeasurementRetention) != 1 {
		t.Errorf("spec %+v", run.Spec)
	}
	if _, err := NewRun(s, RunOptions{DryRun: []v1alpha1.DryRun{{MetricName: "success-rate"}}, Args: run.Spec.Args}); err == nil {
		t.Error("a duplicate dry-run rule from the caller was accepted")
	}
	again, _ := NewRun(s, RunOptions{Args: []v1alpha1.Argument{{Name: "service", Value: str("demo")}}, MeasurementRetention: run.Spec.MeasurementRetention})
	if !SameSpec(run.Spec, again.Spec) {
		t.Error("equal specs compare different")
	}
	again.Spec.Args[0].Value = str("other")
	if SameSpec(run.Spec, again.Spec) {
		t.Error("different args compare equal")
	}
}

func ptr32(i int32) *int32 { return &i }

func TestRolloutArgs(t *testing.T) {
	replicas := int32(3)
	ro := &v1alpha1.Rollout{
		ObjectMeta: metav1.ObjectMeta{Name: "demo", Namespace: "ns", Labels: map[string]string{"app": "demo"}, Annotations: map[string]string{"team": "a"}},
		Spec:       v1alpha1.RolloutSpec{Replicas: &replicas},
	}
	stable, latest := v1alpha1.Stable, v1alpha1.Latest
	args := []v1alpha1.AnalysisRunArgument{
		{Name: "literal", Value: "x"},
		{Name: "stable", ValueFrom: &v1alpha1.ArgumentValueFrom{PodTemplateHashValue: &stable}},
		{Name: "latest", ValueFrom: &v1alpha1.ArgumentValueFrom{PodTemplateHashValue: &latest}},
		{Name: "name", ValueFrom: &v1alpha1.ArgumentValueFrom{FieldRef: &v1alpha1.FieldRef{FieldPath: "metadata.name"}}},
		{Name: "label", ValueFrom: &v1alpha1.ArgumentValueFrom{FieldRef: &v1alpha1.FieldRef{FieldPath: "metadata.labels['app']"}}},
		{Name: "missing-label", ValueFrom: &v1alpha1.ArgumentValueFrom{FieldRef: &v1alpha1.FieldRef{FieldPath: "metadata.labels['nope']"}}},
		{Name: "annotation", ValueFrom: &v1alpha1.ArgumentValueFrom{FieldRef: &v1alpha1.FieldRef{FieldPath: `metadata.annotations["team"]`}}},
		{Name: "replicas", ValueFrom: &v1alpha1.ArgumentValueFrom{FieldRef: &v1alpha1.FieldRef{FieldPath: "spec.replicas"}}},
	}
	got, err := RolloutArgs(args, ro, "s1", "l2")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"literal": "x", "stable": "s1", "latest": "l2", "name": "demo", "label": "demo", "missing-label": "", "annotation": "a", "replicas": "3"}
	for _, a := range got {
		if *a.Value != want[a.Name] {
			t.Errorf("%s = %q, want %q", a.Name, *a.Value, want[a.Name])
		}
	}
	if _, err := RolloutArgs([]v1alpha1.AnalysisRunArgument{{Name: "bad", ValueFrom: &v1alpha1.ArgumentValueFrom{FieldRef: &v1alpha1.FieldRef{FieldPath: "spec.nope"}}}}, ro, "", ""); err == nil {
		t.Error("a missing field was accepted")
	}
}
