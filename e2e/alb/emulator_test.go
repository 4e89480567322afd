package alb

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/util/retry"

	"github.com/serin-dev/serin/e2e/framework"
	"github.com/serin-dev/serin/pkg/awselb/elbfake"
)

var ingresses = schema.GroupVersionResource{Group: "networking.k8s.io", Version: "v1", Resource: "ingresses"}

// awsController plays the AWS Load Balancer Controller for one Ingress: it
// gives the Ingress a load balancer hostname, and keeps, on the fake
// ELBv2, a target group per Service of the Ingress's forward action with
// the action's weight, unless held.
type awsController struct {
	f         *framework.T
	ingress   string
	actionKey string
	lbARN     string
	held      atomic.Bool
	client    dynamic.ResourceInterface
}

// startAWSController starts the stand-in for an existing Ingress whose
// weighted action is under actionKey.
func startAWSController(f *framework.T, ingress, actionKey string) *awsController {
	f.Helper()
	name := f.Namespace + "-" + ingress
	c := &awsController{f: f, ingress: ingress, actionKey: actionKey,
		lbARN: "arn:aws:elasticloadbalancing:us-east-1:000000000000:loadbalancer/app/" + name + "/0123456789abcdef"}
	elb.Add(&elbfake.LoadBalancer{ARN: c.lbARN, Name: name, DNSName: name + ".us-east-1.elb.amazonaws.com"})
	client := f.Env.Cluster.Dynamic().Resource(ingresses).Namespace(f.Namespace)
	c.client = client
	// The controller may write the Ingress meanwhile: read it again on a conflict.
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		ing, err := client.Get(context.Background(), ingress, metav1.GetOptions{})
		if err != nil {
			return err
		}
		ing.Object["status"] = map[string]any{"loadBalancer": map[string]any{"ingress": []any{map[string]any{"hostname": name + ".us-east-1.elb.amazonaws.com"}}}}
		_, err = client.UpdateStatus(context.Background(), ing, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		f.Fatalf("setting the Ingress's load balancer: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	f.Cleanup(cancel)
	go func() {
		for ctx.Err() == nil {
			if u, err := client.Get(ctx, ingress, metav1.GetOptions{}); err == nil && !c.held.Load() {
				c.apply(u)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}()
	return c
}

// Hold mirrors the Ingress once more, so that the load balancer has a
// target group for every Service the Rollout has written so far, then
// stops its weights from following the Ingress.
func (c *awsController) Hold() {
	c.f.Helper()
	u, err := c.client.Get(context.Background(), c.ingress, metav1.GetOptions{})
	if err != nil {
		c.f.Fatalf("reading the Ingress before holding its load balancer: %v", err)
	}
	c.apply(u)
	c.held.Store(true)
}

// Release lets them follow again.
func (c *awsController) Release() { c.held.Store(false) }

type forward struct {
	ForwardConfig struct {
		TargetGroups []struct {
			ServiceName string
			ServicePort string
			Weight      int32
		}
	}
}

func (c *awsController) apply(u *unstructured.Unstructured) {
	raw, ok := u.GetAnnotations()[c.actionKey]
	if !ok {
		return
	}
	var a forward
	if json.Unmarshal([]byte(raw), &a) != nil {
		return
	}
	for _, tg := range a.ForwardConfig.TargetGroups {
		port, _ := strconv.Atoi(tg.ServicePort)
		elb.SetTargetGroup(c.lbARN, fmt.Sprintf("%s/%s-%s:%d", c.f.Namespace, c.ingress, tg.ServiceName, port), tg.Weight)
	}
}

// weights reads the forward action's weights by Service.
func weights(u *unstructured.Unstructured, actionKey string) map[string]int32 {
	var a forward
	if json.Unmarshal([]byte(u.GetAnnotations()[actionKey]), &a) != nil {
		return nil
	}
	out := map[string]int32{}
	for _, tg := range a.ForwardConfig.TargetGroups {
		out[tg.ServiceName] = tg.Weight
	}
	return out
}

// expectOnlyFakeKey checks that every ELBv2 call the controller made was
// signed with the fake key it was given.
func expectOnlyFakeKey(f *framework.T) {
	f.Helper()
	calls, keys := elb.Calls()
	if len(calls) == 0 {
		f.Fatal("the controller never called ELBv2")
	}
	for _, k := range keys {
		if k != fakeAccessKey {
			f.Fatalf("an ELBv2 call was signed with %q, not the configured key: %v", k, strings.Join(keys, ","))
		}
	}
}
