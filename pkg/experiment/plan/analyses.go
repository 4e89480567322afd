package plan

import (
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/serin-dev/serin/pkg/analysis/templates"
	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/event"
	"github.com/serin-dev/serin/pkg/metric"
)

// verifyAnalyses checks, until the experiment is available, that every
// analysis' templates exist, and returns the status message of each that
// does not, by analysis name.
func (c *computation) verifyAnalyses() map[string]string {
	if c.old.AvailableAt != nil {
		return nil
	}
	out := map[string]string{}
	for _, a := range c.ex.Spec.Analyses {
		if err := c.st.Analyses[a.Name].Err; err != nil {
			format := MessageTemplateVerify
			if a.IsClusterScope() {
				format = MessageClusterVerify
			}
			out[a.Name] = fmt.Sprintf(format, a.Name, err)
		}
	}
	return out
}

// analysis decides an analysis' AnalysisRun and status: its templates are
// checked until the experiment is available, its run is started then, and
// followed until it ends or the experiment does, which terminates it.
func (c *computation) analysis(a *v1alpha1.ExperimentAnalysisTemplateRef) {
	prev := v1alpha1.ExperimentAnalysisRunStatus{Name: a.Name}
	if cur := c.old.AnalysisRunStatusByName(a.Name); cur != nil {
		prev = *cur
	}
	next := prev
	c.followRun(a, &prev, &next)
	if prev.Phase != next.Phase && next.Phase != "" {
		msg := fmt.Sprintf(MessageRunTransition, a.Name, prev.Phase, next.Phase)
		if next.Message != "" {
			msg += ": " + next.Message
		}
		warn := next.Phase == v1alpha1.AnalysisPhaseFailed || next.Phase == v1alpha1.AnalysisPhaseError || next.Phase == v1alpha1.AnalysisPhaseInconclusive
		reason := EventPrefixRun + string(next.Phase)
		c.event(warn, reason, msg)
		c.p.RolloutEvents = append(c.p.RolloutEvents, event.Event{Warning: true, Reason: reason, Message: msg})
	}
	c.setRunStatus(next)
}

func (c *computation) followRun(a *v1alpha1.ExperimentAnalysisTemplateRef, prev, next *v1alpha1.ExperimentAnalysisRunStatus) {
	if c.old.AvailableAt == nil {
		if msg, bad := c.unverified[a.Name]; bad {
			next.Phase, next.Message = v1alpha1.AnalysisPhaseError, msg
		}
		return
	}
	if prev.AnalysisRun == "" {
		if !c.ending {
			c.startRun(a, next)
		}
		return
	}
	if prev.Phase.Completed() {
		return
	}
	run := c.st.Runs[prev.AnalysisRun]
	if run == nil {
		next.Phase = v1alpha1.AnalysisPhaseError
		next.Message = c.st.LostRuns[prev.AnalysisRun]
		if next.Message == "" {
			next.Message = fmt.Sprintf("analysisruns.argoproj.io %q not found", prev.AnalysisRun)
		}
		return
	}
	if c.ending {
		if !run.Status.Phase.Completed() && !run.Spec.Terminate {
			c.event(false, EventRunTerminating, fmt.Sprintf(MessageTerminatingRun, a.Name, run.Name))
			c.p.TerminateRuns = append(c.p.TerminateRuns, run)
		}
		return
	}
	next.Phase, next.Message = run.Status.Phase, run.Status.Message
	if next.Phase == "" {
		// Not reconciled by the AnalysisRun controller yet.
		next.Phase = v1alpha1.AnalysisPhasePending
	}
}

