package cluster

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"time"
)

// RootModule is the module path of the repository whose root holds bin/.
const RootModule = "github.com/serin-dev/serin"

// tool is one binary built from a pinned tools module under e2e/tools.
type tool struct {
	name   string // binary name in <repo>/bin
	dir    string // tools module directory, relative to <repo>/e2e/tools
	module string // module whose pinned version names the build
	pkg    string // main package to build
}

// tools lists every binary the cluster needs, in build order.
var tools = []tool{
	{"etcd", "etcd", "go.etcd.io/etcd/server/v3", "go.etcd.io/etcd/server/v3"},
	{"kwok", "kwok", "sigs.k8s.io/kwok", "sigs.k8s.io/kwok/cmd/kwok"},
	{"kube-apiserver", "kube", "k8s.io/kubernetes", "k8s.io/kubernetes/cmd/kube-apiserver"},
	{"kube-controller-manager", "kube", "k8s.io/kubernetes", "k8s.io/kubernetes/cmd/kube-controller-manager"},
	{"kube-scheduler", "kube", "k8s.io/kubernetes", "k8s.io/kubernetes/cmd/kube-scheduler"},
	{"kubectl", "kube", "k8s.io/kubernetes", "k8s.io/kubernetes/cmd/kubectl"},
}

// BinDir is where the binaries live: <repoRoot>/bin.
func BinDir(repoRoot string) string { return filepath.Join(repoRoot, "bin") }

// FindRepoRoot walks up from the working directory to the directory whose
// go.mod declares RootModule.
func FindRepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && modulePath(data) == RootModule {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no parent directory holds the go.mod of %s", RootModule)
		}
		dir = parent
	}
}

func modulePath(gomod []byte) string {
	sc := bufio.NewScanner(bytes.NewReader(gomod))
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) == 2 && f[0] == "module" {
			return f[1]
		}
	}
	return ""
}

// requiredVersion returns the version of module required by the go.mod file.
func requiredVersion(gomod []byte, module string) string {
	re := regexp.MustCompile(`(?m)^\s*(?:require\s+)?` + regexp.QuoteMeta(module) + `\s+(v\S+)`)
	if m := re.FindSubmatch(gomod); m != nil {
		return string(m[1])
	}
	return ""
}

// toolState describes what a binary would be built from.
type toolState struct {
	tool
	modDir  string // absolute tools module dir
	version string // pinned version of tool.module
	stamp   string // content of the stamp file for an up-to-date binary
}

func inspectTool(repoRoot string, t tool) (toolState, error) {
	s := toolState{tool: t, modDir: filepath.Join(repoRoot, "e2e", "tools", t.dir)}
	gomod, err := os.ReadFile(filepath.Join(s.modDir, "go.mod"))
	if err != nil {
		return s, err
	}
	gosum, _ := os.ReadFile(filepath.Join(s.modDir, "go.sum"))
	s.version = requiredVersion(gomod, t.module)
	if s.version == "" {
		return s, fmt.Errorf("%s/go.mod does not require %s", s.modDir, t.module)
	}
	h := sha256.New()
	h.Write(gomod)
	h.Write(gosum)
	s.stamp = fmt.Sprintf("%s %s %s %s/%s mod:%s\n", t.pkg, s.version, runtime.Version(),
		runtime.GOOS, runtime.GOARCH, hex.EncodeToString(h.Sum(nil))[:16])
	return s, nil
}

func stampPath(repoRoot, name string) string {
	return filepath.Join(BinDir(repoRoot), ".stamps", name)
}

// upToDate reports whether bin/<name> exists and was built from the pinned version.
func (s toolState) upToDate(repoRoot string) bool {
	if _, err := os.Stat(filepath.Join(BinDir(repoRoot), s.name)); err != nil {
		return false
	}
	got, err := os.ReadFile(stampPath(repoRoot, s.name))
	return err == nil && string(got) == s.stamp
}

// BinariesReady reports whether every pinned binary is present and up to date.
func BinariesReady(repoRoot string) bool {
	for _, t := range tools {
		s, err := inspectTool(repoRoot, t)
		if err != nil || !s.upToDate(repoRoot) {
			return false
		}
	}
	return true
}

