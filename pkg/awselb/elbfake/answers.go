package elbfake

import (
	"fmt"
	"net"
	"strconv"
)

// The XML shapes of the answers, as the ELBv2 Query API writes them:
// lists are <member> elements.

type lbMember struct {
	LoadBalancerArn  string
	LoadBalancerName string
	DNSName          string
	Type             string
}

type tgMember struct {
	TargetGroupArn  string
	TargetGroupName string
}

type tag struct {
	Key, Value string
}

type tagDescription struct {
	ResourceArn string
	Tags        []tag `xml:"Tags>member"`
}

type listener struct {
	ListenerArn     string
	LoadBalancerArn string
}

type weightedGroup struct {
	TargetGroupArn string
	Weight         int32
}

type action struct {
	Type          string
	ForwardConfig struct {
		TargetGroups []weightedGroup `xml:"TargetGroups>member"`
	}
}

type rule struct {
	RuleArn   string
	IsDefault bool
	Actions   []action `xml:"Actions>member"`
}

type targetHealth struct {
	Target struct {
		Id   string
		Port int32
	}
	TargetHealth struct {
		State string
	}
}

type result struct {
	LoadBalancers            []lbMember       `xml:"LoadBalancers>member,omitempty"`
	TargetGroups             []tgMember       `xml:"TargetGroups>member,omitempty"`
	TagDescriptions          []tagDescription `xml:"TagDescriptions>member,omitempty"`
	Listeners                []listener       `xml:"Listeners>member,omitempty"`
	Rules                    []rule           `xml:"Rules>member,omitempty"`
	TargetHealthDescriptions []targetHealth   `xml:"TargetHealthDescriptions>member,omitempty"`
}

// answer computes the result of one call; every list is served in one page.
func (f *Fake) answer(actionName string, get func(string) string) (result, error) {
	var out result
	switch actionName {
	case "DescribeLoadBalancers":
		for _, lb := range f.loadBalancers {
			out.LoadBalancers = append(out.LoadBalancers, lbMember{LoadBalancerArn: lb.ARN, LoadBalancerName: lb.Name, DNSName: lb.DNSName, Type: "application"})
		}
	case "DescribeTargetGroups":
		lb := f.lb(get("LoadBalancerArn"))
		if lb == nil {
			return out, fmt.Errorf("no load balancer %q", get("LoadBalancerArn"))
		}
		for _, tg := range lb.TargetGroups {
			out.TargetGroups = append(out.TargetGroups, tgMember{TargetGroupArn: tg.ARN, TargetGroupName: tg.Name})
		}
	case "DescribeTags":
		for i := 1; get(fmt.Sprintf("ResourceArns.member.%d", i)) != ""; i++ {
			if tg := f.tg(get(fmt.Sprintf("ResourceArns.member.%d", i))); tg != nil {
				out.TagDescriptions = append(out.TagDescriptions, tagDescription{ResourceArn: tg.ARN, Tags: []tag{{Key: TagKey, Value: tg.ResourceID}}})
			}
		}
	case "DescribeListeners":
		if lb := f.lb(get("LoadBalancerArn")); lb != nil {
			out.Listeners = []listener{{ListenerArn: lb.ARN + "/listener", LoadBalancerArn: lb.ARN}}
		}
	case "DescribeRules":
		for _, lb := range f.loadBalancers {
			if lb.ARN+"/listener" == get("ListenerArn") {
				out.Rules = []rule{forwardRule(lb)}
			}
		}
	case "DescribeTargetHealth":
		tg := f.tg(get("TargetGroupArn"))
		if tg == nil {
			return out, fmt.Errorf("no target group %q", get("TargetGroupArn"))
		}
		out.TargetHealthDescriptions = targets(tg)
	default:
		return out, fmt.Errorf("the fake does not serve %q", actionName)
	}
	return out, nil
}

func forwardRule(lb *LoadBalancer) rule {
	a := action{Type: "forward"}
	for _, tg := range lb.TargetGroups {
		a.ForwardConfig.TargetGroups = append(a.ForwardConfig.TargetGroups, weightedGroup{TargetGroupArn: tg.ARN, Weight: tg.Weight})
	}
	return rule{RuleArn: lb.ARN + "/rule", Actions: []action{a}}
}

func targets(tg *TargetGroup) []targetHealth {
	var out []targetHealth
	for _, t := range tg.Targets {
		host, port, err := net.SplitHostPort(t)
		if err != nil {
			continue
		}
		p, _ := strconv.Atoi(port)
		var th targetHealth
		th.Target.Id, th.Target.Port, th.TargetHealth.State = host, int32(p), "healthy"
		out = append(out, th)
	}
	return out
}
