package bench

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"golang.org/x/sync/errgroup"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/client/clientset/versioned"
	argoinformers "github.com/serin-dev/serin/pkg/client/informers/externalversions"
)

// Namespaces of the two fleets the release wave compares.
const (
	DeploymentNamespace = "bench-deployments"
	RolloutNamespace    = "bench-rollouts"
)

// parallelism is how many requests the suite itself sends at once.
const parallelism = 16

func objectName(i int) string { return "app-" + strconv.Itoa(i) }

func podTemplate(name, image string) corev1.PodTemplateSpec {
	return corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": name}},
		Spec: corev1.PodSpec{
			Containers: []corev1.Container{{Name: "app", Image: image}},
			// kwok ends pods at once; no grace period keeps deletions quick.
			TerminationGracePeriodSeconds: new(int64),
		},
	}
}

func deployment(name, image string) *appsv1.Deployment {
	one := int32(1)
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: DeploymentNamespace},
		Spec: appsv1.DeploymentSpec{
			Replicas: &one,
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}},
			Template: podTemplate(name, image),
		},
	}
}

// rollout is the canary: one replica, setWeight 50, a 1 s pause.
func rollout(name, image string) *v1alpha1.Rollout {
	one := int32(1)
	half := int32(50)
	return &v1alpha1.Rollout{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: RolloutNamespace},
		Spec: v1alpha1.RolloutSpec{
			Replicas: &one,
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}},
			Template: podTemplate(name, image),
			Strategy: v1alpha1.RolloutStrategy{Canary: &v1alpha1.CanaryStrategy{
				Steps: []v1alpha1.CanaryStep{
					{SetWeight: &half},
					{Pause: &v1alpha1.RolloutPause{Duration: &intstr.IntOrString{Type: intstr.String, StrVal: "1s"}}},
				},
			}},
		},
	}
}

// forEach runs f for 0..n-1 with a few calls at once.
func forEach(ctx context.Context, n int, f func(ctx context.Context, i int) error) error {
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(parallelism)
	for i := range n {
		g.Go(func() error { return f(ctx, i) })
	}
	return g.Wait()
}

// createFleets creates n Rollouts, and n Deployments if asked, with image.
func createFleets(ctx context.Context, kube kubernetes.Interface, argo versioned.Interface, n int, image string, withDeployments bool) error {
	return forEach(ctx, n, func(ctx context.Context, i int) error {
		if withDeployments {
			if _, err := kube.AppsV1().Deployments(DeploymentNamespace).Create(ctx, deployment(objectName(i), image), metav1.CreateOptions{}); err != nil {
				return fmt.Errorf("creating Deployment %d: %w", i, err)
			}
		}
		if _, err := argo.ArgoprojV1alpha1().Rollouts(RolloutNamespace).Create(ctx, rollout(objectName(i), image), metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("creating Rollout %d: %w", i, err)
		}
		return nil
	})
}

// imagePatch sets the first container's image of a pod template.
func imagePatch(image string) []byte {
	return fmt.Appendf(nil, `{"spec":{"template":{"spec":{"containers":[{"name":"app","image":%q}]}}}}`, image)
}

func setDeploymentImages(ctx context.Context, kube kubernetes.Interface, n int, image string) error {
	return forEach(ctx, n, func(ctx context.Context, i int) error {
		_, err := kube.AppsV1().Deployments(DeploymentNamespace).Patch(ctx, objectName(i), types.StrategicMergePatchType, imagePatch(image), metav1.PatchOptions{})
		return err
	})
}

func setRolloutImages(ctx context.Context, argo versioned.Interface, namespace string, n int, image string) error {
	body := imagePatch(image) // a JSON merge patch: the one container is replaced whole
	return forEach(ctx, n, func(ctx context.Context, i int) error {
		_, err := argo.ArgoprojV1alpha1().Rollouts(namespace).Patch(ctx, objectName(i), types.MergePatchType, body, metav1.PatchOptions{})
		return err
	})
}

// Watches are the suite's own informers on both fleets: what it knows of
// them comes from the API server's watch, not from polling.
type Watches struct {
	deployments cache.Store
	rollouts    cache.Store
}

// StartWatches starts informers on both namespaces and waits for their caches.
func StartWatches(ctx context.Context, kube kubernetes.Interface, argo versioned.Interface) (*Watches, error) {
	kf := informers.NewSharedInformerFactoryWithOptions(kube, 0, informers.WithNamespace(DeploymentNamespace))
	af := argoinformers.NewSharedInformerFactoryWithOptions(argo, 0, argoinformers.WithNamespace(RolloutNamespace))
	d := kf.Apps().V1().Deployments().Informer()
	r := af.Argoproj().V1alpha1().Rollouts().Informer()
	kf.Start(ctx.Done())
	af.Start(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), d.HasSynced, r.HasSynced) {
		return nil, fmt.Errorf("the suite's informers did not sync")
	}
	return &Watches{deployments: d.GetStore(), rollouts: r.GetStore()}, nil
}

// deploymentDone tells whether a Deployment runs only image, all available.
func deploymentDone(image string) func(any) bool {
	return func(obj any) bool {
		d := obj.(*appsv1.Deployment)
		want := *d.Spec.Replicas
		return d.Status.ObservedGeneration >= d.Generation && d.Spec.Template.Spec.Containers[0].Image == image &&
			d.Status.UpdatedReplicas == want && d.Status.AvailableReplicas == want && d.Status.Replicas == want
	}
}

// rolloutDone tells whether a Rollout at image is Healthy at its generation.
func rolloutDone(image string) func(any) bool {
	return func(obj any) bool {
		r := obj.(*v1alpha1.Rollout)
		return r.Spec.Template.Spec.Containers[0].Image == image &&
			r.Status.ObservedGeneration == strconv.FormatInt(r.Generation, 10) &&
			r.Status.Phase == v1alpha1.RolloutPhaseHealthy && r.Status.StableRS == r.Status.CurrentPodHash
	}
}

// waitAll waits until n objects of store satisfy done, printing progress
// every 10 s, and returns when that was.
func waitAll(ctx context.Context, p *Progress, what string, store cache.Store, n int, done func(any) bool) (time.Time, error) {
	lastPrint := time.Now()
	for {
		count := 0
		for _, obj := range store.List() {
			if done(obj) {
				count++
			}
		}
		now := time.Now()
		if count >= n {
			return now, nil
		}
		if now.Sub(lastPrint) >= 10*time.Second {
			p.Printf("  %s: %d/%d", what, count, n)
			lastPrint = now
		}
		select {
		case <-ctx.Done():
			return now, fmt.Errorf("%s: %d/%d after waiting: %w", what, count, n, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}
