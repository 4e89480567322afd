package cluster

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/http"
	"path/filepath"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

const (
	// NodeName is the fake node kwok manages; every pod is scheduled there.
	NodeName = "kwok-node-0"
	// KubernetesVersion is the release of the control-plane binaries.
	KubernetesVersion  = "v1.37.2"
	kwokNodeAnnotation = "kwok.x-k8s.io/node"
	notReadyTaint      = "node.kubernetes.io/not-ready"
)

// ports of one cluster, all on 127.0.0.1.
type ports struct {
	etcd, etcdPeer, apiserver, controllerManager, scheduler, kwok, prometheus int
}

func allocatePorts() (ports, error) {
	p, err := freePorts(7)
	if err != nil {
		return ports{}, err
	}
	return ports{p[0], p[1], p[2], p[3], p[4], p[5], p[6]}, nil
}

// files of one cluster, under its directory.
type files struct {
	dir, kubeconfig, tokens, saKey, saPub, schedulerConfig, stages, promConfig string
}

func clusterFiles(dir string) files {
	j := func(n string) string { return filepath.Join(dir, n) }
	return files{
		dir:             dir,
		kubeconfig:      j("kubeconfig"),
		tokens:          j("tokens.csv"),
		saKey:           j("sa.key"),
		saPub:           j("sa.pub"),
		schedulerConfig: j("kube-scheduler.yaml"),
		stages:          j("kwok-stages.yaml"),
		promConfig:      j("prometheus.yaml"),
	}
}

func local(port int) string { return "127.0.0.1:" + strconv.Itoa(port) }

func etcdArgs(f files, p ports) []string {
	peer := "http://" + local(p.etcdPeer)
	return []string{
		"--name=serin-e2e",
		"--data-dir=" + filepath.Join(f.dir, "etcd"),
		"--listen-client-urls=http://" + local(p.etcd),
		"--advertise-client-urls=http://" + local(p.etcd),
		"--listen-peer-urls=" + peer,
		"--initial-advertise-peer-urls=" + peer,
		"--initial-cluster=serin-e2e=" + peer,
		"--unsafe-no-fsync", // throwaway data: durability buys nothing here
		"--log-level=warn",
	}
}

// apiserverArgs are kube-apiserver's flags. Without priorityAndFairness
// the server limits only requests in flight (2000, 1000 mutating), which is
// all the e2e suites need; the benchmarks turn API Priority and Fairness on,
// as on a real cluster.
func apiserverArgs(f files, p ports, priorityAndFairness bool) []string {
	return []string{
		"--etcd-servers=http://" + local(p.etcd),
		"--bind-address=127.0.0.1",
		"--secure-port=" + strconv.Itoa(p.apiserver),
		"--cert-dir=" + filepath.Join(f.dir, "pki"),
		"--service-account-key-file=" + f.saPub,
		"--service-account-signing-key-file=" + f.saKey,
		"--service-account-issuer=https://kubernetes.default.svc",
		"--token-auth-file=" + f.tokens,
		"--authorization-mode=RBAC",
		"--service-cluster-ip-range=10.96.0.0/16",
		// The only address is loopback, which Endpoints may not hold.
		"--endpoint-reconciler-type=none",
		"--allow-privileged=true",
		"--enable-priority-and-fairness=" + strconv.FormatBool(priorityAndFairness),
		"--max-requests-inflight=2000",
		"--max-mutating-requests-inflight=1000",
		"--profiling=false",
	}
}

func controllerManagerArgs(f files, p ports) []string {
	return []string{
		"--kubeconfig=" + f.kubeconfig,
		"--authentication-kubeconfig=" + f.kubeconfig,
		"--authorization-kubeconfig=" + f.kubeconfig,
		"--bind-address=127.0.0.1",
		"--secure-port=" + strconv.Itoa(p.controllerManager),
		"--controllers=*,-nodeipam,-nodelifecycle,-serviceaccount-token",
		"--service-account-private-key-file=" + f.saKey,
		"--leader-elect=false",
		"--kube-api-qps=1000",
		"--kube-api-burst=2000",
		"--concurrent-replicaset-syncs=20",
		"--concurrent-deployment-syncs=20",
		"--concurrent-job-syncs=20",
		"--concurrent-gc-syncs=40",
		"--profiling=false",
	}
}

