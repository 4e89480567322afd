// Package job is the job metric provider: each measurement runs a
// Kubernetes Job built from the metric's job spec. A Job that completes is
// a Successful measurement, one that fails a Failed one; until then the
// measurement is Running and resumed with a growing delay (and whenever the
// Job changes, since the controller watches the Jobs it makes).
//
// Measurement metadata naming a Job is only a hint: the provider acts on a
// Job only where it makes the run's Jobs and when the Job carries the
// run's uid label and metric annotation. OrphanCollector removes the Jobs
// that deleted runs leave in the analysis Job namespace.
package job

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	batchlisters "k8s.io/client-go/listers/batch/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/utils/clock"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/metric"
)

const (
	// ProviderType is the provider's name in metrics and logs.
	ProviderType = "Job"
	// NameKey and NamespaceKey are the measurement metadata keys naming its Job.
	NameKey      = "job-name"
	NamespaceKey = "job-namespace"
	// NamespaceEnv names the environment variable that puts analysis Jobs in
	// one namespace instead of the AnalysisRun's.
	NamespaceEnv = "ARGO_ROLLOUTS_ANALYSIS_JOB_NAMESPACE"
	// maxNameLength is the longest Job name whose pods' job-name label is
	// still valid.
	maxNameLength = 63
)

// Options are the provider's dependencies.
type Options struct {
	// Client creates and deletes Jobs.
	Client kubernetes.Interface
	// Lister reads Jobs from an informer cache filtered on
	// analysisrun.argoproj.io/uid.
	Lister batchlisters.JobLister
	// Pods, when set, reads the Jobs' pods (from a cache filtered on the same
	// label), so that a pod that can never start ends the measurement.
	Pods corelisters.PodLister
	// Namespace, when set, is where Jobs are created (the controller's
	// ARGO_ROLLOUTS_ANALYSIS_JOB_NAMESPACE); otherwise the run's namespace.
	Namespace string
	// Clock schedules resumes; the real clock by default.
	Clock clock.PassiveClock
}

// Provider runs metric Jobs.
type Provider struct {
	o Options
}

var _ metric.Provider = (*Provider)(nil)

// New returns a job provider.
func New(o Options) *Provider {
	if o.Clock == nil {
		o.Clock = clock.RealClock{}
	}
	return &Provider{o: o}
}

// Type is "Job".
func (p *Provider) Type() string { return ProviderType }

// Metadata is empty for job metrics.
func (p *Provider) Metadata(v1alpha1.Metric) map[string]string { return nil }

// Run creates the measurement's Job. Creating a Job that already exists
// for this run (a retried reconcile) adopts it.
func (p *Provider) Run(ctx context.Context, run *v1alpha1.AnalysisRun, m v1alpha1.Metric) v1alpha1.Measurement {
	meas := v1alpha1.Measurement{Phase: v1alpha1.AnalysisPhaseRunning}
	if m.Provider.Job == nil {
		return metric.MarkError(meas, errors.New("metric has no job provider"))
	}
	job := NewJob(run, m, p.o.Namespace)
	jobs := p.o.Client.BatchV1().Jobs(job.Namespace)
	created, err := jobs.Create(ctx, job, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		existing, getErr := jobs.Get(ctx, job.Name, metav1.GetOptions{})
		if getErr != nil || !belongsTo(existing, run, m.Name) {
			return metric.MarkError(meas, err)
		}
		created, err = existing, nil
	}
	if err != nil {
		return metric.MarkError(meas, err)
	}
	meas.Metadata = map[string]string{NameKey: created.Name, NamespaceKey: created.Namespace}
	now := metav1.NewTime(p.o.Clock.Now())
	meas.ResumeAt = &now
	return meas
}

