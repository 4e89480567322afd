package explain

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"time"

	appsv1 "k8s.io/api/apps/v1"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

// window is the stretch of time one release ran in, from included, to
// excluded.
type window struct{ from, to time.Time }

func (w window) holds(t time.Time) bool { return !t.Before(w.from) && t.Before(w.to) }

// releases builds the current release and the one before it.
func releases(in Input, events []EventEntry) []Release {
	rss := byRevision(in.ReplicaSets)
	cur := -1
	for i, rs := range rss {
		if rs.Labels[v1alpha1.LabelPodTemplateHash] == in.Rollout.Status.CurrentPodHash {
			cur = i
		}
	}
	if cur < 0 {
		return nil
	}
	curWin := window{rss[cur].CreationTimestamp.Time, in.Now.Add(time.Nanosecond)}
	out := []Release{release(in, rss[cur], curWin, events, true)}
	if cur+1 < len(rss) {
		prev := rss[cur+1]
		out = append(out, release(in, prev, window{prev.CreationTimestamp.Time, curWin.from}, events, false))
	}
	return out
}

// byRevision sorts ReplicaSets newest revision first.
func byRevision(in []*appsv1.ReplicaSet) []*appsv1.ReplicaSet {
	out := append([]*appsv1.ReplicaSet(nil), in...)
	rev := func(rs *appsv1.ReplicaSet) int {
		n, _ := strconv.Atoi(rs.Annotations[v1alpha1.AnnotationRevision])
		return n
	}
	sort.SliceStable(out, func(i, j int) bool { return rev(out[i]) > rev(out[j]) })
	return out
}

func release(in Input, rs *appsv1.ReplicaSet, win window, events []EventEntry, current bool) Release {
	ro := in.Rollout
	hash := rs.Labels[v1alpha1.LabelPodTemplateHash]
	r := Release{Revision: rs.Annotations[v1alpha1.AnnotationRevision], Hash: hash, Role: "previous",
		Replicas: ptrValue(rs.Spec.Replicas), Available: rs.Status.AvailableReplicas}
	if current {
		r.Role = "current"
	}
	if hash == ro.Status.StableRS {
		r.Role += ", stable"
	}
	for _, c := range rs.Spec.Template.Spec.Containers {
		r.Images = append(r.Images, c.Image)
	}
	started := win.from
	r.Started = &started
	for _, e := range events {
		if win.holds(e.At) {
			r.Events = append(r.Events, e)
		}
	}
	r.Outcome, r.Ended = outcome(ro, r, current)
	r.Analyses = analyses(in.AnalysisRuns, hash) // before the steps: an abort's step comes from them
	if ro.Spec.Strategy.Canary != nil {
		r.Steps = steps(ro, rs.Name, r, win, current)
	}
	r.Experiments = experiments(in.Experiments, hash)
	return r
}

// experiments lists the Experiments of one revision, oldest first.
func experiments(exps []*v1alpha1.Experiment, hash string) []ExperimentEntry {
	var out []ExperimentEntry
	for _, ex := range exps {
		if ex.Labels[v1alpha1.LabelPodTemplateHash] != hash {
			continue
		}
		e := ExperimentEntry{Name: ex.Name, Phase: string(ex.Status.Phase), Message: ex.Status.Message}
		if !ex.CreationTimestamp.IsZero() {
			at := ex.CreationTimestamp.Time
			e.Started = &at
		}
		out = append(out, e)
	}
	sort.SliceStable(out, func(i, j int) bool { return deref(out[i].Started).Before(deref(out[j].Started)) })
	return out
}

// outcome says how a release ended, and when, from the status (for the
// current one) and the events of its window.
func outcome(ro *v1alpha1.Rollout, r Release, current bool) (string, *time.Time) {
	s := ro.Status
	if current {
		switch {
		case s.Abort:
			if s.AbortedAt != nil {
				at := s.AbortedAt.Time
				return "aborted", &at
			}
			return "aborted", lastEvent(r.Events, v1alpha1.EventRolloutAborted)
		case s.StableRS == r.Hash && s.Phase == v1alpha1.RolloutPhaseHealthy:
			return "promoted: stable", lastEvent(r.Events, v1alpha1.EventRolloutCompleted)
		case s.Phase == v1alpha1.RolloutPhasePaused:
			return "paused", nil
		}
		return "in progress", nil
	}
	if at := lastEvent(r.Events, v1alpha1.EventRolloutAborted); at != nil {
		return "aborted", at
	}
	if at := lastEvent(r.Events, v1alpha1.EventRolloutCompleted); at != nil {
		return "promoted", at
	}
	if s.StableRS == r.Hash {
		return "stable", nil
	}
	return "replaced by the next revision", nil
}

func lastEvent(events []EventEntry, reason string) *time.Time {
	for i := len(events) - 1; i >= 0; i-- {
		if events[i].Reason == reason {
			at := events[i].At
			return &at
		}
	}
	return nil
}

