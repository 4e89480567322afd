package framework

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ControllerConfigMap is the ConfigMap the controller reads its plugins
// from, at start-up.
const ControllerConfigMap = "argo-rollouts-config"

// BuildCommand builds the e2e module's ./cmd/<name> into the run's
// directory and returns the binary's path.
func (e *Env) BuildCommand(name string) (string, error) {
	out := filepath.Join(e.Cluster.Dir(), "bin", name)
	cmd := exec.Command("go", "build", "-o", out, "./cmd/"+name)
	cmd.Dir = filepath.Join(e.root, "e2e")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building ./cmd/%s: %w\n%s", name, err, b)
	}
	return out, nil
}

// WriteControllerConfig creates the controller's ConfigMap with data; a
// controller started afterwards reads it.
func (e *Env) WriteControllerConfig(ctx context.Context, data map[string]string) error {
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: ControllerConfigMap, Namespace: ControllerNamespace}, Data: data}
	_, err := e.Kube.CoreV1().ConfigMaps(ControllerNamespace).Create(ctx, cm, metav1.CreateOptions{})
	return err
}

// CreateControllerSecret creates a Secret in the controller's namespace.
func (e *Env) CreateControllerSecret(ctx context.Context, name string, data map[string]string) error {
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ControllerNamespace}, StringData: data}
	_, err := e.Kube.CoreV1().Secrets(ControllerNamespace).Create(ctx, s, metav1.CreateOptions{})
	return err
}
