package plan

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

// hostnameTopology spreads a revision's pods across nodes.
const hostnameTopology = "kubernetes.io/hostname"

func antiAffinityOf(ro *v1alpha1.Rollout) *v1alpha1.AntiAffinity {
	if c := ro.Spec.Strategy.Canary; c != nil {
		return c.AntiAffinity
	}
	if bg := ro.Spec.Strategy.BlueGreen; bg != nil {
		return bg.AntiAffinity
	}
	return nil
}

// replicaSetAffinity is the affinity a new revision's pods get: the
// template's own, plus, with spec.strategy.*.antiAffinity and while another
// revision is stable, a term that keeps them off the stable pods' nodes.
func replicaSetAffinity(ro *v1alpha1.Rollout, hash string) *corev1.Affinity {
	strategy := antiAffinityOf(ro)
	affinity := ro.Spec.Template.Spec.Affinity.DeepCopy()
	stable := ro.Status.StableRS
	if strategy == nil || stable == "" || stable == hash {
		return affinity
	}
	term := corev1.PodAffinityTerm{
		LabelSelector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{
			Key: v1alpha1.LabelPodTemplateHash, Operator: metav1.LabelSelectorOpIn, Values: []string{stable},
		}}},
		Namespaces:  []string{ro.Namespace},
		TopologyKey: hostnameTopology,
	}
	if affinity == nil {
		affinity = &corev1.Affinity{}
	}
	if affinity.PodAntiAffinity == nil {
		affinity.PodAntiAffinity = &corev1.PodAntiAffinity{}
	}
	anti := affinity.PodAntiAffinity
	if pref := strategy.PreferredDuringSchedulingIgnoredDuringExecution; pref != nil {
		anti.PreferredDuringSchedulingIgnoredDuringExecution = append(anti.PreferredDuringSchedulingIgnoredDuringExecution,
			corev1.WeightedPodAffinityTerm{Weight: pref.Weight, PodAffinityTerm: term})
	} else {
		anti.RequiredDuringSchedulingIgnoredDuringExecution = append(anti.RequiredDuringSchedulingIgnoredDuringExecution, term)
	}
	return affinity
}

// injectedTerm finds the anti-affinity term the controller injected, if any.
func injectedTerm(affinity *corev1.Affinity, ro *v1alpha1.Rollout) *corev1.PodAffinityTerm {
	strategy := antiAffinityOf(ro)
	if strategy == nil || affinity == nil || affinity.PodAntiAffinity == nil {
		return nil
	}
	anti := affinity.PodAntiAffinity
	if strategy.PreferredDuringSchedulingIgnoredDuringExecution != nil {
		for i := range anti.PreferredDuringSchedulingIgnoredDuringExecution {
			if t := anti.PreferredDuringSchedulingIgnoredDuringExecution[i].PodAffinityTerm; selectsHash(t) {
				return &t
			}
		}
		return nil
	}
	for i := range anti.RequiredDuringSchedulingIgnoredDuringExecution {
		if t := anti.RequiredDuringSchedulingIgnoredDuringExecution[i]; selectsHash(t) {
			return &t
		}
	}
	return nil
}

// affinityOutdated tells whether an injected term points at a revision that
// is no longer the stable one.
func affinityOutdated(affinity *corev1.Affinity, ro *v1alpha1.Rollout, hash string) bool {
	term := injectedTerm(affinity, ro)
	if term == nil || ro.Status.StableRS == hash {
		return false
	}
	for _, r := range term.LabelSelector.MatchExpressions {
		if r.Key == v1alpha1.LabelPodTemplateHash && len(r.Values) > 0 && r.Values[0] != ro.Status.StableRS {
			return true
		}
	}
	return false
}

// withoutInjectedTerm returns the affinity with the injected term removed,
// for comparing a live template with the Rollout's.
func withoutInjectedTerm(affinity *corev1.Affinity, ro *v1alpha1.Rollout) *corev1.Affinity {
	if injectedTerm(affinity, ro) == nil {
		return affinity
	}
	out := affinity.DeepCopy()
	anti := out.PodAntiAffinity
	var pref []corev1.WeightedPodAffinityTerm
	for _, t := range anti.PreferredDuringSchedulingIgnoredDuringExecution {
		if !selectsHash(t.PodAffinityTerm) {
			pref = append(pref, t)
		}
	}
	var req []corev1.PodAffinityTerm
	for _, t := range anti.RequiredDuringSchedulingIgnoredDuringExecution {
		if !selectsHash(t) {
			req = append(req, t)
		}
	}
	anti.PreferredDuringSchedulingIgnoredDuringExecution, anti.RequiredDuringSchedulingIgnoredDuringExecution = pref, req
	if len(pref) == 0 && len(req) == 0 {
		out.PodAntiAffinity = nil
	}
	if out.PodAntiAffinity == nil && out.PodAffinity == nil && out.NodeAffinity == nil {
		return nil
	}
	return out
}

func selectsHash(t corev1.PodAffinityTerm) bool {
	if t.LabelSelector == nil {
		return false
	}
	for _, r := range t.LabelSelector.MatchExpressions {
		if r.Key == v1alpha1.LabelPodTemplateHash {
			return true
		}
	}
	return false
}