func schedulerArgs(f files, p ports) []string {
	return []string{
		"--config=" + f.schedulerConfig,
		"--authentication-kubeconfig=" + f.kubeconfig,
		"--authorization-kubeconfig=" + f.kubeconfig,
		"--bind-address=127.0.0.1",
		"--secure-port=" + strconv.Itoa(p.scheduler),
		"--profiling=false",
	}
}

func kwokArgs(f files, p ports) []string {
	return []string{
		"--kubeconfig=" + f.kubeconfig,
		"--config=" + f.stages,
		"--manage-all-nodes=false",
		"--manage-nodes-with-annotation-selector=" + kwokNodeAnnotation + "=fake",
		"--cidr=10.0.0.1/24",
		"--node-ip=10.0.0.1",
		"--server-address=" + local(p.kwok),
	}
}

// insecureClient talks to the self-signed HTTPS endpoints of the components.
var insecureClient = &http.Client{
	Timeout:   2 * time.Second,
	Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}},
}

// createNode registers the fake node kwok manages, with room for thousands
// of pods, and removes the not-ready taint the API server puts on new nodes
// (no node-lifecycle controller runs to lift it).
func createNode(ctx context.Context, cs kubernetes.Interface) error {
	capacity := corev1.ResourceList{
		corev1.ResourceCPU:    resource.MustParse("1000"),
		corev1.ResourceMemory: resource.MustParse("4Ti"),
		corev1.ResourcePods:   resource.MustParse("50000"),
	}
	node := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name:        NodeName,
			Annotations: map[string]string{kwokNodeAnnotation: "fake", "node.alpha.kubernetes.io/ttl": "0"},
			Labels: map[string]string{
				"kubernetes.io/hostname": NodeName,
				"kubernetes.io/os":       "linux",
				"kubernetes.io/arch":     "amd64",
				"type":                   "kwok",
			},
		},
		Status: corev1.NodeStatus{
			Capacity:    capacity,
			Allocatable: capacity,
			NodeInfo:    corev1.NodeSystemInfo{KubeletVersion: KubernetesVersion, OperatingSystem: "linux", Architecture: "amd64"},
		},
	}
	if _, err := cs.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{FieldManager: fieldManager}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating node %s: %w", NodeName, err)
	}
	for {
		n, err := cs.CoreV1().Nodes().Get(ctx, NodeName, metav1.GetOptions{})
		if err != nil {
			return err
		}
		taints := n.Spec.Taints[:0:0]
		for _, t := range n.Spec.Taints {
			if t.Key != notReadyTaint {
				taints = append(taints, t)
			}
		}
		if len(taints) == len(n.Spec.Taints) {
			return nil
		}
		n.Spec.Taints = taints
		_, err = cs.CoreV1().Nodes().Update(ctx, n, metav1.UpdateOptions{FieldManager: fieldManager})
		if err == nil {
			return nil
		}
		if !apierrors.IsConflict(err) {
			return fmt.Errorf("removing taint %s: %w", notReadyTaint, err)
		}
	}
}

// waitFor polls cond every 50ms until it returns true or ctx ends; errors from
// cond are retried. With p, it fails as soon as that component exits.
func waitFor(ctx context.Context, p *process, what string, cond func(context.Context) (bool, error)) error {
	var lastErr error
	for {
		ok, err := cond(ctx)
		if ok {
			return nil
		}
		if err != nil {
			lastErr = err
		}
		if p != nil {
			if done, werr := p.exited(); done {
				return p.failure(fmt.Errorf("exited while waiting for %s: %v", what, werr))
			}
		}
		select {
		case <-ctx.Done():
			err := fmt.Errorf("waiting for %s: %w", what, ctx.Err())
			if lastErr != nil {
				err = fmt.Errorf("waiting for %s: %w (last error: %v)", what, ctx.Err(), lastErr)
			}
			if p != nil {
				return p.failure(err)
			}
			return err
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func nodeReady(cs kubernetes.Interface) func(context.Context) (bool, error) {
	return func(ctx context.Context) (bool, error) {
		n, err := cs.CoreV1().Nodes().Get(ctx, NodeName, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		for _, c := range n.Status.Conditions {
			if c.Type == corev1.NodeReady {
				return c.Status == corev1.ConditionTrue, nil
			}
		}
		return false, nil
	}
}

func defaultServiceAccount(cs kubernetes.Interface, namespace string) func(context.Context) (bool, error) {
	return func(ctx context.Context) (bool, error) {
		_, err := cs.CoreV1().ServiceAccounts(namespace).Get(ctx, "default", metav1.GetOptions{})
		return err == nil, err
	}
}
