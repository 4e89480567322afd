// Package explain tells the story of a Rollout's current and previous
// release from the objects the controller leaves behind: the Rollout, its
// ReplicaSets, AnalysisRuns, Experiments and events. It reads only fields
// Argo Rollouts writes too, so it explains Rollouts that either controller
// ran. It is pure: objects and the time go in, a Report comes out; render
// it with WriteText or as JSON/YAML.
package explain

import (
	"sort"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/progress"
)

// Input is what is read from the cluster about one Rollout.
type Input struct {
	Rollout *v1alpha1.Rollout
	// ReplicaSets, AnalysisRuns and Experiments the Rollout owns.
	ReplicaSets  []*appsv1.ReplicaSet
	AnalysisRuns []*v1alpha1.AnalysisRun
	Experiments  []*v1alpha1.Experiment
	// Events about the Rollout and the objects it owns.
	Events []corev1.Event
	// AnalysisDuration says how long an analysis still to run lasts, for
	// the ETA; nil counts analyses as instant.
	AnalysisDuration progress.AnalysisDuration
	Now              time.Time
}

// Report is the explanation of one Rollout.
type Report struct {
	Rollout   string `json:"rollout"`
	Namespace string `json:"namespace"`
	Strategy  string `json:"strategy"`
	Phase     string `json:"phase"`
	Message   string `json:"message,omitempty"`
	// Releases are the current release first, then the previous one.
	Releases []Release `json:"releases"`
	// Decision is what stopped the current release: the measurement that
	// aborted or paused it, or the person who did.
	Decision *Decision `json:"decision,omitempty"`
	// Writers are who last wrote the Rollout, from its managed fields.
	Writers []Writer `json:"writers,omitempty"`
	// Next is what happens next and when.
	Next Next `json:"next"`
}

// Release is one revision of the pod template being rolled out.
type Release struct {
	Revision string     `json:"revision"`
	Hash     string     `json:"podTemplateHash"`
	Images   []string   `json:"images"`
	Role     string     `json:"role"`
	Outcome  string     `json:"outcome"`
	Started  *time.Time `json:"started,omitempty"`
	Ended    *time.Time `json:"ended,omitempty"`
	// Replicas and Available are the ReplicaSet's now.
	Replicas  int32      `json:"replicas"`
	Available int32      `json:"available"`
	Steps     []Step     `json:"steps,omitempty"`
	Analyses  []Analysis `json:"analyses,omitempty"`
	// Experiments are the release's Experiments (experiment steps).
	Experiments []ExperimentEntry `json:"experiments,omitempty"`
	Events      []EventEntry      `json:"events,omitempty"`
}

// ExperimentEntry is one Experiment of a release.
type ExperimentEntry struct {
	Name    string     `json:"name"`
	Phase   string     `json:"phase"`
	Message string     `json:"message,omitempty"`
	Started *time.Time `json:"started,omitempty"`
}

// Step is one canary step of a release.
type Step struct {
	// Number is 1-based, as the events count them.
	Number      int        `json:"number"`
	Description string     `json:"description"`
	Started     *time.Time `json:"started,omitempty"`
	Ended       *time.Time `json:"ended,omitempty"`
	// Weight is the canary's traffic share the step sets or keeps.
	Weight int32 `json:"weight"`
	// CanaryReplicas is the release's replica count when the step ended
	// (or now), from the ScalingReplicaSet events; nil when unknown.
	CanaryReplicas *int32 `json:"canaryReplicas,omitempty"`
	State          string `json:"state"`
}

// EventEntry is one event in a release's window.
type EventEntry struct {
	At      time.Time `json:"at"`
	Object  string    `json:"object"`
	Reason  string    `json:"reason"`
	Message string    `json:"message"`
}

// Writer is one field manager of the Rollout.
type Writer struct {
	Manager     string    `json:"manager"`
	Operation   string    `json:"operation"`
	Subresource string    `json:"subresource,omitempty"`
	At          time.Time `json:"at"`
}

// Next is what the Rollout does next, and when it should be done.
type Next struct {
	progress.Estimate
	// ETA is when the update should complete, when that is known.
	ETA *time.Time `json:"eta,omitempty"`
	// RemainingSeconds is Remaining in seconds, for scripts.
	RemainingSeconds float64 `json:"remainingSeconds"`
}

// Build explains the Rollout.
func Build(in Input) Report {
	ro := in.Rollout
	r := Report{Rollout: ro.Name, Namespace: ro.Namespace, Strategy: strategy(ro),
		Phase: string(ro.Status.Phase), Message: ro.Status.Message}
	events := sortedEvents(in.Events)
	r.Releases = releases(in, events)
	r.Decision = decide(in, r.Releases)
	r.Writers = writers(ro)
	e := progress.Of(ro, in.Now, in.AnalysisDuration)
	r.Next = Next{Estimate: e, RemainingSeconds: e.Remaining.Seconds()}
	if e.Known() && !e.Complete {
		eta := in.Now.Add(e.Remaining)
		r.Next.ETA = &eta
	}
	return r
}

func strategy(ro *v1alpha1.Rollout) string {
	if ro.Spec.Strategy.BlueGreen != nil {
		return "blueGreen"
	}
	return "canary"
}

// eventTime is when an event last happened.
func eventTime(e corev1.Event) time.Time {
	switch {
	case !e.LastTimestamp.IsZero():
		return e.LastTimestamp.Time
	case !e.EventTime.IsZero():
		return e.EventTime.Time
	}
	return e.FirstTimestamp.Time
}

// combinedPrefix starts the message of an event client-go's recorder
// aggregated from similar ones.
const combinedPrefix = "(combined from similar events): "

func sortedEvents(in []corev1.Event) []EventEntry {
	out := make([]EventEntry, 0, len(in))
	for _, e := range in {
		// The event recorder folds many similar events into one whose
		// message carries this prefix.
		msg := strings.TrimPrefix(e.Message, combinedPrefix)
		out = append(out, EventEntry{At: eventTime(e), Object: e.InvolvedObject.Kind + "/" + e.InvolvedObject.Name,
			Reason: e.Reason, Message: msg})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].At.Before(out[j].At) })
	return out
}

// writers lists the Rollout's field managers, oldest write first.
func writers(ro *v1alpha1.Rollout) []Writer {
	var out []Writer
	for _, f := range ro.ManagedFields {
		w := Writer{Manager: f.Manager, Operation: string(f.Operation), Subresource: f.Subresource}
		if f.Time != nil {
			w.At = f.Time.Time
		}
		out = append(out, w)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].At.Before(out[j].At) })
	return out
}
