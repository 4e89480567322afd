package wire

import (
	"context"
	"fmt"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

// StepClient calls a step plugin. Every method returns the plugin's result,
// or an error when the call failed, when the plugin answered with an
// RpcError (which errors.As finds) or when its phase is not one of the
// four known.
type StepClient struct{ C Caller }

// Run calls Plugin.Run.
func (c StepClient) Run(ctx context.Context, ro *v1alpha1.Rollout, sc *RpcStepContext) (RpcStepResult, error) {
	var args any = StepRunArgs{Rollout: ro, Context: sc}
	return c.call(ctx, "Plugin.Run", &args)
}

// Terminate calls Plugin.Terminate.
func (c StepClient) Terminate(ctx context.Context, ro *v1alpha1.Rollout, sc *RpcStepContext) (RpcStepResult, error) {
	var args any = StepTerminateArgs{Rollout: ro, Context: sc}
	return c.call(ctx, "Plugin.Terminate", &args)
}

// Abort calls Plugin.Abort.
func (c StepClient) Abort(ctx context.Context, ro *v1alpha1.Rollout, sc *RpcStepContext) (RpcStepResult, error) {
	var args any = StepAbortArgs{Rollout: ro, Context: sc}
	return c.call(ctx, "Plugin.Abort", &args)
}

// Type calls Plugin.Type.
func (c StepClient) Type(ctx context.Context) (string, error) { return Type(ctx, c.C) }

func (c StepClient) call(ctx context.Context, method string, args *any) (RpcStepResult, error) {
	var resp StepResponse
	if err := c.C.Call(ctx, method, args, &resp); err != nil {
		return RpcStepResult{}, err
	}
	if err := resp.Error.Err(); err != nil {
		return resp.Result, err
	}
	switch resp.Result.Phase {
	case StepPhaseRunning, StepPhaseSuccessful, StepPhaseFailed, StepPhaseError:
		return resp.Result, nil
	}
	return resp.Result, fmt.Errorf("step plugin returned phase %q, which is not Running, Successful, Failed or Error", resp.Result.Phase)
}
