package plan

import (
	"fmt"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

// Validation messages shared with Argo Rollouts, which users and their alerts
// may match on.
const (
	msgInvalidStep            = "Step must have one of the following set: experiment, setWeight, setCanaryScale, plugin or pause"
	msgSetWeightRange         = "SetWeight needs to be between 0 and %d"
	msgDuration               = "Duration needs to be greater than 0"
	msgSurgeAndUnavailable    = "MaxSurge and MaxUnavailable both can not be zero"
	msgMultipleStrategies     = "Multiple Strategies can not be listed"
	msgDuplicateCanarySvc     = "This rollout uses the same service for the stable and canary services, but two different services are required."
	msgDuplicateBlueGreenSvc  = "This rollout uses the same service for the active and preview services, but two different services are required."
	msgAntiAffinityOne        = "AntiAffinity must have exactly one strategy listed"
	msgAntiAffinityWeight     = "AntiAffinity weight must be between 1-100"
	msgScaleDownLimit         = "This rollout's revision history limit can not be smaller than the rollout's scale down limit"
	msgTrafficRoutingServices = "Canary service and Stable service must to be set to use Traffic Routing"
	msgCanaryScaleNeedsTR     = "SetCanaryScale requires TrafficRouting to be set"
	msgHeaderRouteNeedsTR     = "SetHeaderRoute requires TrafficRouting, supports Istio and ALB and Apisix"
	msgMirrorRouteNeedsTR     = "SetMirrorRoute requires TrafficRouting, supports Istio and Plugins"
	msgScaleDownDelayNeedsTR  = "Canary scaleDownDelaySeconds can only be used with traffic routing"
	msgDynamicScaleNeedsTR    = "Canary dynamicStableScale can only be used with traffic routing"
	msgDynamicScaleWithDelay  = "Canary dynamicStableScale cannot be used with scaleDownDelaySeconds"
	msgMaxWeightRouters       = "Canary maxTrafficWeight in traffic routing only supported in Nginx and Plugins"
	msgExperimentWeightNoTR   = "Experiment template weight cannot be set unless TrafficRouting is enabled"
	msgExperimentWeightRouter = "Experiment template weight is only available for TrafficRouting with SMI, ALB, Istio and Plugins at this time"
	msgRouteNotManaged        = "Steps define a route that does not exist in spec.strategy.canary.trafficRouting.managedRoutes"
	msgStringMatchOne         = "StringMatch match value must have exactly one of the following: exact, regex, prefix"
	msgSelectorMismatch       = "`selector` does not match template `labels`"
	msgTemplateWithWorkload   = "template must be empty for workload reference rollout"
	msgEmptySelector          = "empty selector is invalid for deployment"
)

// Validate checks a Rollout's spec on its own, without the objects it names,
// and returns every problem found, each naming its field.
func Validate(ro *v1alpha1.Rollout) field.ErrorList { return validateSpec(ro, false) }

// validateSpec is Validate; with resolved, the Rollout carries the template
// of the workload its spec.workloadRef names, which is checked like its own.
func validateSpec(ro *v1alpha1.Rollout, resolved bool) field.ErrorList {
	spec := field.NewPath("spec")
	var errs field.ErrorList
	s := ro.Spec
	if s.Replicas != nil && *s.Replicas < 0 {
		errs = append(errs, field.Invalid(spec.Child("replicas"), *s.Replicas, "must be greater than or equal to 0"))
	}
	if s.WorkloadRef == nil || resolved {
		errs = append(errs, validateSelectorAndTemplate(ro, spec)...)
	} else if len(s.Template.Labels) > 0 || len(s.Template.Annotations) > 0 || len(s.Template.Spec.Containers) > 0 {
		errs = append(errs, field.Invalid(spec.Child("template"), "non-empty", msgTemplateWithWorkload))
	}
	if s.MinReadySeconds < 0 {
		errs = append(errs, field.Invalid(spec.Child("minReadySeconds"), s.MinReadySeconds, "must be greater than or equal to 0"))
	}
	history := revisionHistoryLimit(ro)
	if history < 0 {
		errs = append(errs, field.Invalid(spec.Child("revisionHistoryLimit"), history, "must be greater than or equal to 0"))
	}
	deadline := int32(progressDeadline(ro).Seconds())
	if deadline < 0 {
		errs = append(errs, field.Invalid(spec.Child("progressDeadlineSeconds"), deadline, "must be greater than or equal to 0"))
	}
	if deadline <= s.MinReadySeconds {
		errs = append(errs, field.Invalid(spec.Child("progressDeadlineSeconds"), deadline, "must be greater than minReadySeconds"))
	}
	errs = append(errs, validateBounds(ro)...)
	return append(errs, validateStrategy(ro, spec.Child("strategy"))...)
}

func validateSelectorAndTemplate(ro *v1alpha1.Rollout, spec *field.Path) field.ErrorList {
	var errs field.ErrorList
	s := ro.Spec
	if s.Selector == nil {
		return append(errs, field.Required(spec.Child("selector"), fmt.Sprintf(v1alpha1.MessageMissingField, ".spec.selector")))
	}
	if len(s.Selector.MatchLabels)+len(s.Selector.MatchExpressions) == 0 {
		return append(errs, field.Invalid(spec.Child("selector"), s.Selector, msgEmptySelector))
	}
	selector, err := metav1.LabelSelectorAsSelector(s.Selector)
	if err != nil {
		return append(errs, field.Invalid(spec.Child("selector"), s.Selector, "invalid label selector"))
	}
	if !selector.Matches(labels.Set(s.Template.Labels)) {
		errs = append(errs, field.Invalid(spec.Child("template", "metadata", "labels"), s.Template.Labels, msgSelectorMismatch))
	}
	if len(s.Template.Spec.Containers) == 0 {
		errs = append(errs, field.Required(spec.Child("template", "spec", "containers"), ""))
	}
	for i, c := range s.Template.Spec.Containers {
		if c.Name == "" {
			errs = append(errs, field.Required(spec.Child("template", "spec", "containers").Index(i).Child("name"), ""))
		}
		if c.Image == "" {
			errs = append(errs, field.Required(spec.Child("template", "spec", "containers").Index(i).Child("image"), ""))
		}
	}
	return errs
}

func validateStrategy(ro *v1alpha1.Rollout, path *field.Path) field.ErrorList {
	st := ro.Spec.Strategy
	switch {
	case st.Canary == nil && st.BlueGreen == nil:
		return field.ErrorList{field.Required(path, fmt.Sprintf(v1alpha1.MessageMissingField, ".spec.strategy.canary or .spec.strategy.blueGreen"))}
	case st.Canary != nil && st.BlueGreen != nil:
		return field.ErrorList{field.Invalid(path.Child("canary"), "canary and blueGreen", msgMultipleStrategies)}
	case st.BlueGreen != nil:
		return validateBlueGreen(ro, path.Child("blueGreen"))
	}
	return validateCanary(ro, path.Child("canary"))
}

func validateBlueGreen(ro *v1alpha1.Rollout, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	bg := ro.Spec.Strategy.BlueGreen
	if bg.ActiveService == "" {
		errs = append(errs, field.Required(path.Child("activeService"), fmt.Sprintf(v1alpha1.MessageMissingField, ".spec.strategy.blueGreen.activeService")))
	}
	if bg.ActiveService != "" && bg.ActiveService == bg.PreviewService {
		errs = append(errs, field.Invalid(path.Child("activeService"), bg.ActiveService, msgDuplicateBlueGreenSvc))
	}
	errs = append(errs, validateScaleDownLimit(ro, bg.ScaleDownDelayRevisionLimit, path)...)
	return append(errs, validateAntiAffinity(bg.AntiAffinity, path.Child("antiAffinity"))...)
}

func validateCanary(ro *v1alpha1.Rollout, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	c := ro.Spec.Strategy.Canary
	surge, unavailable := c.MaxSurge, c.MaxUnavailable
	if surge != nil && unavailable != nil && isZero(*surge) && isZero(*unavailable) {
		errs = append(errs, field.Invalid(path.Child("maxSurge"), surge.String(), msgSurgeAndUnavailable))
	}
	if c.CanaryService != "" && c.CanaryService == c.StableService {
		errs = append(errs, field.Invalid(path.Child("stableService"), c.StableService, msgDuplicateCanarySvc))
	}
	errs = append(errs, validatePingPong(c, path)...)
	tr := c.TrafficRouting
	if tr != nil {
		if needsServices(c) && c.StableService == "" {
			errs = append(errs, field.Invalid(path.Child("stableService"), c.StableService, msgTrafficRoutingServices))
		}
		if needsServices(c) && c.CanaryService == "" {
			errs = append(errs, field.Invalid(path.Child("canaryService"), c.CanaryService, msgTrafficRoutingServices))
		}
		if c.ScaleDownDelaySeconds != nil && c.DynamicStableScale {
			errs = append(errs, field.Invalid(path.Child("dynamicStableScale"), true, msgDynamicScaleWithDelay))
		}
		if tr.MaxTrafficWeight != nil && tr.Nginx == nil && len(tr.Plugins) == 0 {
			errs = append(errs, field.Invalid(path.Child("trafficRouting", "maxTrafficWeight"), *tr.MaxTrafficWeight, msgMaxWeightRouters))
		}
	} else {
		if c.ScaleDownDelaySeconds != nil {
			errs = append(errs, field.Invalid(path.Child("scaleDownDelaySeconds"), *c.ScaleDownDelaySeconds, msgScaleDownDelayNeedsTR))
		}
		if c.DynamicStableScale {
			errs = append(errs, field.Invalid(path.Child("dynamicStableScale"), true, msgDynamicScaleNeedsTR))
		}
	}
	for i, step := range c.Steps {
		errs = append(errs, validateStep(ro, step, path, path.Child("steps").Index(i))...)
	}
	errs = append(errs, validateScaleDownLimit(ro, c.ScaleDownDelayRevisionLimit, path)...)
	return append(errs, validateAntiAffinity(c.AntiAffinity, path.Child("antiAffinity"))...)
}

// needsServices tells whether the canary's routers split between the stable
// and canary Services (subset-level Istio routing and router plugins do not).
func needsServices(c *v1alpha1.CanaryStrategy) bool {
	tr := c.TrafficRouting
	return (tr.ALB != nil && c.PingPong == nil) ||
		(tr.Istio != nil && tr.Istio.DestinationRule == nil && c.PingPong == nil) ||
		tr.SMI != nil || tr.Apisix != nil || tr.Ambassador != nil || tr.Nginx != nil || tr.AppMesh != nil || tr.Traefik != nil
}

func validateStep(ro *v1alpha1.Rollout, step v1alpha1.CanaryStep, canary, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	tr := ro.Spec.Strategy.Canary.TrafficRouting
	// As in Argo Rollouts, a step needs a type, and only setWeight, pause,
	// experiment and analysis exclude each other.
	set, exclusive := 0, 0
	for i, isSet := range []bool{step.SetWeight != nil, step.Pause != nil, step.Experiment != nil, step.Analysis != nil,
		step.SetCanaryScale != nil, step.SetHeaderRoute != nil, step.SetMirrorRoute != nil, step.Plugin != nil} {
		if isSet {
			set++
			if i < 4 {
				exclusive++
			}
		}
	}
	switch {
	case set == 0:
		errs = append(errs, field.Invalid(path, "no step type", msgInvalidStep))
	case exclusive > 1:
		errs = append(errs, field.Invalid(path, fmt.Sprintf("%d step types", exclusive), msgInvalidStep))
	}
	if w := step.SetWeight; w != nil && (*w < 0 || *w > maxTrafficWeight(ro)) {
		errs = append(errs, field.Invalid(path.Child("setWeight"), *w, fmt.Sprintf(msgSetWeightRange, maxTrafficWeight(ro))))
	}
	if step.Pause != nil && step.Pause.DurationSeconds() < 0 {
		errs = append(errs, field.Invalid(path.Child("pause", "duration"), step.Pause.DurationSeconds(), msgDuration))
	}
	if step.SetCanaryScale != nil && tr == nil {
		errs = append(errs, field.Required(canary.Child("trafficRouting"), msgCanaryScaleNeedsTR))
	}
	if h := step.SetHeaderRoute; h != nil {
		if tr == nil || (tr.Istio == nil && tr.ALB == nil && tr.Apisix == nil && tr.Nginx == nil && len(tr.Plugins) == 0) {
			errs = append(errs, field.Invalid(path.Child("setHeaderRoute"), h.Name, msgHeaderRouteNeedsTR))
		}
		for j, m := range h.Match {
			if m.HeaderValue == nil || !exactlyOneMatch(*m.HeaderValue) {
				errs = append(errs, field.Invalid(path.Child("setHeaderRoute", "match").Index(j), m.HeaderName, msgStringMatchOne))
			}
		}
		errs = append(errs, validateManagedRoute(tr, h.Name, path.Child("setHeaderRoute"))...)
	}
	if m := step.SetMirrorRoute; m != nil {
		if tr == nil || (tr.Istio == nil && len(tr.Plugins) == 0) {
			errs = append(errs, field.Invalid(path.Child("setMirrorRoute"), m.Name, msgMirrorRouteNeedsTR))
		}
		errs = append(errs, validateManagedRoute(tr, m.Name, path.Child("setMirrorRoute"))...)
	}
	if e := step.Experiment; e != nil {
		errs = append(errs, validateExperimentStep(ro, e, path.Child("experiment"))...)
	}
	return errs
}

// validateExperimentStep checks an experiment step's templates: weights
// only where a router can carry them and never more than the total,
// distinct names, and a specRef of stable or canary.
func validateExperimentStep(ro *v1alpha1.Rollout, e *v1alpha1.RolloutExperimentStep, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	tr := ro.Spec.Strategy.Canary.TrafficRouting
	seen := map[string]bool{}
	var total int64
	for j, t := range e.Templates {
		tpl := path.Child("templates").Index(j)
		if seen[t.Name] {
			errs = append(errs, field.Duplicate(tpl.Child("name"), t.Name))
		}
		seen[t.Name] = true
		if t.SpecRef != v1alpha1.CanarySpecRef && t.SpecRef != v1alpha1.StableSpecRef {
			errs = append(errs, field.NotSupported(tpl.Child("specRef"), t.SpecRef, []string{string(v1alpha1.CanarySpecRef), string(v1alpha1.StableSpecRef)}))
		}
		if t.Weight == nil {
			continue
		}
		total += int64(*t.Weight)
		switch {
		case tr == nil:
			errs = append(errs, field.Invalid(tpl.Child("weight"), *t.Weight, msgExperimentWeightNoTR))
		case tr.ALB == nil && tr.SMI == nil && tr.Istio == nil && len(tr.Plugins) == 0:
			errs = append(errs, field.Invalid(tpl.Child("weight"), *t.Weight, msgExperimentWeightRouter))
		}
	}
	if total > int64(maxTrafficWeight(ro)) {
		errs = append(errs, field.Invalid(path.Child("templates"), total,
			fmt.Sprintf("the templates' weights add up to %d, above the maximum traffic weight %d", total, maxTrafficWeight(ro))))
	}
	return errs
}

func validateManagedRoute(tr *v1alpha1.RolloutTrafficRouting, name string, path *field.Path) field.ErrorList {
	if tr == nil {
		return nil
	}
	if tr.ManagedRoutes == nil {
		return field.ErrorList{field.Required(path.Root().Child("spec", "strategy", "canary", "trafficRouting", "managedRoutes"),
			fmt.Sprintf(v1alpha1.MessageMissingField, "spec.strategy.canary.trafficRouting.managedRoutes"))}
	}
	for _, r := range tr.ManagedRoutes {
		if r.Name == name {
			return nil
		}
	}
	return field.ErrorList{field.Invalid(path.Child("name"), name, msgRouteNotManaged)}
}

func validateScaleDownLimit(ro *v1alpha1.Rollout, limit *int32, path *field.Path) field.ErrorList {
	if limit != nil && revisionHistoryLimit(ro) < *limit {
		return field.ErrorList{field.Invalid(path.Child("scaleDownDelayRevisionLimit"), *limit, msgScaleDownLimit)}
	}
	return nil
}

func validateAntiAffinity(a *v1alpha1.AntiAffinity, path *field.Path) field.ErrorList {
	if a == nil {
		return nil
	}
	pref, req := a.PreferredDuringSchedulingIgnoredDuringExecution, a.RequiredDuringSchedulingIgnoredDuringExecution
	if (pref == nil) == (req == nil) {
		return field.ErrorList{field.Invalid(path, "", msgAntiAffinityOne)}
	}
	if pref != nil && (pref.Weight < 1 || pref.Weight > 100) {
		return field.ErrorList{field.Invalid(path.Child("preferredDuringSchedulingIgnoredDuringExecution", "weight"), pref.Weight, msgAntiAffinityWeight)}
	}
	return nil
}

func exactlyOneMatch(m v1alpha1.StringMatch) bool {
	n := 0
	for _, v := range []string{m.Exact, m.Prefix, m.Regex} {
		if v != "" {
			n++
		}
	}
	return n == 1
}

func isZero(v intstr.IntOrString) bool {
	if v.Type == intstr.Int {
		return v.IntVal == 0
	}
	s := strings.TrimSuffix(strings.TrimSpace(v.StrVal), "%")
	return s == "0"
}

func revisionHistoryLimit(ro *v1alpha1.Rollout) int32 {
	if ro.Spec.RevisionHistoryLimit != nil {
		return *ro.Spec.RevisionHistoryLimit
	}
	return v1alpha1.DefaultRevisionHistoryLimit
}

// InvalidSpecMessage is the InvalidSpec condition's message for the first
// problem, in the form Argo Rollouts writes.
func InvalidSpecMessage(ro *v1alpha1.Rollout, err error) string {
	return fmt.Sprintf("The Rollout %q is invalid: %s", ro.Name, err.Error())
}
