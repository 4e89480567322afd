package job

import (
	"context"
	"fmt"

	batchv1 "k8s.io/api/batch/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes"
	batchlisters "k8s.io/client-go/listers/batch/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	rolloutlisters "github.com/serin-dev/serin/pkg/client/listers/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/controller"
)

// OrphanOptions are the OrphanCollector's dependencies.
type OrphanOptions struct {
	// Client deletes Jobs.
	Client kubernetes.Interface
	// Jobs and Runs read the caches of metric Jobs and AnalysisRuns.
	Jobs batchlisters.JobLister
	Runs rolloutlisters.AnalysisRunLister
	// Namespace is the analysis Job namespace
	// (ARGO_ROLLOUTS_ANALYSIS_JOB_NAMESPACE).
	Namespace string
	// RunNamespace is the only namespace whose AnalysisRuns the controller
	// watches; empty for all.
	RunNamespace string
	// InstanceID is the controller's --instance-id: the Runs cache holds
	// only the runs labelled with it (or unlabelled, when empty).
	InstanceID string
}

// OrphanCollector deletes the Jobs that the provider made in the analysis
// Job namespace once their AnalysisRun is gone. Such a Job cannot have
// the run, from another namespace, as its owner, so Kubernetes' garbage
// collector does not remove it. Keys are Jobs; a Job is an orphan when the
// run its annotations name is not in the cache, or is a newer run of the
// same name (another uid). Only the caches are read.
type OrphanCollector struct {
	o OrphanOptions
}

var _ controller.Reconciler = (*OrphanCollector)(nil)

// NewOrphanCollector returns an OrphanCollector.
func NewOrphanCollector(o OrphanOptions) *OrphanCollector { return &OrphanCollector{o: o} }

// Judges reports whether obj is a Job the collector decides about: one of
// the analysis Job namespace, labelled with a run's uid, that no
// AnalysisRun controls, made for a run of this controller instance.
func (c *OrphanCollector) Judges(obj any) bool {
	job, ok := obj.(*batchv1.Job)
	if !ok || job.Namespace != c.o.Namespace || job.Labels[v1alpha1.LabelAnalysisRunUID] == "" {
		return false
	}
	if ref := metav1.GetControllerOfNoCopy(job); ref != nil && ref.Kind == "AnalysisRun" {
		return false
	}
	return job.Labels[v1alpha1.LabelControllerInstanceID] == c.o.InstanceID
}

// JobsOfRun returns the keys of the Jobs in the analysis Job namespace
// labelled with the uid of a run (possibly a deletion tombstone), for the
// run's delete event.
func (c *OrphanCollector) JobsOfRun(obj any) []cache.ObjectName {
	if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = tomb.Obj
	}
	run, ok := obj.(*v1alpha1.AnalysisRun)
	if !ok || run.UID == "" {
		return nil
	}
	selector := labels.SelectorFromSet(labels.Set{v1alpha1.LabelAnalysisRunUID: string(run.UID)})
	jobs, err := c.o.Jobs.Jobs(c.o.Namespace).List(selector)
	if err != nil {
		return nil
	}
	var keys []cache.ObjectName
	for _, j := range jobs {
		if c.Judges(j) {
			keys = append(keys, cache.MetaObjectToName(j))
		}
	}
	return keys
}

// Reconcile deletes the Job named by key if it is an orphan.
func (c *OrphanCollector) Reconcile(ctx context.Context, key cache.ObjectName) (controller.Result, error) {
	job, err := c.o.Jobs.Jobs(key.Namespace).Get(key.Name)
	if apierrors.IsNotFound(err) {
		return controller.Result{}, nil
	}
	if err != nil {
		return controller.Result{}, err
	}
	runKey, ok := c.runOf(job)
	if !ok {
		return controller.Result{}, nil
	}
	uid := job.Labels[v1alpha1.LabelAnalysisRunUID]
	run, err := c.o.Runs.AnalysisRuns(runKey.Namespace).Get(runKey.Name)
	switch {
	case err == nil && string(run.UID) == uid:
		return controller.Result{}, nil
	case err != nil && !apierrors.IsNotFound(err):
		return controller.Result{}, err
	}
	klog.FromContext(ctx).Info("Deleting an analysis Job whose AnalysisRun is gone", "analysisRun", runKey.String(), "analysisRunUID", uid)
	background := metav1.DeletePropagationBackground
	jobUID := job.UID
	err = c.o.Client.BatchV1().Jobs(job.Namespace).Delete(ctx, job.Name, metav1.DeleteOptions{
		PropagationPolicy: &background,
		Preconditions:     &metav1.Preconditions{UID: &jobUID},
	})
	if err != nil && !apierrors.IsNotFound(err) {
		return controller.Result{}, fmt.Errorf("deleting orphaned analysis Job %s/%s: %w", job.Namespace, job.Name, err)
	}
	return controller.Result{}, nil
}

// runOf names the run a Job was made for, when the collector may judge the
// Job and the run lies where the runs cache sees it.
func (c *OrphanCollector) runOf(job *batchv1.Job) (cache.ObjectName, bool) {
	if !c.Judges(job) {
		return cache.ObjectName{}, false
	}
	namespace, name := job.Annotations[v1alpha1.AnnotationAnalysisRunNamespace], job.Annotations[v1alpha1.AnnotationAnalysisRunName]
	if namespace == "" || name == "" || (c.o.RunNamespace != "" && namespace != c.o.RunNamespace) {
		return cache.ObjectName{}, false
	}
	return cache.NewObjectName(namespace, name), true
}
