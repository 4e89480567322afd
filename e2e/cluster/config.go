package cluster

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"net"
	"os"

	"sigs.k8s.io/yaml"
)

// freePorts returns n distinct TCP ports free on 127.0.0.1. All listeners are
// held until every port is chosen so that no port is handed out twice.
func freePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	for i := 0; i < n; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// randomToken returns 32 random hex characters.
func randomToken() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

// writeServiceAccountKeys writes a fresh RSA key pair: the private key (PKCS#1)
// signs service-account tokens, the public key (PKIX) verifies them.
func writeServiceAccountKeys(keyPath, pubPath string) error {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return err
	}
	priv := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	pubDER, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return err
	}
	pub := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	if err := os.WriteFile(keyPath, priv, 0o600); err != nil {
		return err
	}
	return os.WriteFile(pubPath, pub, 0o644)
}

// writeTokenFile writes the static token file: one cluster-admin user.
func writeTokenFile(path, token string) error {
	line := fmt.Sprintf("%s,serin-e2e-admin,serin-e2e-admin,system:masters\n", token)
	return os.WriteFile(path, []byte(line), 0o600)
}

// kubeconfigYAML is a kubeconfig for the admin token. The API server's serving
// certificate is self-signed, hence insecure-skip-tls-verify.
func kubeconfigYAML(server, token string) ([]byte, error) {
	cfg := map[string]any{
		"apiVersion": "v1",
		"kind":       "Config",
		"clusters": []any{map[string]any{
			"name":    "serin-e2e",
			"cluster": map[string]any{"server": server, "insecure-skip-tls-verify": true},
		}},
		"users": []any{map[string]any{
			"name": "serin-e2e-admin",
			"user": map[string]any{"token": token},
		}},
		"contexts": []any{map[string]any{
			"name":    "serin-e2e",
			"context": map[string]any{"cluster": "serin-e2e", "user": "serin-e2e-admin", "namespace": "default"},
		}},
		"current-context": "serin-e2e",
	}
	return yaml.Marshal(cfg)
}

// schedulerConfigYAML raises the scheduler's client rate limits, which
// otherwise throttle anything beyond a few dozen pods.
func schedulerConfigYAML(kubeconfig string) ([]byte, error) {
	cfg := map[string]any{
		"apiVersion": "kubescheduler.config.k8s.io/v1",
		"kind":       "KubeSchedulerConfiguration",
		"clientConnection": map[string]any{
			"kubeconfig": kubeconfig,
			"qps":        1000,
			"burst":      2000,
		},
		"leaderElection": map[string]any{"leaderElect": false},
	}
	return yaml.Marshal(cfg)
}
