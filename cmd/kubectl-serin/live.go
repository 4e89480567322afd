package main

import (
	"context"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/simulate"
	"github.com/serin-dev/serin/pkg/trafficrouting"
)

// liveInput plans a change to a running Rollout, from its live status,
// ReplicaSets, Services, templates and traffic-routing objects.
func (o *options) liveInput(ctx context.Context, f *planFlags, name string, start time.Time, podReady time.Duration) (simulate.Input, []string, error) {
	c, err := o.connect()
	if err != nil {
		return simulate.Input{}, nil, err
	}
	ro, err := c.rollouts.ArgoprojV1alpha1().Rollouts(c.namespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return simulate.Input{}, nil, err
	}
	if err := newTemplate(ro, f); err != nil {
		return simulate.Input{}, nil, err
	}
	ro.Generation++
	in := simulate.Input{Rollout: ro, Start: start, PodReady: podReady, Services: map[string]*corev1.Service{}}
	if in.ReplicaSets, err = ownedReplicaSets(ctx, c, ro); err != nil {
		return in, nil, err
	}
	if err := liveServices(ctx, c, ro, in.Services); err != nil {
		return in, nil, err
	}
	if in.AnalysisTemplates, in.ClusterAnalysisTemplates, err = liveTemplates(ctx, c); err != nil {
		return in, nil, err
	}
	in.Routers = f.routers.ForRollout(ro)
	in.RouterObjects, err = liveRouterObjects(ctx, c, ro, in.Routers)
	return in, nil, err
}

// newTemplate puts the new pod template into the Rollout: that of the
// file's Rollout, then --image.
func newTemplate(ro *v1alpha1.Rollout, f *planFlags) error {
	if f.file != "" {
		m, err := readManifests(f.file)
		if err != nil {
			return err
		}
		if len(m.Rollouts) != 1 {
			return fmt.Errorf("%s has %d Rollouts, want exactly one whose pod template to use", f.file, len(m.Rollouts))
		}
		ro.Spec.Template = m.Rollouts[0].Spec.Template
	}
	return setImages(ro, f.images)
}

func ownedReplicaSets(ctx context.Context, c *clients, ro *v1alpha1.Rollout) ([]*appsv1.ReplicaSet, error) {
	list, err := c.kube.AppsV1().ReplicaSets(ro.Namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	var out []*appsv1.ReplicaSet
	for i := range list.Items {
		if metav1.IsControlledBy(&list.Items[i], ro) {
			out = append(out, &list.Items[i])
		}
	}
	return out, nil
}

func liveServices(ctx context.Context, c *clients, ro *v1alpha1.Rollout, into map[string]*corev1.Service) error {
	var names []string
	if s := ro.Spec.Strategy.Canary; s != nil {
		names = []string{s.StableService, s.CanaryService}
	}
	if s := ro.Spec.Strategy.BlueGreen; s != nil {
		names = []string{s.ActiveService, s.PreviewService}
	}
	for _, n := range names {
		if n == "" {
			continue
		}
		svc, err := c.kube.CoreV1().Services(ro.Namespace).Get(ctx, n, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			continue // the planner reports it as InvalidSpec
		}
		if err != nil {
			return err
		}
		into[n] = svc
	}
	return nil
}

func liveTemplates(ctx context.Context, c *clients) (map[string]*v1alpha1.AnalysisTemplate, map[string]*v1alpha1.ClusterAnalysisTemplate, error) {
	ns := map[string]*v1alpha1.AnalysisTemplate{}
	list, err := c.rollouts.ArgoprojV1alpha1().AnalysisTemplates(c.namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, nil, err
	}
	for i := range list.Items {
		ns[list.Items[i].Name] = &list.Items[i]
	}
	cluster := map[string]*v1alpha1.ClusterAnalysisTemplate{}
	// Without RBAC for ClusterAnalysisTemplates, a Rollout naming one shows
	// as InvalidSpec (template not found) rather than failing the plan.
	if cl, err := c.rollouts.ArgoprojV1alpha1().ClusterAnalysisTemplates().List(ctx, metav1.ListOptions{}); err == nil {
		for i := range cl.Items {
			cluster[cl.Items[i].Name] = &cl.Items[i]
		}
	}
	return ns, cluster, nil
}

func liveRouterObjects(ctx context.Context, c *clients, ro *v1alpha1.Rollout, rt []trafficrouting.Router) (map[trafficrouting.Ref]*unstructured.Unstructured, error) {
	out := map[trafficrouting.Ref]*unstructured.Unstructured{}
	for _, r := range rt {
		for _, ref := range r.References(ro) {
			obj, err := c.dynamic.Resource(ref.Resource).Namespace(ref.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
			if apierrors.IsNotFound(err) {
				continue // missing objects are the planner's to report
			}
			if err != nil {
				return nil, fmt.Errorf("reading %s %s/%s: %w", ref.Resource.Resource, ref.Namespace, ref.Name, err)
			}
			out[ref] = obj
		}
	}
	return out, nil
}
