// Package awselb asks the AWS ELBv2 API, through the AWS SDK for Go v2,
// what the ALB router's weight verification needs: the load balancer
// behind an Ingress, its target groups with their resource ID tags and
// the weights its listener rules forward with, and the targets registered
// in a target group. Credentials and the endpoint come from the SDK's
// default chain (AWS_REGION, IAM roles for service accounts, EKS Pod
// Identity, instance metadata, AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2
// or AWS_ENDPOINT_URL), so requests, and the credentials that sign them,
// go only to the AWS endpoint of the region or the one configured.
package awselb

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"

	"github.com/serin-dev/serin/pkg/trafficrouting/alb"
)

// Page size of DescribeLoadBalancers and the most ARNs one DescribeTags
// takes, Argo Rollouts' values.
const (
	loadBalancerPageSize = 300
	describeTagsLimit    = 20
)

// API is the part of the ELBv2 client used here.
type API interface {
	elbv2.DescribeLoadBalancersAPIClient
	DescribeTargetGroups(context.Context, *elbv2.DescribeTargetGroupsInput, ...func(*elbv2.Options)) (*elbv2.DescribeTargetGroupsOutput, error)
	DescribeTags(context.Context, *elbv2.DescribeTagsInput, ...func(*elbv2.Options)) (*elbv2.DescribeTagsOutput, error)
	DescribeListeners(context.Context, *elbv2.DescribeListenersInput, ...func(*elbv2.Options)) (*elbv2.DescribeListenersOutput, error)
	DescribeRules(context.Context, *elbv2.DescribeRulesInput, ...func(*elbv2.Options)) (*elbv2.DescribeRulesOutput, error)
	DescribeTargetHealth(context.Context, *elbv2.DescribeTargetHealthInput, ...func(*elbv2.Options)) (*elbv2.DescribeTargetHealthOutput, error)
}

// Client answers the verification's questions. It is safe for concurrent use.
type Client struct {
	api    API
	tagKey string
}

// New returns a Client configured from the environment as the AWS SDK's
// default chain finds it. tagKey is the target groups' resource ID tag
// (--alb-tag-key-resource-id; "" means ingress.k8s.aws/resource).
func New(ctx context.Context, tagKey string) (*Client, error) {
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("AWS configuration: %w", err)
	}
	return NewWithAPI(elbv2.NewFromConfig(cfg), tagKey), nil
}

// NewWithAPI returns a Client that asks api.
func NewWithAPI(api API, tagKey string) *Client {
	if tagKey == "" {
		tagKey = alb.DefaultResourceIDTag
	}
	return &Client{api: api, tagKey: tagKey}
}

// FindLoadBalancer returns the load balancer with the DNS name, or nil.
func (c *Client) FindLoadBalancer(ctx context.Context, dnsName string) (*alb.LoadBalancer, error) {
	pages := elbv2.NewDescribeLoadBalancersPaginator(c.api, &elbv2.DescribeLoadBalancersInput{PageSize: aws.Int32(loadBalancerPageSize)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, lb := range page.LoadBalancers {
			if aws.ToString(lb.DNSName) == dnsName {
				return &alb.LoadBalancer{ARN: aws.ToString(lb.LoadBalancerArn), Name: aws.ToString(lb.LoadBalancerName), DNSName: dnsName}, nil
			}
		}
	}
	return nil, nil
}

// TargetGroups returns the target groups of a load balancer, in ELBv2's
// order, each with its resource ID tag and the weight a forward action of
// one of the load balancer's listener rules gives it.
func (c *Client) TargetGroups(ctx context.Context, loadBalancerARN string) ([]alb.TargetGroup, error) {
	out, err := c.api.DescribeTargetGroups(ctx, &elbv2.DescribeTargetGroupsInput{LoadBalancerArn: aws.String(loadBalancerARN)})
	if err != nil {
		return nil, err
	}
	groups := make([]alb.TargetGroup, 0, len(out.TargetGroups))
	index := map[string]int{}
	var arns []string
	for _, tg := range out.TargetGroups {
		arn := aws.ToString(tg.TargetGroupArn)
		index[arn] = len(groups)
		arns = append(arns, arn)
		groups = append(groups, alb.TargetGroup{ARN: arn, Name: aws.ToString(tg.TargetGroupName)})
	}
	if err := c.addTags(ctx, arns, groups, index); err != nil {
		return nil, err
	}
	if err := c.addWeights(ctx, loadBalancerARN, groups, index); err != nil {
		return nil, err
	}
	return groups, nil
}

func (c *Client) addTags(ctx context.Context, arns []string, groups []alb.TargetGroup, index map[string]int) error {
	for start := 0; start < len(arns); start += describeTagsLimit {
		end := min(start+describeTagsLimit, len(arns))
		out, err := c.api.DescribeTags(ctx, &elbv2.DescribeTagsInput{ResourceArns: arns[start:end]})
		if err != nil {
			return err
		}
		for _, desc := range out.TagDescriptions {
			i, ok := index[aws.ToString(desc.ResourceArn)]
			if !ok {
				continue
			}
			for _, tag := range desc.Tags {
				if aws.ToString(tag.Key) == c.tagKey {
					groups[i].ResourceID = aws.ToString(tag.Value)
				}
			}
		}
	}
	return nil
}

func (c *Client) addWeights(ctx context.Context, loadBalancerARN string, groups []alb.TargetGroup, index map[string]int) error {
	listeners, err := c.api.DescribeListeners(ctx, &elbv2.DescribeListenersInput{LoadBalancerArn: aws.String(loadBalancerARN)})
	if err != nil {
		return err
	}
	for _, l := range listeners.Listeners {
		rules, err := c.api.DescribeRules(ctx, &elbv2.DescribeRulesInput{ListenerArn: l.ListenerArn})
		if err != nil {
			return err
		}
		for _, rule := range rules.Rules {
			for _, action := range rule.Actions {
				if action.ForwardConfig == nil {
					continue
				}
				for _, t := range action.ForwardConfig.TargetGroups {
					if i, ok := index[aws.ToString(t.TargetGroupArn)]; ok && t.Weight != nil {
						w := *t.Weight
						groups[i].Weight = &w
					}
				}
			}
		}
	}
	return nil
}

// RegisteredTargets returns the targets registered in a target group, as
// "id:port" (a pod IP and port for target type ip), whatever their health:
// registration is what shows the load balancer knows the new pods.
func (c *Client) RegisteredTargets(ctx context.Context, targetGroupARN string) ([]string, error) {
	out, err := c.api.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(targetGroupARN)})
	if err != nil {
		return nil, err
	}
	var targets []string
	for _, d := range out.TargetHealthDescriptions {
		if d.Target == nil || d.Target.Id == nil || d.Target.Port == nil {
			continue
		}
		targets = append(targets, fmt.Sprintf("%s:%d", *d.Target.Id, *d.Target.Port))
	}
	return targets, nil
}
