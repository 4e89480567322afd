package simulate

import (
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/progress"
)

// snapshot is everything whose change means another reconcile is due.
func (w *world) snapshot() string {
	type rsView struct{ Spec, Available int32 }
	rss := map[string]rsView{}
	for n, rs := range w.rss {
		rss[n] = rsView{ptrValue(rs.Spec.Replicas), rs.Status.AvailableReplicas}
	}
	runs := map[string]string{}
	for n, r := range w.runs {
		runs[n] = fmt.Sprint(r.Status.Phase, r.Spec.Terminate)
	}
	for n, e := range w.exps {
		runs["experiment/"+n] = fmt.Sprint(e.Status.Phase, e.Spec.Terminate)
	}
	selectors := map[string]map[string]string{}
	for n, s := range w.services {
		selectors[n] = s.Spec.Selector
	}
	data, _ := json.Marshal([]any{w.ro.Status, w.ro.Annotations, rss, runs, selectors, len(w.objects)})
	return string(data)
}

func ptrValue(p *int32) int32 {
	if p == nil {
		return 1
	}
	return *p
}

// ended tells whether the rollout is over: fully promoted or aborted.
func (w *world) ended() (string, bool) {
	e := progress.Of(w.ro, w.now, nil)
	switch {
	case e.Complete:
		return "fully promoted: the new revision is stable", true
	case e.Aborted:
		return "aborted: " + w.ro.Status.Message, true
	}
	return "", false
}

// next makes the next thing happen on a settled rollout: a person promotes
// an indefinite pause, or the clock jumps to the next requeue, pod becoming
// ready or analysis ending. It returns false when nothing is left to happen.
func (w *world) next(r *Report, start time.Time, requeue time.Duration) bool {
	if why, ok := w.waitsForPerson(); ok {
		r.record(w, start, "waiting for promote ("+why+"); promoted in the simulation")
		r.PromoteWaits++
		w.promote()
		return true
	}
	at, what, ok := w.nextEvent(requeue)
	if !ok {
		r.record(w, start, "")
		return false
	}
	r.record(w, start, what)
	w.now = at
	w.finishRuns()
	w.kubelet()
	return true
}

// waitsForPerson tells whether the rollout now waits for a promote.
func (w *world) waitsForPerson() (string, bool) {
	if w.ro.Spec.Paused {
		return "spec.paused", true
	}
	for _, c := range w.ro.Status.PauseConditions {
		switch c.Reason {
		case v1alpha1.PauseReasonCanaryPauseStep:
			if st := w.currentStep(); st != nil && st.Pause != nil && st.Pause.DurationSeconds() <= 0 {
				return "indefinite pause step", true
			}
		case v1alpha1.PauseReasonBlueGreenPause:
			bg := w.ro.Spec.Strategy.BlueGreen
			if bg != nil && bg.AutoPromotionEnabled != nil && !*bg.AutoPromotionEnabled {
				return "autoPromotionEnabled: false", true
			}
		case v1alpha1.PauseReasonInconclusiveAnalysis, v1alpha1.PauseReasonInconclusiveExperiment:
			return string(c.Reason), true
		}
	}
	return "", false
}

func (w *world) currentStep() *v1alpha1.CanaryStep {
	c := w.ro.Spec.Strategy.Canary
	i := w.ro.Status.CurrentStepIndex
	if c == nil || i == nil || int(*i) >= len(c.Steps) {
		return nil
	}
	return &c.Steps[*i]
}

// promote does what `kubectl argo rollouts promote` does on a paused
// rollout: it clears the pause conditions (status.controllerPause stays,
// which tells the controller the pause was ended by a person).
func (w *world) promote() {
	w.ro.Spec.Paused = false
	w.ro.Status.PauseConditions = nil
}

// nextEvent is the earliest of the requeue the last plan asked for, a pod
// becoming ready and an analysis or experiment ending.
func (w *world) nextEvent(requeue time.Duration) (time.Time, string, bool) {
	type event struct {
		at   time.Time
		what string
	}
	var events []event
	if requeue > 0 {
		// The controller compares a pause's end with "after": a reconcile
		// at exactly its end sees it still running. A real requeue is never
		// that exact; one millisecond stands for that slack.
		events = append(events, event{w.now.Add(requeue + time.Millisecond), w.requeueReason()})
	}
	for _, pods := range w.podsSince {
		for _, since := range pods {
			if ready := since.Add(w.podReady); ready.After(w.now) {
				events = append(events, event{ready, "pods becoming ready"})
			}
		}
	}
	for _, r := range w.runs {
		if end, ok := w.runEnd(r); ok && !r.Status.Phase.Completed() {
			events = append(events, event{end, "analysis " + r.Name + " (assumed to pass)"})
		}
	}
	for _, e := range w.exps {
		if !e.Status.Phase.Completed() {
			d, _ := e.Spec.Duration.Duration()
			events = append(events, event{e.CreationTimestamp.Add(d), "experiment " + e.Name + " (assumed to pass)"})
		}
	}
	if len(events) == 0 {
		return time.Time{}, "", false
	}
	sort.SliceStable(events, func(i, j int) bool { return events[i].at.Before(events[j].at) })
	return events[0].at, events[0].what, true
}

// runEnd is when a run's measurements would be done. Background runs, and
// runs that measure until stopped, never end on their own.
func (w *world) runEnd(r *v1alpha1.AnalysisRun) (time.Time, bool) {
	if r.Labels[v1alpha1.LabelRolloutType] == v1alpha1.RolloutTypeBackground {
		return time.Time{}, false
	}
	d, ok := progress.MetricsDuration(r.Spec.Metrics)
	if !ok {
		return time.Time{}, false
	}
	return r.CreationTimestamp.Add(d), true
}

// finishRuns ends, as Successful, the runs and experiments whose time is up.
func (w *world) finishRuns() {
	for _, r := range w.runs {
		if end, ok := w.runEnd(r); ok && !end.After(w.now) && !r.Status.Phase.Completed() {
			r.Status.Phase = v1alpha1.AnalysisPhaseSuccessful
			r.Status.Message = "assumed to pass in the simulation"
		}
	}
	for _, e := range w.exps {
		d, _ := e.Spec.Duration.Duration()
		if !e.CreationTimestamp.Add(d).After(w.now) && !e.Status.Phase.Completed() {
			e.Status.Phase = v1alpha1.AnalysisPhaseSuccessful
		}
	}
}

// requeueReason says what a requeue waits for: a timed pause, or a timer
// of the controller (progress deadline, scale-down delay).
func (w *world) requeueReason() string {
	if st := w.currentStep(); st != nil && st.Pause != nil && len(w.ro.Status.PauseConditions) > 0 {
		return "pause " + (time.Duration(st.Pause.DurationSeconds()) * time.Second).String()
	}
	for _, c := range w.ro.Status.PauseConditions {
		if c.Reason == v1alpha1.PauseReasonBlueGreenPause {
			return "autoPromotionSeconds"
		}
	}
	return "controller timer (requeue)"
}
