package rollout

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	appsv1 "k8s.io/api/apps/v1"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"

	"github.com/serin-dev/serin/pkg/analysis/templates"
	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/client/clientset/versioned"
	"github.com/serin-dev/serin/pkg/controller"
	"github.com/serin-dev/serin/pkg/rollout/plan"
	"github.com/serin-dev/serin/pkg/trafficrouting"
)

// apply carries out a plan in a fixed order, each write only when the plan
// asks for it: the Rollout's own metadata and spec, the ReplicaSet create
// and the ReplicaSets that grow, the workload scale, router writes, the
// other ReplicaSet updates and the deletes, Experiments,
// AnalysisRuns, pod patches, evictions, Service switches, and the status
// last. Events are recorded once the writes succeeded.
func (r *Reconciler) apply(ctx context.Context, ro *v1alpha1.Rollout, p plan.Plan) error {
	resourceVersion, err := r.patchRollout(ctx, ro, p)
	if err != nil {
		return err
	}
	if p.Create != nil {
		if stop, err := r.createReplicaSet(ctx, ro, resourceVersion, p.Create); stop {
			return err
		}
	}
	if err := r.updateReplicaSets(ctx, p.Grows); err != nil {
		return err
	}
	if p.WorkloadReplicas != nil {
		if err := r.scaleWorkload(ctx, ro, *p.WorkloadReplicas); err != nil {
			return err
		}
	}
	if err := r.applyRouterWrites(ctx, ro, p.RouterWrites); err != nil {
		return err
	}
	if err := r.updateReplicaSets(ctx, p.Updates); err != nil {
		return err
	}
	if err := r.deleteReplicaSets(ctx, p.Deletes); err != nil {
		return err
	}
	if err := r.applyExperiments(ctx, ro, &p); err != nil {
		return err
	}
	if err := r.applyRuns(ctx, ro, &p); err != nil {
		return err
	}
	if err := r.applyPods(ctx, ro, p); err != nil {
		return err
	}
	for _, sw := range p.ServiceSwitches {
		if err := r.switchService(ctx, ro, sw); err != nil {
			return err
		}
	}
	return r.writeStatus(ctx, ro, resourceVersion, p)
}

// createReplicaSet creates the plan's new ReplicaSet. stop ends the
// reconcile there, with err or without one: a name that is ours already
// (the informer brings it, and a new reconcile), or another owner's (the
// collision count goes up first).
func (r *Reconciler) createReplicaSet(ctx context.Context, ro *v1alpha1.Rollout, resourceVersion string, rs *appsv1.ReplicaSet) (stop bool, err error) {
	_, err = r.o.KubeClient.AppsV1().ReplicaSets(ro.Namespace).Create(ctx, rs, metav1.CreateOptions{})
	switch {
	case err == nil:
		return false, nil
	case !apierrors.IsAlreadyExists(err):
		r.o.Recorder.Eventf(ro, corev1.EventTypeWarning, v1alpha1.EventReplicaSetCreateError,
			v1alpha1.MessageReplicaSetCreateErr, rs.Name, err)
		return true, fmt.Errorf("creating ReplicaSet %s: %w", rs.Name, err)
	}
	existing, lerr := r.o.ReplicaSetLister.ReplicaSets(ro.Namespace).Get(rs.Name)
	if lerr != nil {
		// Most likely ours, from a reconcile whose write the ReplicaSet
		// cache has not delivered yet (the Rollout cache may be ahead of
		// it). Raising the collision count now would make a second
		// ReplicaSet: wait for the cache, as Argo Rollouts does.
		return true, fmt.Errorf("ReplicaSet %s exists but is not cached yet: %w", rs.Name, lerr)
	}
	if !metav1.IsControlledBy(existing, ro) {
		return true, r.bumpCollisionCount(ctx, ro, resourceVersion, rs.Name)
	}
	return true, nil
}

// updateReplicaSets writes changed ReplicaSets, in order.
func (r *Reconciler) updateReplicaSets(ctx context.Context, updates []*appsv1.ReplicaSet) error {
	for _, rs := range updates {
		if _, err := r.o.KubeClient.AppsV1().ReplicaSets(rs.Namespace).Update(ctx, rs, metav1.UpdateOptions{}); err != nil {
			return fmt.Errorf("updating ReplicaSet %s: %w", rs.Name, err)
		}
	}
	return nil
}

