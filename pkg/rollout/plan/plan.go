package plan

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/event"
	"github.com/serin-dev/serin/pkg/trafficrouting/alb"
)

// planner carries one reconcile's decisions while they are being made.
type planner struct {
	st    State
	ro    *v1alpha1.Rollout
	now   time.Time
	steps stepView
	revs  revisions
	plan  Plan
	// pause records pause and abort decisions until the status is finished.
	pause pauseDecisions
	// changed names the ReplicaSets some phase changed, in order.
	changed []string
	// rollback classifies the desired revision, decided from the observed
	// ReplicaSets before any phase runs.
	rollback rollbackKind
	// alb is what ALB verification decided this reconcile, if it ran, and
	// targets the TargetGroupBinding registration check.
	alb     *alb.Result
	targets targetVerdict
	// weightUnverified is set when a traffic-router plugin has not
	// verified the split: a setWeight step does not complete, and, when
	// the split is the full weight, the rollout is not promoted.
	weightUnverified, fullWeightUnverified bool
	// stepStatuses are the step plugin records once this reconcile's
	// answers are in; stepPluginUnreachable is set when a step plugin could
	// not be reached.
	stepStatuses          []v1alpha1.StepPluginStatus
	stepPluginUnreachable bool
}

// Compute decides what one reconcile of the Rollout does.
func Compute(st State) Plan {
	ro := st.Rollout
	p := &planner{st: st, ro: ro, now: st.Now, steps: newStepView(ro)}
	if ro.Spec.Replicas == nil {
		// The spec update this causes brings the Rollout back with a value.
		p.plan.DefaultReplicas = true
	}
	if ro.Spec.WorkloadRef != nil {
		if errs := Validate(ro); len(errs) > 0 {
			p.invalidSpec(errs[0])
			return p.plan
		}
		resolved, err := resolveWorkload(ro, st.Workload)
		if err != nil {
			p.invalidSpec(err)
			return p.plan
		}
		// Plan against the workload's template; the API object keeps its own.
		p.ro = resolved
		p.steps = newStepView(resolved)
	}
	// A template resolved from spec.workloadRef was validated there.
	if err := p.validate(ro.Spec.WorkloadRef != nil); err != nil {
		p.invalidSpec(err)
		return p.plan
	}
	p.revs = sortRevisions(p.ro, st.ReplicaSets)
	p.rollback = p.classifyRollback()
	if spentAbort(p.ro, p.revs.hash) {
		// Nothing is left to abort: the desired revision is already the
		// stable one. The abort is dropped (as Argo Rollouts does) before any
		// phase looks at it, and the status written clears it.
		p.ro = p.ro.DeepCopy()
		p.ro.Status.Abort, p.ro.Status.AbortedAt = false, nil
		p.steps = newStepView(p.ro)
	}
	conditions := p.syncRevisionWithEvents()
	if ro.Spec.Strategy.BlueGreen != nil {
		p.blueGreen(conditions)
	} else {
		p.canary(conditions)
	}
	p.finishReplicaSets()
	return p.plan
}

// spentAbort tells whether the Rollout is aborted while fully promoted, i.e.
// while the desired revision, hash, is its stable revision.
func spentAbort(ro *v1alpha1.Rollout, hash string) bool {
	return ro.Status.Abort && ro.Status.StableRS != "" && ro.Status.StableRS == hash
}

// validate returns the first problem with the spec or the objects it names.
func (p *planner) validate(workloadResolved bool) *field.Error {
	if errs := validateSpec(p.ro, workloadResolved); len(errs) > 0 {
		return errs[0]
	}
	if err := unsupported(p.ro); err != nil {
		return err
	}
	if err := p.validateReferences(); err != nil {
		return err
	}
	if err := p.validateTemplates(); err != nil {
		return err
	}
	return p.validateRouting()
}

// unsupported reports the parts of the API this build of Serin does not run
// yet, so that such a Rollout stops with a clear message instead of stalling.
func unsupported(ro *v1alpha1.Rollout) *field.Error {
	st := field.NewPath("spec", "strategy")
	if ro.Spec.Strategy.BlueGreen != nil {
		return nil
	}
	c := ro.Spec.Strategy.Canary
	for i, s := range c.Steps {
		path := st.Child("canary", "steps").Index(i)
		if s.Plugin != nil && s.Plugin.Name == "" {
			return field.Required(path.Child("plugin", "name"), "a step plugin needs a name")
		}
	}
	return nil
}

