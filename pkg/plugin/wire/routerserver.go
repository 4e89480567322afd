package wire

import (
	"fmt"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

// RouterPlugin is what a traffic-router plugin binary implements; serve
// it with RouterServer. Serin's end-to-end tests build one.
type RouterPlugin interface {
	InitPlugin() RpcError
	UpdateHash(ro *v1alpha1.Rollout, canaryHash, stableHash string, extra []v1alpha1.WeightDestination) RpcError
	SetWeight(ro *v1alpha1.Rollout, weight int32, extra []v1alpha1.WeightDestination) RpcError
	SetHeaderRoute(ro *v1alpha1.Rollout, route *v1alpha1.SetHeaderRoute) RpcError
	SetMirrorRoute(ro *v1alpha1.Rollout, route *v1alpha1.SetMirrorRoute) RpcError
	RemoveManagedRoutes(ro *v1alpha1.Rollout) RpcError
	VerifyWeight(ro *v1alpha1.Rollout, weight int32, extra []v1alpha1.WeightDestination) (RpcVerified, RpcError)
	Type() string
}

// RouterServer serves a RouterPlugin over net/rpc, the plugin side of
// RouterClient. Serve it as wire.PluginSet(config.KindTrafficRouter,
// &RouterServer{Impl: p}).
type RouterServer struct{ Impl RouterPlugin }

func (s *RouterServer) InitPlugin(_ any, resp *RpcError) error {
	*resp = s.Impl.InitPlugin()
	return nil
}

func (s *RouterServer) UpdateHash(args any, resp *RpcError) error {
	a, ok := args.(*UpdateHashArgs)
	if !ok {
		return fmt.Errorf("Plugin.UpdateHash: unexpected arguments %T", args)
	}
	*resp = s.Impl.UpdateHash(&a.Rollout, a.CanaryHash, a.StableHash, a.AdditionalDestinations)
	return nil
}

func (s *RouterServer) SetWeight(args any, resp *RpcError) error {
	a, ok := args.(*SetWeightAndVerifyWeightArgs)
	if !ok {
		return fmt.Errorf("Plugin.SetWeight: unexpected arguments %T", args)
	}
	*resp = s.Impl.SetWeight(&a.Rollout, a.DesiredWeight, a.AdditionalDestinations)
	return nil
}

func (s *RouterServer) SetHeaderRoute(args any, resp *RpcError) error {
	a, ok := args.(*SetHeaderArgs)
	if !ok {
		return fmt.Errorf("Plugin.SetHeaderRoute: unexpected arguments %T", args)
	}
	*resp = s.Impl.SetHeaderRoute(&a.Rollout, &a.SetHeaderRoute)
	return nil
}

func (s *RouterServer) SetMirrorRoute(args any, resp *RpcError) error {
	a, ok := args.(*SetMirrorArgs)
	if !ok {
		return fmt.Errorf("Plugin.SetMirrorRoute: unexpected arguments %T", args)
	}
	*resp = s.Impl.SetMirrorRoute(&a.Rollout, &a.SetMirrorRoute)
	return nil
}

func (s *RouterServer) RemoveManagedRoutes(args any, resp *RpcError) error {
	a, ok := args.(*RemoveManagedRoutesArgs)
	if !ok {
		return fmt.Errorf("Plugin.RemoveManagedRoutes: unexpected arguments %T", args)
	}
	*resp = s.Impl.RemoveManagedRoutes(&a.Rollout)
	return nil
}

func (s *RouterServer) VerifyWeight(args any, resp *VerifyWeightResponse) error {
	a, ok := args.(*SetWeightAndVerifyWeightArgs)
	if !ok {
		return fmt.Errorf("Plugin.VerifyWeight: unexpected arguments %T", args)
	}
	verified, err := s.Impl.VerifyWeight(&a.Rollout, a.DesiredWeight, a.AdditionalDestinations)
	*resp = VerifyWeightResponse{Verified: verified, Err: err}
	return nil
}

func (s *RouterServer) Type(_ any, resp *string) error {
	*resp = s.Impl.Type()
	return nil
}

// StepPlugin is what a step plugin binary implements; serve it with
// StepServer.
type StepPlugin interface {
	InitPlugin() RpcError
	Run(ro *v1alpha1.Rollout, sc *RpcStepContext) (RpcStepResult, RpcError)
	Terminate(ro *v1alpha1.Rollout, sc *RpcStepContext) (RpcStepResult, RpcError)
	Abort(ro *v1alpha1.Rollout, sc *RpcStepContext) (RpcStepResult, RpcError)
	Type() string
}

// StepServer serves a StepPlugin over net/rpc, the plugin side of
// StepClient. Serve it as wire.PluginSet(config.KindStep,
// &StepServer{Impl: p}).
type StepServer struct{ Impl StepPlugin }

func (s *StepServer) InitPlugin(_ any, resp *RpcError) error {
	*resp = s.Impl.InitPlugin()
	return nil
}

func (s *StepServer) Run(args any, resp *StepResponse) error {
	a, ok := args.(*StepRunArgs)
	if !ok {
		return fmt.Errorf("Plugin.Run: unexpected arguments %T", args)
	}
	res, err := s.Impl.Run(a.Rollout, a.Context)
	*resp = StepResponse{Result: res, Error: err}
	return nil
}

func (s *StepServer) Terminate(args any, resp *StepResponse) error {
	a, ok := args.(*StepTerminateArgs)
	if !ok {
		return fmt.Errorf("Plugin.Terminate: unexpected arguments %T", args)
	}
	res, err := s.Impl.Terminate(a.Rollout, a.Context)
	*resp = StepResponse{Result: res, Error: err}
	return nil
}

func (s *StepServer) Abort(args any, resp *StepResponse) error {
	a, ok := args.(*StepAbortArgs)
	if !ok {
		return fmt.Errorf("Plugin.Abort: unexpected arguments %T", args)
	}
	res, err := s.Impl.Abort(a.Rollout, a.Context)
	*resp = StepResponse{Result: res, Error: err}
	return nil
}

func (s *StepServer) Type(_ any, resp *string) error {
	*resp = s.Impl.Type()
	return nil
}
