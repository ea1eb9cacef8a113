// Package testutil holds helpers shared by gobit's tests: locating the real
// programs the interop tests run against, and scratch directories.
//
// It is imported from _test.go files and from the swarm benchmark
// (bench/swarm), never from gobit itself.
package testutil

import (
	"os"
	"os/exec"
	"testing"
)

// InCI reports whether the tests run under continuous integration
// (CI=true), where every interop peer program is required.
func InCI() bool { return os.Getenv("CI") == "true" }

// NeedProgram returns the path of an external program a test depends on. When
// it is missing the test fails under CI and is skipped elsewhere, with a
// message that says which Debian package provides it.
func NeedProgram(t testing.TB, name, debPackage string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	msg := name + " not found; install it with: apt-get install -y " + debPackage
	if InCI() {
		t.Fatalf("%s (required when CI=true)", msg)
	}
	t.Skip(msg)
	return ""
}

// NeedPythonModule checks that /usr/bin/python3 can import module (for
// example "libtorrent" from python3-libtorrent), failing under CI and
// skipping elsewhere when it cannot. It returns the interpreter path.
func NeedPythonModule(t testing.TB, module, debPackage string) string {
	t.Helper()
	py := NeedProgram(t, "/usr/bin/python3", "python3")
	if err := exec.Command(py, "-c", "import "+module).Run(); err != nil {
		msg := "python module " + module + " not importable; install it with: apt-get install -y " + debPackage
		if InCI() {
			t.Fatalf("%s (required when CI=true)", msg)
		}
		t.Skip(msg)
	}
	return py
}
