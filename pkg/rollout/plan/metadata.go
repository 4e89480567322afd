package plan

import (
	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

// syncEphemeralMetadata keeps each ReplicaSet's pod template carrying the
// metadata of its role: canaryMetadata (previewMetadata) on the desired
// revision while another is stable, stableMetadata (activeMetadata) on the
// stable one, none on older ones.
func (p *planner) syncEphemeralMetadata() {
	newMD, stableMD := roleMetadata(p.ro)
	if newMD == nil && stableMD == nil {
		return
	}
	revs := p.revs
	promoted := p.ro.Status.StableRS == "" || p.ro.Status.StableRS == revs.hash
	want := map[*appsv1.ReplicaSet]*v1alpha1.PodTemplateMetadata{}
	if promoted {
		want[revs.newRS] = stableMD
	} else {
		want[revs.newRS] = newMD
		if revs.stable != nil {
			want[revs.stable] = stableMD
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
		old := injectedMetadata(rs)
		changed := rs.DeepCopy()
		if applyEphemeralMetadata(changed, md) {
			p.update(changed)
			p.replace(rs, changed)
		}
		p.relabelPods(rs, old, md)
	}
}

// relabelPods brings the running pods of a ReplicaSet in line with its
// ephemeral metadata in place, without restarting them.
func (p *planner) relabelPods(rs *appsv1.ReplicaSet, old, want *v1alpha1.PodTemplateMetadata) {
	for _, pod := range p.st.Pods {
		if ref := metav1.GetControllerOf(pod); ref == nil || ref.UID != rs.UID {
			continue
		}
		patch := PodPatch{Pod: pod}
		patch.Labels = metadataChanges(pod.Labels, fieldsOf(old, true), fieldsOf(want, true))
		patch.Annotations = metadataChanges(pod.Annotations, fieldsOf(old, false), fieldsOf(want, false))
		if len(patch.Labels)+len(patch.Annotations) > 0 {
			p.plan.PodPatches = append(p.plan.PodPatches, patch)
		}
	}
}

func fieldsOf(md *v1alpha1.PodTemplateMetadata, labels bool) map[string]string {
	switch {
	case md == nil:
		return nil
	case labels:
		return md.Labels
	}
	return md.Annotations
}

// metadataChanges is what to set (a value) or remove (nil) so that have
// carries want and none of old's keys that want dropped.
func metadataChanges(have, old, want map[string]string) map[string]*string {
	out := map[string]*string{}
	for k, v := range want {
		if cur, ok := have[k]; !ok || cur != v {
			v := v
			out[k] = &v
		}
	}
	for k := range old {
		if _, keep := want[k]; keep {
			continue
		}
		if _, present := have[k]; present {
			out[k] = nil
		}
	}
	return out
}
