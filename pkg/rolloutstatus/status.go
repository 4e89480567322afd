// Package rolloutstatus turns a Rollout's status into a verdict a script
// can act on: whether it is final (Healthy, Degraded or aborted) and the
// exit code `kubectl serin status` ends with.
package rolloutstatus

import (
	"strconv"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

// Exit codes of `kubectl serin status`. 1 is left for errors (a bad flag,
// a Rollout that cannot be read).
const (
	ExitHealthy     = 0
	ExitError       = 1
	ExitDegraded    = 2
	ExitAborted     = 3
	ExitPaused      = 4
	ExitProgressing = 5
	ExitTimeout     = 6
)

// Verdict is what the status says.
type Verdict struct {
	Rollout   string `json:"rollout"`
	Namespace string `json:"namespace"`
	Phase     string `json:"phase"`
	Message   string `json:"message,omitempty"`
	Aborted   bool   `json:"aborted"`
	// Observed tells that the controller has seen the current spec.
	Observed bool `json:"observed"`
	// Final tells that the Rollout will stay so until something changes
	// it: Healthy, Degraded or aborted, with the spec observed.
	Final    bool `json:"final"`
	ExitCode int  `json:"exitCode"`
}

// Of judges a Rollout's status.
func Of(ro *v1alpha1.Rollout) Verdict {
	s := ro.Status
	v := Verdict{Rollout: ro.Name, Namespace: ro.Namespace, Phase: string(s.Phase), Message: s.Message, Aborted: s.Abort,
		Observed: s.ObservedGeneration == strconv.FormatInt(ro.Generation, 10)}
	if v.Phase == "" {
		v.Phase = "Unknown"
	}
	switch {
	case !v.Observed:
		v.ExitCode = ExitProgressing
	case s.Abort:
		v.Final, v.ExitCode = true, ExitAborted
	case s.Phase == v1alpha1.RolloutPhaseHealthy:
		v.Final, v.ExitCode = true, ExitHealthy
	case s.Phase == v1alpha1.RolloutPhaseDegraded:
		v.Final, v.ExitCode = true, ExitDegraded
	case s.Phase == v1alpha1.RolloutPhasePaused:
		v.ExitCode = ExitPaused
	default:
		v.ExitCode = ExitProgressing
	}
	return v
}
