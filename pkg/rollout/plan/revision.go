package plan

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"sort"
	"strconv"
	"strings"

	"github.com/davecgh/go-spew/spew"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/rand"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/podhash"
)

// revisions sorts a Rollout's ReplicaSets into the desired (new) one, the
// stable one and the others.
type revisions struct {
	all    []*appsv1.ReplicaSet
	newRS  *appsv1.ReplicaSet
	stable *appsv1.ReplicaSet
	others []*appsv1.ReplicaSet
	// hash is the pod template hash of the desired revision: the new
	// ReplicaSet's label when one was found, else the computed hash.
	hash string
}

// latest is the planner's latest copy of a ReplicaSet (nil for nil): the
// one the phases so far changed, if any.
func (r revisions) latest(rs *appsv1.ReplicaSet) *appsv1.ReplicaSet {
	if rs == nil {
		return nil
	}
	for _, c := range r.all {
		if c.Name == rs.Name {
			return c
		}
	}
	return rs
}

func sortRevisions(ro *v1alpha1.Rollout, rss []*appsv1.ReplicaSet) revisions {
	all := append([]*appsv1.ReplicaSet(nil), rss...)
	sort.SliceStable(all, func(i, j int) bool {
		a, b := all[i], all[j]
		if !a.CreationTimestamp.Equal(&b.CreationTimestamp) {
			return a.CreationTimestamp.Before(&b.CreationTimestamp)
		}
		return a.Name < b.Name
	})
	r := revisions{all: all, hash: podhash.PodTemplateHash(&ro.Spec.Template, ro.Status.CollisionCount)}
	r.newRS = findNewReplicaSet(ro, all, r.hash)
	if r.newRS != nil {
		r.hash = r.newRS.Labels[v1alpha1.LabelPodTemplateHash]
	}
	if ro.Status.StableRS != "" {
		for _, rs := range all {
			if rs.Labels[v1alpha1.LabelPodTemplateHash] == ro.Status.StableRS {
				r.stable = rs
				break
			}
		}
	}
	for _, rs := range all {
		if rs != r.newRS && rs != r.stable {
			r.others = append(r.others, rs)
		}
	}
	return r
}

// findNewReplicaSet finds the ReplicaSet of the Rollout's current template:
// by Serin's (and Argo Rollouts') hash, then by the Deployment-style hash older
// releases used, then by comparing templates, so that ReplicaSets created by
// earlier controllers are adopted instead of replaced.
func findNewReplicaSet(ro *v1alpha1.Rollout, all []*appsv1.ReplicaSet, hash string) *appsv1.ReplicaSet {
	if rs := withHash(all, hash); rs != nil {
		return rs
	}
	// The Deployment-style hash is costly (a spew dump of the template):
	// only looked for when the usual one is not there.
	if rs := withHash(all, deploymentStyleHash(&ro.Spec.Template, ro.Status.CollisionCount)); rs != nil {
		return rs
	}
	for _, rs := range all {
		if templatesMatch(ro, rs) {
			return rs
		}
	}
	return nil
}

func withHash(all []*appsv1.ReplicaSet, hash string) *appsv1.ReplicaSet {
	for _, rs := range all {
		if rs.Labels[v1alpha1.LabelPodTemplateHash] == hash {
			return rs
		}
	}
	return nil
}

// deploymentStyleHash is the hash Kubernetes' Deployment controller gives a
// template (a spew dump of the object), which some Argo Rollouts releases used.
func deploymentStyleHash(template *corev1.PodTemplateSpec, collisionCount *int32) string {
	h := fnv.New32a()
	printer := spew.ConfigState{Indent: " ", SortKeys: true, DisableMethods: true, SpewKeys: true}
	printer.Fprintf(h, "%#v", *template)
	if collisionCount != nil {
		buf := make([]byte, 8)
		for i := 0; i < 4; i++ {
			buf[i] = byte(uint32(*collisionCount) >> (8 * i))
		}
		h.Write(buf)
	}
	return rand.SafeEncodeString(fmt.Sprint(h.Sum32()))
}

// templatesMatch compares a ReplicaSet's pod template with the Rollout's,
// ignoring the hash label and the ephemeral metadata the controller injected.
func templatesMatch(ro *v1alpha1.Rollout, rs *appsv1.ReplicaSet) bool {
	live := rs.Spec.Template.DeepCopy()
	want := ro.Spec.Template.DeepCopy()
	live.Spec.Affinity = withoutInjectedTerm(live.Spec.Affinity, ro)
	withPodDefaults(live)
	withPodDefaults(want)
	delete(live.Labels, v1alpha1.LabelPodTemplateHash)
	delete(want.Labels, v1alpha1.LabelPodTemplateHash)
	if injected := injectedMetadata(rs); injected != nil {
		for k := range injected.Labels {
			if _, own := want.Labels[k]; !own {
				delete(live.Labels, k)
			}
		}
		for k := range injected.Annotations {
			if _, own := want.Annotations[k]; !own {
				delete(live.Annotations, k)
			}
		}
	}
	return equality.Semantic.DeepEqual(live, want)
}

// injectedMetadata reads the ephemeral metadata recorded on a ReplicaSet.
func injectedMetadata(rs *appsv1.ReplicaSet) *v1alpha1.PodTemplateMetadata {
	raw, ok := rs.Annotations[v1alpha1.AnnotationEphemeralMetadata]
	if !ok {
		return nil
	}
	var md v1alpha1.PodTemplateMetadata
	if json.Unmarshal([]byte(raw), &md) != nil {
		return nil
	}
	return &md
}

