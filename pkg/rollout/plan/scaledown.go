package plan

// Scale-down with a delay: the scale-down-deadline annotation that keeps a
// replaced or aborted revision up for a while, shared by canary and
// blue-green.
import (
	"sort"
	"time"

	appsv1 "k8s.io/api/apps/v1"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

func (p *planner) clearScaleDownDeadline(rs *appsv1.ReplicaSet) {
	if _, ok := rs.Annotations[v1alpha1.AnnotationScaleDownDeadline]; !ok {
		return
	}
	changed := rs.DeepCopy()
	delete(changed.Annotations, v1alpha1.AnnotationScaleDownDeadline)
	p.update(changed)
	p.replace(rs, changed)
}

func (p *planner) setScaleDownDeadline(rs *appsv1.ReplicaSet, after time.Duration) {
	changed := rs.DeepCopy()
	if changed.Annotations == nil {
		changed.Annotations = map[string]string{}
	}
	changed.Annotations[v1alpha1.AnnotationScaleDownDeadline] = p.now.Add(after).UTC().Format(time.RFC3339)
	p.update(changed)
	p.replace(rs, changed)
	p.plan.requeue(after)
}

// deadlineLeft is how long until a ReplicaSet's scale-down deadline; ok is
// false when it has none (or an unreadable one).
func (p *planner) deadlineLeft(rs *appsv1.ReplicaSet) (time.Duration, bool) {
	raw, has := rs.Annotations[v1alpha1.AnnotationScaleDownDeadline]
	if !has {
		return 0, false
	}
	at, err := time.Parse(time.RFC3339, raw)
	if err != nil {
		return 0, false
	}
	return at.Sub(p.now), true
}

// scaleDownAborted keeps an aborted revision for abortScaleDownDelaySeconds
// (never scaling it down when that is 0), then scales it to zero.
func (p *planner) scaleDownAborted(abortDelay *int32) (resized bool) {
	rs := p.revs.latest(p.revs.newRS)
	delay := v1alpha1.DefaultAbortScaleDownDelaySeconds
	if abortDelay != nil {
		delay = *abortDelay
	}
	if delay == 0 || rsReplicas(rs) == 0 {
		return false
	}
	left, has := p.deadlineLeft(rs)
	switch {
	case !has:
		if stable := p.revs.stable; stable != nil && stable.Status.AvailableReplicas >= specReplicas(p.ro) {
			p.setScaleDownDeadline(rs, time.Duration(delay)*time.Second)
		}
	case left > 0:
		p.plan.requeue(left)
	default:
		return p.scaleWithEvent(rs, 0)
	}
	return false
}

// scaleDownWithDelay scales down the older revisions not referenced: those
// delayed() picks get the scale-down-deadline annotation first (at most
// limit of them waiting) and go when it passes; the others go at once.
func (p *planner) scaleDownWithDelay(delaySeconds, revisionLimit *int32, referenced map[string]bool, delayed func(*appsv1.ReplicaSet) bool) (resized bool) {
	delay := time.Duration(v1alpha1.DefaultScaleDownDelaySeconds) * time.Second
	if delaySeconds != nil {
		delay = time.Duration(*delaySeconds) * time.Second
	}
	limit := int32(1<<31 - 1)
	if revisionLimit != nil {
		limit = *revisionLimit
	}
	old := append([]*appsv1.ReplicaSet(nil), p.revs.others...)
	sort.SliceStable(old, func(i, j int) bool {
		return revisionOf(old[i].Annotations) > revisionOf(old[j].Annotations)
	})
	var waiting int32
	for _, o := range old {
		rs := p.revs.latest(o)
		if referenced[rs.Labels[v1alpha1.LabelPodTemplateHash]] || rsReplicas(rs) == 0 {
			continue
		}
		left, has := p.deadlineLeft(rs)
		switch {
		case !delayed(rs):
			resized = p.scaleWithEvent(rs, 0) || resized
		case !has && delay > 0 && waiting < limit:
			waiting++
			p.setScaleDownDeadline(rs, delay)
		case has:
			waiting++
			if waiting <= limit && left > 0 {
				p.plan.requeue(left)
				continue
			}
			resized = p.scaleWithEvent(rs, 0) || resized
		default:
			resized = p.scaleWithEvent(rs, 0) || resized
		}
	}
	return resized
}