// deleteReplicaSets deletes ReplicaSets past the history limit; one already
// gone counts as deleted.
func (r *Reconciler) deleteReplicaSets(ctx context.Context, deletes []*appsv1.ReplicaSet) error {
	for _, rs := range deletes {
		precondition := metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &rs.UID, ResourceVersion: &rs.ResourceVersion}}
		if err := r.o.KubeClient.AppsV1().ReplicaSets(rs.Namespace).Delete(ctx, rs.Name, precondition); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("deleting ReplicaSet %s: %w", rs.Name, err)
		}
	}
	return nil
}

// writeStatus writes the plan's status, then reports the update it
// finished, if any, and records its events.
func (r *Reconciler) writeStatus(ctx context.Context, ro *v1alpha1.Rollout, resourceVersion string, p plan.Plan) error {
	if err := r.status.Patch(ctx, ro, resourceVersion, ro.Status, p.Status); err != nil {
		return err
	}
	r.reportFinished(ctx, ro, p.Finished)
	controller.RecordEvents(r.o.Recorder, ro, p.Events)
	return nil
}

// reportFinished logs an update that ended and hands its record to
// UpdateFinished. It runs only after the status that ends the update was
// written, so that a write that fails, and is redone, reports nothing.
func (r *Reconciler) reportFinished(ctx context.Context, ro *v1alpha1.Rollout, d *v1alpha1.RolloutDurationStatus) {
	if d == nil || d.RolloutStartedAt == nil || d.FinishedAt == nil || d.CompletionStatus == nil {
		return
	}
	var paused int64
	if d.TotalManualPauseDurationSeconds != nil {
		paused = *d.TotalManualPauseDurationSeconds
	}
	klog.FromContext(ctx).Info("Rollout update finished", "rollout", klog.KObj(ro),
		"completionStatus", *d.CompletionStatus, "durationSeconds", int64(d.FinishedAt.Sub(d.RolloutStartedAt.Time).Seconds()),
		"manualPauseSeconds", paused)
	if r.o.UpdateFinished != nil {
		r.o.UpdateFinished(*d)
	}
}

// applyPods changes the ephemeral metadata of running pods, then evicts the
// pods spec.restartAt replaces. A pod already gone is skipped, and so is an
// eviction a PodDisruptionBudget refuses: the plan already asked to come
// back.
func (r *Reconciler) applyPods(ctx context.Context, ro *v1alpha1.Rollout, p plan.Plan) error {
	if err := r.patchPods(ctx, ro, p.PodPatches); err != nil {
		return err
	}
	for _, pod := range p.Evictions {
		klog.FromContext(ctx).V(2).Info("evicting pod for spec.restartAt", "rollout", klog.KObj(ro), "pod", pod.Name)
		eviction := &policyv1.Eviction{ObjectMeta: metav1.ObjectMeta{Name: pod.Name, Namespace: pod.Namespace}}
		err := r.o.KubeClient.CoreV1().Pods(pod.Namespace).EvictV1(ctx, eviction)
		switch {
		case apierrors.IsTooManyRequests(err), apierrors.IsNotFound(err):
			// A PodDisruptionBudget said not now, or the pod is gone; the plan
			// already asked to come back.
		case err != nil:
			return fmt.Errorf("evicting pod %s: %w", pod.Name, err)
		}
	}
	return nil
}

// patchRollout writes spec.replicas and the revision annotation when the plan
// changes them, and returns the Rollout's resourceVersion after the write.
func (r *Reconciler) patchRollout(ctx context.Context, ro *v1alpha1.Rollout, p plan.Plan) (string, error) {
	patch := map[string]any{}
	if p.Revision != "" {
		patch["metadata"] = map[string]any{"annotations": map[string]string{v1alpha1.AnnotationRevision: p.Revision}}
	}
	if p.WorkloadGeneration != "" {
		meta, _ := patch["metadata"].(map[string]any)
		if meta == nil {
			meta = map[string]any{"annotations": map[string]string{}}
			patch["metadata"] = meta
		}
		meta["annotations"].(map[string]string)[v1alpha1.AnnotationWorkloadGeneration] = p.WorkloadGeneration
	}
	if p.DefaultReplicas {
		patch["spec"] = map[string]any{"replicas": v1alpha1.DefaultReplicas}
	}
	if len(patch) == 0 {
		return ro.ResourceVersion, nil
	}
	meta, _ := patch["metadata"].(map[string]any)
	if meta == nil {
		meta = map[string]any{}
		patch["metadata"] = meta
	}
	meta["resourceVersion"] = ro.ResourceVersion
	data, err := json.Marshal(patch)
	if err != nil {
		return "", err
	}
	updated, err := r.o.RolloutClient.ArgoprojV1alpha1().Rollouts(ro.Namespace).Patch(ctx, ro.Name, types.MergePatchType, data, metav1.PatchOptions{})
	if err != nil {
		return "", rolloutWriteError("patching Rollout", ro, err)
	}
	r.written.Wrote(cache.MetaObjectToName(ro), ro.ResourceVersion, updated.ResourceVersion)
	return updated.ResourceVersion, nil
}

