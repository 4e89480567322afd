package alb

import (
	"fmt"
	"sort"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/event"
	"github.com/serin-dev/serin/pkg/trafficrouting"
)

// Target verification: with --aws-verify-target-group, once a Service has
// been switched to the new pods (the stable Service of an ALB canary after
// promotion, the active Service of a blue-green Rollout), the Rollout waits
// until every pod address of the Service is registered in the target group
// of each TargetGroupBinding (of target type ip) that binds the Service:
// before that the load balancer may still send to the old pods, which must
// stay. As for weights, this file decides; the reconciler asks.

// Registration event messages, Argo Rollouts' words.
const (
	msgVerifiedRegistration   = "Service %s (TargetGroup %s) verified: %d endpoints registered"
	msgUnverifiedRegistration = "Service %s (TargetGroup %s) not verified: %d/%d endpoints registered"
)

// DefaultTargetGroupBindingVersion is the API version TargetGroupBindings
// are read in unless --aws-target-group-binding-api-version says otherwise.
const DefaultTargetGroupBindingVersion = "elbv2.k8s.aws/v1beta1"

// TargetGroupBindings is the resource of the AWS Load Balancer Controller's
// TargetGroupBindings in an API version ("" for the default).
func TargetGroupBindings(apiVersion string) (schema.GroupVersionResource, error) {
	if apiVersion == "" {
		apiVersion = DefaultTargetGroupBindingVersion
	}
	gv, err := schema.ParseGroupVersion(apiVersion)
	if err != nil || gv.Group == "" {
		return schema.GroupVersionResource{}, fmt.Errorf("TargetGroupBinding API version %q: want group/version", apiVersion)
	}
	return gv.WithResource("targetgroupbindings"), nil
}

// Binding is the part of a TargetGroupBinding the verification reads.
type Binding struct {
	Name           string
	TargetGroupARN string
	TargetType     string
	ServicePort    intstr.IntOrString
}

// BindingsOf returns the TargetGroupBindings that bind one of the
// Service's ports.
func BindingsOf(objs []*unstructured.Unstructured, svc *corev1.Service) []Binding {
	var out []Binding
	for _, o := range objs {
		name, _, _ := unstructured.NestedString(o.Object, "spec", "serviceRef", "name")
		if name != svc.Name {
			continue
		}
		b := Binding{Name: o.GetName()}
		b.TargetGroupARN, _, _ = unstructured.NestedString(o.Object, "spec", "targetGroupARN")
		b.TargetType, _, _ = unstructured.NestedString(o.Object, "spec", "targetType")
		port, _, _ := unstructured.NestedFieldNoCopy(o.Object, "spec", "serviceRef", "port")
		switch p := port.(type) {
		case string:
			b.ServicePort = intstr.FromString(p)
		case int64:
			b.ServicePort = intstr.FromInt32(int32(p))
		case float64:
			b.ServicePort = intstr.FromInt32(int32(p))
		}
		for _, sp := range svc.Spec.Ports {
			if (b.ServicePort.Type == intstr.Int && sp.Port == b.ServicePort.IntVal) ||
				(b.ServicePort.Type == intstr.String && b.ServicePort.StrVal != "" && sp.Name == b.ServicePort.StrVal) {
				out = append(out, b)
				break
			}
		}
	}
	return out
}

// ExpectedTargets are the "ip:port" targets the Service's ready addresses
// must be registered as in the binding's target group; nil when the
// binding is not verified (target type other than ip, or a port that
// cannot be matched).
func ExpectedTargets(b Binding, svc *corev1.Service, ep *corev1.Endpoints) []string {
	if b.TargetType != "ip" || ep == nil {
		return nil
	}
	port := targetPort(b, svc, ep)
	if port == 0 {
		return nil
	}
	var out []string
	for _, subset := range ep.Subsets {
		for _, addr := range subset.Addresses {
			out = append(out, fmt.Sprintf("%s:%d", addr.IP, port))
		}
	}
	sort.Strings(out)
	return out
}

// targetPort is the pod port the binding's Service port leads to.
func targetPort(b Binding, svc *corev1.Service, ep *corev1.Endpoints) int32 {
	for _, sp := range svc.Spec.Ports {
		if !(b.ServicePort.Type == intstr.Int && sp.Port == b.ServicePort.IntVal) && !(b.ServicePort.Type == intstr.String && sp.Name == b.ServicePort.StrVal) {
			continue
		}
		if sp.TargetPort.Type == intstr.Int && sp.TargetPort.IntVal > 0 {
			return sp.TargetPort.IntVal
		}
		name := sp.TargetPort.StrVal
		if name == "" {
			return sp.Port
		}
		for _, subset := range ep.Subsets {
			for _, p := range subset.Ports {
				if p.Name == name {
					return p.Port
				}
			}
		}
	}
	return 0
}

// TargetsObservation is, for one binding of the Service, the targets
// expected and those ELBv2 reports registered, or the error asking.
type TargetsObservation struct {
	Service    string
	Binding    Binding
	Expected   []string
	Registered []string
	Err        error
}

// VerifyTargets tells whether every expected target is registered, with
// upstream's events; nil when there was nothing to verify.
func VerifyTargets(obs []TargetsObservation) (*bool, []event.Event) {
	var events []event.Event
	if len(obs) == 0 {
		return nil, nil
	}
	ok := true
	for _, o := range obs {
		if o.Err != nil {
			events = append(events, event.Event{Warning: true, Reason: ReasonVerifyError, Message: fmt.Sprintf(msgVerifyError, o.Service, o.Binding.TargetGroupARN, o.Err.Error())})
			ok = false
			break
		}
		registered := map[string]bool{}
		for _, t := range o.Registered {
			registered[t] = true
		}
		n := 0
		for _, t := range o.Expected {
			if registered[t] {
				n++
			}
		}
		if n < len(o.Expected) {
			events = append(events, event.Event{Warning: true, Reason: ReasonUnverified, Message: fmt.Sprintf(msgUnverifiedRegistration, o.Service, o.Binding.TargetGroupARN, n, len(o.Expected))})
			ok = false
			break
		}
		events = append(events, event.Event{Reason: ReasonVerified, Message: fmt.Sprintf(msgVerifiedRegistration, o.Service, o.Binding.TargetGroupARN, n)})
	}
	return &ok, events
}

// TargetsService names the Service whose registration to verify now, or
// "": the stable Service of an ALB canary just promoted while an older
// ReplicaSet still has pods and no scale-down deadline, or the active
// Service of a blue-green Rollout switched to the new pods and not yet
// promoted (nor in post-promotion analysis).
func TargetsService(ro *v1alpha1.Rollout, activeSelector string, oldScaledUp bool) string {
	s := ro.Status
	desired := s.CurrentPodHash
	if bg := ro.Spec.Strategy.BlueGreen; bg != nil {
		if s.StableRS == desired || activeSelector != desired || s.BlueGreen.PostPromotionAnalysisRunStatus != nil {
			return ""
		}
		return bg.ActiveService
	}
	c := ro.Spec.Strategy.Canary
	if c == nil || c.TrafficRouting == nil || c.TrafficRouting.ALB == nil || s.StableRS != desired || !oldScaledUp {
		return ""
	}
	stable, _ := trafficrouting.Services(ro, true)
	return stable
}
