package main

import (
	"fmt"
	"os/exec"
	"strings"
)

// explainAndPlan is the last chapter: kubectl serin explains why v3 was
// aborted, naming the measurement that decided it, and plans what a v4
// would do from where the guestbook Rollout stands now.
func (s *story) explainAndPlan() error {
	say("")
	say("Chapter 5: asking kubectl serin. Why was v3 aborted? (kubectl serin explain rollout guestbook -n demo)")
	out, err := s.serin("explain", "rollout", "guestbook")
	if err != nil {
		return err
	}
	if !strings.Contains(out, "deciding measurement: value [0.8]") {
		return fmt.Errorf("kubectl serin explain does not name the deciding measurement:\n%s", out)
	}
	fmt.Print(indent(out))
	say("What would releasing v4 do? (kubectl serin plan guestbook --image guestbook=...:v4 --pod-ready 2 -n demo)")
	out, err = s.serin("plan", "guestbook", "--image", "guestbook=registry.example.com/guestbook:v4", "--pod-ready", "2")
	if err != nil {
		return err
	}
	fmt.Print(indent(out))
	return nil
}

// serin runs bin/kubectl-serin on the demo's cluster and namespace.
func (s *story) serin(args ...string) (string, error) {
	args = append(args, "--kubeconfig", s.kubeconfig, "-n", s.ns)
	out, err := exec.CommandContext(s.ctx, s.serinBin, args...).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("kubectl-serin %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

func indent(text string) string {
	var b strings.Builder
	for _, line := range strings.SplitAfter(text, "\n") {
		if line != "" {
			b.WriteString("    " + line)
		}
	}
	return b.String()
}