// statusPatcher writes, through the status subresource, only the status
// fields that changed, guarded by the resourceVersion the plan was made from,
// so a user's concurrent write (abort, promote) is never overwritten with
// stale values.
func statusPatcher(client versioned.Interface, written *controller.Writes) controller.StatusPatcher[*v1alpha1.Rollout] {
	return controller.StatusPatcher[*v1alpha1.Rollout]{
		Client: func(namespace string) controller.Patcher[*v1alpha1.Rollout] {
			return client.ArgoprojV1alpha1().Rollouts(namespace)
		},
		Subresource: "status",
		Describe:    func(ro metav1.Object) string { return "Rollout " + ro.GetName() },
		Gone:        errRolloutGone,
		Writes:      written,
	}
}

// errRolloutGone marks a write that found the Rollout deleted: the work for
// its key ends there instead of being retried.
var errRolloutGone = errors.New("the Rollout no longer exists")

// rolloutWriteError describes a failed write to the Rollout itself.
func rolloutWriteError(what string, ro *v1alpha1.Rollout, err error) error {
	if apierrors.IsNotFound(err) {
		return fmt.Errorf("%s %s: %w", what, ro.Name, errRolloutGone)
	}
	return fmt.Errorf("%s %s: %w", what, ro.Name, err)
}

// switchService points a Service's selector at a revision and marks it as
// managed by the Rollout.
func (r *Reconciler) switchService(ctx context.Context, ro *v1alpha1.Rollout, sw plan.ServiceSwitch) error {
	patch := map[string]any{
		"metadata": map[string]any{"annotations": map[string]string{v1alpha1.AnnotationManagedByRollouts: ro.Name}},
		"spec":     map[string]any{"selector": map[string]string{v1alpha1.LabelPodTemplateHash: sw.Hash}},
	}
	data, err := json.Marshal(patch)
	if err != nil {
		return err
	}
	_, err = r.o.KubeClient.CoreV1().Services(sw.Service.Namespace).Patch(ctx, sw.Service.Name, types.StrategicMergePatchType, data, metav1.PatchOptions{})
	if err != nil {
		return fmt.Errorf("switching Service %s: %w", sw.Service.Name, err)
	}
	return nil
}

// bumpCollisionCount changes the hash of the next ReplicaSet when a
// ReplicaSet of the same name exists that this Rollout does not control.
func (r *Reconciler) bumpCollisionCount(ctx context.Context, ro *v1alpha1.Rollout, resourceVersion, name string) error {
	next := int32(1)
	if ro.Status.CollisionCount != nil {
		next = *ro.Status.CollisionCount + 1
	}
	status := *ro.Status.DeepCopy()
	status.CollisionCount = &next
	if err := r.status.Patch(ctx, ro, resourceVersion, ro.Status, status); err != nil {
		return err
	}
	return fmt.Errorf("ReplicaSet %s exists and is not this Rollout's; collision count raised to %d", name, next)
}

// applyRuns creates, stops and deletes the Rollout's AnalysisRuns.
func (r *Reconciler) applyRuns(ctx context.Context, ro *v1alpha1.Rollout, p *plan.Plan) error {
	runs := r.o.RolloutClient.ArgoprojV1alpha1().AnalysisRuns(ro.Namespace)
	for _, run := range p.CreateRuns {
		name, err := r.createRun(ctx, ro, run)
		if err != nil {
			return err
		}
		if name != run.Name {
			renameRunStatus(&p.Status, run.Name, name)
		}
	}
	for _, run := range p.TerminateRuns {
		_, err := runs.Patch(ctx, run.Name, types.MergePatchType, []byte(`{"spec":{"terminate":true}}`), metav1.PatchOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("terminating AnalysisRun %s: %w", run.Name, err)
		}
	}
	for _, run := range p.DeleteRuns {
		if err := runs.Delete(ctx, run.Name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("deleting AnalysisRun %s: %w", run.Name, err)
		}
	}
	return nil
}

