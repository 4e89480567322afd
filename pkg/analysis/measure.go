package analysis

import (
	"context"
	"fmt"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/klog/v2"

	"github.com/serin-dev/serin/pkg/analysis/plan"
	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/metric"
)

// measure takes the scheduled tasks, in parallel, and returns their
// stamped, redacted outcomes. It fails only for errors worth retrying
// (reading a Secret failed); a missing Secret or key ends the run instead.
func (r *Reconciler) measure(ctx context.Context, run *v1alpha1.AnalysisRun, sched plan.Scheduled, now time.Time) (plan.Measured, error) {
	if len(sched.Tasks) == 0 {
		return plan.Measured{Now: now}, nil
	}
	args, secrets, err := r.resolveSecrets(ctx, run)
	if err != nil {
		if apierrors.IsNotFound(err) || isMissingKey(err) {
			return plan.Measured{ArgsError: err.Error(), Now: now}, nil
		}
		return plan.Measured{}, fmt.Errorf("reading the Secrets of AnalysisRun %s/%s: %w", run.Namespace, run.Name, err)
	}
	view := run.DeepCopy() // providers read the run; none may change the cached one
	outcomes := make([]plan.Outcome, len(sched.Tasks))
	argErrs := make([]error, len(sched.Tasks))
	var wg sync.WaitGroup
	for i, task := range sched.Tasks {
		wg.Go(func() {
			resolved, err := metric.ResolveArgs(task.Metric, args)
			if err != nil {
				argErrs[i] = err
				return
			}
			outcomes[i] = r.take(ctx, view, task, resolved, secrets)
			outcomes[i].Task = i
		})
	}
	wg.Wait()
	for _, err := range argErrs {
		if err != nil {
			return plan.Measured{ArgsError: metric.Redact(err.Error(), secrets), Now: r.o.Clock.Now()}, nil
		}
	}
	return plan.Measured{Outcomes: outcomes, Now: r.o.Clock.Now()}, nil
}

// take runs one task through its provider, stamps the times, and redacts
// and bounds what is to be stored.
func (r *Reconciler) take(ctx context.Context, run *v1alpha1.AnalysisRun, task plan.Task, m v1alpha1.Metric, secrets []string) plan.Outcome {
	logger := klog.FromContext(ctx).WithValues("metric", m.Name)
	startedAt := r.o.Clock.Now()
	out := r.call(ctx, run, task, m)
	meas := &out.Measurement
	if meas.StartedAt == nil {
		meas.StartedAt = plan.Stamp(startedAt)
	}
	if meas.Phase.Completed() && meas.FinishedAt == nil {
		meas.FinishedAt = plan.Stamp(r.o.Clock.Now())
	}
	// Redacted first, so that no cut leaves part of a secret behind.
	*meas = metric.Bound(metric.RedactMeasurement(*meas, secrets))
	out.Metadata = metric.BoundMap(metric.RedactMap(out.Metadata, secrets))
	if meas.Phase == v1alpha1.AnalysisPhaseError {
		logger.Info("Measurement failed with an error", "message", meas.Message)
	} else if meas.Phase.Completed() {
		logger.V(2).Info("Measurement completed", "phase", meas.Phase, "value", meas.Value)
	}
	return out
}

// call hands the task to the metric's provider. A provider that cannot be
// built, or that panics, yields an Error measurement: one broken provider
// must not take the controller down.
func (r *Reconciler) call(ctx context.Context, run *v1alpha1.AnalysisRun, task plan.Task, m v1alpha1.Metric) (out plan.Outcome) {
	failed := func(err error) plan.Outcome {
		meas := v1alpha1.Measurement{}
		if task.InFlight != nil {
			meas = *task.InFlight
		}
		return plan.Outcome{Measurement: metric.MarkError(meas, err)}
	}
	defer func() {
		if p := recover(); p != nil {
			out = failed(fmt.Errorf("metric provider panicked: %v", p))
		}
	}()
	provider, err := r.o.Providers.NewProvider(ctx, run, m)
	switch {
	case err != nil:
		return failed(err)
	case task.Action == plan.ActionRun:
		out.Measurement = provider.Run(ctx, run, m)
		// Kept only by a new result: asked for then alone, as upstream
		// does (for a plugin, each ask is a call).
		if run.Status.MetricResultByName(m.Name) == nil {
			out.Metadata = provider.Metadata(m)
		}
	case task.Action == plan.ActionTerminate:
		klog.FromContext(ctx).Info("Terminating the in-flight measurement", "metric", m.Name)
		out.Measurement = provider.Terminate(ctx, run, m, *task.InFlight)
	default:
		out.Measurement = provider.Resume(ctx, run, m, *task.InFlight)
	}
	return out
}

// resolveSecrets returns the run's arguments with secret values filled in,
// and those values, to be redacted from everything recorded.
func (r *Reconciler) resolveSecrets(ctx context.Context, run *v1alpha1.AnalysisRun) ([]v1alpha1.Argument, []string, error) {
	args := make([]v1alpha1.Argument, len(run.Spec.Args))
	var secrets []string
	for i, a := range run.Spec.Args {
		args[i] = *a.DeepCopy()
		if a.ValueFrom == nil || a.ValueFrom.SecretKeyRef == nil {
			continue
		}
		ref := a.ValueFrom.SecretKeyRef
		secret, err := r.o.Secrets.GetSecret(ctx, run.Namespace, ref.Name)
		if err != nil {
			return nil, nil, err
		}
		data, ok := secret.Data[ref.Key]
		if !ok {
			return nil, nil, missingKeyError{key: ref.Key, secret: ref.Name}
		}
		value := string(data)
		args[i].Value = &value
		secrets = append(secrets, value)
	}
	return args, secrets, nil
}

// missingKeyError is a Secret without the key an argument names.
type missingKeyError struct{ key, secret string }

func (e missingKeyError) Error() string {
	return fmt.Sprintf("key '%s' does not exist in secret '%s'", e.key, e.secret)
}

func isMissingKey(err error) bool {
	_, ok := err.(missingKeyError)
	return ok
}
