package job

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	batchv1 "k8s.io/api/batch/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

// hashLength is the number of hex digits of the metric name's hash that
// keep a shortened Job name unique.
const hashLength = 8

// jobName is the name of the Job of measurement n of a run's metric:
// <run uid>.<metric>.<n>. When that is longer than a label value may be,
// the metric part becomes as much of the metric name as fits followed by
// a dash and a hash of the whole metric name, so that two metrics whose
// names differ only at the end still get two Jobs.
func jobName(uid types.UID, metricName string, n int) string {
	name := fmt.Sprintf("%s.%s.%d", uid, metricName, n)
	if len(name) <= maxNameLength {
		return name
	}
	sum := sha256.Sum256([]byte(metricName))
	tag := hex.EncodeToString(sum[:])[:hashLength]
	keep := maxNameLength - (len(name) - len(metricName)) - len(tag) - 1
	prefix := ""
	if keep > 0 {
		// A dot or dash before the dash we add would make an invalid DNS
		// label.
		prefix = strings.TrimRight(metricName[:keep], ".-")
	}
	if prefix == "" {
		return fmt.Sprintf("%s.%s.%d", uid, tag, n)
	}
	return fmt.Sprintf("%s.%s-%s.%d", uid, prefix, tag, n)
}

// nextJobName is the name of the Job of the metric's next measurement; n
// counts the measurements taken so far plus one.
func nextJobName(run *v1alpha1.AnalysisRun, metricName string) string {
	n := 1
	if r := run.Status.MetricResultByName(metricName); r != nil {
		n = int(r.Count + r.Error + 1)
	}
	return jobName(run.UID, metricName, n)
}

// belongsTo reports whether a Job was made for the metric of the run: it
// carries the run's uid label and the metric's annotation, both written
// when the Job was created.
func belongsTo(job *batchv1.Job, run *v1alpha1.AnalysisRun, metricName string) bool {
	return job.Labels[v1alpha1.LabelAnalysisRunUID] == string(run.UID) &&
		job.Annotations[v1alpha1.AnnotationAnalysisRunMetric] == metricName
}
