package image

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
)

// repoRoot is the main module, two levels up from this package.
const repoRoot = "../.."

// The image built from a static controller binary, written to an OCI
// layout and unpacked again, runs its entrypoint: --version prints the
// version stamped at build time.
func TestTheImageRunsTheControllerAndReportsItsVersion(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the controller")
	}
	const version = "v9.9.9-e2e"
	dir := t.TempDir()
	bin := filepath.Join(dir, "serin-controller")
	build := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w -X main.version="+version, "-o", bin, "./cmd/serin-controller")
	build.Dir, build.Env = repoRoot, append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	img, err := Build(Options{Binary: bin, Version: version, Arch: runtime.GOARCH})
	if err != nil {
		t.Fatal(err)
	}
	layoutDir := filepath.Join(dir, "layout")
	digest, err := WriteLayout(layoutDir, version, img)
	if err != nil {
		t.Fatal(err)
	}
	read, err := ReadLayout(layoutDir, version)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := read.Digest(); got != digest {
		t.Fatalf("layout holds %s, wrote %s", got, digest)
	}
	cfg, err := read.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if ep := cfg.Config.Entrypoint; len(ep) != 1 || ep[0] != Entrypoint || cfg.Config.User != "65532:65532" ||
		cfg.Config.Labels["org.opencontainers.image.version"] != version || cfg.OS != "linux" {
		t.Fatalf("config: entrypoint %v user %q labels %v os %q", ep, cfg.Config.User, cfg.Config.Labels, cfg.OS)
	}
	root := filepath.Join(dir, "rootfs")
	if err := Unpack(read, root); err != nil {
		t.Fatal(err)
	}
	if passwd, err := os.ReadFile(filepath.Join(root, "etc/passwd")); err != nil || !strings.Contains(string(passwd), "nonroot:x:65532:65532") {
		t.Fatalf("etc/passwd: %q, %v", passwd, err)
	}
	out, err := exec.Command(filepath.Join(root, Entrypoint), "--version").CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != version {
		t.Fatalf("%s --version: %q, %v; want %q", Entrypoint, out, err, version)
	}
}

// The digest depends on content only: the same binary and version give
// the same digest, another version another.
func TestTheSameInputsGiveTheSameDigest(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "serin-controller")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\necho stand-in\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	digest := func(version string) string {
		img, err := Build(Options{Binary: bin, Version: version, Arch: "amd64"})
		if err != nil {
			t.Fatal(err)
		}
		d, err := img.Digest()
		if err != nil {
			t.Fatal(err)
		}
		return d.String()
	}
	first, again, other := digest("v1.0.0"), digest("v1.0.0"), digest("v1.0.1")
	if first != again {
		t.Errorf("two builds of the same inputs: %s and %s", first, again)
	}
	if first == other {
		t.Errorf("another version gave the same digest %s", first)
	}
}

func TestAMissingBinaryIsAClearError(t *testing.T) {
	_, err := Build(Options{Binary: filepath.Join(t.TempDir(), "absent"), Version: "v1"})
	if err == nil || !strings.Contains(err.Error(), "controller binary") {
		t.Fatalf("err = %v, want one naming the controller binary", err)
	}
}

// The committed install manifests name the controller image by tag and
// digest, as `make image` stamps them.
func TestTheInstallManifestsNameTheImageByTagAndDigest(t *testing.T) {
	k, err := os.ReadFile(filepath.Join(repoRoot, "manifests/base/kustomization.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	stamped := regexp.MustCompile(`(?m)^images:\n- name: ghcr\.io/serin-dev/serin-controller\n  newTag: [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}\n  digest: sha256:[0-9a-f]{64}\n\z`)
	if !stamped.Match(k) {
		t.Fatalf("manifests/base/kustomization.yaml does not end with a stamped images: list:\n%s", k)
	}
}
