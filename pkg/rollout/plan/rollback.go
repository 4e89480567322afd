package plan

import (
	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

// rollbackWithinWindow tells whether the desired revision is an older one
// that spec.rollbackWindow lets come back without steps or analysis: fewer
// than rollbackWindow.revisions revisions lie between it and the stable one.
func (p *planner) rollbackWithinWindow() bool {
	revs := p.revs
	w := p.ro.Spec.RollbackWindow
	if revs.newRS == nil || revs.stable == nil || w == nil || w.Revisions <= 0 || revs.newRS.UID == "" {
		return false
	}
	newCreated, stableCreated := revs.newRS.CreationTimestamp, revs.stable.CreationTimestamp
	if !newCreated.Before(&stableCreated) {
		return false
	}
	var between int32
	for _, rs := range revs.all {
		if rs.Annotations[v1alpha1.AnnotationExperimentName] != "" {
			continue
		}
		if rs.CreationTimestamp.Before(&stableCreated) && newCreated.Before(&rs.CreationTimestamp) {
			between++
		}
	}
	return between < w.Revisions
}
