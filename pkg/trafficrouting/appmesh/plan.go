package appmesh

import (
	"fmt"
	"slices"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/trafficrouting"
)

// routeTypes are the route kinds whose action carries weighted targets.
var routeTypes = []string{"httpRoute", "tcpRoute", "http2Route", "grpcRoute"}

// objects are the observed App Mesh objects of one Rollout.
type objects struct {
	names
	vrRef                  trafficrouting.Ref
	vr                     *unstructured.Unstructured
	canaryRef, stableRef   trafficrouting.Ref
	canaryNode, stableNode *unstructured.Unstructured
}

func refString(ref trafficrouting.Ref) string { return ref.Namespace + "/" + ref.Name }

// find looks up every object the Rollout needs; its error names the first
// one missing.
func (r *Router) find(ro *v1alpha1.Rollout, cfg *v1alpha1.AppMeshTrafficRouting, observed map[trafficrouting.Ref]*unstructured.Unstructured) (*objects, error) {
	n, err := namesOf(cfg)
	if err != nil {
		return nil, err
	}
	o := &objects{names: n}
	vsRef := trafficrouting.Ref{Resource: r.VirtualServices(), Namespace: ro.Namespace, Name: n.service}
	vs := observed[vsRef]
	if vs == nil {
		return nil, fmt.Errorf("Virtual-service %q is missing", refString(vsRef))
	}
	if o.vrRef, err = r.routerRef(vs); err != nil {
		return nil, err
	}
	if o.vr = observed[o.vrRef]; o.vr == nil {
		return nil, fmt.Errorf("Virtual-router %q is missing", refString(o.vrRef))
	}
	if !trafficrouting.AllowsRolloutsFrom(o.vr, ro.Namespace) {
		return nil, fmt.Errorf("Virtual-router %q is outside the Rollout's namespace and its annotation %s does not name %q",
			refString(o.vrRef), trafficrouting.AnnotationAllowRolloutsFrom, ro.Namespace)
	}
	o.canaryRef = trafficrouting.Ref{Resource: r.VirtualNodes(), Namespace: ro.Namespace, Name: n.canary}
	o.stableRef = trafficrouting.Ref{Resource: r.VirtualNodes(), Namespace: ro.Namespace, Name: n.stable}
	for _, node := range []struct {
		ref trafficrouting.Ref
		obj **unstructured.Unstructured
	}{{o.canaryRef, &o.canaryNode}, {o.stableRef, &o.stableNode}} {
		if *node.obj = observed[node.ref]; *node.obj == nil {
			return nil, fmt.Errorf("Virtual-node %q is missing", refString(node.ref))
		}
	}
	return o, nil
}

// Validate checks that the VirtualService, its VirtualRouter and the two
// VirtualNodes exist and that the router's routes are well formed.
func (r *Router) Validate(ro *v1alpha1.Rollout, observed map[trafficrouting.Ref]*unstructured.Unstructured) error {
	cfg := config(ro)
	if cfg == nil {
		return nil
	}
	o, err := r.find(ro, cfg, observed)
	if err != nil {
		return err
	}
	_, _, err = planRouter(o, ro.Namespace, trafficrouting.Desired{})
	return err
}

// Plan points the VirtualNodes at their revisions and sets the weighted
// targets. The nodes are written first, so that weight only moves to pods
// of the right revision, except when the canary's weight drops to 0 while
// its node moves to a new revision: then the weight goes first.
func (r *Router) Plan(ro *v1alpha1.Rollout, observed map[trafficrouting.Ref]*unstructured.Unstructured, d trafficrouting.Desired) (trafficrouting.Writes, error) {
	cfg := config(ro)
	if cfg == nil {
		return trafficrouting.Writes{}, nil
	}
	o, err := r.find(ro, cfg, observed)
	if err != nil {
		return trafficrouting.Writes{}, err
	}
	stableHash := d.StableHash
	if stableHash == "" {
		stableHash = placeholderStableHash
	}
	canaryHash := d.CanaryHash
	if canaryHash == "" || canaryHash == stableHash {
		canaryHash = placeholderCanaryHash
	}
	var nodes []trafficrouting.Change
	canaryMoves := false
	if obj := planNode(o.canaryNode, ro.Name, canaryHash); obj != nil {
		nodes = append(nodes, trafficrouting.Change{Ref: o.canaryRef, Unstructured: obj})
		canaryMoves = true
	}
	if obj := planNode(o.stableNode, ro.Name, stableHash); obj != nil {
		nodes = append(nodes, trafficrouting.Change{Ref: o.stableRef, Unstructured: obj})
	}
	vr, canaryBefore, err := planRouter(o, ro.Namespace, d)
	if err != nil {
		return trafficrouting.Writes{}, err
	}
	var routerUpdate []trafficrouting.Change
	if !trafficrouting.SameContent(vr, o.vr) {
		routerUpdate = []trafficrouting.Change{{Ref: o.vrRef, Unstructured: vr}}
	}
	if canaryMoves && d.CanaryWeight == 0 && canaryBefore > 0 {
		return trafficrouting.Writes{Updates: append(routerUpdate, nodes...)}, nil
	}
	return trafficrouting.Writes{Updates: append(nodes, routerUpdate...)}, nil
}