// validateReferences checks that the Services the Rollout names exist and are
// not managed by another Rollout.
func (p *planner) validateReferences() *field.Error {
	type ref struct{ field, name string }
	var path *field.Path
	var refs []ref
	if bg := p.ro.Spec.Strategy.BlueGreen; bg != nil {
		path = field.NewPath("spec", "strategy", "blueGreen")
		refs = []ref{{"activeService", bg.ActiveService}, {"previewService", bg.PreviewService}}
	} else {
		c := p.ro.Spec.Strategy.Canary
		path = field.NewPath("spec", "strategy", "canary")
		refs = []ref{{"stableService", c.StableService}, {"canaryService", c.CanaryService}}
	}
	for _, ref := range refs {
		if ref.name == "" {
			continue
		}
		svc, ok := p.st.Services[ref.name]
		if !ok {
			return field.Invalid(path.Child(ref.field), ref.name, fmt.Sprintf("service %q not found", ref.name))
		}
		if err := p.serviceInUse(path.Child(ref.field), svc); err != nil {
			return err
		}
	}
	return nil
}

// serviceInUse refuses a Service another Rollout manages, or one not yet
// the Rollout's that selects the pods of a running Deployment other than
// the one spec.workloadRef migrates from. Either error names both.
func (p *planner) serviceInUse(path *field.Path, svc *corev1.Service) *field.Error {
	owner, managed := svc.Annotations[v1alpha1.AnnotationManagedByRollouts]
	if managed && owner != p.ro.Name {
		msg := fmt.Sprintf(v1alpha1.MessageServiceManagedByOthr, svc.Name) + fmt.Sprintf(" (Rollout %q)", owner)
		return field.Invalid(path, svc.Name, msg)
	}
	if managed {
		return nil
	}
	if d := feedingDeployment(svc, p.st.Deployments, p.ro.Spec.WorkloadRef); d != nil {
		msg := fmt.Sprintf("Service %q selects the pods of Deployment %q", svc.Name, d.Name)
		return field.Invalid(path, svc.Name, msg)
	}
	return nil
}

// feedingDeployment returns a Deployment with replicas whose pods the
// Service selects (leaving the rollouts-pod-template-hash key aside), other
// than the workload the Rollout references.
func feedingDeployment(svc *corev1.Service, deps []*appsv1.Deployment, ref *v1alpha1.ObjectRef) *appsv1.Deployment {
	for _, d := range deps {
		if ref != nil && ref.Kind == "Deployment" && ref.Name == d.Name {
			continue
		}
		if d.Spec.Replicas != nil && *d.Spec.Replicas == 0 {
			continue
		}
		if SelectsPods(svc, d.Spec.Template.Labels) {
			return d
		}
	}
	return nil
}

// SelectsPods tells whether the Service selects pods with these labels,
// leaving aside the rollouts-pod-template-hash key a Rollout adds. A
// Service without a selector selects none.
func SelectsPods(svc *corev1.Service, podLabels map[string]string) bool {
	sel := maps.Clone(svc.Spec.Selector)
	delete(sel, v1alpha1.LabelPodTemplateHash)
	return len(sel) > 0 && labels.SelectorFromSet(sel).Matches(labels.Set(podLabels))
}

// invalidSpec records an InvalidSpec condition and stops there: nothing is
// scaled or switched for a Rollout whose spec cannot be trusted.
func (p *planner) invalidSpec(err *field.Error) {
	s := *p.ro.Status.DeepCopy()
	msg := InvalidSpecMessage(p.ro, err)
	if old := condition(s, v1alpha1.InvalidSpec); old == nil || old.Message != msg {
		removeCondition(&s, v1alpha1.InvalidSpec)
		setCondition(&s, newCondition(p.now, v1alpha1.InvalidSpec, corev1.ConditionTrue, v1alpha1.ReasonInvalidSpec, msg))
	}
	s.ObservedGeneration = strconv.FormatInt(p.ro.Generation, 10)
	s.Phase, s.Message = Phase(p.ro.Spec, s)
	p.plan.Status = s
}