// NewJob is the Job of a run's metric's next measurement: named
// <run uid>.<metric>.<n>, where n counts the measurements taken so far plus
// one, labelled with the run's uid (pods too) and controller instance,
// annotated with the run and
// metric, and controlled by the run when it lives in the run's namespace.
func NewJob(run *v1alpha1.AnalysisRun, m v1alpha1.Metric, namespace string) *batchv1.Job {
	spec := m.Provider.Job.DeepCopy()
	if namespace == "" {
		namespace = run.Namespace
	}
	jobLabels := copyMap(spec.Metadata.Labels)
	jobLabels[v1alpha1.LabelAnalysisRunUID] = string(run.UID)
	// The run's controller instance, for the OrphanCollector of that
	// instance alone.
	delete(jobLabels, v1alpha1.LabelControllerInstanceID)
	if id := run.Labels[v1alpha1.LabelControllerInstanceID]; id != "" {
		jobLabels[v1alpha1.LabelControllerInstanceID] = id
	}
	annotations := copyMap(spec.Metadata.Annotations)
	annotations[v1alpha1.AnnotationAnalysisRunName] = run.Name
	annotations[v1alpha1.AnnotationAnalysisRunNamespace] = run.Namespace
	annotations[v1alpha1.AnnotationAnalysisRunMetric] = m.Name
	podLabels := copyMap(spec.Spec.Template.Labels)
	podLabels[v1alpha1.LabelAnalysisRunUID] = string(run.UID)
	spec.Spec.Template.Labels = podLabels

	job := &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{
			Name:        nextJobName(run, m.Name),
			Namespace:   namespace,
			Labels:      jobLabels,
			Annotations: annotations,
		},
		Spec: spec.Spec,
	}
	if namespace == run.Namespace {
		job.OwnerReferences = []metav1.OwnerReference{*metav1.NewControllerRef(run, v1alpha1.SchemeGroupVersion.WithKind("AnalysisRun"))}
	}
	return job
}

func copyMap(in map[string]string) map[string]string {
	out := make(map[string]string, len(in)+3)
	for k, v := range in {
		out[k] = v
	}
	return out
}

// Resume checks on the measurement's Job: Successful once it completed,
// Failed once it failed, otherwise still Running, to be checked again after
// a delay that grows with the square root of the time it has run.
func (p *Provider) Resume(ctx context.Context, run *v1alpha1.AnalysisRun, m v1alpha1.Metric, in v1alpha1.Measurement) v1alpha1.Measurement {
	namespace, name, err := p.reference(run, m.Name, in)
	if err != nil {
		return metric.MarkError(in, err)
	}
	job, err := p.o.Lister.Jobs(namespace).Get(name)
	if apierrors.IsNotFound(err) {
		// Just created: the cache may not have it yet.
		job, err = p.o.Client.BatchV1().Jobs(namespace).Get(ctx, name, metav1.GetOptions{})
	}
	if err != nil {
		return metric.MarkError(in, err)
	}
	if !belongsTo(job, run, m.Name) {
		return metric.MarkError(in, fmt.Errorf("job %s/%s was not made for metric '%s' of this AnalysisRun", namespace, name, m.Name))
	}
	out := in
	switch {
	case hasCondition(job, batchv1.JobComplete):
		out.Phase, out.ResumeAt = v1alpha1.AnalysisPhaseSuccessful, nil
	case hasCondition(job, batchv1.JobFailed):
		out.Phase, out.ResumeAt = v1alpha1.AnalysisPhaseFailed, nil
	case p.stuck(job) != "":
		out.Phase, out.Message, out.ResumeAt = v1alpha1.AnalysisPhaseInconclusive, p.stuck(job), nil
	default:
		now := p.o.Clock.Now()
		var elapsed time.Duration
		if in.StartedAt != nil {
			elapsed = now.Sub(in.StartedAt.Time)
		}
		delay := time.Duration(math.Sqrt(2*elapsed.Seconds()) * float64(time.Second))
		next := metav1.NewTime(now.Add(delay))
		out.ResumeAt = &next
	}
	return out
}

// terminalWaiting are the reasons a container waits for that it never
// recovers from without a change to the Job: an image that cannot be had.
var terminalWaiting = map[string]bool{"ErrImagePull": true, "ImagePullBackOff": true, "InvalidImageName": true}

// stuck describes the first container of the Job's pods that waits for a
// terminal reason, or returns "". Such a measurement is Inconclusive: the
// rollout pauses for a person instead of failing.
func (p *Provider) stuck(job *batchv1.Job) string {
	if p.o.Pods == nil || job.Spec.Selector == nil {
		return ""
	}
	selector, err := metav1.LabelSelectorAsSelector(job.Spec.Selector)
	if err != nil {
		return ""
	}
	pods, err := p.o.Pods.Pods(job.Namespace).List(selector)
	if err != nil {
		return ""
	}
	for _, pod := range pods {
		for _, cs := range append(append([]corev1.ContainerStatus(nil), pod.Status.InitContainerStatuses...), pod.Status.ContainerStatuses...) {
			if w := cs.State.Waiting; w != nil && terminalWaiting[w.Reason] {
				return fmt.Sprintf("Pod %s, container %s has terminal error (%s): %s", pod.Name, cs.Name, w.Reason, w.Message)
			}
		}
	}
	return ""
}

func hasCondition(job *batchv1.Job, t batchv1.JobConditionType) bool {
	for _, c := range job.Status.Conditions {
		if c.Type == t && c.Status == corev1.ConditionTrue {
			return true
		}
	}
	return false
}
