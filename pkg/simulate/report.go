package simulate

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/progress"
)

// Report is what a simulation found.
type Report struct {
	Rollout   string `json:"rollout"`
	Namespace string `json:"namespace"`
	Strategy  string `json:"strategy"`
	// Rows are the states the rollout settles in, in order.
	Rows []Row `json:"rows"`
	// InvalidSpec lists every InvalidSpec message: the spec's own
	// validation and the condition the planner wrote.
	InvalidSpec []string `json:"invalidSpec,omitempty"`
	// MinimumDuration is the least time to full promotion: indefinite
	// pauses count as promoted at once, analyses as passing.
	MinimumDuration time.Duration `json:"minimumDuration"`
	// MinimumSeconds is MinimumDuration in seconds, for scripts.
	MinimumSeconds float64 `json:"minimumSeconds"`
	// PromoteWaits counts the pauses that wait for a person.
	PromoteWaits int `json:"promoteWaits"`
	// Completed tells that the simulation reached full promotion.
	Completed bool `json:"completed"`
	// End says how the simulation ended.
	End string `json:"end"`
	// Notes are the assumptions the simulation made.
	Notes []string `json:"notes,omitempty"`
}

// Row is one settled state of the rollout.
type Row struct {
	// At is the simulated time since the start; AtSeconds the same in
	// seconds.
	At        time.Duration `json:"at"`
	AtSeconds float64       `json:"atSeconds"`
	// Step is the current canary step (1-based, "3/4") and what it does;
	// for blue-green, the stage.
	Step string `json:"step"`
	// Desired and Stable are the replicas of the new and the stable
	// revision (spec, and available in parentheses when rendering).
	DesiredReplicas  int32 `json:"desiredReplicas"`
	DesiredAvailable int32 `json:"desiredAvailable"`
	StableReplicas   int32 `json:"stableReplicas"`
	StableAvailable  int32 `json:"stableAvailable"`
	OtherReplicas    int32 `json:"otherReplicas,omitempty"`
	// CanaryWeight is the canary's traffic share the plan decided
	// (status.canary.weights) or, without a router, the step's weight.
	CanaryWeight *int32 `json:"canaryWeight,omitempty"`
	// Routers are the weights each traffic-routing object carries.
	Routers []RouterWeights `json:"routers,omitempty"`
	// Gates are the analyses and experiments running.
	Gates []string `json:"gates,omitempty"`
	Phase string   `json:"phase"`
	// Waiting is what the rollout waits for before the next row.
	Waiting string `json:"waiting,omitempty"`
}

func (r *Report) addInvalid(msg string) {
	if !slices.Contains(r.InvalidSpec, msg) {
		r.InvalidSpec = append(r.InvalidSpec, msg)
	}
}

// record adds a row for the current state, unless it repeats the last one.
func (r *Report) record(w *world, start time.Time, waiting string) {
	row := Row{At: w.now.Sub(start), AtSeconds: w.now.Sub(start).Round(time.Second).Seconds(), Step: stepLabel(w.ro), Phase: string(w.ro.Status.Phase), Waiting: waiting}
	w.countReplicas(&row)
	if weight, ok := progress.CanaryWeight(w.ro); ok {
		row.CanaryWeight = &weight
	}
	row.Routers = w.routerWeights()
	for _, run := range w.runs {
		if !run.Status.Phase.Completed() && !run.Spec.Terminate {
			row.Gates = append(row.Gates, "analysis "+run.Name+" ("+run.Labels[v1alpha1.LabelRolloutType]+")")
		}
	}
	for _, e := range w.exps {
		if !e.Status.Phase.Completed() && !e.Spec.Terminate {
			row.Gates = append(row.Gates, "experiment "+e.Name)
		}
	}
	sort.Strings(row.Gates)
	if n := len(r.Rows); n > 0 && sameRow(r.Rows[n-1], row) {
		r.Rows[n-1].Waiting = row.Waiting
		return
	}
	// A state passed through at the same instant, in the same step and
	// waiting for nothing, is replaced by the one it settled in.
	if n := len(r.Rows); n > 0 && r.Rows[n-1].Waiting == "" && r.Rows[n-1].At == row.At && r.Rows[n-1].Step == row.Step {
		r.Rows[n-1] = row
		return
	}
	r.Rows = append(r.Rows, row)
}

