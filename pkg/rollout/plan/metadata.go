package plan

import (
	appsv1 "k8s.io/api/apps/v1"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

// syncEphemeralMetadata keeps each ReplicaSet's pod template carrying the
// metadata of its role: canaryMetadata on the desired revision while another
// is stable, stableMetadata on the stable one, none on older ones.
func (p *planner) syncEphemeralMetadata() {
	c := p.ro.Spec.Strategy.Canary
	if c == nil || (c.CanaryMetadata == nil && c.StableMetadata == nil) {
		return
	}
	revs := p.revs
	promoted := p.ro.Status.StableRS == "" || p.ro.Status.StableRS == revs.hash
	want := map[*appsv1.ReplicaSet]*v1alpha1.PodTemplateMetadata{}
	if promoted {
		want[revs.newRS] = c.StableMetadata
	} else {
		want[revs.newRS] = c.CanaryMetadata
		if revs.stable != nil {
			want[revs.stable] = c.StableMetadata
		}
	}
	for _, rs := range revs.others {
		want[rs] = nil
	}
	for _, rs := range revs.all {
		md, ok := want[rs]
		if !ok || (rs != revs.newRS && rs != revs.stable && rsReplicas(rs) == 0 && injectedMetadata(rs) == nil) {
			continue
		}
		changed := rs.DeepCopy()
		if applyEphemeralMetadata(changed, md) {
			p.update(changed)
			p.replace(rs, changed)
		}
	}
}
