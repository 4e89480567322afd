// Package approval is the serin.dev/approval step plugin: the step waits
// until a person or a CI job approves the revision being rolled out, by
// annotating the Rollout with it:
//
//	kubectl annotate rollout web serin.dev/approved-revision=3 --overwrite
//
// The revision is the Rollout's rollout.argoproj.io/revision annotation.
// Annotating serin.dev/rejected-revision with it instead fails the step,
// which aborts the rollout. The step's config may name other annotations,
// so that two approval steps of one Rollout are approved separately:
//
//	plugin:
//	  name: serin.dev/approval
//	  config: {approvedAnnotation: example.com/qa-approved, rejectedAnnotation: example.com/qa-rejected, interval: 15s}
package approval

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/plugin/wire"
)

// Name is the plugin's name in a step.
const Name = "serin.dev/approval"

// Defaults of the config.
const (
	DefaultApprovedAnnotation = "serin.dev/approved-revision"
	DefaultRejectedAnnotation = "serin.dev/rejected-revision"
	DefaultInterval           = 15 * time.Second
)

// Config is the step's plugin config.
type Config struct {
	// ApprovedAnnotation and RejectedAnnotation are the annotation keys
	// whose value, the revision, approves or rejects it.
	ApprovedAnnotation string `json:"approvedAnnotation,omitempty"`
	RejectedAnnotation string `json:"rejectedAnnotation,omitempty"`
	// Interval is how often the annotations are looked at (at least 10s:
	// a shorter one is raised to Argo Rollouts' 30s default).
	Interval string `json:"interval,omitempty"`
}

// Plugin is the serin.dev/approval step plugin. It keeps no state.
type Plugin struct{}

// parse reads the config, with its defaults.
func parse(raw json.RawMessage) (Config, time.Duration, error) {
	c := Config{}
	if len(raw) > 0 && string(raw) != "null" {
		if err := json.Unmarshal(raw, &c); err != nil {
			return c, 0, fmt.Errorf("%s: invalid config: %v", Name, err)
		}
	}
	if c.ApprovedAnnotation == "" {
		c.ApprovedAnnotation = DefaultApprovedAnnotation
	}
	if c.RejectedAnnotation == "" {
		c.RejectedAnnotation = DefaultRejectedAnnotation
	}
	interval := DefaultInterval
	if c.Interval != "" {
		d, err := time.ParseDuration(c.Interval)
		if err != nil || d <= 0 {
			return c, 0, fmt.Errorf("%s: invalid interval %q: want a positive duration such as 15s", Name, c.Interval)
		}
		interval = d
	}
	return c, interval, nil
}

// Run succeeds once the Rollout's approved annotation names its revision,
// fails once the rejected one does, and is Running until then.
func (Plugin) Run(_ context.Context, ro *v1alpha1.Rollout, sc *wire.RpcStepContext) (wire.RpcStepResult, error) {
	if ro == nil || sc == nil {
		return wire.RpcStepResult{}, fmt.Errorf("%s: no Rollout or step context", Name)
	}
	c, interval, err := parse(sc.Config)
	if err != nil {
		return wire.RpcStepResult{}, err
	}
	revision := ro.Annotations[v1alpha1.AnnotationRevision]
	if revision == "" {
		return wire.RpcStepResult{Phase: wire.StepPhaseRunning, RequeueAfter: interval,
			Message: "waiting for the Rollout's revision annotation"}, nil
	}
	switch {
	case ro.Annotations[c.RejectedAnnotation] == revision:
		return wire.RpcStepResult{Phase: wire.StepPhaseFailed,
			Message: fmt.Sprintf("revision %s rejected (%s)", revision, c.RejectedAnnotation)}, nil
	case ro.Annotations[c.ApprovedAnnotation] == revision:
		return wire.RpcStepResult{Phase: wire.StepPhaseSuccessful,
			Message: fmt.Sprintf("revision %s approved (%s)", revision, c.ApprovedAnnotation)}, nil
	}
	return wire.RpcStepResult{Phase: wire.StepPhaseRunning, RequeueAfter: interval,
		Message: fmt.Sprintf("waiting for the annotation %s=%s", c.ApprovedAnnotation, revision)}, nil
}

// Terminate ends the wait: nothing is left behind.
func (Plugin) Terminate(context.Context, *v1alpha1.Rollout, *wire.RpcStepContext) (wire.RpcStepResult, error) {
	return wire.RpcStepResult{Phase: wire.StepPhaseSuccessful}, nil
}

// Abort has nothing to undo.
func (Plugin) Abort(context.Context, *v1alpha1.Rollout, *wire.RpcStepContext) (wire.RpcStepResult, error) {
	return wire.RpcStepResult{Phase: wire.StepPhaseSuccessful}, nil
}
