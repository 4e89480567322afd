package plan

// What changed since the last reconcile that decides its path: a new
// revision (template or steps) or a scaling event, for both strategies.
import (
	"strconv"

	appsv1 "k8s.io/api/apps/v1"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

// templateOrStepsChanged tells whether the pod template or the steps changed
// since the status was written: the update then starts over.
func (p *planner) templateOrStepsChanged() bool {
	s := p.ro.Status
	if s.CurrentStepHash != "" && s.CurrentStepHash != StepHash(p.ro) {
		return true
	}
	return s.CurrentPodHash != "" && s.CurrentPodHash != p.revs.hash
}

// scalingEvent tells whether spec.replicas changed since the desired and
// stable ReplicaSets were last sized.
func (p *planner) scalingEvent() bool {
	want := strconv.Itoa(int(specReplicas(p.ro)))
	for _, rs := range []*appsv1.ReplicaSet{p.revs.newRS, p.revs.stable} {
		if rs == nil || rs.UID == "" || rsReplicas(rs) == 0 { // no UID: created by this reconcile
			continue
		}
		if got, ok := rs.Annotations[v1alpha1.AnnotationDesiredReplicas]; ok && got != want {
			return true
		}
	}
	return false
}