// syncRevisionWithEvents creates the desired ReplicaSet when it is missing,
// keeps the revision numbers in order, and keeps the Rollout's revision
// annotation on the desired revision. It records, in Argo Rollouts' order,
// RolloutAddedToInformer for a Rollout never reconciled, RolloutNotCompleted
// when an update starts, RolloutUpdated and NewReplicaSetCreated. It returns
// the observed conditions with the Progressing condition this decides.
func (p *planner) syncRevisionWithEvents() []v1alpha1.RolloutCondition {
	ro, revs := p.ro, &p.revs
	if ro.Status.ObservedGeneration == "" && len(ro.Status.Conditions) == 0 {
		p.event(false, v1alpha1.EventRolloutAddedToInformer, v1alpha1.MessageRolloutAddedToInformer)
	}
	notCompleted := p.updateStarts()
	blueGreen := ro.Spec.Strategy.BlueGreen != nil
	if notCompleted != "" && !blueGreen {
		p.event(false, v1alpha1.EventRolloutNotCompleted, notCompleted)
	}
	var older []*appsv1.ReplicaSet
	for _, rs := range revs.all {
		if rs != revs.newRS {
			older = append(older, rs)
		}
	}
	next := maxRevision(older) + 1
	status := *ro.Status.DeepCopy()
	var created *appsv1.ReplicaSet
	if revs.newRS == nil {
		created = p.createRevision(next)
		msg := fmt.Sprintf(v1alpha1.MessageNewReplicaSet, created.Name)
		setCondition(&status, newCondition(p.now, v1alpha1.RolloutProgressing, corev1.ConditionTrue, v1alpha1.ReasonNewReplicaSetCreated, msg))
	} else {
		rs := p.refreshRevision(next)
		if condition(status, v1alpha1.RolloutProgressing) == nil {
			setCondition(&status, newCondition(p.now, v1alpha1.RolloutProgressing, corev1.ConditionTrue,
				v1alpha1.ReasonFoundNewReplicaSet, fmt.Sprintf(v1alpha1.MessageFoundNewReplicaSet, rs.Name)))
		}
	}
	revision := revs.newRS.Annotations[v1alpha1.AnnotationRevision]
	if ro.Annotations[v1alpha1.AnnotationRevision] != revision {
		p.plan.Revision = revision
		p.event(false, v1alpha1.EventRolloutUpdated, fmt.Sprintf(v1alpha1.MessageRolloutUpdated, revision))
	}
	if created != nil {
		p.event(false, v1alpha1.EventNewReplicaSetCreated, fmt.Sprintf(v1alpha1.MessageNewReplicaSetDetail, created.Name, next))
	}
	// Argo Rollouts' blue-green records it here, and not for a first deploy.
	if notCompleted != "" && blueGreen && condition(ro.Status, v1alpha1.RolloutCompleted) != nil {
		p.event(false, v1alpha1.EventRolloutNotCompleted, notCompleted)
	}
	return status.Conditions
}

// updateStarts returns the RolloutNotCompleted message when this reconcile
// starts an update (the Completed condition turns False), "" otherwise.
func (p *planner) updateStarts() string {
	ro := p.ro
	c := condition(ro.Status, v1alpha1.RolloutCompleted)
	if p.revs.hash == ro.Status.StableRS || (c != nil && c.Status == corev1.ConditionFalse) {
		return ""
	}
	return fmt.Sprintf(v1alpha1.MessageRolloutNotCompleted, revisionOf(ro.Annotations), p.revs.hash)
}

// createRevision plans the desired ReplicaSet, empty, as revision next. The
// rest is planned as if it existed: it is created before anything that
// refers to it is applied.
func (p *planner) createRevision(next int64) *appsv1.ReplicaSet {
	rs := newReplicaSet(p.ro, p.revs.hash, next, 0, p.podMetadata(true))
	p.plan.Create = rs
	p.revs.newRS = rs
	p.revs.all = append(p.revs.all, rs)
	return rs
}

// refreshRevision brings the existing desired ReplicaSet up to date: an
// older one that came back (an undo) takes revision next and remembers the
// one it had; anti-affinity and minReadySeconds follow the spec.
func (p *planner) refreshRevision(next int64) *appsv1.ReplicaSet {
	ro, revs := p.ro, &p.revs
	rs := revs.newRS.DeepCopy()
	changed := false
	if current := revisionOf(rs.Annotations); current < next {
		if rs.Annotations == nil {
			rs.Annotations = map[string]string{}
		}
		if current > 0 {
			history := rs.Annotations[v1alpha1.AnnotationRevisionHistory]
			if history != "" {
				history += ","
			}
			rs.Annotations[v1alpha1.AnnotationRevisionHistory] = history + strconv.FormatInt(current, 10)
		}
		rs.Annotations[v1alpha1.AnnotationRevision] = strconv.FormatInt(next, 10)
		changed = true
	}
	if affinityOutdated(rs.Spec.Template.Spec.Affinity, ro, revs.hash) {
		rs.Spec.Template.Spec.Affinity = replicaSetAffinity(ro, revs.hash)
		changed = true
	}
	if rs.Spec.MinReadySeconds != ro.Spec.MinReadySeconds {
		rs.Spec.MinReadySeconds = ro.Spec.MinReadySeconds
		changed = true
	}
	if changed {
		p.update(rs)
		p.replace(revs.newRS, rs)
	}
	return revs.newRS
}

