// Package notify checks Argo Rollouts' notifications end to end: the
// controller reads argo-rollouts-notification-configmap and
// argo-rollouts-notification-secret from its namespace and sends, to
// receivers in the test process (a webhook and a Slack-compatible API),
// what the Rollouts' subscription annotations ask for.
package notify

import (
	"context"
	"fmt"
	"os"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/serin-dev/serin/e2e/framework"
)

var receivers *hub

func TestMain(m *testing.M) {
	var err error
	if receivers, err = startHub(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	framework.MainWith(m, writeNotificationConfig)
}

// writeNotificationConfig writes the ConfigMap and Secret into the
// controller's namespace before it starts.
func writeNotificationConfig(e *framework.Env) error {
	ctx := context.Background()
	ns := framework.ControllerNamespace
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "argo-rollouts-notification-configmap", Namespace: ns}, Data: receivers.config()}
	if _, err := e.Kube.CoreV1().ConfigMaps(ns).Create(ctx, cm, metav1.CreateOptions{}); err != nil {
		return err
	}
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "argo-rollouts-notification-secret", Namespace: ns},
		StringData: map[string]string{"hook-token": hookToken, "slack-token": slackToken}}
	_, err := e.Kube.CoreV1().Secrets(ns).Create(ctx, secret, metav1.CreateOptions{})
	return err
}