// planNode returns the VirtualNode selecting the given pod template hash
// and marked as managed by the Rollout, nil when it already is.
func planNode(node *unstructured.Unstructured, rollout, hash string) *unstructured.Unstructured {
	out := node.DeepCopy()
	ann := out.GetAnnotations()
	if ann == nil {
		ann = map[string]string{}
	}
	ann[v1alpha1.AnnotationManagedByRollouts] = rollout
	out.SetAnnotations(ann)
	labels, _, _ := unstructured.NestedMap(out.Object, "spec", "podSelector", "matchLabels")
	if labels == nil {
		labels = map[string]any{}
	}
	labels[v1alpha1.LabelPodTemplateHash] = hash
	_ = unstructured.SetNestedMap(out.Object, labels, "spec", "podSelector", "matchLabels")
	if trafficrouting.SameContent(out, node) {
		return nil
	}
	return out
}

// planRouter returns the VirtualRouter with the weights set in each route
// the Rollout names (every route when it names none), and the canary
// weight the first such route carried.
func planRouter(o *objects, namespace string, d trafficrouting.Desired) (*unstructured.Unstructured, int64, error) {
	out := o.vr.DeepCopy()
	spec, _ := out.Object["spec"].(map[string]any)
	routes, ok := spec["routes"].([]any)
	if !ok || len(routes) == 0 {
		return nil, 0, fmt.Errorf("Virtual-router %q: no routes found", o.vr.GetName())
	}
	canaryBefore := int64(-1)
	for i, raw := range routes {
		route, ok := raw.(map[string]any)
		name, _ := route["name"].(string)
		if !ok || name == "" {
			return nil, 0, notWellFormed(o.vr, fmt.Sprintf("spec.routes[%d].name", i))
		}
		if len(o.routes) > 0 && !slices.Contains(o.routes, name) {
			continue
		}
		before, err := setTargets(o, route, namespace, d, fmt.Sprintf("spec.routes[%d]", i))
		if err != nil {
			return nil, 0, err
		}
		if canaryBefore < 0 {
			canaryBefore = before
		}
	}
	return out, max(canaryBefore, 0), nil
}

// setTargets sets the weights of the route's targets at the canary and
// stable VirtualNodes (in the Rollout's namespace) and returns the canary
// target's weight before.
func setTargets(o *objects, route map[string]any, namespace string, d trafficrouting.Desired, path string) (int64, error) {
	var rule map[string]any
	var kind string
	for _, k := range routeTypes {
		if m, ok := route[k].(map[string]any); ok {
			rule, kind = m, k
			break
		}
	}
	if rule == nil {
		return 0, notWellFormed(o.vr, path+": no supported route type")
	}
	action, _ := rule["action"].(map[string]any)
	targets, ok := action["weightedTargets"].([]any)
	path += "." + kind + ".action.weightedTargets"
	if !ok {
		return 0, notWellFormed(o.vr, path)
	}
	before := int64(0)
	for i, raw := range targets {
		t, _ := raw.(map[string]any)
		ref, ok := t["virtualNodeRef"].(map[string]any)
		if !ok {
			return 0, notWellFormed(o.vr, fmt.Sprintf("%s[%d].virtualNodeRef", path, i))
		}
		w, ok := trafficrouting.Int(t["weight"])
		if !ok {
			return 0, notWellFormed(o.vr, fmt.Sprintf("%s[%d].weight", path, i))
		}
		name, _ := ref["name"].(string)
		ns, _ := ref["namespace"].(string)
		if ns != "" && ns != namespace {
			continue
		}
		switch name {
		case o.stable:
			t["weight"] = int64(d.StableWeight())
		case o.canary:
			before = w
			t["weight"] = int64(d.CanaryWeight)
		}
	}
	return before, nil
}

func notWellFormed(vr *unstructured.Unstructured, field string) error {
	return fmt.Errorf("Virtual-router %q: %s: not well-formed", vr.GetName(), field)
}
