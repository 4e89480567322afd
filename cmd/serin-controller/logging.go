package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"

	"k8s.io/klog/v2"
)

// Verbosity of --loglevel debug and trace. Serin logs routine detail at
// V(2) and per-reconcile detail at V(4), like Kubernetes controllers.
const (
	debugVerbosity = 4
	traceVerbosity = 6
)

// parseLogLevel maps Argo Rollouts' --loglevel values (logrus levels) onto
// klog: the verbosity to enable, and whether only errors are shown. klog
// has no warning level of its own once it writes through a logger, so warn
// shows errors only.
func parseLogLevel(level string) (verbosity int, errorsOnly bool, err error) {
	switch strings.ToLower(level) {
	case "trace":
		return traceVerbosity, false, nil
	case "debug":
		return debugVerbosity, false, nil
	case "info", "":
		return 0, false, nil
	case "warn", "warning", "error", "fatal", "panic":
		return 0, true, nil
	}
	return 0, false, fmt.Errorf("--loglevel %q: want debug, info, warn or error", level)
}

// setupLogging sends klog, and so every Kubernetes library and our own code,
// through one slog handler writing text or JSON to w. Levels are named like
// Argo Rollouts' logrus output (debug, info, error) so log queries carry over.
func setupLogging(w io.Writer, level, format string, klogLevel int) error {
	verbosity, errorsOnly, err := parseLogLevel(level)
	if err != nil {
		return err
	}
	verbosity = max(verbosity, klogLevel)

	flags := flag.NewFlagSet("klog", flag.ContinueOnError)
	klog.InitFlags(flags)
	if err := flags.Set("v", strconv.Itoa(verbosity)); err != nil {
		return err
	}

	// logr's V(n) arrives as slog level -n.
	minLevel := slog.Level(-verbosity)
	if errorsOnly {
		minLevel = slog.LevelError
	}
	opts := &slog.HandlerOptions{Level: minLevel, ReplaceAttr: logrusLevelNames}
	var h slog.Handler
	switch strings.ToLower(format) {
	case "json":
		h = slog.NewJSONHandler(w, opts)
	case "text", "":
		h = slog.NewTextHandler(w, opts)
	default:
		return fmt.Errorf("--logformat %q: want text or json", format)
	}
	klog.SetSlogLogger(slog.New(h))
	return nil
}

// logrusLevelNames renames slog's levels (DEBUG-2, INFO, ...) to lower-case
// logrus names; every verbosity above 0 is debug.
func logrusLevelNames(_ []string, a slog.Attr) slog.Attr {
	if a.Key != slog.LevelKey {
		return a
	}
	l, ok := a.Value.Any().(slog.Level)
	if !ok {
		return a
	}
	switch {
	case l >= slog.LevelError:
		a.Value = slog.StringValue("error")
	case l >= slog.LevelWarn:
		a.Value = slog.StringValue("warning")
	case l >= slog.LevelInfo:
		a.Value = slog.StringValue("info")
	default:
		a.Value = slog.StringValue("debug")
	}
	return a
}