func sameRow(a, b Row) bool {
	a.At, b.At, a.AtSeconds, b.AtSeconds, a.Waiting, b.Waiting = 0, 0, 0, 0, "", ""
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}

// countReplicas fills in the replicas of the desired, the stable and any
// other revision.
func (w *world) countReplicas(row *Row) {
	for _, rs := range w.rss {
		hash := rs.Labels[v1alpha1.LabelPodTemplateHash]
		n := ptrValue(rs.Spec.Replicas)
		switch {
		case hash == w.ro.Status.CurrentPodHash:
			row.DesiredReplicas, row.DesiredAvailable = n, rs.Status.AvailableReplicas
		case hash == w.ro.Status.StableRS:
			row.StableReplicas, row.StableAvailable = n, rs.Status.AvailableReplicas
		default:
			row.OtherReplicas += n
		}
	}
}

// stepLabel names the canary step the Rollout is at, or the blue-green
// stage.
func stepLabel(ro *v1alpha1.Rollout) string {
	if bg := ro.Spec.Strategy.BlueGreen; bg != nil {
		s := ro.Status
		switch {
		case s.BlueGreen.ActiveSelector == s.CurrentPodHash:
			return "active Service on the new revision"
		case s.BlueGreen.PreviewSelector == s.CurrentPodHash:
			return "preview Service on the new revision"
		}
		return "new revision scaling up"
	}
	steps := ro.Spec.Strategy.Canary.Steps
	i := ro.Status.CurrentStepIndex
	if i == nil || len(steps) == 0 {
		return "-"
	}
	if int(*i) >= len(steps) {
		return fmt.Sprintf("%d/%d done", len(steps), len(steps))
	}
	return fmt.Sprintf("%d/%d %s", *i+1, len(steps), describeStep(steps[*i]))
}

func describeStep(st v1alpha1.CanaryStep) string {
	switch {
	case st.SetWeight != nil:
		return fmt.Sprintf("setWeight %d", *st.SetWeight)
	case st.Pause != nil:
		if s := st.Pause.DurationSeconds(); s > 0 {
			return "pause " + (time.Duration(s) * time.Second).String()
		}
		return "pause (indefinite)"
	case st.Analysis != nil:
		return "analysis"
	case st.Experiment != nil:
		return "experiment"
	case st.SetCanaryScale != nil:
		return "setCanaryScale"
	case st.SetHeaderRoute != nil:
		return "setHeaderRoute"
	case st.SetMirrorRoute != nil:
		return "setMirrorRoute"
	case st.Plugin != nil:
		return "plugin " + st.Plugin.Name
	}
	return "step"
}

// finish fills in the totals and the notes on what was assumed.
func (r *Report) finish(w *world, start time.Time) Report {
	r.Completed = progress.Of(w.ro, w.now, nil).Complete
	r.MinimumDuration = w.now.Sub(start)
	r.MinimumSeconds = r.MinimumDuration.Round(time.Second).Seconds()
	if len(w.routers) == 0 && w.ro.Spec.Strategy.Canary != nil && w.ro.Spec.Strategy.Canary.TrafficRouting != nil {
		r.Notes = append(r.Notes, "no traffic-routing objects given: the weights are those the steps set, no router object is shown")
	}
	if r.PromoteWaits > 0 {
		r.Notes = append(r.Notes, fmt.Sprintf("%d pause(s) wait for `kubectl argo rollouts promote`; the minimum duration counts them as promoted at once", r.PromoteWaits))
	}
	r.Notes = append(r.Notes, "analyses and experiments are assumed to pass, taking initialDelay + interval × (count-1); background analyses run until promotion")
	if hasStepPlugins(w.ro) {
		r.Notes = append(r.Notes, "step plugins are assumed to succeed at once")
	}
	return *r
}
