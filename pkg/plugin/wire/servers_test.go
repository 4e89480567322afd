package wire

import (
	"fmt"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

// The servers below answer the way plugins built on Argo Rollouts' rpc
// packages do: arguments arrive as interface values holding pointers to the
// registered argument types, replies are plain values.

// routerServer records what it was sent and answers with err.
type routerServer struct {
	got      []any
	err      RpcError
	verified RpcVerified
}

func (s *routerServer) InitPlugin(_ any, resp *RpcError) error { *resp = s.err; return nil }

func (s *routerServer) record(args any, resp *RpcError) error {
	s.got = append(s.got, args)
	*resp = s.err
	return nil
}

func (s *routerServer) UpdateHash(args any, resp *RpcError) error     { return s.record(args, resp) }
func (s *routerServer) SetWeight(args any, resp *RpcError) error      { return s.record(args, resp) }
func (s *routerServer) SetHeaderRoute(args any, resp *RpcError) error { return s.record(args, resp) }
func (s *routerServer) SetMirrorRoute(args any, resp *RpcError) error { return s.record(args, resp) }
func (s *routerServer) RemoveManagedRoutes(args any, resp *RpcError) error {
	return s.record(args, resp)
}

func (s *routerServer) VerifyWeight(args any, resp *VerifyWeightResponse) error {
	s.got = append(s.got, args)
	*resp = VerifyWeightResponse{Verified: s.verified, Err: s.err}
	return nil
}

func (s *routerServer) Type(_ any, resp *string) error { *resp = "Sample"; return nil }

// stepServer answers every operation with result, after checking its
// arguments' type.
type stepServer struct {
	got    []any
	result RpcStepResult
	err    RpcError
}

func (s *stepServer) InitPlugin(_ any, resp *RpcError) error { return nil }

func (s *stepServer) answer(args any, resp *StepResponse) error {
	switch args.(type) {
	case *StepRunArgs, *StepTerminateArgs, *StepAbortArgs:
	default:
		return fmt.Errorf("invalid args %T", args)
	}
	s.got = append(s.got, args)
	*resp = StepResponse{Result: s.result, Error: s.err}
	return nil
}

func (s *stepServer) Run(args any, resp *StepResponse) error       { return s.answer(args, resp) }
func (s *stepServer) Terminate(args any, resp *StepResponse) error { return s.answer(args, resp) }
func (s *stepServer) Abort(args any, resp *StepResponse) error     { return s.answer(args, resp) }
func (s *stepServer) Type(_ any, resp *string) error               { *resp = "Step"; return nil }

// metricImpl is a MetricPlugin that measures the value its metric's
// plugin config asks for.
type metricImpl struct{ collected int }

func (m *metricImpl) InitPlugin() RpcError { return RpcError{} }

func (m *metricImpl) Run(run *v1alpha1.AnalysisRun, metric v1alpha1.Metric) v1alpha1.Measurement {
	return v1alpha1.Measurement{Phase: v1alpha1.AnalysisPhaseSuccessful, Value: run.Name + "/" + metric.Name + ":" + string(metric.Provider.Plugin["acme/metrics"])}
}

func (m *metricImpl) Resume(_ *v1alpha1.AnalysisRun, _ v1alpha1.Metric, in v1alpha1.Measurement) v1alpha1.Measurement {
	in.Phase = v1alpha1.AnalysisPhaseFailed
	return in
}

func (m *metricImpl) Terminate(_ *v1alpha1.AnalysisRun, _ v1alpha1.Metric, in v1alpha1.Measurement) v1alpha1.Measurement {
	in.Phase = v1alpha1.AnalysisPhaseSuccessful
	return in
}

func (m *metricImpl) GarbageCollect(_ *v1alpha1.AnalysisRun, _ v1alpha1.Metric, limit int) RpcError {
	m.collected = limit
	return RpcError{ErrorString: "cannot collect"}
}

func (m *metricImpl) Type() string { return "Sample" }

func (m *metricImpl) GetMetadata(metric v1alpha1.Metric) map[string]string {
	return map[string]string{"query": metric.Name}
}
