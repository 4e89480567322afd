package framework

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"
)

// Metrics returns what the running controller's /metrics serves.
func (e *Env) Metrics() (string, error) {
	e.mu.Lock()
	p := e.controller
	e.mu.Unlock()
	if p == nil {
		return "", fmt.Errorf("no controller is running")
	}
	client := http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get(fmt.Sprintf("http://127.0.0.1:%d/metrics", p.metricsPort))
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return string(body), err
}

// LogContains tells whether any controller of this run logged s.
func (e *Env) LogContains(s string) (bool, error) {
	data, err := os.ReadFile(e.logPath)
	if err != nil {
		return false, err
	}
	return strings.Contains(string(data), s), nil
}
