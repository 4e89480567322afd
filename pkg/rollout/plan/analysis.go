package plan

import (
	"fmt"
	"sort"
	"strconv"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/serin-dev/serin/pkg/analysis/templates"
	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

// Analysis keys name the analyses of a Rollout spec, for State.Templates.
const (
	AnalysisBackground    = "background"
	AnalysisPrePromotion  = "pre"
	AnalysisPostPromotion = "post"
)

// AnalysisStep is the key of the analysis of canary step i.
func AnalysisStep(i int) string { return "step-" + strconv.Itoa(i) }

// Analyses lists every analysis a Rollout's spec declares, by key.
func Analyses(ro *v1alpha1.Rollout) map[string]*v1alpha1.RolloutAnalysis {
	out := map[string]*v1alpha1.RolloutAnalysis{}
	if c := ro.Spec.Strategy.Canary; c != nil {
		for i := range c.Steps {
			if a := c.Steps[i].Analysis; a != nil {
				out[AnalysisStep(i)] = a
			}
		}
		if c.Analysis != nil {
			out[AnalysisBackground] = &c.Analysis.RolloutAnalysis
		}
	}
	if bg := ro.Spec.Strategy.BlueGreen; bg != nil {
		if bg.PrePromotionAnalysis != nil {
			out[AnalysisPrePromotion] = bg.PrePromotionAnalysis
		}
		if bg.PostPromotionAnalysis != nil {
			out[AnalysisPostPromotion] = bg.PostPromotionAnalysis
		}
	}
	return out
}

// analysisPath is the spec field of an analysis, for error messages.
func analysisPath(key string) *field.Path {
	st := field.NewPath("spec", "strategy")
	switch key {
	case AnalysisBackground:
		return st.Child("canary", "analysis")
	case AnalysisPrePromotion:
		return st.Child("blueGreen", "prePromotionAnalysis")
	case AnalysisPostPromotion:
		return st.Child("blueGreen", "postPromotionAnalysis")
	}
	i, _ := strconv.Atoi(key[len("step-"):])
	return st.Child("canary", "steps").Index(i).Child("analysis")
}

// validateTemplates reports the first analysis whose templates could not be
// found or merged.
func (p *planner) validateTemplates() *field.Error {
	keys := make([]string, 0, len(p.st.TemplateErrors))
	for k := range p.st.TemplateErrors {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		return field.Invalid(analysisPath(k).Child("templates"), "", p.st.TemplateErrors[k].Error())
	}
	return nil
}

// runByStatus finds the owned AnalysisRun a status entry names.
func (p *planner) runByStatus(s *v1alpha1.RolloutAnalysisRunStatus) *v1alpha1.AnalysisRun {
	if s == nil {
		return nil
	}
	for _, r := range p.st.AnalysisRuns {
		if r.Name == s.Name {
			return r
		}
	}
	return nil
}

// analysisDecision is what reconciling a Rollout's analyses decided: the runs
// in force, the runs to start, stop and delete, and the pause (inconclusive)
// or abort (failed, errored, or a run that cannot start) it calls for.
type analysisDecision struct {
	runs   currentRuns
	writes runWrites
	pause  pauseDecisions
}

// runWrites are AnalysisRuns to create, terminate (spec.terminate) and delete.
type runWrites struct {
	create, terminate, remove []*v1alpha1.AnalysisRun
}

// stop asks a running AnalysisRun to stop, once.
func (w *runWrites) stop(r *v1alpha1.AnalysisRun) {
	if r == nil || r.Spec.Terminate || r.Status.Phase.Completed() {
		return
	}
	for _, t := range w.terminate {
		if t.Name == r.Name {
			return
		}
	}
	w.terminate = append(w.terminate, r)
}

// addRunWrites hands the analysis writes on to the plan.
func (p *planner) addRunWrites(w runWrites) {
	p.plan.CreateRuns = append(p.plan.CreateRuns, w.create...)
	p.plan.TerminateRuns = append(p.plan.TerminateRuns, w.terminate...)
	p.plan.DeleteRuns = append(p.plan.DeleteRuns, w.remove...)
}

// currentRuns are the AnalysisRuns in force after this reconcile.
type currentRuns struct {
	step, background, pre, post *v1alpha1.AnalysisRun
}

func (c currentRuns) all() []*v1alpha1.AnalysisRun {
	var out []*v1alpha1.AnalysisRun
	for _, r := range []*v1alpha1.AnalysisRun{c.step, c.background, c.pre, c.post} {
		if r != nil {
			out = append(out, r)
		}
	}
	return out
}

func runStatus(r *v1alpha1.AnalysisRun) *v1alpha1.RolloutAnalysisRunStatus {
	if r == nil {
		return nil
	}
	return &v1alpha1.RolloutAnalysisRunStatus{Name: r.Name, Status: r.Status.Phase, Message: r.Status.Message}
}

// needsNewRun tells whether an analysis must start a (new) run: none runs
// yet, the user promoted past an inconclusive one, or the rollout is retried
// after an abort.
func (p *planner) needsNewRun(current *v1alpha1.AnalysisRun) bool {
	s := p.ro.Status
	if current == nil {
		return true
	}
	if s.ControllerPause && pauseCondition(p.ro, v1alpha1.PauseReasonCanaryPauseStep) == nil &&
		pauseCondition(p.ro, v1alpha1.PauseReasonBlueGreenPause) == nil {
		return current.Status.Phase == v1alpha1.AnalysisPhaseInconclusive
	}
	return s.AbortedAt != nil
}

// startRun plans an AnalysisRun for an analysis of the desired revision.
func (p *planner) startRun(d *analysisDecision, key, rolloutType, suffix string, stepIndex *int32) *v1alpha1.AnalysisRun {
	ro := p.ro
	a := Analyses(ro)[key]
	stableHash := ro.Status.StableRS
	args, err := templates.RolloutArgs(a.Args, ro, stableHash, p.revs.hash)
	if err != nil {
		d.pause.addAbort(fmt.Sprintf("Cannot start the %s analysis: %v", rolloutType, err))
		return nil
	}
	revision := p.revs.newRS.Annotations[v1alpha1.AnnotationRevision]
	labels := templates.Labels(rolloutType, p.revs.hash, ro.Labels[v1alpha1.LabelControllerInstanceID], stepIndex)
	annotations := map[string]string{v1alpha1.AnnotationRevision: revision}
	if md := a.AnalysisRunMetadata; md != nil {
		for k, v := range md.Labels {
			labels[k] = v
		}
		for k, v := range md.Annotations {
			annotations[k] = v
		}
	}
	if ro.Spec.Selector != nil {
		for k, v := range ro.Spec.Selector.MatchLabels {
			labels[k] = v
		}
	}
	base := templates.RunName(ro.Name, p.revs.hash, revision, suffix)
	run, err := templates.NewRun(p.st.Templates[key], templates.RunOptions{
		Name: base, Namespace: ro.Namespace, Labels: labels, Annotations: annotations,
		Args: args, DryRun: a.DryRun, MeasurementRetention: a.MeasurementRetention,
	})
	if err != nil {
		d.pause.addAbort(fmt.Sprintf("Cannot start the %s analysis: %v", rolloutType, err))
		return nil
	}
	taken := map[string]*v1alpha1.AnalysisRun{}
	for _, r := range p.st.AnalysisRuns {
		taken[r.Name] = r
	}
	// A run of ours under this name that still runs the same spec is the one
	// an earlier reconcile started (its status write may have been lost):
	// take it up again rather than start a second one.
	if prev, ok := taken[base]; ok && !prev.Spec.Terminate && !prev.Status.Phase.Completed() && templates.SameSpec(prev.Spec, run.Spec) {
		return prev
	}
	for n := 1; taken[run.Name] != nil; n++ {
		run.Name = templates.CollisionName(base, n)
	}
	run.OwnerReferences = []metav1.OwnerReference{*metav1.NewControllerRef(ro, v1alpha1.SchemeGroupVersion.WithKind(v1alpha1.RolloutKind))}
	d.writes.create = append(d.writes.create, run)
	return run
}

// react pauses on an inconclusive run and aborts on a failed or errored one.
func react(d *analysisDecision, r *v1alpha1.AnalysisRun, what string) {
	if r == nil {
		return
	}
	switch r.Status.Phase {
	case v1alpha1.AnalysisPhaseInconclusive:
		d.pause.add(v1alpha1.PauseReasonInconclusiveAnalysis)
	case v1alpha1.AnalysisPhaseError, v1alpha1.AnalysisPhaseFailed:
		msg := what + " phase error/failed"
		if r.Status.Message != "" {
			msg += ": " + r.Status.Message
		}
		d.pause.addAbort(msg)
	}
}

// canaryAnalysis starts, watches and stops the step and background analyses
// of a canary.
func (p *planner) canaryAnalysis() analysisDecision {
	ro := p.ro
	s := ro.Status
	cur := currentRuns{step: p.runByStatus(s.Canary.CurrentStepAnalysisRunStatus), background: p.runByStatus(s.Canary.CurrentBackgroundAnalysisRunStatus)}
	promoted := s.StableRS != "" && s.StableRS == s.CurrentPodHash
	var d analysisDecision
	if promoted || p.pause.aborted(ro) || s.PromoteFull || s.StableRS == p.revs.hash || p.rollbackWithinWindow() || s.StableRS == "" {
		for _, r := range cur.all() {
			d.writes.stop(r)
		}
	} else {
		d.runs.step = p.stepRun(&d, cur.step)
		d.runs.background = p.backgroundRun(&d, cur.background)
	}
	p.retireOtherRuns(&d)
	return d
}

func (p *planner) stepRun(d *analysisDecision, current *v1alpha1.AnalysisRun) *v1alpha1.AnalysisRun {
	s := p.ro.Status
	if len(s.PauseConditions) > 0 || s.Abort {
		return current
	}
	step := p.steps.current()
	index := p.steps.index
	if step == nil || step.Analysis == nil || len(step.Analysis.Templates) == 0 ||
		(current != nil && current.Labels[v1alpha1.LabelStepIndex] != strconv.Itoa(int(index))) {
		d.writes.stop(current)
		return nil
	}
	if p.needsNewRun(current) {
		return p.startRun(d, AnalysisStep(int(index)), v1alpha1.RolloutTypeStep, strconv.Itoa(int(index)), &index)
	}
	react(d, current, "Step-based analysis")
	return current
}

func (p *planner) backgroundRun(d *analysisDecision, current *v1alpha1.AnalysisRun) *v1alpha1.AnalysisRun {
	ro := p.ro
	c := ro.Spec.Strategy.Canary
	if c.Analysis == nil || len(c.Analysis.Templates) == 0 {
		d.writes.stop(current)
		return nil
	}
	if c.Analysis.StartingStep != nil && p.steps.current() != nil && p.steps.index < *c.Analysis.StartingStep {
		return nil
	}
	if pauseCondition(ro, v1alpha1.PauseReasonInconclusiveAnalysis) != nil {
		return current
	}
	if p.needsNewRun(current) {
		return p.startRun(d, AnalysisBackground, v1alpha1.RolloutTypeBackground, "", nil)
	}
	react(d, current, "Background analysis")
	return current
}

// retireOtherRuns stops owned runs that are no longer current and deletes
// finished ones beyond the history limits.
func (p *planner) retireOtherRuns(d *analysisDecision) {
	current := map[string]bool{}
	for _, r := range d.runs.all() {
		current[r.Name] = true
	}
	var others []*v1alpha1.AnalysisRun
	for _, r := range p.st.AnalysisRuns {
		if !current[r.Name] {
			d.writes.stop(r)
			others = append(others, r)
		}
	}
	successful, unsuccessful := v1alpha1.DefaultSuccessfulRunHistoryLimit, v1alpha1.DefaultUnsuccessfulRunHistory
	if a := p.ro.Spec.Analysis; a != nil {
		if a.SuccessfulRunHistoryLimit != nil {
			successful = *a.SuccessfulRunHistoryLimit
		}
		if a.UnsuccessfulRunHistoryLimit != nil {
			unsuccessful = *a.UnsuccessfulRunHistoryLimit
		}
	}
	sort.SliceStable(others, func(i, j int) bool {
		return others[j].CreationTimestamp.Before(&others[i].CreationTimestamp)
	})
	for _, r := range others {
		if !r.Status.Phase.Completed() || r.DeletionTimestamp != nil {
			continue
		}
		if r.Status.Phase == v1alpha1.AnalysisPhaseSuccessful {
			if successful > 0 {
				successful--
				continue
			}
		} else if unsuccessful > 0 {
			unsuccessful--
			continue
		}
		d.writes.remove = append(d.writes.remove, r)
	}
}

// stepAnalysisSucceeded tells whether the current step's run succeeded.
func stepAnalysisSucceeded(runs *currentRuns) bool {
	if runs == nil {
		return false
	}
	r := runs.step
	return r != nil && r.Status.Phase == v1alpha1.AnalysisPhaseSuccessful
}

// recordAnalysisEvents records AnalysisRun<Phase> events on the Rollout when
// a current run changes phase.
func (p *planner) recordAnalysisEvents(runs currentRuns) {
	s := p.ro.Status
	for _, c := range []struct {
		prev *v1alpha1.RolloutAnalysisRunStatus
		run  *v1alpha1.AnalysisRun
		kind string
	}{
		{s.BlueGreen.PostPromotionAnalysisRunStatus, runs.post, v1alpha1.RolloutTypePostPromotion},
		{s.BlueGreen.PrePromotionAnalysisRunStatus, runs.pre, v1alpha1.RolloutTypePrePromotion},
		{s.Canary.CurrentStepAnalysisRunStatus, runs.step, v1alpha1.RolloutTypeStep},
		{s.Canary.CurrentBackgroundAnalysisRunStatus, runs.background, v1alpha1.RolloutTypeBackground},
	} {
		r := c.run
		if r == nil || r.Status.Phase == "" {
			continue
		}
		if c.prev != nil && (c.prev.Name != r.Name || c.prev.Status == r.Status.Phase) {
			continue
		}
		previous := "NoPreviousStatus"
		if c.prev != nil {
			previous = string(c.prev.Status)
		}
		warning := r.Status.Phase == v1alpha1.AnalysisPhaseFailed || r.Status.Phase == v1alpha1.AnalysisPhaseError
		p.event(warning, v1alpha1.EventPrefixAnalysisRun+string(r.Status.Phase),
			fmt.Sprintf("%s Analysis Run '%s' Status New: '%s' Previous: '%s'", c.kind, r.Name, r.Status.Phase, previous))
	}
}
