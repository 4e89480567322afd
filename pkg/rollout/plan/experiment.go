package plan

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

// experimentDecision is what reconciling a canary's experiment step
// decided: the Experiment in force, the Experiments to create, stop and
// delete, and the pause (inconclusive) or abort (failed, errored) it calls
// for.
type experimentDecision struct {
	// observed is the Experiment status.canary.currentExperiment names, as
	// the cache holds it; nil when there is none.
	observed *v1alpha1.Experiment
	// current is the Experiment status.canary.currentExperiment names after
	// this reconcile; nil clears the field.
	current *v1alpha1.Experiment
	// create is a new Experiment for the current step.
	create *v1alpha1.Experiment
	// terminate and remove are Experiments to stop (spec.terminate) and to
	// delete past the history limits.
	terminate, remove []*v1alpha1.Experiment
	pause             pauseDecisions
}

// stop asks a running Experiment to stop, once.
func (d *experimentDecision) stop(ex *v1alpha1.Experiment) {
	if ex == nil || ex.Spec.Terminate || ex.Status.Phase.Completed() {
		return
	}
	for _, t := range d.terminate {
		if t.Name == ex.Name {
			return
		}
	}
	d.terminate = append(d.terminate, ex)
}

// canaryExperiment starts, watches and stops the Experiment of the current
// experiment step. An abort or a full promotion stops every Experiment.
func (p *planner) canaryExperiment(aborting bool) experimentDecision {
	ro := p.ro
	d := experimentDecision{observed: p.experimentNamed(ro.Status.Canary.CurrentExperiment)}
	if aborting || ro.Status.PromoteFull {
		for _, ex := range p.st.Experiments {
			d.stop(ex)
		}
		return d
	}
	step := p.steps.current()
	if step != nil && step.Experiment != nil {
		d.current = p.stepExperiment(&d, step.Experiment)
	}
	p.retireOtherExperiments(&d)
	return d
}

// stepExperiment returns the Experiment of the current step after this
// reconcile: the one running, a new one, or nil once it failed or errored
// (which aborts) or cannot be started.
func (p *planner) stepExperiment(d *experimentDecision, step *v1alpha1.RolloutExperimentStep) *v1alpha1.Experiment {
	s := p.ro.Status
	cur := d.observed
	if cur != nil && !p.ofCurrentStep(cur) {
		cur = nil
	}
	if cur != nil && cur.Status.Phase == v1alpha1.AnalysisPhaseInconclusive &&
		s.ControllerPause && len(s.PauseConditions) == 0 {
		// The user resumed after an inconclusive Experiment: run it again.
		cur = nil
	}
	if cur == nil {
		if len(s.PauseConditions) > 0 || p.revs.stable == nil || p.revs.newRS == nil {
			// Nothing starts while paused, nor before a stable revision
			// exists to compare with.
			return nil
		}
		return p.startExperimentWithEvent(d, step)
	}
	switch cur.Status.Phase {
	case v1alpha1.AnalysisPhaseInconclusive:
		d.pause.add(v1alpha1.PauseReasonInconclusiveExperiment)
	case v1alpha1.AnalysisPhaseError, v1alpha1.AnalysisPhaseFailed:
		msg := "Experiment analysis phase is error/failed"
		if cur.Status.Message != "" {
			msg += ": " + cur.Status.Message
		}
		d.pause.addAbort(msg)
		return nil
	}
	return cur
}

// experimentName is the name of the current step's Experiment before any
// collision suffix: <rollout>-<pod template hash>-<revision>-<step index>.
func (p *planner) experimentName() string {
	revision := p.revs.newRS.Annotations[v1alpha1.AnnotationRevision]
	return fmt.Sprintf("%s-%s-%s-%d", p.ro.Name, p.revs.hash, revision, p.steps.index)
}

// ofCurrentStep tells whether an Experiment was made for the current step
// of the desired revision: its name is the step's, with or without a
// collision suffix.
func (p *planner) ofCurrentStep(ex *v1alpha1.Experiment) bool {
	if p.revs.newRS == nil || ex.Labels[v1alpha1.LabelPodTemplateHash] != p.revs.hash {
		return false
	}
	base := p.experimentName()
	if ex.Name == base {
		return true
	}
	n, ok := strings.CutPrefix(ex.Name, base+"-")
	if !ok {
		return false
	}
	_, err := strconv.Atoi(n)
	return err == nil
}

func (p *planner) experimentNamed(name string) *v1alpha1.Experiment {
	if name == "" {
		return nil
	}
	for _, ex := range p.st.Experiments {
		if ex.Name == name {
			return ex
		}
	}
	return nil
}

