package rollout

import (
	"fmt"

	"k8s.io/client-go/tools/cache"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/rollout/plan"
	"github.com/serin-dev/serin/pkg/trafficrouting"
)

// The Rollout informer's indexes map what a Rollout references to the
// Rollouts that reference it, so that a change to a Service, an analysis
// template, a workload or a traffic-routing object re-runs exactly those.
// They are added in cmd/serin-controller; what a Rollout owns is found
// through the generic controller.OwnerIndex instead.

// ServicesIndex names the Rollout informer index from "namespace/service" to
// the Rollouts that name that Service.
const ServicesIndex = "services"

// ServicesIndexFunc is the index function of ServicesIndex.
func ServicesIndexFunc(obj any) ([]string, error) {
	ro, ok := obj.(*v1alpha1.Rollout)
	if !ok {
		return nil, fmt.Errorf("expected a Rollout, got %T", obj)
	}
	var keys []string
	for _, n := range ServiceNames(ro) {
		keys = append(keys, ro.Namespace+"/"+n)
	}
	return keys, nil
}

// TemplatesIndex names the Rollout informer index from an analysis template
// ("namespace/name", or "cluster/name" for a ClusterAnalysisTemplate) to the
// Rollouts that use it, so a template that appears or changes re-runs them.
const TemplatesIndex = "analysistemplates"

// TemplatesIndexFunc is the index function of TemplatesIndex.
func TemplatesIndexFunc(obj any) ([]string, error) {
	ro, ok := obj.(*v1alpha1.Rollout)
	if !ok {
		return nil, fmt.Errorf("expected a Rollout, got %T", obj)
	}
	var keys []string
	for _, a := range plan.Analyses(ro) {
		for _, ref := range a.Templates {
			if ref.IsClusterScope() {
				keys = append(keys, "cluster/"+ref.TemplateName)
			} else {
				keys = append(keys, ro.Namespace+"/"+ref.TemplateName)
			}
		}
	}
	return keys, nil
}

// RoutersIndex names the Rollout informer index from a traffic-routing
// object ("resource/namespace/name") to the Rollouts whose routers use it.
const RoutersIndex = "routers"

// RoutersIndexFunc returns the index function of RoutersIndex.
func RoutersIndexFunc(routersFor func(*v1alpha1.Rollout) []trafficrouting.Router) cache.IndexFunc {
	return func(obj any) ([]string, error) {
		ro, ok := obj.(*v1alpha1.Rollout)
		if !ok {
			return nil, fmt.Errorf("expected a Rollout, got %T", obj)
		}
		var keys []string
		for _, router := range routersFor(ro) {
			for _, ref := range router.References(ro) {
				keys = append(keys, ObjectKey(ref.Resource.Resource, ref.Namespace, ref.Name))
			}
		}
		return keys, nil
	}
}

// WorkloadsIndex names the Rollout informer index from a workload
// ("resource/namespace/name") to the Rollouts whose workloadRef names it.
const WorkloadsIndex = "workloads"

// WorkloadsIndexFunc is the index function of WorkloadsIndex.
func WorkloadsIndexFunc(obj any) ([]string, error) {
	ro, ok := obj.(*v1alpha1.Rollout)
	if !ok {
		return nil, fmt.Errorf("expected a Rollout, got %T", obj)
	}
	gvr, ok := plan.WorkloadResource(ro.Spec.WorkloadRef)
	if !ok {
		return nil, nil
	}
	return []string{ObjectKey(gvr.Resource, ro.Namespace, ro.Spec.WorkloadRef.Name)}, nil
}

// ObjectKey is a WorkloadsIndex and RoutersIndex key: "resource/namespace/name".
func ObjectKey(resource, namespace, name string) string {
	return resource + "/" + namespace + "/" + name
}
