package kayenta

import (
	"strconv"
	"testing"

	"github.com/serin-dev/serin/pkg/apis/rollouts/v1alpha1"
	"github.com/serin-dev/serin/pkg/metric/metrictest"
)

// FuzzExecutionStatus feeds execution statuses and thresholds to the
// parser and the judge: no panic, a storable measurement.
func FuzzExecutionStatus(f *testing.F) {
	f.Add([]byte(`{"application":"guestbook","status":"succeeded","complete":true,"result":{"judgeResult":{"judgeName":"NetflixJudge-v1.0","score":{"score":95,"classification":"Pass"}}}}`), int64(90), int64(75))
	f.Add([]byte(`{"application":"guestbook","status":"running","complete":false}`), int64(90), int64(75))
	f.Add([]byte(`{"complete":true,"result":{}}`), int64(0), int64(0))
	f.Add([]byte(`{"complete":true,"result":{"judgeResult":{"score":{"score":1e300}}}}`), int64(-1), int64(100))
	f.Fuzz(func(t *testing.T, body []byte, pass, marginal int64) {
		complete, score, err := executionStatus(body)
		switch {
		case err != nil:
			metrictest.WantStorable(t, metrictest.Outcome("", "", err))
		case !complete:
			metrictest.WantStorable(t, v1alpha1.Measurement{Phase: v1alpha1.AnalysisPhaseRunning})
		default:
			phase := judge(score, v1alpha1.KayentaThreshold{Pass: pass, Marginal: marginal})
			metrictest.WantStorable(t, metrictest.Outcome(phase, strconv.FormatInt(score, 10), nil))
		}
	})
}
