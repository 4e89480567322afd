package rollout

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/rollout/plan"
)

type fakeSteps struct{ got []plan.StepPluginCall }

func (f *fakeSteps) Call(_ context.Context, _ *v1alpha1.Rollout, c plan.StepPluginCall) plan.StepPluginAnswer {
	f.got = append(f.got, c)
	return plan.StepPluginAnswer{Phase: v1alpha1.StepPluginPhaseSuccessful}
}

func atPluginStep() *v1alpha1.Rollout {
	ro := &v1alpha1.Rollout{}
	ro.Spec.Strategy.Canary = &v1alpha1.CanaryStrategy{Steps: []v1alpha1.CanaryStep{
		{Plugin: &v1alpha1.PluginStep{Name: "serin.dev/approval", Config: json.RawMessage(`{}`)}},
	}}
	ro.Status.Phase = v1alpha1.RolloutPhaseProgressing
	return ro
}

func TestTheStepPluginCallsThePlanDecidedAreMadeBeforePlanning(t *testing.T) {
	steps := &fakeSteps{}
	r := NewReconciler(Options{StepPlugins: steps})
	st := plan.State{Rollout: atPluginStep()}
	r.callStepPlugins(context.Background(), &st)
	if len(steps.got) != 1 || steps.got[0].Name != "serin.dev/approval" || steps.got[0].Operation != v1alpha1.StepPluginOperationRun {
		t.Fatalf("calls %+v", steps.got)
	}
	if a := st.StepPluginAnswers; len(a) != 1 || a[0].Phase != v1alpha1.StepPluginPhaseSuccessful || a[0].Name != "serin.dev/approval" {
		t.Fatalf("answers %+v: want the answer with its call", a)
	}
}

func TestWithoutStepPluginsACallIsUnavailable(t *testing.T) {
	r := NewReconciler(Options{})
	st := plan.State{Rollout: atPluginStep()}
	r.callStepPlugins(context.Background(), &st)
	if a := st.StepPluginAnswers; len(a) != 1 || !errors.Is(a[0].Unavailable, errNoStepPlugins) {
		t.Fatalf("answers %+v", a)
	}
}
