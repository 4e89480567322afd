package plan

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
)

// A template with service: {} gets a Service named after its ReplicaSet
// once the ReplicaSet exists, selecting its pods by hash, with its
// container ports; a named one takes service.name. Both go once the
// experiment is over and no pod is available.
func TestServicesCreatedAndDeleted(t *testing.T) {
	w := newWorld(t, experiment("baseline", "canary"))
	w.ex.Spec.Duration = "1m"
	w.ex.Spec.ScaleDownDelaySeconds = int32p(0)
	w.ex.Spec.Templates[0].Service = &v1alpha1.TemplateService{}
	w.ex.Spec.Templates[1].Service = &v1alpha1.TemplateService{Name: "canary-preview"}
	if p := w.step(); len(p.CreateServices) != 0 {
		t.Fatal("Services come once the ReplicaSets exist")
	}
	p := w.step()
	if len(p.CreateServices) != 2 {
		t.Fatalf("services planned: %d", len(p.CreateServices))
	}
	base, canary := w.svc["baseline"], w.svc["canary"]
	hash := w.rs["baseline"].Labels[v1alpha1.LabelPodTemplateHash]
	if base.Name != "exp-baseline" || canary.Name != "canary-preview" {
		t.Errorf("names %s, %s", base.Name, canary.Name)
	}
	if base.Spec.Selector[v1alpha1.LabelPodTemplateHash] != hash || base.Spec.Selector["variant"] != "baseline" {
		t.Errorf("selector %v", base.Spec.Selector)
	}
	ports := base.Spec.Ports
	if len(ports) != 1 || ports[0].Port != 8080 || ports[0].TargetPort.IntValue() != 8080 || ports[0].Name != "http" || ports[0].Protocol != corev1.ProtocolTCP {
		t.Errorf("ports %+v", ports)
	}
	if ts := w.template("baseline"); ts.ServiceName != "exp-baseline" || ts.PodTemplateHash != hash {
		t.Errorf("template status service %q hash %q", ts.ServiceName, ts.PodTemplateHash)
	}
	if base.OwnerReferences[0].UID != "uid-exp" || base.Annotations[v1alpha1.AnnotationExperimentTemplateName] != "baseline" {
		t.Errorf("owner %+v annotations %v", base.OwnerReferences, base.Annotations)
	}
	w.settle(5)
	w.wait(time.Minute)
	w.settle(10)
	w.wantPhase(v1alpha1.AnalysisPhaseSuccessful, "")
	if len(w.svc) != 0 {
		t.Errorf("services left: %v", w.svc)
	}
	if ts := w.template("canary"); ts.ServiceName != "" || ts.PodTemplateHash != "" {
		t.Errorf("template status keeps service %q", ts.ServiceName)
	}
}

// A Service name held by a Service that is not the template's errors the
// template.
func TestServiceNameTakenErrors(t *testing.T) {
	w := newWorld(t, experiment("a"))
	w.ex.Spec.Templates[0].Service = &v1alpha1.TemplateService{Name: "web"}
	w.step()
	other := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop"}}
	st := w.state()
	st.NamedServices = map[string]*corev1.Service{"web": other}
	p := Compute(st)
	msg := "Failed to create Service web for template 'a': service web already exists and is not owned by experiment template a"
	if ts := p.Status.TemplateStatusByName("a"); ts.Status != v1alpha1.TemplateStatusError || ts.Message != msg {
		t.Errorf("template %s %q", ts.Status, ts.Message)
	}
	if len(p.CreateServices) != 0 {
		t.Error("a Service was planned over another")
	}
}
