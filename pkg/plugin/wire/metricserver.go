package wire

import (
	"fmt"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

// MetricPlugin is what a metric-provider plugin binary implements; serve
// it with MetricServer.
type MetricPlugin interface {
	InitPlugin() RpcError
	Run(run *v1alpha1.AnalysisRun, m v1alpha1.Metric) v1alpha1.Measurement
	Resume(run *v1alpha1.AnalysisRun, m v1alpha1.Metric, in v1alpha1.Measurement) v1alpha1.Measurement
	Terminate(run *v1alpha1.AnalysisRun, m v1alpha1.Metric, in v1alpha1.Measurement) v1alpha1.Measurement
	GarbageCollect(run *v1alpha1.AnalysisRun, m v1alpha1.Metric, limit int) RpcError
	Type() string
	GetMetadata(m v1alpha1.Metric) map[string]string
}

// MetricServer serves a MetricPlugin over net/rpc, the plugin side of
// MetricClient. Serve it as wire.PluginSet(config.KindMetricProvider,
// &MetricServer{Impl: p}).
type MetricServer struct{ Impl MetricPlugin }

func (s *MetricServer) InitPlugin(_ any, resp *RpcError) error {
	*resp = s.Impl.InitPlugin()
	return nil
}

func (s *MetricServer) Run(args any, resp *v1alpha1.Measurement) error {
	a, ok := args.(*MetricRunArgs)
	if !ok {
		return fmt.Errorf("Plugin.Run: unexpected arguments %T", args)
	}
	*resp = s.Impl.Run(a.AnalysisRun, a.Metric)
	return nil
}

func (s *MetricServer) Resume(args any, resp *v1alpha1.Measurement) error {
	a, ok := args.(*TerminateAndResumeArgs)
	if !ok {
		return fmt.Errorf("Plugin.Resume: unexpected arguments %T", args)
	}
	*resp = s.Impl.Resume(a.AnalysisRun, a.Metric, a.Measurement)
	return nil
}

func (s *MetricServer) Terminate(args any, resp *v1alpha1.Measurement) error {
	a, ok := args.(*TerminateAndResumeArgs)
	if !ok {
		return fmt.Errorf("Plugin.Terminate: unexpected arguments %T", args)
	}
	*resp = s.Impl.Terminate(a.AnalysisRun, a.Metric, a.Measurement)
	return nil
}

func (s *MetricServer) GarbageCollect(args any, resp *RpcError) error {
	a, ok := args.(*GarbageCollectArgs)
	if !ok {
		return fmt.Errorf("Plugin.GarbageCollect: unexpected arguments %T", args)
	}
	*resp = s.Impl.GarbageCollect(a.AnalysisRun, a.Metric, a.Limit)
	return nil
}

func (s *MetricServer) Type(_ any, resp *string) error {
	*resp = s.Impl.Type()
	return nil
}

func (s *MetricServer) GetMetadata(args any, resp *map[string]string) error {
	a, ok := args.(*GetMetadataArgs)
	if !ok {
		return fmt.Errorf("Plugin.GetMetadata: unexpected arguments %T", args)
	}
	*resp = s.Impl.GetMetadata(a.Metric)
	return nil
}
