package job

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	batchv1 "k8s.io/api/batch/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/metric"
)

// The measurement metadata that names a Job is part of the AnalysisRun's
// status, which users may write. Everything here that reads or deletes a
// Job therefore checks it against what the provider itself decided: the
// namespaces it makes the run's Jobs in, the names it gives them, and the
// labels and annotations it wrote on them.

// namespaces are where the provider makes the run's Jobs: the run's own
// namespace and, when configured, the analysis Job namespace.
func (p *Provider) namespaces(run *v1alpha1.AnalysisRun) []string {
	if p.o.Namespace == "" || p.o.Namespace == run.Namespace {
		return []string{run.Namespace}
	}
	return []string{run.Namespace, p.o.Namespace}
}

// reference returns the namespace and name of the measurement's Job from
// its metadata, provided they are a namespace of the run's Jobs and a name
// the provider gives the Jobs of this run's metric.
func (p *Provider) reference(run *v1alpha1.AnalysisRun, metricName string, in v1alpha1.Measurement) (string, string, error) {
	name := in.Metadata[NameKey]
	if name == "" {
		return "", "", errors.New("job metadata reference missing")
	}
	namespace := in.Metadata[NamespaceKey]
	if namespace == "" {
		namespace = run.Namespace
	}
	if !slices.Contains(p.namespaces(run), namespace) || !madeFor(name, run.UID, metricName) {
		return "", "", fmt.Errorf("job metadata reference %s/%s does not name a Job of metric '%s' of this AnalysisRun", namespace, name, metricName)
	}
	return namespace, name, nil
}

// madeFor reports whether name is the name of one of the Jobs of the
// metric of the run with that uid.
func madeFor(name string, uid types.UID, metricName string) bool {
	i := strings.LastIndexByte(name, '.')
	if i < 0 {
		return false
	}
	n, err := strconv.Atoi(name[i+1:])
	return err == nil && n > 0 && jobName(uid, metricName, n) == name
}

// ownJobs lists, from the cache, the Jobs of the run's metric in the
// namespaces the provider makes them in.
func (p *Provider) ownJobs(run *v1alpha1.AnalysisRun, metricName string) ([]*batchv1.Job, error) {
	selector := labels.SelectorFromSet(labels.Set{v1alpha1.LabelAnalysisRunUID: string(run.UID)})
	var out []*batchv1.Job
	for _, namespace := range p.namespaces(run) {
		jobs, err := p.o.Lister.Jobs(namespace).List(selector)
		if err != nil {
			return nil, err
		}
		for _, j := range jobs {
			if belongsTo(j, run, metricName) {
				out = append(out, j)
			}
		}
	}
	return out, nil
}

// Terminate deletes the measurement's Job, and any other unfinished Job of
// the run's metric; the measurement ends Inconclusive. A reference that
// does not name one of the run's Jobs is ignored: the Jobs are found
// through their labels instead.
func (p *Provider) Terminate(ctx context.Context, run *v1alpha1.AnalysisRun, m v1alpha1.Metric, in v1alpha1.Measurement) v1alpha1.Measurement {
	namespace, name, refErr := p.reference(run, m.Name, in)
	jobs, err := p.ownJobs(run, m.Name)
	if err != nil {
		return metric.MarkError(in, err)
	}
	deleted, refCached := 0, false
	for _, j := range jobs {
		isRef := refErr == nil && j.Namespace == namespace && j.Name == name
		refCached = refCached || isRef
		if !isRef && finished(j) {
			continue
		}
		if err := p.delete(ctx, j.Namespace, j.Name, j.UID); err != nil {
			return metric.MarkError(in, err)
		}
		deleted++
	}
	if refErr == nil && !refCached {
		// Created moments ago, the cache may not have it yet.
		n, err := p.deleteUncached(ctx, run, m.Name, namespace, name)
		if err != nil {
			return metric.MarkError(in, err)
		}
		deleted += n
	}
	if deleted == 0 && refErr != nil {
		return metric.MarkError(in, refErr)
	}
	out := in
	out.Phase, out.ResumeAt = v1alpha1.AnalysisPhaseInconclusive, nil
	return out
}

// deleteUncached reads the named Job from the API server and deletes it if
// it carries the run's labels; it returns how many it deleted.
func (p *Provider) deleteUncached(ctx context.Context, run *v1alpha1.AnalysisRun, metricName, namespace, name string) (int, error) {
	job, err := p.o.Client.BatchV1().Jobs(namespace).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	if !belongsTo(job, run, metricName) {
		return 0, nil
	}
	return 1, p.delete(ctx, namespace, name, job.UID)
}

func finished(job *batchv1.Job) bool {
	return hasCondition(job, batchv1.JobComplete) || hasCondition(job, batchv1.JobFailed)
}

// GarbageCollect deletes the oldest Jobs of the run's metric, keeping the
// newest limit.
func (p *Provider) GarbageCollect(ctx context.Context, run *v1alpha1.AnalysisRun, m v1alpha1.Metric, limit int) error {
	jobs, err := p.ownJobs(run, m.Name)
	if err != nil || len(jobs) <= limit {
		return err
	}
	sort.Slice(jobs, func(i, j int) bool {
		if !jobs[i].CreationTimestamp.Equal(&jobs[j].CreationTimestamp) {
			return jobs[i].CreationTimestamp.Before(&jobs[j].CreationTimestamp)
		}
		return jobs[i].Name < jobs[j].Name
	})
	for _, j := range jobs[:len(jobs)-limit] {
		if err := p.delete(ctx, j.Namespace, j.Name, j.UID); err != nil {
			return err
		}
	}
	return nil
}

// delete removes a Job and its pods, provided it is still the Job of that
// uid.
func (p *Provider) delete(ctx context.Context, namespace, name string, uid types.UID) error {
	foreground := metav1.DeletePropagationForeground
	opts := metav1.DeleteOptions{PropagationPolicy: &foreground, Preconditions: &metav1.Preconditions{UID: &uid}}
	err := p.o.Client.BatchV1().Jobs(namespace).Delete(ctx, name, opts)
	if err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	return nil
}
