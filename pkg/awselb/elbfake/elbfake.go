// Package elbfake is a stand-in for the AWS ELBv2 endpoint, for tests: an
// http.Handler that answers the Query API calls the ALB verification makes
// (DescribeLoadBalancers, DescribeTargetGroups, DescribeTags,
// DescribeListeners, DescribeRules, DescribeTargetHealth) in the API's XML,
// from load balancers the test sets up. Each load balancer has one listener
// with one rule forwarding to its target groups with their weights.
package elbfake

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"strings"
	"sync"
)

// TargetGroup is a target group the fake serves.
type TargetGroup struct {
	ARN, Name  string
	ResourceID string
	Weight     int32
	// Targets are the registered targets, as "ip:port".
	Targets []string
}

// LoadBalancer is a load balancer the fake serves.
type LoadBalancer struct {
	ARN, Name, DNSName string
	TargetGroups       []*TargetGroup
}

// Fake is the ELBv2 stand-in. Set its fields before serving or under Lock.
type Fake struct {
	mu            sync.Mutex
	loadBalancers []*LoadBalancer
	// failWith, when set, makes every call answer this error code (403).
	failWith string
	// calls and accessKeys record each call's action and the access key
	// ID of its signature.
	calls      []string
	accessKeys []string
}

// TagKey is the tag the fake puts each target group's resource ID under.
const TagKey = "ingress.k8s.aws/resource"

// Add serves a load balancer.
func (f *Fake) Add(lb *LoadBalancer) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.loadBalancers = append(f.loadBalancers, lb)
}

// SetWeight sets the weight of the target group with the resource ID, as
// the AWS Load Balancer Controller would after reading the Ingress.
func (f *Fake) SetWeight(resourceID string, weight int32) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, lb := range f.loadBalancers {
		for _, tg := range lb.TargetGroups {
			if tg.ResourceID == resourceID {
				tg.Weight = weight
				return true
			}
		}
	}
	return false
}

// Fail makes every call fail with the error code ("" to stop).
func (f *Fake) Fail(code string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failWith = code
}

// Calls returns the actions called so far and the access key IDs that
// signed them.
func (f *Fake) Calls() (actions, accessKeys []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...), append([]string(nil), f.accessKeys...)
}

// accessKey reads the access key ID from a SigV4 Authorization header.
func accessKey(auth string) string {
	_, rest, ok := strings.Cut(auth, "Credential=")
	if !ok {
		return ""
	}
	key, _, _ := strings.Cut(rest, "/")
	return key
}

// ServeHTTP answers one Query API call.
func (f *Fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	action := r.PostForm.Get("Action")
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, action)
	f.accessKeys = append(f.accessKeys, accessKey(r.Header.Get("Authorization")))
	w.Header().Set("Content-Type", "text/xml")
	if f.failWith != "" {
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprintf(w, `<ErrorResponse><Error><Type>Sender</Type><Code>%s</Code><Message>the fake refuses %s</Message></Error><RequestId>fake</RequestId></ErrorResponse>`, f.failWith, action)
		return
	}
	result, err := f.answer(action, r.PostForm.Get)
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `<ErrorResponse><Error><Type>Sender</Type><Code>ValidationError</Code><Message>%s</Message></Error><RequestId>fake</RequestId></ErrorResponse>`, err)
		return
	}
	body, _ := xml.Marshal(result)
	fmt.Fprintf(w, `<%sResponse xmlns="http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/"><%sResult>%s</%sResult><ResponseMetadata><RequestId>fake</RequestId></ResponseMetadata></%sResponse>`,
		action, action, inner(body), action, action)
}

// inner drops the outer element of a marshalled result.
func inner(b []byte) string {
	s := string(b)
	start := strings.Index(s, ">") + 1
	end := strings.LastIndex(s, "</")
	if start <= 0 || end < start {
		return ""
	}
	return s[start:end]
}

func (f *Fake) lb(arn string) *LoadBalancer {
	for _, lb := range f.loadBalancers {
		if lb.ARN == arn {
			return lb
		}
	}
	return nil
}

func (f *Fake) tg(arn string) *TargetGroup {
	for _, lb := range f.loadBalancers {
		for _, tg := range lb.TargetGroups {
			if tg.ARN == arn {
				return tg
			}
		}
	}
	return nil
}

// SetTargetGroup gives the load balancer a target group for the resource
// ID with the weight, creating it when it has none, as the AWS Load
// Balancer Controller does for each Service an Ingress's actions name.
func (f *Fake) SetTargetGroup(lbARN, resourceID string, weight int32) {
	f.mu.Lock()
	defer f.mu.Unlock()
	lb := f.lb(lbARN)
	if lb == nil {
		return
	}
	for _, tg := range lb.TargetGroups {
		if tg.ResourceID == resourceID {
			tg.Weight = weight
			return
		}
	}
	name := fmt.Sprintf("tg-%d", len(lb.TargetGroups))
	arn := strings.Replace(lbARN, ":loadbalancer/app/", ":targetgroup/", 1) + "/" + name
	lb.TargetGroups = append(lb.TargetGroups, &TargetGroup{ARN: arn, Name: name, ResourceID: resourceID, Weight: weight})
}

// SetTargets registers exactly these "ip:port" targets in the target
// group with the ARN, as the AWS Load Balancer Controller does for a
// TargetGroupBinding's endpoints.
func (f *Fake) SetTargets(targetGroupARN string, targets []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if tg := f.tg(targetGroupARN); tg != nil {
		tg.Targets = append([]string(nil), targets...)
	}
}