// Build builds every pinned binary into <repoRoot>/bin, skipping those already
// present and up to date, one at a time. Progress goes to os.Stdout.
func Build(ctx context.Context, repoRoot string) error {
	return BuildTo(ctx, repoRoot, os.Stdout)
}

// BuildTo is Build with progress written to out.
func BuildTo(ctx context.Context, repoRoot string, out io.Writer) error {
	if err := os.MkdirAll(filepath.Dir(stampPath(repoRoot, "x")), 0o755); err != nil {
		return err
	}
	built := 0
	for _, t := range tools {
		s, err := inspectTool(repoRoot, t)
		if err != nil {
			return err
		}
		if s.upToDate(repoRoot) {
			continue
		}
		if err := buildOne(ctx, repoRoot, s, out); err != nil {
			return err
		}
		built++
	}
	if built == 0 {
		fmt.Fprintf(out, "cluster binaries in %s are up to date\n", BinDir(repoRoot))
	}
	return nil
}

func buildOne(ctx context.Context, repoRoot string, s toolState, out io.Writer) error {
	fmt.Fprintf(out, "building %s %s ...\n", s.name, s.version)
	start := time.Now()
	bin := filepath.Join(BinDir(repoRoot), s.name)
	_ = os.Remove(stampPath(repoRoot, s.name))
	tmp := fmt.Sprintf("%s.tmp-%d", bin, os.Getpid())
	args := []string{"build", "-o", tmp}
	if flags := ldflags(s); flags != "" {
		args = append(args, "-ldflags", flags)
	}
	args = append(args, s.pkg)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = s.modDir
	cmd.Env = goEnv("-mod=mod")
	var stderr bytes.Buffer
	cmd.Stdout = out
	cmd.Stderr = io.MultiWriter(out, &stderr)
	if err := cmd.Run(); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("building %s: %w\n%s", s.name, err, stderr.String())
	}
	if err := os.Rename(tmp, bin); err != nil {
		return err
	}
	if err := os.WriteFile(stampPath(repoRoot, s.name), []byte(s.stamp), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(out, "built %s in %s\n", s.name, time.Since(start).Round(time.Second))
	return nil
}

// ldflags stamps the Kubernetes binaries with their release, as the upstream
// build does, so that /version reports v1.37.2 rather than v0.0.0-master.
func ldflags(s toolState) string {
	flags := []string{"-s", "-w"}
	if s.module == "k8s.io/kubernetes" {
		major, minor, _ := strings.Cut(strings.TrimPrefix(s.version, "v"), ".")
		minor, _, _ = strings.Cut(minor, ".")
		for _, p := range []string{"k8s.io/component-base/version", "k8s.io/client-go/pkg/version"} {
			flags = append(flags,
				"-X", p+".gitVersion="+s.version,
				"-X", p+".gitMajor="+major,
				"-X", p+".gitMinor="+minor,
				"-X", p+".gitTreeState=clean")
		}
	}
	return strings.Join(flags, " ")
}

// goEnv is the environment for the go command: no workspace, and the given
// flags added to any GOFLAGS already set.
func goEnv(goflags string) []string {
	env := os.Environ()
	flags := strings.TrimSpace(os.Getenv("GOFLAGS") + " " + goflags)
	out := make([]string, 0, len(env)+2)
	for _, kv := range env {
		if !strings.HasPrefix(kv, "GOFLAGS=") && !strings.HasPrefix(kv, "GOWORK=") {
			out = append(out, kv)
		}
	}
	return append(out, "GOFLAGS="+flags, "GOWORK=off")
}

// binPath returns the path of a built binary, or an error naming the fix.
func binPath(repoRoot, name string) (string, error) {
	p := filepath.Join(BinDir(repoRoot), name)
	if _, err := os.Stat(p); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("%s is missing: run `go run ./cmd/cluster build` in e2e/", p)
		}
		return "", err
	}
	return p, nil
}

// toolNamed returns the tool that builds the named binary.
func toolNamed(name string) tool {
	for _, t := range tools {
		if t.name == name {
			return t
		}
	}
	panic("cluster: no tool named " + name)
}
