// Command router-plugin is a traffic-router plugin for the end-to-end
// tests, built like any plugin for Argo Rollouts: a go-plugin net/rpc
// server with the trafficrouter handshake. Instead of a mesh it keeps the
// split it is told in the ConfigMap <rollout>-traffic of the Rollout's
// namespace (keys weight, canaryHash, stableHash, removedRoutes, pid), and
// verifies a weight by reading it back.
//
// With --crash-marker <file>, a SetWeight that finds the file removes it
// and exits the process mid-call. With --hang every call but InitPlugin
// waits forever.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strconv"
	"time"

	goplugin "github.com/hashicorp/go-plugin"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/plugin/config"
	"github.com/serin-dev/serin/pkg/plugin/wire"
)

func main() {
	kubeconfig := flag.String("kubeconfig", "", "kubeconfig of the cluster")
	crash := flag.String("crash-marker", "", "exit during a SetWeight that finds this file")
	hang := flag.Bool("hang", false, "never answer a call")
	flag.Parse()
	p := &plugin{kubeconfig: *kubeconfig, crashMarker: *crash, hang: *hang}
	goplugin.Serve(&goplugin.ServeConfig{
		HandshakeConfig: wire.Handshake(config.KindTrafficRouter),
		Plugins:         wire.PluginSet(config.KindTrafficRouter, &wire.RouterServer{Impl: p}),
	})
}

type plugin struct {
	kubeconfig, crashMarker string
	hang                    bool
	kube                    kubernetes.Interface
}

func (p *plugin) InitPlugin() wire.RpcError {
	cfg, err := clientcmd.BuildConfigFromFlags("", p.kubeconfig)
	if err != nil {
		return wire.RpcError{ErrorString: err.Error()}
	}
	if p.kube, err = kubernetes.NewForConfig(cfg); err != nil {
		return wire.RpcError{ErrorString: err.Error()}
	}
	return wire.RpcError{}
}

func (p *plugin) wait() {
	if p.hang {
		select {}
	}
}

// write sets keys of the Rollout's ConfigMap, creating it if need be.
func (p *plugin) write(ro *v1alpha1.Rollout, set map[string]string) wire.RpcError {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cms := p.kube.CoreV1().ConfigMaps(ro.Namespace)
	name := ro.Name + "-traffic"
	set["pid"] = strconv.Itoa(os.Getpid())
	cm, err := cms.Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		_, err = cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ro.Namespace}, Data: set}, metav1.CreateOptions{})
		return rpcErr(err)
	}
	if err != nil {
		return rpcErr(err)
	}
	if cm.Data == nil {
		cm.Data = map[string]string{}
	}
	for k, v := range set {
		cm.Data[k] = v
	}
	_, err = cms.Update(ctx, cm, metav1.UpdateOptions{})
	return rpcErr(err)
}

func rpcErr(err error) wire.RpcError {
	if err != nil {
		return wire.RpcError{ErrorString: err.Error()}
	}
	return wire.RpcError{}
}

func (p *plugin) UpdateHash(ro *v1alpha1.Rollout, canary, stable string, _ []v1alpha1.WeightDestination) wire.RpcError {
	p.wait()
	return p.write(ro, map[string]string{"canaryHash": canary, "stableHash": stable})
}

func (p *plugin) SetWeight(ro *v1alpha1.Rollout, weight int32, _ []v1alpha1.WeightDestination) wire.RpcError {
	p.wait()
	if p.crashMarker != "" {
		if err := os.Remove(p.crashMarker); err == nil {
			fmt.Fprintln(os.Stderr, "crash marker found: exiting in the middle of SetWeight")
			os.Exit(3)
		}
	}
	return p.write(ro, map[string]string{"weight": strconv.Itoa(int(weight))})
}

func (p *plugin) SetHeaderRoute(ro *v1alpha1.Rollout, h *v1alpha1.SetHeaderRoute) wire.RpcError {
	p.wait()
	return p.write(ro, map[string]string{"headerRoute": h.Name})
}

func (p *plugin) SetMirrorRoute(ro *v1alpha1.Rollout, m *v1alpha1.SetMirrorRoute) wire.RpcError {
	p.wait()
	return p.write(ro, map[string]string{"mirrorRoute": m.Name})
}

func (p *plugin) RemoveManagedRoutes(ro *v1alpha1.Rollout) wire.RpcError {
	p.wait()
	return p.write(ro, map[string]string{"removedRoutes": "true"})
}

// VerifyWeight reads the weight back: verified when the ConfigMap holds it.
func (p *plugin) VerifyWeight(ro *v1alpha1.Rollout, weight int32, _ []v1alpha1.WeightDestination) (wire.RpcVerified, wire.RpcError) {
	p.wait()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cm, err := p.kube.CoreV1().ConfigMaps(ro.Namespace).Get(ctx, ro.Name+"-traffic", metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return wire.NotVerified, wire.RpcError{}
	}
	if err != nil {
		return wire.NotVerified, rpcErr(err)
	}
	if cm.Data["weight"] == strconv.Itoa(int(weight)) {
		return wire.Verified, wire.RpcError{}
	}
	return wire.NotVerified, wire.RpcError{}
}

func (p *plugin) Type() string { return "SerinE2EConfigMap" }