// revisionOf reads a revision annotation; 0 when absent or unreadable.
func revisionOf(annotations map[string]string) int64 {
	n, err := strconv.ParseInt(annotations[v1alpha1.AnnotationRevision], 10, 64)
	if err != nil {
		return 0
	}
	return n
}

func maxRevision(rss []*appsv1.ReplicaSet) int64 {
	var m int64
	for _, rs := range rss {
		m = max(m, revisionOf(rs.Annotations))
	}
	return m
}

// annotationsToCopy are the Rollout's annotations that its ReplicaSets carry.
func annotationsToCopy(ro *v1alpha1.Rollout) map[string]string {
	out := map[string]string{}
	for k, v := range ro.Annotations {
		switch k {
		case v1alpha1.AnnotationLastAppliedConfig, v1alpha1.AnnotationRevision, v1alpha1.AnnotationRevisionHistory,
			v1alpha1.AnnotationDesiredReplicas, v1alpha1.AnnotationNotified:
			continue
		}
		out[k] = v
	}
	return out
}

// newReplicaSet builds the ReplicaSet of the Rollout's current template.
func newReplicaSet(ro *v1alpha1.Rollout, hash string, revision int64, replicas int32, metadata *v1alpha1.PodTemplateMetadata) *appsv1.ReplicaSet {
	template := ro.Spec.Template.DeepCopy()
	// The API server refuses ephemeral containers in a pod template; they
	// are added to running pods only. Argo Rollouts' decoding happens to
	// lose them; leaving them out keeps such a Rollout deployable.
	template.Spec.EphemeralContainers = nil
	template.Spec.Affinity = replicaSetAffinity(ro, hash)
	template.Labels = withLabel(template.Labels, v1alpha1.LabelPodTemplateHash, hash)
	selector := ro.Spec.Selector.DeepCopy()
	if selector == nil {
		selector = &metav1.LabelSelector{}
	}
	selector.MatchLabels = withLabel(selector.MatchLabels, v1alpha1.LabelPodTemplateHash, hash)
	annotations := annotationsToCopy(ro)
	annotations[v1alpha1.AnnotationRevision] = strconv.FormatInt(revision, 10)
	annotations[v1alpha1.AnnotationDesiredReplicas] = strconv.Itoa(int(specReplicas(ro)))
	rs := &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{
			Name:        replicaSetName(ro.Name, hash),
			Namespace:   ro.Namespace,
			Labels:      withLabel(nil, v1alpha1.LabelPodTemplateHash, hash),
			Annotations: annotations,
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(ro,
				v1alpha1.SchemeGroupVersion.WithKind(v1alpha1.RolloutKind))},
		},
		Spec: appsv1.ReplicaSetSpec{
			Replicas:        &replicas,
			MinReadySeconds: ro.Spec.MinReadySeconds,
			Selector:        selector,
			Template:        *template,
		},
	}
	for k, v := range template.Labels {
		rs.Labels[k] = v
	}
	applyEphemeralMetadata(rs, metadata)
	return rs
}

func replicaSetName(rollout, hash string) string {
	name := rollout + "-" + hash
	if len(name) > 253 {
		name = strings.TrimRight(name[:253], "-.")
	}
	return name
}

func withLabel(in map[string]string, key, value string) map[string]string {
	out := make(map[string]string, len(in)+1)
	for k, v := range in {
		out[k] = v
	}
	out[key] = value
	return out
}

// applyEphemeralMetadata makes a ReplicaSet's pod template carry exactly the
// given extra metadata, removing what an earlier injection added, and records
// it in the ephemeral-metadata annotation. It reports whether anything changed.
func applyEphemeralMetadata(rs *appsv1.ReplicaSet, md *v1alpha1.PodTemplateMetadata) bool {
	old := injectedMetadata(rs)
	tm := &rs.Spec.Template.ObjectMeta
	changed := false
	set := func(m *map[string]string, k, v string) {
		if *m == nil {
			*m = map[string]string{}
		}
		if (*m)[k] != v {
			(*m)[k] = v
			changed = true
		}
	}
	var wantLabels, wantAnnotations map[string]string
	if md != nil {
		wantLabels, wantAnnotations = md.Labels, md.Annotations
		for k, v := range md.Labels {
			set(&tm.Labels, k, v)
		}
		for k, v := range md.Annotations {
			set(&tm.Annotations, k, v)
		}
	}
	if old != nil {
		for k := range old.Labels {
			if _, keep := wantLabels[k]; !keep {
				if _, ok := tm.Labels[k]; ok {
					delete(tm.Labels, k)
					changed = true
				}
			}
		}
		for k := range old.Annotations {
			if _, keep := wantAnnotations[k]; !keep {
				if _, ok := tm.Annotations[k]; ok {
					delete(tm.Annotations, k)
					changed = true
				}
			}
		}
	}
	if !changed {
		return false
	}
	if md != nil {
		data, _ := json.Marshal(md)
		if rs.Annotations == nil {
			rs.Annotations = map[string]string{}
		}
		rs.Annotations[v1alpha1.AnnotationEphemeralMetadata] = string(data)
	} else {
		delete(rs.Annotations, v1alpha1.AnnotationEphemeralMetadata)
	}
	return true
}
