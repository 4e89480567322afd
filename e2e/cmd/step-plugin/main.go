// Command step-plugin is a step plugin for the end-to-end tests, built
// like any plugin for Argo Rollouts: a go-plugin net/rpc server with the
// step handshake. A step's config says what it waits for:
//
//	plugin:
//	  name: serin-e2e/step
//	  config: {approvalAnnotation: e2e.serin.dev/approved}   # the annotation naming the revision
//	  config: {succeedAfter: 2}                            # Successful on the second Run
//	  config: {fail: "load test failed"}                  # Failed, with this message
//
// Its status counts the Runs; Abort and Terminate succeed.
package main

import (
	"encoding/json"
	"fmt"
	"time"

	goplugin "github.com/hashicorp/go-plugin"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/plugin/config"
	"github.com/serin-dev/serin/pkg/plugin/wire"
)

// requeue is just over Argo Rollouts' 10s minimum, so that the plugin is
// called again as soon as the controller allows.
const requeue = 11 * time.Second

func main() {
	goplugin.Serve(&goplugin.ServeConfig{
		HandshakeConfig: wire.Handshake(config.KindStep),
		Plugins:         wire.PluginSet(config.KindStep, &wire.StepServer{Impl: plugin{}}),
	})
}

type plugin struct{}

type settings struct {
	ApprovalAnnotation string `json:"approvalAnnotation"`
	SucceedAfter       int    `json:"succeedAfter"`
	Fail               string `json:"fail"`
}

type state struct {
	Runs int `json:"runs"`
}

func (plugin) InitPlugin() wire.RpcError { return wire.RpcError{} }

func (plugin) Run(ro *v1alpha1.Rollout, sc *wire.RpcStepContext) (wire.RpcStepResult, wire.RpcError) {
	var s settings
	if err := json.Unmarshal(sc.Config, &s); err != nil {
		return wire.RpcStepResult{}, wire.RpcError{ErrorString: "bad config: " + err.Error()}
	}
	var st state
	if len(sc.Status) > 0 {
		_ = json.Unmarshal(sc.Status, &st)
	}
	st.Runs++
	status, _ := json.Marshal(st)
	res := wire.RpcStepResult{Phase: wire.StepPhaseRunning, RequeueAfter: requeue, Status: status}
	revision := ro.Annotations[v1alpha1.AnnotationRevision]
	switch {
	case s.Fail != "":
		res.Phase, res.Message = wire.StepPhaseFailed, s.Fail
	case s.ApprovalAnnotation != "" && ro.Annotations[s.ApprovalAnnotation] == revision:
		res.Phase, res.Message = wire.StepPhaseSuccessful, "approved revision "+revision
	case s.ApprovalAnnotation != "":
		res.Message = fmt.Sprintf("waiting for %s=%s", s.ApprovalAnnotation, revision)
	case s.SucceedAfter > 0 && st.Runs >= s.SucceedAfter:
		res.Phase, res.Message = wire.StepPhaseSuccessful, fmt.Sprintf("done after %d runs", st.Runs)
	default:
		res.Message = fmt.Sprintf("run %d", st.Runs)
	}
	return res, wire.RpcError{}
}

func (plugin) Terminate(*v1alpha1.Rollout, *wire.RpcStepContext) (wire.RpcStepResult, wire.RpcError) {
	return wire.RpcStepResult{Phase: wire.StepPhaseSuccessful, Message: "terminated"}, wire.RpcError{}
}

func (plugin) Abort(*v1alpha1.Rollout, *wire.RpcStepContext) (wire.RpcStepResult, wire.RpcError) {
	return wire.RpcStepResult{Phase: wire.StepPhaseSuccessful, Message: "aborted"}, wire.RpcError{}
}

func (plugin) Type() string { return "SerinE2EStep" }