// startRun plans an analysis' AnalysisRun, <experiment>-<analysis>. A run
// of ours under that name that is still running the same spec is taken up
// again (an earlier reconcile made it but its status write was lost); a
// name taken otherwise gets the next ".<n>" suffix.
func (c *computation) startRun(a *v1alpha1.ExperimentAnalysisTemplateRef, next *v1alpha1.ExperimentAnalysisRunStatus) {
	if msg := c.st.Outcome.RunErrors[a.Name]; msg != "" {
		next.Phase, next.Message = v1alpha1.AnalysisPhaseError, msg
		return
	}
	run, err := c.newRun(a)
	if err != nil {
		next.Phase, next.Message = v1alpha1.AnalysisPhaseError, fmt.Sprintf(MessageRunCreateFailed, a.Name, err)
		return
	}
	base := run.Name
	prev := c.st.Runs[base]
	if prev == nil || prev.Spec.Terminate || prev.Status.Phase.Completed() || !templates.SameSpec(prev.Spec, run.Spec) {
		for n := 1; c.st.Runs[run.Name] != nil; n++ {
			run.Name = templates.CollisionName(base, n)
		}
		c.p.CreateRuns = append(c.p.CreateRuns, RunCreate{Analysis: a.Name, Run: run})
	}
	if name := c.st.Outcome.RunNames[a.Name]; name != "" {
		run.Name = name
	}
	next.Phase, next.AnalysisRun, next.Message = v1alpha1.AnalysisPhasePending, run.Name, ""
}

// newRun builds an analysis' AnalysisRun from its templates, with the
// experiment's dry-run, retention and run metadata, the controller instance
// label, and the experiment as its controller.
func (c *computation) newRun(a *v1alpha1.ExperimentAnalysisTemplateRef) (*v1alpha1.AnalysisRun, error) {
	args, err := c.runArgs(a.Args)
	if err != nil {
		return nil, err
	}
	labels, annotations := map[string]string{}, map[string]string{}
	if id, ok := c.ex.Labels[v1alpha1.LabelControllerInstanceID]; ok && id != "" {
		labels[v1alpha1.LabelControllerInstanceID] = id
	}
	for k, v := range c.ex.Spec.AnalysisRunMetadata.Labels {
		labels[k] = v
	}
	for k, v := range c.ex.Spec.AnalysisRunMetadata.Annotations {
		annotations[k] = v
	}
	run, err := templates.NewRun(c.st.Analyses[a.Name].Set, templates.RunOptions{
		Name: c.ex.Name + "-" + a.Name, Namespace: c.ex.Namespace,
		Labels: labels, Annotations: annotations, Args: args,
		DryRun: c.ex.Spec.DryRun, MeasurementRetention: c.ex.Spec.MeasurementRetention,
	})
	if err != nil {
		return nil, err
	}
	run.OwnerReferences = []metav1.OwnerReference{controllerRef(c.ex)}
	return run, nil
}

// runArgs fills the experiment's placeholders into the analysis' argument
// values: {{templates.<name>.podTemplateHash}}, {{templates.<name>.replicaset.name}},
// {{experiment.availableAt}} and {{experiment.finishedAt}}. A valueFrom is
// passed on as it is (Argo Rollouts drops it).
func (c *computation) runArgs(args []v1alpha1.Argument) ([]v1alpha1.Argument, error) {
	values := map[string]string{}
	if at := c.old.AvailableAt; at != nil {
		values["experiment.availableAt"] = at.UTC().Format(time.RFC3339)
		if c.ex.Spec.Duration != "" {
			d, err := c.ex.Spec.Duration.Duration()
			if err != nil {
				return nil, err
			}
			values["experiment.finishedAt"] = at.Add(d).UTC().Format(time.RFC3339)
		}
	}
	for _, t := range c.ex.Spec.Templates {
		if rs := c.st.ReplicaSets[t.Name]; rs != nil {
			values["templates."+t.Name+".podTemplateHash"] = rs.Labels[v1alpha1.LabelPodTemplateHash]
			values["templates."+t.Name+".replicaset.name"] = rs.Name
		}
	}
	out := make([]v1alpha1.Argument, 0, len(args))
	for _, a := range args {
		a = *a.DeepCopy()
		if a.Value != nil {
			v, err := metric.Substitute(*a.Value, values)
			if err != nil {
				return nil, err
			}
			a.Value = &v
		}
		out = append(out, a)
	}
	return out, nil
}