// podMetadata is the ephemeral metadata for the desired revision's pods: the
// canary's while another revision is stable, the stable one's otherwise.
func (p *planner) podMetadata(isNew bool) *v1alpha1.PodTemplateMetadata {
	newMD, stableMD := roleMetadata(p.ro)
	stableIsOther := p.revs.stable != nil && p.revs.stable != p.revs.newRS
	if isNew && stableIsOther {
		return newMD
	}
	return stableMD
}

// roleMetadata is the ephemeral metadata of the new revision's pods (canary
// or preview) and of the stable one's (stable or active).
func roleMetadata(ro *v1alpha1.Rollout) (newMD, stableMD *v1alpha1.PodTemplateMetadata) {
	if c := ro.Spec.Strategy.Canary; c != nil {
		return c.CanaryMetadata, c.StableMetadata
	}
	if bg := ro.Spec.Strategy.BlueGreen; bg != nil {
		return bg.PreviewMetadata, bg.ActiveMetadata
	}
	return nil, nil
}

func (p *planner) event(warning bool, reason, message string) {
	p.plan.Events = append(p.plan.Events, event.Event{Warning: warning, Reason: reason, Message: message})
}

// update records that a ReplicaSet changed. The planner's view of the
// revisions holds the latest copy (see replace); the plan gets it once every
// phase is done (see finishReplicaSets).
func (p *planner) update(rs *appsv1.ReplicaSet) {
	if !slices.Contains(p.changed, rs.Name) {
		p.changed = append(p.changed, rs.Name)
	}
}

// finishReplicaSets puts the latest copy of every ReplicaSet that changed
// into the plan: the one to create, a grow or an update, in the order they
// first changed.
func (p *planner) finishReplicaSets() {
	for _, name := range p.changed {
		i := slices.IndexFunc(p.revs.all, func(rs *appsv1.ReplicaSet) bool { return rs.Name == name })
		if i < 0 {
			continue // every change goes through replace, which keeps it in revs.all
		}
		rs := p.revs.all[i]
		if p.plan.Create != nil && p.plan.Create.Name == name {
			p.plan.Create = rs
			continue
		}
		if rsReplicas(rs) > p.observedReplicas(name) {
			p.plan.Grows = append(p.plan.Grows, rs)
			continue
		}
		p.plan.Updates = append(p.plan.Updates, rs)
	}
}

// observedReplicas is spec.replicas of the ReplicaSet as observed.
func (p *planner) observedReplicas(name string) int32 {
	for _, rs := range p.st.ReplicaSets {
		if rs.Name == name {
			return rsReplicas(rs)
		}
	}
	return 0
}

// scaleWithEvent resizes a ReplicaSet, recording the event, and keeps the
// desired-replicas annotation on spec.replicas. It reports whether the size
// changed.
func (p *planner) scaleWithEvent(rs *appsv1.ReplicaSet, to int32) bool {
	want := strconv.Itoa(int(specReplicas(p.ro)))
	from := rsReplicas(rs)
	if from == to && rs.Annotations[v1alpha1.AnnotationDesiredReplicas] == want {
		return false
	}
	changed := rs.DeepCopy()
	changed.Spec.Replicas = &to
	if changed.Annotations == nil {
		changed.Annotations = map[string]string{}
	}
	changed.Annotations[v1alpha1.AnnotationDesiredReplicas] = want
	if to == 0 {
		delete(changed.Annotations, v1alpha1.AnnotationScaleDownDeadline)
	}
	p.update(changed)
	p.replace(rs, changed)
	if from == to {
		return false
	}
	direction := "up"
	if to < from {
		direction = "down"
	}
	p.event(false, v1alpha1.EventScalingReplicaSet, fmt.Sprintf(v1alpha1.EventMessageScaled, direction, rs.Name, revisionOf(rs.Annotations), from, to))
	return true
}

// replace swaps a ReplicaSet for its changed copy in the planner's view of
// the revisions (matched by name), so later phases see the change.
func (p *planner) replace(old, changed *appsv1.ReplicaSet) {
	r := &p.revs
	same := func(rs *appsv1.ReplicaSet) bool { return rs != nil && rs.Name == old.Name }
	for i := range r.all {
		if same(r.all[i]) {
			r.all[i] = changed
		}
	}
	for i := range r.others {
		if same(r.others[i]) {
			r.others[i] = changed
		}
	}
	if same(r.newRS) {
		r.newRS = changed
	}
	if same(r.stable) {
		r.stable = changed
	}
}
