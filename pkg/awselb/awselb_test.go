package awselb

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"

	"github.com/serin-dev/serin/pkg/awselb/elbfake"
)

const lbARN = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/k8s-shop-web/50dc"

func fakeELB(t *testing.T) (*elbfake.Fake, *Client) {
	f := &elbfake.Fake{}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	var tgs []*elbfake.TargetGroup
	// More target groups than one DescribeTags call takes.
	for i := 0; i < 25; i++ {
		tgs = append(tgs, &elbfake.TargetGroup{ARN: "arn:tg/other-" + string(rune('a'+i)), Name: "other", ResourceID: "shop/other-" + string(rune('a'+i)) + ":80"})
	}
	tgs = append(tgs,
		&elbfake.TargetGroup{ARN: "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/canary/1", Name: "canary", ResourceID: "shop/web-web-canary:80", Weight: 10},
		&elbfake.TargetGroup{ARN: "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/stable/2", Name: "stable", ResourceID: "shop/web-web-stable:80", Weight: 90})
	f.Add(&elbfake.LoadBalancer{ARN: "arn:other", Name: "other", DNSName: "other.elb.amazonaws.com"})
	f.Add(&elbfake.LoadBalancer{ARN: lbARN, Name: "k8s-shop-web", DNSName: "web.eu-west-1.elb.amazonaws.com", TargetGroups: tgs})
	api := elbv2.New(elbv2.Options{
		Region:       "eu-west-1",
		BaseEndpoint: aws.String(srv.URL),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDFAKE", "secret", ""),
	})
	return f, NewWithAPI(api, "")
}

func TestLoadBalancerAndTargetGroupsFromTheQueryAPI(t *testing.T) {
	f, c := fakeELB(t)
	ctx := context.Background()
	lb, err := c.FindLoadBalancer(ctx, "web.eu-west-1.elb.amazonaws.com")
	if err != nil || lb == nil || lb.ARN != lbARN || lb.Name != "k8s-shop-web" {
		t.Fatalf("load balancer %+v, %v", lb, err)
	}
	if none, err := c.FindLoadBalancer(ctx, "gone.elb.amazonaws.com"); none != nil || err != nil {
		t.Fatalf("unknown DNS name: %+v, %v; want nil, nil", none, err)
	}
	tgs, err := c.TargetGroups(ctx, lbARN)
	if err != nil || len(tgs) != 27 {
		t.Fatalf("%d target groups, %v", len(tgs), err)
	}
	canary, stable := tgs[25], tgs[26]
	if canary.ResourceID != "shop/web-web-canary:80" || canary.Weight == nil || *canary.Weight != 10 ||
		stable.ResourceID != "shop/web-web-stable:80" || stable.Weight == nil || *stable.Weight != 90 || tgs[24].ResourceID != "shop/other-y:80" {
		t.Fatalf("target groups %+v %+v %+v", canary, stable, tgs[24])
	}
	calls, keys := f.Calls()
	want := "DescribeLoadBalancers,DescribeLoadBalancers,DescribeTargetGroups,DescribeTags,DescribeTags,DescribeListeners,DescribeRules"
	if strings.Join(calls, ",") != want {
		t.Fatalf("calls %v, want %s", calls, want)
	}
	for _, k := range keys {
		if k != "AKIDFAKE" {
			t.Fatalf("a call was not signed with the configured credentials: %v", keys)
		}
	}
}

func TestAnAWSErrorIsReturned(t *testing.T) {
	f, c := fakeELB(t)
	f.Fail("AccessDenied")
	_, err := c.FindLoadBalancer(context.Background(), "web.eu-west-1.elb.amazonaws.com")
	if err == nil || !strings.Contains(err.Error(), "AccessDenied") {
		t.Fatalf("error %v, want AccessDenied", err)
	}
	if _, err := c.TargetGroups(context.Background(), lbARN); err == nil {
		t.Fatal("TargetGroups: no error")
	}
}

func TestRegisteredTargetsFromDescribeTargetHealth(t *testing.T) {
	f := &elbfake.Fake{}
	srv := httptest.NewServer(f)
	defer srv.Close()
	f.Add(&elbfake.LoadBalancer{ARN: lbARN, TargetGroups: []*elbfake.TargetGroup{{ARN: "arn:tg/1", Targets: []string{"10.0.0.1:8080", "10.0.0.2:8080"}}}})
	c := NewWithAPI(elbv2.New(elbv2.Options{Region: "eu-west-1", BaseEndpoint: aws.String(srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDFAKE", "secret", "")}), "")
	got, err := c.RegisteredTargets(context.Background(), "arn:tg/1")
	if err != nil || strings.Join(got, ",") != "10.0.0.1:8080,10.0.0.2:8080" {
		t.Fatalf("targets %v, %v", got, err)
	}
	if _, err := c.RegisteredTargets(context.Background(), "arn:tg/none"); err == nil {
		t.Fatal("unknown target group: no error")
	}
}