// startExperimentWithEvent plans the current step's Experiment. An
// Experiment of ours for this step that still runs the same spec (made by a
// reconcile whose status write was lost) is taken up again instead.
func (p *planner) startExperimentWithEvent(d *experimentDecision, step *v1alpha1.RolloutExperimentStep) *v1alpha1.Experiment {
	ex, err := newStepExperiment(p.ro, step, p.revs.stable, p.revs.newRS, p.experimentName())
	if err != nil {
		d.pause.addAbort("Cannot start the experiment: " + err.Error())
		return nil
	}
	taken := map[string]*v1alpha1.Experiment{}
	for _, other := range p.st.Experiments {
		taken[other.Name] = other
	}
	base := ex.Name
	if prev := taken[base]; prev != nil && !prev.Spec.Terminate && !prev.Status.Phase.Completed() && SameExperimentSpec(prev.Spec, ex.Spec) {
		return prev
	}
	for n := 1; taken[ex.Name] != nil; n++ {
		ex.Name = fmt.Sprintf("%s-%d", base, n)
	}
	d.create = ex
	p.event(false, v1alpha1.EventExperimentCreated, fmt.Sprintf("Created Experiment '%s'", ex.Name))
	return ex
}

// retireOtherExperiments stops the Experiments that are no longer current
// and deletes, as Argo Rollouts does, those of revisions whose ReplicaSet is
// gone or going and finished ones beyond the analysis history limits.
func (p *planner) retireOtherExperiments(d *experimentDecision) {
	var others []*v1alpha1.Experiment
	for _, ex := range p.st.Experiments {
		if d.current == nil || ex.Name != d.current.Name {
			d.stop(ex)
			others = append(others, ex)
		}
	}
	hashes := map[string]bool{} // pod template hash -> ReplicaSet being deleted
	for _, rs := range p.revs.all {
		if h, ok := rs.Labels[v1alpha1.LabelPodTemplateHash]; ok {
			hashes[h] = rs.DeletionTimestamp != nil
		}
	}
	successful, unsuccessful := analysisHistoryLimits(p.ro)
	sort.SliceStable(others, func(i, j int) bool {
		return others[j].CreationTimestamp.Before(&others[i].CreationTimestamp)
	})
	for _, ex := range others {
		deleting, found := hashes[ex.Labels[v1alpha1.LabelPodTemplateHash]]
		switch {
		case ex.DeletionTimestamp != nil:
			continue
		case !found || deleting:
		case ex.Status.Phase == v1alpha1.AnalysisPhaseSuccessful && successful > 0:
			successful--
			continue
		case ex.Status.Phase == v1alpha1.AnalysisPhaseSuccessful:
		case !ex.Status.Phase.Completed():
			continue
		case unsuccessful > 0:
			unsuccessful--
			continue
		}
		d.remove = append(d.remove, ex)
	}
}

// analysisHistoryLimits are how many successful and unsuccessful finished
// AnalysisRuns and Experiments a Rollout keeps.
func analysisHistoryLimits(ro *v1alpha1.Rollout) (successful, unsuccessful int32) {
	successful, unsuccessful = v1alpha1.DefaultSuccessfulRunHistoryLimit, v1alpha1.DefaultUnsuccessfulRunHistory
	if a := ro.Spec.Analysis; a != nil {
		if a.SuccessfulRunHistoryLimit != nil {
			successful = *a.SuccessfulRunHistoryLimit
		}
		if a.UnsuccessfulRunHistoryLimit != nil {
			unsuccessful = *a.UnsuccessfulRunHistoryLimit
		}
	}
	return successful, unsuccessful
}

// addExperimentWrites hands the experiment writes on to the plan.
func (p *planner) addExperimentWrites(d experimentDecision) {
	p.plan.CreateExperiment = d.create
	p.plan.TerminateExperiments = append(p.plan.TerminateExperiments, d.terminate...)
	p.plan.DeleteExperiments = append(p.plan.DeleteExperiments, d.remove...)
}

// experimentWeights are the traffic destinations of the current
// experiment's templates that ask for a weight, once it runs.
func experimentWeights(step *v1alpha1.RolloutExperimentStep, ex *v1alpha1.Experiment) []v1alpha1.WeightDestination {
	if step == nil || ex == nil || ex.Status.Phase != v1alpha1.AnalysisPhaseRunning {
		return nil
	}
	var out []v1alpha1.WeightDestination
	for _, ts := range ex.Status.TemplateStatuses {
		for _, t := range step.Templates {
			if t.Name == ts.Name && t.Weight != nil {
				out = append(out, v1alpha1.WeightDestination{ServiceName: ts.ServiceName, PodTemplateHash: ts.PodTemplateHash, Weight: *t.Weight})
			}
		}
	}
	return out
}

// experimentStepInForce is the experiment step at or before the current
// step, whose templates' weights apply while its Experiment runs.
func (v stepView) experimentStepInForce() *v1alpha1.RolloutExperimentStep {
	if v.current() == nil {
		return nil
	}
	for i := v.index; i >= 0; i-- {
		if e := v.steps[i].Experiment; e != nil {
			return e
		}
	}
	return nil
}

// ownerRef is the controller reference of what a Rollout creates.
func ownerRef(ro *v1alpha1.Rollout) metav1.OwnerReference {
	return *metav1.NewControllerRef(ro, v1alpha1.SchemeGroupVersion.WithKind(v1alpha1.RolloutKind))
}