// createRun creates a planned AnalysisRun and returns the name of the run
// the Rollout goes on with. When the name is taken, the run holding it is
// read (on this error path only: runs of another controller instance never
// reach this controller's cache, so waiting for the cache could wait
// forever). If it is the Rollout's own, made by an earlier reconcile whose
// result the cache has not shown yet (before a restart, say), it is used;
// otherwise the next numbered name is tried, up to five.
func (r *Reconciler) createRun(ctx context.Context, ro *v1alpha1.Rollout, run *v1alpha1.AnalysisRun) (string, error) {
	runs := r.o.RolloutClient.ArgoprojV1alpha1().AnalysisRuns(ro.Namespace)
	base := run.Name
	for n := 1; ; n++ {
		_, err := runs.Create(ctx, run, metav1.CreateOptions{})
		if err == nil {
			return run.Name, nil
		}
		if !apierrors.IsAlreadyExists(err) || n > 5 {
			return "", fmt.Errorf("creating AnalysisRun %s: %w", run.Name, err)
		}
		existing, err := runs.Get(ctx, run.Name, metav1.GetOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			return "", fmt.Errorf("reading AnalysisRun %s, whose name is taken: %w", run.Name, err)
		}
		if err == nil && isOwnRun(existing, run, ro) {
			klog.FromContext(ctx).Info("Taking up the AnalysisRun an earlier reconcile created", "analysisRun", existing.Name)
			return existing.Name, nil
		}
		run = run.DeepCopy()
		run.Name = templates.CollisionName(base, n)
	}
}

// isOwnRun reports whether existing is the run planned as want, made by an
// earlier reconcile: controlled by this Rollout (by uid), for the same pod
// template hash, analysis type and step, not being deleted, and, as the
// plan requires of a run it takes up again, still running the same spec.
func isOwnRun(existing, want *v1alpha1.AnalysisRun, ro *v1alpha1.Rollout) bool {
	ref := metav1.GetControllerOfNoCopy(existing)
	if ref == nil || ref.UID != ro.UID || existing.DeletionTimestamp != nil {
		return false
	}
	for _, k := range []string{v1alpha1.LabelPodTemplateHash, v1alpha1.LabelRolloutType, v1alpha1.LabelStepIndex} {
		if existing.Labels[k] != want.Labels[k] {
			return false
		}
	}
	return !existing.Spec.Terminate && !existing.Status.Phase.Completed() && templates.SameSpec(existing.Spec, want.Spec)
}

// renameRunStatus points the status entries that name a run at its new name.
func renameRunStatus(s *v1alpha1.RolloutStatus, from, to string) {
	for _, st := range []*v1alpha1.RolloutAnalysisRunStatus{
		s.Canary.CurrentStepAnalysisRunStatus, s.Canary.CurrentBackgroundAnalysisRunStatus,
		s.BlueGreen.PrePromotionAnalysisRunStatus, s.BlueGreen.PostPromotionAnalysisRunStatus,
	} {
		if st != nil && st.Name == from {
			st.Name = to
		}
	}
}

// applyRouterWrites changes traffic-routing objects, and calls
// traffic-router plugins, in the order the routers planned, stopping at the
// first failure. A failed plugin call is reported as a TrafficRoutingError
// event: the status is not written, so the split recorded stays the last
// one every router carried.
func (r *Reconciler) applyRouterWrites(ctx context.Context, ro *v1alpha1.Rollout, writes []trafficrouting.Write) error {
	for _, w := range writes {
		if w.Op == trafficrouting.PluginCall {
			if err := r.callRouterPlugin(ctx, ro, *w.Call); err != nil {
				return err
			}
			continue
		}
		if r.o.Dynamic == nil {
			return fmt.Errorf("traffic routing needs a dynamic client")
		}
		client := r.o.Dynamic.Resource(w.Ref.Resource).Namespace(w.Ref.Namespace)
		var err error
		switch w.Op {
		case trafficrouting.Update:
			if w.Replace {
				_, err = client.Update(ctx, w.Object, metav1.UpdateOptions{})
				break
			}
			err = r.patchRouterObject(ctx, w)
		case trafficrouting.Create:
			_, err = client.Create(ctx, w.Object, metav1.CreateOptions{})
		case trafficrouting.Delete:
			err = client.Delete(ctx, w.Ref.Name, metav1.DeleteOptions{})
			if apierrors.IsNotFound(err) {
				err = nil
			}
		default:
			err = fmt.Errorf("unknown operation %d", w.Op)
		}
		if err != nil {
			return fmt.Errorf("%s %s %s: %w", w.Op, w.Ref.Resource.Resource, w.Ref.Name, err)
		}
	}
	return nil
}
