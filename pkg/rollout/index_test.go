package rollout

import (
	"reflect"
	"testing"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

func TestServicesIndexFunc(t *testing.T) {
	ro := demoRollout()
	ro.Spec.Strategy.Canary.StableService = "stable"
	ro.Spec.Strategy.Canary.CanaryService = "canary"
	keys, err := ServicesIndexFunc(ro)
	if err != nil || len(keys) != 2 || keys[0] != "default/stable" || keys[1] != "default/canary" {
		t.Fatalf("keys = %v, err = %v", keys, err)
	}
}

func TestTemplatesIndexFuncKeysNamespacedAndClusterTemplatesApart(t *testing.T) {
	ro := demoRollout()
	cluster := true
	ro.Spec.Strategy.Canary.Steps = append(ro.Spec.Strategy.Canary.Steps, v1alpha1.CanaryStep{
		Analysis: &v1alpha1.RolloutAnalysis{Templates: []v1alpha1.AnalysisTemplateRef{
			{TemplateName: "success-rate"},
			{TemplateName: "latency", ClusterScope: &cluster},
		}},
	})
	keys, err := TemplatesIndexFunc(ro)
	want := []string{"default/success-rate", "cluster/latency"}
	if err != nil || !reflect.DeepEqual(keys, want) {
		t.Fatalf("keys = %v, err = %v; want %v", keys, err, want)
	}
}

func TestWorkloadsIndexFuncKeysTheReferencedDeployment(t *testing.T) {
	ro := demoRollout()
	if keys, err := WorkloadsIndexFunc(ro); err != nil || keys != nil {
		t.Fatalf("a Rollout without workloadRef: keys = %v, err = %v; want none", keys, err)
	}
	ro.Spec.WorkloadRef = &v1alpha1.ObjectRef{APIVersion: "apps/v1", Kind: "Deployment", Name: "web"}
	keys, err := WorkloadsIndexFunc(ro)
	want := []string{ObjectKey("deployments", "default", "web")}
	if err != nil || !reflect.DeepEqual(keys, want) {
		t.Fatalf("keys = %v, err = %v; want %v", keys, err, want)
	}
}

func TestIndexFuncsRejectOtherObjects(t *testing.T) {
	for name, f := range map[string]func(any) ([]string, error){
		"services": ServicesIndexFunc, "templates": TemplatesIndexFunc, "workloads": WorkloadsIndexFunc,
		"routers": RoutersIndexFunc(nil),
	} {
		if _, err := f(&v1alpha1.AnalysisRun{}); err == nil {
			t.Errorf("%s index accepted an AnalysisRun", name)
		}
	}
}
