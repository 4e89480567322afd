package plan

import (
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/podhash"
)

// ReplicaSetName is the name of a template's ReplicaSet.
func ReplicaSetName(ex *v1alpha1.Experiment, template string) string {
	return ex.Name + "-" + template
}

// controllerRef is the owner reference that makes the experiment the
// controller of what it creates.
func controllerRef(ex *v1alpha1.Experiment) metav1.OwnerReference {
	return *metav1.NewControllerRef(ex, v1alpha1.SchemeGroupVersion.WithKind(v1alpha1.ExperimentKind))
}

// ownerAnnotations tie a ReplicaSet or Service to its experiment and
// template.
func ownerAnnotations(ex *v1alpha1.Experiment, template string) map[string]string {
	return map[string]string{
		v1alpha1.AnnotationExperimentName:         ex.Name,
		v1alpha1.AnnotationExperimentTemplateName: template,
	}
}

// NewReplicaSet builds a template's ReplicaSet, with no replicas: the pod
// template gets the pod-template-hash label (computed without it), which is
// added to the selector and the ReplicaSet's labels too.
func NewReplicaSet(ex *v1alpha1.Experiment, t *v1alpha1.TemplateSpec, collisionCount *int32) *appsv1.ReplicaSet {
	tmpl := *t.Template.DeepCopy()
	delete(tmpl.Labels, v1alpha1.LabelPodTemplateHash)
	hash := podhash.PodTemplateHash(&tmpl, collisionCount)
	if tmpl.Labels == nil {
		tmpl.Labels = map[string]string{}
	}
	tmpl.Labels[v1alpha1.LabelPodTemplateHash] = hash
	selector := t.Selector.DeepCopy()
	if selector.MatchLabels == nil {
		selector.MatchLabels = map[string]string{}
	}
	selector.MatchLabels[v1alpha1.LabelPodTemplateHash] = hash
	rsLabels := make(map[string]string, len(tmpl.Labels))
	for k, v := range tmpl.Labels {
		rsLabels[k] = v
	}
	zero := int32(0)
	return &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{
			Name:            ReplicaSetName(ex, t.Name),
			Namespace:       ex.Namespace,
			Labels:          rsLabels,
			Annotations:     ownerAnnotations(ex, t.Name),
			OwnerReferences: []metav1.OwnerReference{controllerRef(ex)},
		},
		Spec: appsv1.ReplicaSetSpec{
			Replicas:        &zero,
			MinReadySeconds: t.MinReadySeconds,
			Selector:        selector,
			Template:        tmpl,
		},
	}
}

// servicePorts are a Service's ports for every container port of the
// ReplicaSet's pods, same number and protocol.
func servicePorts(rs *appsv1.ReplicaSet) []corev1.ServicePort {
	var ports []corev1.ServicePort
	for _, c := range rs.Spec.Template.Spec.Containers {
		for _, p := range c.Ports {
			ports = append(ports, corev1.ServicePort{
				Name:       p.Name,
				Protocol:   p.Protocol,
				Port:       p.ContainerPort,
				TargetPort: intstr.FromInt32(p.ContainerPort),
			})
		}
	}
	return ports
}

// serviceName is the name of a template's Service: service.name, or the
// ReplicaSet's name.
func serviceName(ex *v1alpha1.Experiment, t *v1alpha1.TemplateSpec) string {
	if t.Service != nil && t.Service.Name != "" {
		return t.Service.Name
	}
	return ReplicaSetName(ex, t.Name)
}

// newService builds a template's Service: it selects the ReplicaSet's pods
// by all of the ReplicaSet's labels, hash included.
func newService(ex *v1alpha1.Experiment, t *v1alpha1.TemplateSpec, rs *appsv1.ReplicaSet, ports []corev1.ServicePort) *corev1.Service {
	selector := make(map[string]string, len(rs.Labels))
	for k, v := range rs.Labels {
		selector[k] = v
	}
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{
			Name:            serviceName(ex, t),
			Namespace:       ex.Namespace,
			Annotations:     ownerAnnotations(ex, t.Name),
			OwnerReferences: []metav1.OwnerReference{controllerRef(ex)},
		},
		Spec: corev1.ServiceSpec{Selector: selector, Ports: ports},
	}
}

// Owns reports whether obj is controlled by the experiment and annotated
// with its name and the given template.
func Owns(ex *v1alpha1.Experiment, obj metav1.Object, template string) bool {
	ref := metav1.GetControllerOfNoCopy(obj)
	a := obj.GetAnnotations()
	return ref != nil && ref.UID == ex.UID &&
		a[v1alpha1.AnnotationExperimentName] == ex.Name &&
		a[v1alpha1.AnnotationExperimentTemplateName] == template
}
