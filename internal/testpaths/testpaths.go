// Package testpaths finds the repository root and the shared reference folder
// that tests compare against.
package testpaths

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// RepoRoot is the directory holding the main module's go.mod.
func RepoRoot(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("cannot locate the source of testpaths")
	}
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// Shared returns a folder inside ../shared (next to the repository), or skips
// the test with a clear message when that folder is absent.
func Shared(t testing.TB, elem ...string) string {
	t.Helper()
	dir := filepath.Join(append([]string{RepoRoot(t), "..", "shared"}, elem...)...)
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("skipping: the reference folder %s is absent (it sits beside the repository in CI and on developer machines)", dir)
	}
	return dir
}