var (
	stepCompleted = regexp.MustCompile(`^Rollout step (\d+)/(\d+) completed`)
	scaled        = regexp.MustCompile(`^Scaled (?:up|down) ReplicaSet (\S+) \(revision \d+\) from \d+ to (\d+)`)
)

// steps lays the spec's canary steps on the release's timeline: each ends
// at its RolloutStepCompleted event and starts where the one before ended.
func steps(ro *v1alpha1.Rollout, rsName string, r Release, win window, current bool) []Step {
	specSteps := ro.Spec.Strategy.Canary.Steps
	ended := map[int]time.Time{}
	for _, e := range r.Events {
		if m := stepCompleted.FindStringSubmatch(e.Message); m != nil && e.Reason == v1alpha1.EventRolloutStepCompleted {
			n, _ := strconv.Atoi(m[1])
			ended[n] = e.At
		}
	}
	if len(ended) == 0 && !current {
		return nil // a first deploy, or a release that skipped its steps
	}
	reached := reachedStep(ro, r, ended)
	out := make([]Step, 0, len(specSteps))
	start := win.from
	var weight int32
	for i, st := range specSteps {
		if st.SetWeight != nil {
			weight = *st.SetWeight
		}
		s := Step{Number: i + 1, Description: describe(st), Weight: weight}
		s.State = stepState(ro, i, current, r.Outcome, reached)
		if end, ok := ended[i+1]; ok {
			from, to := start, end
			s.Started, s.Ended, start = &from, &to, end
		} else if s.State != "pending" && s.State != "not reached" {
			from := start
			s.Started = &from
		}
		upTo := win.to
		if s.Ended != nil {
			upTo = *s.Ended
		}
		if s.Started != nil {
			s.CanaryReplicas = replicasAt(r.Events, rsName, upTo)
		}
		out = append(out, s)
	}
	return out
}

// reachedStep is the index of the step the current release is at. An
// aborted Rollout's status points back at step 0 (as upstream writes it),
// so then the step is the one after the last completed step, or that of
// the step analysis that failed, whichever is later.
func reachedStep(ro *v1alpha1.Rollout, r Release, ended map[int]time.Time) int {
	idx := -1
	if ro.Status.CurrentStepIndex != nil {
		idx = int(*ro.Status.CurrentStepIndex)
	}
	if !ro.Status.Abort {
		return idx
	}
	for n := range ended {
		idx = max(idx, n) // step n (1-based) completed: index n is next
	}
	for _, a := range r.Analyses {
		if a.Step != nil && (a.Phase == string(v1alpha1.AnalysisPhaseFailed) || a.Phase == string(v1alpha1.AnalysisPhaseError)) {
			idx = max(idx, *a.Step-1)
		}
	}
	return idx
}

// stepState says where a step is in the release; reached is the index of
// the current release's step.
func stepState(ro *v1alpha1.Rollout, i int, current bool, outcome string, reached int) string {
	switch {
	case !current:
		if outcome == "promoted" || outcome == "stable" {
			return "done"
		}
		return "not reached"
	case i < reached:
		return "done"
	case i > reached:
		return "pending"
	case ro.Status.Abort:
		return "aborted here"
	case ro.Status.Phase == v1alpha1.RolloutPhasePaused:
		return "paused here"
	}
	return "in progress"
}

// replicasAt is the release's replica count at t, from the last
// ScalingReplicaSet event of its ReplicaSet up to t.
func replicasAt(events []EventEntry, rsName string, t time.Time) *int32 {
	var out *int32
	for _, e := range events {
		if e.At.After(t) || e.Reason != v1alpha1.EventScalingReplicaSet {
			continue
		}
		if m := scaled.FindStringSubmatch(e.Message); m != nil && m[1] == rsName {
			n, _ := strconv.Atoi(m[2])
			v := int32(n)
			out = &v
		}
	}
	return out
}

func describe(st v1alpha1.CanaryStep) string {
	switch {
	case st.SetWeight != nil:
		return fmt.Sprintf("setWeight %d", *st.SetWeight)
	case st.Pause != nil:
		if s := st.Pause.DurationSeconds(); s > 0 {
			return "pause " + (time.Duration(s) * time.Second).String()
		}
		return "pause until promoted"
	case st.Analysis != nil:
		return "analysis " + templateNames(st.Analysis)
	case st.Experiment != nil:
		return "experiment"
	case st.SetCanaryScale != nil:
		return "setCanaryScale"
	}
	return "step"
}

func templateNames(a *v1alpha1.RolloutAnalysis) string {
	var s string
	for i, t := range a.Templates {
		if i > 0 {
			s += ","
		}
		s += t.TemplateName
	}
	return s
}

func ptrValue(p *int32) int32 {
	if p == nil {
		return 0
	}
	return *p
}
