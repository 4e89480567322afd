// Package wire is the contract between the controller and plugin binaries
// built for Argo Rollouts: hashicorp/go-plugin handshakes, net/rpc method
// names, and the argument and reply types with the names gob registers
// them under.
//
// net/rpc encodes with gob, which matches struct fields by their Go names
// and interface values by their registered names. Every struct here, and
// every v1alpha1 type it carries, must therefore keep Argo Rollouts' Go
// field names (see the package doc of pkg/apis/rollouts/v1alpha1), and the
// names passed to gob.RegisterName must stay exactly as they are: a plugin
// built against Argo Rollouts decodes nothing else.
package wire

import (
	"encoding/gob"
	"encoding/json"
	"time"

	goplugin "github.com/hashicorp/go-plugin"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/plugin/config"
)

// RpcError is how a plugin reports a failure: an empty ErrorString means
// none.
type RpcError struct {
	ErrorString string
}

func (e RpcError) Error() string { return e.ErrorString }

// HasError tells whether e reports a failure.
func (e RpcError) HasError() bool { return e.ErrorString != "" }

// Err returns e as an error, or nil when it reports none.
func (e RpcError) Err() error {
	if e.HasError() {
		return e
	}
	return nil
}

// RpcVerified is a traffic router's answer to VerifyWeight.
type RpcVerified int32

const (
	NotVerified RpcVerified = iota
	Verified
	NotImplemented
)

// Bool is v as the planner reads it: nil when the router cannot verify
// weights, otherwise whether the weight is in place.
func (v RpcVerified) Bool() *bool {
	switch v {
	case NotImplemented:
		return nil
	case Verified:
		t := true
		return &t
	}
	f := false
	return &f
}

// StepPhase is the phase a step plugin reports.
type StepPhase string

const (
	StepPhaseRunning    StepPhase = "Running"
	StepPhaseSuccessful StepPhase = "Successful"
	StepPhaseFailed     StepPhase = "Failed"
	StepPhaseError      StepPhase = "Error"
)

// RpcStepContext is what a step plugin is told about its step.
type RpcStepContext struct {
	// PluginName is the plugin's configured name.
	PluginName string
	// Config is the step's plugin configuration from the Rollout.
	Config json.RawMessage
	// Status is what the plugin returned last time for this step.
	Status json.RawMessage
}

// RpcStepResult is a step plugin's answer.
type RpcStepResult struct {
	Phase   StepPhase
	Message string
	// RequeueAfter asks to be called again after this long while Running.
	RequeueAfter time.Duration
	// Status is kept by the controller and handed back in the next context.
	Status json.RawMessage
}

// MetricRunArgs are the arguments of a metric plugin's Run.
type MetricRunArgs struct {
	AnalysisRun *v1alpha1.AnalysisRun
	Metric      v1alpha1.Metric
}

// TerminateAndResumeArgs are the arguments of a metric plugin's Resume and
// Terminate.
type TerminateAndResumeArgs struct {
	AnalysisRun *v1alpha1.AnalysisRun
	Metric      v1alpha1.Metric
	Measurement v1alpha1.Measurement
}

// GarbageCollectArgs are the arguments of a metric plugin's GarbageCollect.
type GarbageCollectArgs struct {
	AnalysisRun *v1alpha1.AnalysisRun
	Metric      v1alpha1.Metric
	Limit       int
}

// GetMetadataArgs are the arguments of a metric plugin's GetMetadata.
type GetMetadataArgs struct {
	Metric v1alpha1.Metric
}

// UpdateHashArgs are the arguments of a traffic router's UpdateHash.
type UpdateHashArgs struct {
	Rollout                v1alpha1.Rollout
	CanaryHash             string
	StableHash             string
	AdditionalDestinations []v1alpha1.WeightDestination
}

// SetWeightAndVerifyWeightArgs are the arguments of a traffic router's
// SetWeight and VerifyWeight.
type SetWeightAndVerifyWeightArgs struct {
	Rollout                v1alpha1.Rollout
	DesiredWeight          int32
	AdditionalDestinations []v1alpha1.WeightDestination
}

// SetHeaderArgs are the arguments of a traffic router's SetHeaderRoute.
type SetHeaderArgs struct {
	Rollout        v1alpha1.Rollout
	SetHeaderRoute v1alpha1.SetHeaderRoute
}

// SetMirrorArgs are the arguments of a traffic router's SetMirrorRoute.
type SetMirrorArgs struct {
	Rollout        v1alpha1.Rollout
	SetMirrorRoute v1alpha1.SetMirrorRoute
}

// RemoveManagedRoutesArgs are the arguments of a traffic router's
// RemoveManagedRoutes.
type RemoveManagedRoutesArgs struct {
	Rollout v1alpha1.Rollout
}

// VerifyWeightResponse is a traffic router's reply to VerifyWeight.
type VerifyWeightResponse struct {
	Verified RpcVerified
	Err      RpcError
}

// StepRunArgs, StepTerminateArgs and StepAbortArgs are the arguments of a
// step plugin's Run, Terminate and Abort.
type StepRunArgs struct {
	Rollout *v1alpha1.Rollout
	Context *RpcStepContext
}

type StepTerminateArgs struct {
	Rollout *v1alpha1.Rollout
	Context *RpcStepContext
}

type StepAbortArgs struct {
	Rollout *v1alpha1.Rollout
	Context *RpcStepContext
}

// StepResponse is a step plugin's reply to Run, Terminate and Abort.
type StepResponse struct {
	Result RpcStepResult
	Error  RpcError
}

// GobNames are the names each argument type is registered under with gob,
// as Argo Rollouts registers them.
var GobNames = map[string]any{
	"RpcError":                     new(RpcError),
	"RunArgs":                      new(MetricRunArgs),
	"TerminateAndResumeArgs":       new(TerminateAndResumeArgs),
	"GarbageCollectArgs":           new(GarbageCollectArgs),
	"GetMetadataArgs":              new(GetMetadataArgs),
	"UpdateHashArgs":               new(UpdateHashArgs),
	"SetWeightAndVerifyWeightArgs": new(SetWeightAndVerifyWeightArgs),
	"SetHeaderArgs":                new(SetHeaderArgs),
	"SetMirrorArgs":                new(SetMirrorArgs),
	"RemoveManagedRoutesArgs":      new(RemoveManagedRoutesArgs),
	"step.RunArgs":                 new(StepRunArgs),
	"step.TerminateArgs":           new(StepTerminateArgs),
	"step.AbortArgs":               new(StepAbortArgs),
}

func init() {
	for name, v := range GobNames {
		gob.RegisterName(name, v)
	}
}

// Handshake returns the go-plugin handshake of a kind of plugin.
func Handshake(kind config.Kind) goplugin.HandshakeConfig {
	return goplugin.HandshakeConfig{
		ProtocolVersion:  1,
		MagicCookieKey:   "ARGO_ROLLOUTS_RPC_PLUGIN",
		MagicCookieValue: cookies[kind],
	}
}

var cookies = map[config.Kind]string{
	config.KindTrafficRouter:  "trafficrouter",
	config.KindMetricProvider: "metricprovider",
	config.KindStep:           "step",
}

// DispenseNames are the names plugins serve their implementation under.
var DispenseNames = map[config.Kind]string{
	config.KindTrafficRouter:  "RpcTrafficRouterPlugin",
	config.KindMetricProvider: "RpcMetricProviderPlugin",
	config.KindStep:           "RpcStepPlugin",
}
