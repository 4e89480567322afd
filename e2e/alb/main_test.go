// Package alb runs Rollouts on the AWS ALB router against a local cluster.
// No AWS Load Balancer Controller runs: the tests check the annotations
// Serin writes on a networking.k8s.io/v1 Ingress, and play the controller's
// part themselves (an Ingress status hostname, target groups whose weights
// follow the Ingress) on a fake ELBv2 endpoint served from the test
// process, against which the controller, started with
// --aws-verify-target-group, verifies the weights through the AWS SDK.
package alb

import (
	"net/http/httptest"
	"testing"

	"github.com/serin-dev/serin/e2e/framework"
	"github.com/serin-dev/serin/pkg/awselb/elbfake"
)

// elb is the ELBv2 stand-in every test of the package shares.
var elb = &elbfake.Fake{}

// fakeAccessKey is the only access key the controller is given: the fake
// checks every call it gets is signed with it.
const fakeAccessKey = "AKIDSERINE2EFAKE"

func TestMain(m *testing.M) {
	srv := httptest.NewServer(elb)
	defer srv.Close()
	framework.MainWith(m, func(e *framework.Env) error {
		if err := installTargetGroupBindingCRD(e); err != nil {
			return err
		}
		e.ControllerArgs = append(e.ControllerArgs, "--aws-verify-target-group")
		e.ControllerEnv = append(e.ControllerEnv,
			"AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2="+srv.URL,
			"AWS_ACCESS_KEY_ID="+fakeAccessKey,
			"AWS_SECRET_ACCESS_KEY=not-a-secret",
			"AWS_REGION=us-east-1",
			"AWS_EC2_METADATA_DISABLED=true",
			"AWS_CONFIG_FILE=/nonexistent",
			"AWS_SHARED_CREDENTIALS_FILE=/nonexistent",
			"ROLLOUT_VERIFY_RETRY_INTERVAL=1",
		)
		return nil
	})
}
