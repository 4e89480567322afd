package main

import (
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/serin-dev/serin/pkg/client/clientset/versioned"
)

// clients are the API clients a command uses.
type clients struct {
	kube      kubernetes.Interface
	rollouts  versioned.Interface
	dynamic   dynamic.Interface
	namespace string
}

// clients builds the clients from --kubeconfig, --context, -n and the
// other kubectl flags.
func (o *options) clients() (*clients, error) {
	cfg, err := o.config.ToRESTConfig()
	if err != nil {
		return nil, err
	}
	ns, _, err := o.config.ToRawKubeConfigLoader().Namespace()
	if err != nil {
		return nil, err
	}
	c := &clients{namespace: ns}
	if c.kube, err = kubernetes.NewForConfig(cfg); err != nil {
		return nil, err
	}
	if c.rollouts, err = versioned.NewForConfig(cfg); err != nil {
		return nil, err
	}
	if c.dynamic, err = dynamic.NewForConfig(cfg); err != nil {
		return nil, err
	}
	return c, nil
}

// namespaceFlag is -n as given, or "default", for commands that need no
// cluster.
func (o *options) namespaceFlag() string {
	if o.config.Namespace != nil && *o.config.Namespace != "" {
		return *o.config.Namespace
	}
	return "default"
}
