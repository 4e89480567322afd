package image

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

const digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func TestStampReplacesOnlyTheImagesList(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kustomization.yaml")
	head := "# kept as it is\nresources:\n- deployment.yaml\n"
	if err := os.WriteFile(path, []byte(head+"images:\n- name: old\n  newTag: latest\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	h, _ := v1.NewHash(digest)
	if err := Stamp(path, "ghcr.io/serin-dev/serin-controller", "v1.2.3", h); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	want := head + "images:\n- name: ghcr.io/serin-dev/serin-controller\n  newTag: v1.2.3\n  digest: " + digest + "\n"
	if string(got) != want {
		t.Fatalf("stamped:\n%s\nwant:\n%s", got, want)
	}
}

func TestStampRefusesAKustomizationWithoutAnImagesList(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kustomization.yaml")
	body := "resources:\n- deployment.yaml\n"
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	h, _ := v1.NewHash(digest)
	err := Stamp(path, "r", "v1", h)
	if err == nil || !strings.Contains(err.Error(), "images:") {
		t.Fatalf("err = %v, want one about the images: list", err)
	}
	if got, _ := os.ReadFile(path); string(got) != body {
		t.Fatalf("file changed to %q", got)
	}
}
