package wire

import (
	"context"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

// MetricClient calls a metric-provider plugin. Its methods return the
// plugin's answer, or an error when the call itself failed (process gone,
// deadline passed); a failure the plugin reports stays in its answer.
type MetricClient struct{ C Caller }

// Run calls Plugin.Run.
func (c MetricClient) Run(ctx context.Context, run *v1alpha1.AnalysisRun, m v1alpha1.Metric) (v1alpha1.Measurement, error) {
	var resp v1alpha1.Measurement
	var args any = MetricRunArgs{AnalysisRun: run, Metric: m}
	err := c.C.Call(ctx, "Plugin.Run", &args, &resp)
	return resp, err
}

// Resume calls Plugin.Resume.
func (c MetricClient) Resume(ctx context.Context, run *v1alpha1.AnalysisRun, m v1alpha1.Metric, in v1alpha1.Measurement) (v1alpha1.Measurement, error) {
	return c.measure(ctx, "Plugin.Resume", run, m, in)
}

// Terminate calls Plugin.Terminate.
func (c MetricClient) Terminate(ctx context.Context, run *v1alpha1.AnalysisRun, m v1alpha1.Metric, in v1alpha1.Measurement) (v1alpha1.Measurement, error) {
	return c.measure(ctx, "Plugin.Terminate", run, m, in)
}

func (c MetricClient) measure(ctx context.Context, method string, run *v1alpha1.AnalysisRun, m v1alpha1.Metric, in v1alpha1.Measurement) (v1alpha1.Measurement, error) {
	var resp v1alpha1.Measurement
	var args any = TerminateAndResumeArgs{AnalysisRun: run, Metric: m, Measurement: in}
	err := c.C.Call(ctx, method, &args, &resp)
	return resp, err
}

// GarbageCollect calls Plugin.GarbageCollect; the plugin's RpcError is
// returned as the error.
func (c MetricClient) GarbageCollect(ctx context.Context, run *v1alpha1.AnalysisRun, m v1alpha1.Metric, limit int) error {
	var resp RpcError
	var args any = GarbageCollectArgs{AnalysisRun: run, Metric: m, Limit: limit}
	if err := c.C.Call(ctx, "Plugin.GarbageCollect", &args, &resp); err != nil {
		return err
	}
	return resp.Err()
}

// GetMetadata calls Plugin.GetMetadata.
func (c MetricClient) GetMetadata(ctx context.Context, m v1alpha1.Metric) (map[string]string, error) {
	var resp map[string]string
	var args any = GetMetadataArgs{Metric: m}
	err := c.C.Call(ctx, "Plugin.GetMetadata", &args, &resp)
	return resp, err
}
