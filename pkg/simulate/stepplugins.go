package simulate

import (
	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/rollout/plan"
)

// answerStepPlugins plays every step plugin: a Run succeeds at once, as an
// analysis is assumed to pass; a Terminate or Abort succeeds too.
func answerStepPlugins(calls []plan.StepPluginCall) []plan.StepPluginAnswer {
	answers := make([]plan.StepPluginAnswer, 0, len(calls))
	for _, c := range calls {
		answers = append(answers, plan.StepPluginAnswer{StepPluginCall: c, Phase: v1alpha1.StepPluginPhaseSuccessful, Status: c.Status})
	}
	return answers
}

// hasStepPlugins tells whether the Rollout has plugin steps.
func hasStepPlugins(ro *v1alpha1.Rollout) bool {
	if c := ro.Spec.Strategy.Canary; c != nil {
		for _, s := range c.Steps {
			if s.Plugin != nil {
				return true
			}
		}
	}
	return false
}
