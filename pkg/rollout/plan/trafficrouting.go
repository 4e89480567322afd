package plan

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/trafficrouting"
)

func routingPath() *field.Path {
	return field.NewPath("spec", "strategy", "canary", "trafficRouting")
}

// validateRouting reports configured providers that no router handles, and
// router objects that are missing, unreadable or malformed: such a Rollout
// stops with InvalidSpec and its traffic stays where it is.
func (p *planner) validateRouting() *field.Error {
	c := p.ro.Spec.Strategy.Canary
	if c == nil || c.TrafficRouting == nil {
		return nil
	}
	var builtIn, plugins []string
	for _, name := range p.st.UnsupportedRouters {
		if plugin, ok := strings.CutPrefix(name, "plugins."); ok {
			plugins = append(plugins, plugin)
		} else {
			builtIn = append(builtIn, name)
		}
	}
	if len(builtIn) > 0 {
		return field.Invalid(routingPath(), strings.Join(builtIn, ", "),
			"traffic routing with "+strings.Join(builtIn, ", ")+" is not supported by this version of Serin")
	}
	if len(plugins) > 0 {
		return field.Invalid(routingPath().Child("plugins"), strings.Join(plugins, ", "),
			"traffic router plugin "+strings.Join(plugins, ", ")+" is not configured in the trafficRouterPlugins of the argo-rollouts-config ConfigMap")
	}
	for _, err := range p.st.RouterErrors {
		return field.Invalid(routingPath(), "", err.Error())
	}
	for _, r := range p.st.Routers {
		if err := p.outsideNamespace(r); err != nil {
			return err
		}
		if err := r.Validate(p.ro, p.st.RouterObjects); err != nil {
			return field.Invalid(routingPath().Child(strings.ToLower(r.Type())), "", err.Error())
		}
	}
	return nil
}

// outsideNamespace refuses a router object in another namespace that does
// not allow this Rollout's namespace to change it.
func (p *planner) outsideNamespace(r trafficrouting.Router) *field.Error {
	for _, ref := range r.References(p.ro) {
		obj := p.st.RouterObjects[ref]
		if obj == nil || trafficrouting.AllowsRolloutsFrom(obj, p.ro.Namespace) {
			continue
		}
		return field.Invalid(routingPath().Child(strings.ToLower(r.Type())), ref.Namespace+"/"+ref.Name, fmt.Sprintf(
			"%s %q is outside the Rollout's namespace and its annotation %s does not name %q",
			obj.GetKind(), ref.Namespace+"/"+ref.Name, trafficrouting.AnnotationAllowRolloutsFrom, p.ro.Namespace))
	}
	return nil
}

// trafficRoutingWithEvents moves the traffic split to where the rollout is: the
// weight of the current step once the canary's pods can take it, nothing
// while the canary has no available pod, on abort or once promoted, and the
// managed header and mirror routes of the steps so far.
//
// It returns the split the routers were told to carry, nil when none was
// decided.
//
// extra are the destinations of a running experiment's templates, which
// take their weight from the stable side while the canary carries weight.
func (p *planner) trafficRoutingWithEvents(aborting bool, extra []v1alpha1.WeightDestination) *v1alpha1.TrafficWeights {
	c := p.ro.Spec.Strategy.Canary
	if c.TrafficRouting == nil || len(p.st.Routers) == 0 {
		return nil
	}
	d, routes := p.desiredSplit(aborting, extra)
	s := p.ro.Status
	promoted := s.StableRS != "" && s.StableRS == s.CurrentPodHash && s.StableRS == p.revs.hash
	// The stable pods must be able to take the rest before weight moves.
	if stable := p.revs.stable; stable != nil && !promoted {
		need := int32(math.Ceil(float64(specReplicas(p.ro)) * float64(d.MaxWeight-d.CanaryWeight) / float64(d.MaxWeight)))
		if stable.Status.AvailableReplicas < need {
			d.Hold = true
			p.planPluginCalls(d)
			return nil
		}
	}
	if s.Canary.Weights != nil {
		d.PreviousAdditional = s.Canary.Weights.Additional
	}
	d.AdditionalPorts = p.servicePorts(d.Additional)
	if routes && revisionOf(p.ro.Annotations) > 1 {
		d.HeaderRoutes, d.MirrorRoutes = p.steps.routesInForce()
	}
	for _, r := range p.st.Routers {
		writes, err := r.Plan(p.ro, p.st.RouterObjects, d)
		if err != nil {
			p.event(true, v1alpha1.EventTrafficRoutingError, err.Error())
			return nil
		}
		p.plan.RouterWrites = append(p.plan.RouterWrites, writes.InOrder(p.st.RouterObjects)...)
	}
	weights := p.weightsWithEvent(d)
	weights.Verified = p.verified(d)
	return weights
}

// desiredSplit is the split the routers should carry now, and whether the
// managed routes of the steps are in force.
func (p *planner) desiredSplit(aborting bool, extra []v1alpha1.WeightDestination) (trafficrouting.Desired, bool) {
	c := p.ro.Spec.Strategy.Canary
	s := p.ro.Status
	max := maxTrafficWeight(p.ro)
	d := trafficrouting.Desired{StableService: c.StableService, CanaryService: c.CanaryService, MaxWeight: max, CanaryHash: p.revs.hash}
	if p.revs.stable != nil {
		d.StableHash = p.revs.stable.Labels[v1alpha1.LabelPodTemplateHash]
	}
	promoted := s.StableRS != "" && s.StableRS == s.CurrentPodHash && s.StableRS == p.revs.hash
	unavailable := p.revs.newRS == nil || rsAvailable(p.revs.newRS) == 0
	routes := false
	switch {
	case promoted, aborting, unavailable:
		// Nothing is being released, or nothing can take it: all traffic
		// on the stable, and the managed routes go.
		d.RemoveRoutes = true
	case s.PromoteFull:
		d.RemoveRoutes = true
		if s.Canary.Weights != nil {
			d.CanaryWeight = s.Canary.Weights.Canary.Weight
		}
	case p.steps.count() > 0:
		routes = true
		switch {
		case !p.atDesiredCounts(aborting):
			d.CanaryWeight = p.steps.weightBefore()
			d.Additional = extra
		case p.steps.current() != nil:
			d.CanaryWeight = p.steps.setWeight(aborting)
			d.Additional = extra
		default:
			d.CanaryWeight = max
		}
	}
	if step := p.steps.current(); step != nil && revisionOf(p.ro.Annotations) > 1 {
		d.StepHeaderRoute, d.StepMirrorRoute = step.SetHeaderRoute, step.SetMirrorRoute
	}
	d.ResetWeightFirst = unavailable && s.Canary.Weights != nil && s.Canary.Weights.Canary.Weight > 0
	return d, routes
}

// weightsWithEvent is the status record of the split the routers were told
// to carry, with a TrafficWeightUpdated event when it changed.
func (p *planner) weightsWithEvent(d trafficrouting.Desired) *v1alpha1.TrafficWeights {
	weights := &v1alpha1.TrafficWeights{
		Canary:     v1alpha1.WeightDestination{Weight: d.CanaryWeight, ServiceName: d.CanaryService, PodTemplateHash: d.CanaryHash},
		Stable:     v1alpha1.WeightDestination{Weight: d.StableWeight(), ServiceName: d.StableService, PodTemplateHash: d.StableHash},
		Additional: d.Additional,
	}
	if old := p.ro.Status.Canary.Weights; old == nil || old.Canary != weights.Canary || old.Stable != weights.Stable || !slices.Equal(old.Additional, weights.Additional) {
		p.event(false, v1alpha1.EventTrafficWeightUpdated, fmt.Sprintf(v1alpha1.EventMessageWeightUpdated, describeWeights(old, weights)))
	}
	return weights
}

// describeWeights says how the canary weight and the experiment
// destinations changed, in Argo Rollouts' words: "to 10", "from 10 to 25",
// "additional: [...]".
func describeWeights(old, now *v1alpha1.TrafficWeights) string {
	var details []string
	switch {
	case old == nil:
		details = append(details, fmt.Sprintf("to %d", now.Canary.Weight))
	case old.Canary.Weight != now.Canary.Weight:
		details = append(details, fmt.Sprintf("from %d to %d", old.Canary.Weight, now.Canary.Weight))
	}
	if old != nil && !slices.Equal(old.Additional, now.Additional) {
		details = append(details, fmt.Sprintf("additional: %v", now.Additional))
	}
	return strings.Join(details, ", ")
}

// weightBefore is the weight of the last setWeight before the current step:
// what the canary carries while its pods catch up with the current step.
func (v stepView) weightBefore() int32 {
	for i := v.index - 1; i >= 0 && int(i) < len(v.steps); i-- {
		if w := v.steps[i].SetWeight; w != nil {
			return *w
		}
	}
	return 0
}

// routesInForce are the managed header and mirror routes the steps up to
// the current one have set and not removed, each once, in step order.
func (v stepView) routesInForce() ([]v1alpha1.SetHeaderRoute, []v1alpha1.SetMirrorRoute) {
	var headers []v1alpha1.SetHeaderRoute
	var mirrors []v1alpha1.SetMirrorRoute
	last := min(int(v.index), len(v.steps)-1)
	for i := 0; i <= last; i++ {
		if h := v.steps[i].SetHeaderRoute; h != nil {
			headers = withoutHeader(headers, h.Name)
			if len(h.Match) > 0 {
				headers = append(headers, *h)
			}
		}
		if m := v.steps[i].SetMirrorRoute; m != nil {
			mirrors = withoutMirror(mirrors, m.Name)
			if len(m.Match) > 0 {
				mirrors = append(mirrors, *m)
			}
		}
	}
	return headers, mirrors
}

func withoutHeader(in []v1alpha1.SetHeaderRoute, name string) []v1alpha1.SetHeaderRoute {
	var out []v1alpha1.SetHeaderRoute
	for _, r := range in {
		if r.Name != name {
			out = append(out, r)
		}
	}
	return out
}

func withoutMirror(in []v1alpha1.SetMirrorRoute, name string) []v1alpha1.SetMirrorRoute {
	var out []v1alpha1.SetMirrorRoute
	for _, r := range in {
		if r.Name != name {
			out = append(out, r)
		}
	}
	return out
}

// servicePorts finds the port of each destination's Service: the one named
// http, or else the first.
func (p *planner) servicePorts(dests []v1alpha1.WeightDestination) map[string]int32 {
	ports := map[string]int32{}
	for _, dest := range dests {
		svc := p.st.Services[dest.ServiceName]
		if svc == nil || len(svc.Spec.Ports) == 0 {
			continue
		}
		ports[dest.ServiceName] = svc.Spec.Ports[0].Port
		for _, sp := range svc.Spec.Ports {
			if sp.Name == "http" {
				ports[dest.ServiceName] = sp.Port
				break
			}
		}
	}
	return ports
}
