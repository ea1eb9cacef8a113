package main

import (
	"bytes"
	"context"
	"debug/elf"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	"github.com/gobit/gobit/internal/testutil"
)

func TestHealthCommand(t *testing.T) {
	clearEnv(t)
	_, addr := startFakeDaemon(t, "tok")
	out, errOut, code := gobit(t, "health", "--addr", addr, "--api-token", "tok")
	if code != 0 || !strings.Contains(out, "ok") {
		t.Fatalf("healthy daemon: exit %d out %q err %q", code, out, errOut)
	}
	// The token from the environment, as in the container.
	t.Setenv("GOBIT_API_TOKEN", "tok")
	if _, errOut, code := gobit(t, "health", "--addr", addr); code != 0 {
		t.Fatalf("token from GOBIT_API_TOKEN: exit %d: %s", code, errOut)
	}
	t.Setenv("GOBIT_API_TOKEN", "wrong")
	if _, errOut, code := gobit(t, "health", "--addr", addr); code == 0 || !strings.Contains(errOut, "unhealthy") {
		t.Errorf("wrong token: exit %d, stderr %q; want a failure", code, errOut)
	}
	port, err := testutil.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	if _, _, code := gobit(t, "health", "--addr", fmt.Sprintf("127.0.0.1:%d", port), "--timeout", "3s"); code == 0 {
		t.Error("nothing listening: exit 0")
	}
}

// availableCommands lists the commands of the tree that get a man page.
func availableCommands(c *cobra.Command) []*cobra.Command {
	var out []*cobra.Command
	if c.IsAvailableCommand() || !c.HasParent() {
		out = append(out, c)
	}
	for _, sub := range c.Commands() {
		if sub.IsAvailableCommand() {
			out = append(out, availableCommands(sub)...)
		}
	}
	return out
}

func TestManPages(t *testing.T) {
	clearEnv(t)
	dir := t.TempDir()
	if _, errOut, code := gobit(t, "gen-man", dir); code != 0 {
		t.Fatalf("gen-man: exit %d: %s", code, errOut)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	cmds := availableCommands(newRootCmd())
	if len(entries) != len(cmds) {
		t.Errorf("%d man pages for %d commands", len(entries), len(cmds))
	}
	for _, c := range cmds {
		name := strings.ReplaceAll(c.CommandPath(), " ", "-")
		page, err := os.ReadFile(filepath.Join(dir, name+".1"))
		if err != nil {
			t.Errorf("no man page for %q: %v", c.CommandPath(), err)
			continue
		}
		mustContain(t, name+".1", string(page), `.TH "GOBIT" "1"`, ".SH NAME", ".SH SYNOPSIS", "\n"+name+" - ")
	}
	if _, err := os.Stat(filepath.Join(dir, "gobit-gen-man.1")); err == nil {
		t.Error("the hidden gen-man command has a man page")
	}
	serve, err := os.ReadFile(filepath.Join(dir, "gobit-serve.1"))
	if err != nil {
		t.Fatal(err)
	}
	home, _ := os.UserHomeDir()
	mustContain(t, "gobit-serve.1", string(serve), "GOBIT_API_TOKEN", "~/Downloads/gobit", "SIGHUP")
	if home != "" && home != "/" && strings.Contains(string(serve), home+"/") {
		t.Errorf("gobit-serve.1 shows the builder's home directory %s", home)
	}
}

// unitDirectives reads the Key=Value lines of a systemd unit.
func unitDirectives(t *testing.T, path string) map[string][]string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string][]string{}
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' || line[0] == '[' {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Errorf("%s: %q is no directive", path, line)
			continue
		}
		m[k] = append(m[k], v)
	}
	return m
}

func TestSystemdUnits(t *testing.T) {
	root := testutil.ModuleRoot(t)
	system := filepath.Join(root, "contrib", "systemd", "gobit.service")
	user := filepath.Join(root, "contrib", "systemd", "gobit-user.service")
	d := unitDirectives(t, system)
	for k, want := range map[string]string{
		"Type": "notify", "ExecReload": "/bin/kill -HUP $MAINPID", "DynamicUser": "yes",
		"StateDirectory": "gobit", "ConfigurationDirectory": "gobit", "ProtectSystem": "strict",
		"ProtectHome": "yes", "PrivateTmp": "yes", "NoNewPrivileges": "yes",
		"RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX AF_NETLINK", "CapabilityBoundingSet": "",
		"LockPersonality": "yes", "MemoryDenyWriteExecute": "yes", "ExecStart": "/usr/local/bin/gobit serve",
	} {
		if !containsString(d[k], want) {
			t.Errorf("gobit.service: %s=%q, want %q", k, d[k], want)
		}
	}
	if !containsString(d["SystemCallFilter"], "@system-service") {
		t.Errorf("gobit.service: SystemCallFilter=%q lacks @system-service", d["SystemCallFilter"])
	}
	u := unitDirectives(t, user)
	if !containsString(u["Type"], "notify") || !containsString(u["ExecStart"], "/usr/local/bin/gobit serve") || u["DynamicUser"] != nil {
		t.Errorf("gobit-user.service: Type=%q ExecStart=%q DynamicUser=%q", u["Type"], u["ExecStart"], u["DynamicUser"])
	}

	// systemd's own check, of copies whose ExecStart names a binary that
	// exists. It exits 0 on unknown values too, so any output fails.
	analyze := testutil.NeedProgram(t, "systemd-analyze", "systemd")
	dir := t.TempDir()
	bin := filepath.Join(dir, "gobit")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	runtime := filepath.Join(dir, "run")
	if err := os.Mkdir(runtime, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, unit := range []struct {
		src  string
		args []string
	}{{system, nil}, {user, []string{"--user"}}} {
		data, err := os.ReadFile(unit.src)
		if err != nil {
			t.Fatal(err)
		}
		cp := filepath.Join(dir, filepath.Base(unit.src))
		if err := os.WriteFile(cp, bytes.ReplaceAll(data, []byte("/usr/local/bin/gobit"), []byte(bin)), 0o644); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		cmd := exec.CommandContext(ctx, analyze, append(unit.args, "verify", "--man=no", cp)...)
		cmd.Env = append(os.Environ(), "XDG_RUNTIME_DIR="+runtime)
		out, err := cmd.CombinedOutput()
		cancel()
		if err != nil || len(bytes.TrimSpace(out)) > 0 {
			t.Errorf("systemd-analyze verify %s: %v\n%s", filepath.Base(unit.src), err, out)
		}
	}
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// dockerfile is what TestDockerfile reads from the Dockerfile.
type dockerfile struct {
	from        []string
	run         []string
	env         map[string]string
	volumes     []string
	expose      []string
	user        string
	healthcheck []string
}

// parseDockerfile reads the instructions the tests check, joining
// continued lines.
func parseDockerfile(t *testing.T, path string) dockerfile {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	text := regexp.MustCompile(`\\\n\s*`).ReplaceAllString(string(data), " ")
	df := dockerfile{env: map[string]string{}}
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		instr, rest, _ := strings.Cut(line, " ")
		switch strings.ToUpper(instr) {
		case "FROM":
			df.from = append(df.from, rest)
		case "RUN":
			df.run = append(df.run, rest)
		case "ENV":
			for _, kv := range strings.Fields(rest) {
				k, v, ok := strings.Cut(kv, "=")
				if !ok {
					t.Fatalf("ENV %q: want KEY=VALUE pairs", rest)
				}
				df.env[k] = v
			}
		case "VOLUME":
			if err := json.Unmarshal([]byte(rest), &df.volumes); err != nil {
				t.Fatalf("VOLUME %s: %v", rest, err)
			}
		case "EXPOSE":
			df.expose = append(df.expose, strings.Fields(rest)...)
		case "USER":
			df.user = rest
		case "HEALTHCHECK":
			_, cmd, ok := strings.Cut(rest, "CMD ")
			if !ok || json.Unmarshal([]byte(cmd), &df.healthcheck) != nil {
				t.Fatalf("HEALTHCHECK %q: want CMD [\"…\"] (exec form: the image has no shell)", rest)
			}
		}
	}
	return df
}

// TestDockerfile checks the Dockerfile and compose.yaml for what the image
// needs, builds the binary with the Dockerfile's own command and checks it
// is static, then runs it with the image's environment and checks that
// the health check passes against it. (No Docker engine runs the image
// here.)
func TestDockerfile(t *testing.T) {
	if testing.Short() {
		t.Skip("builds gobit")
	}
	clearEnv(t)
	root := testutil.ModuleRoot(t)
	df := parseDockerfile(t, filepath.Join(root, "Dockerfile"))
	if len(df.from) != 2 || !strings.HasPrefix(df.from[0], "golang:1.26") || !strings.Contains(df.from[1], "distroless/static") {
		t.Errorf("FROM %q: want a golang:1.26 builder, then distroless/static", df.from)
	}
	if df.user == "" || strings.HasPrefix(df.user, "0") || strings.HasPrefix(df.user, "root") {
		t.Errorf("USER %q: want a non-root user", df.user)
	}
	for _, v := range []string{"/data", "/downloads", "/config"} {
		if !containsString(df.volumes, v) {
			t.Errorf("VOLUME %q lacks %s", df.volumes, v)
		}
	}
	for _, p := range []string{"8080", "6881/tcp", "6881/udp"} {
		if !containsString(df.expose, p) {
			t.Errorf("EXPOSE %q lacks %s", df.expose, p)
		}
	}
	for k, v := range map[string]string{"GOBIT_ADDR": "0.0.0.0:8080", "GOBIT_DATA_DIR": "/data", "GOBIT_DOWNLOAD_DIR": "/downloads", "XDG_CONFIG_HOME": "/config"} {
		if df.env[k] != v {
			t.Errorf("ENV %s=%q, want %q", k, df.env[k], v)
		}
	}
	if len(df.healthcheck) < 2 || df.healthcheck[1] != "health" {
		t.Fatalf("HEALTHCHECK %q: want gobit health", df.healthcheck)
	}

	// The build, exactly as the Dockerfile runs it, into a directory here.
	var build string
	for _, r := range df.run {
		if strings.Contains(r, "go build") {
			build = r
		}
	}
	outRE := regexp.MustCompile(`-o (\S+)`)
	m := outRE.FindStringSubmatch(build)
	if !strings.HasPrefix(build, "CGO_ENABLED=0 go build") || m == nil {
		t.Fatalf("RUN %q: want CGO_ENABLED=0 go build … -o PATH", build)
	}
	bin := filepath.Join(t.TempDir(), "gobit")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sh", "-c", outRE.ReplaceAllString(build, "-o "+bin))
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", build, err, out)
	}
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("the binary has an ELF interpreter: it is not static, and distroless/static has no libc")
		}
	}
	if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
		t.Errorf("the binary needs shared libraries %q", libs)
	}
	f.Close()

	// The image's environment: without a token, serve refuses to listen
	// on 0.0.0.0 and says which variable to set.
	dir := t.TempDir()
	port, err := testutil.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	env := os.Environ()
	for k, v := range df.env {
		switch k {
		case "GOBIT_ADDR":
			v = fmt.Sprintf("0.0.0.0:%d", port)
		case "GOBIT_DATA_DIR", "GOBIT_DOWNLOAD_DIR", "XDG_CONFIG_HOME":
			v = filepath.Join(dir, strings.TrimPrefix(v, "/"))
		case "GOBIT_PORT":
			v = "0"
		}
		env = append(env, k+"="+v)
	}
	// Only loopback traffic from the test: no LSD multicast, no DHT.
	env = append(env, "GOBIT_NO_LSD=true", "GOBIT_NO_DHT=true", "GOBIT_LISTEN_HOST=127.0.0.1")
	noToken := exec.Command(bin, "serve")
	noToken.Env = env
	out, err := noToken.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "GOBIT_API_TOKEN") {
		t.Errorf("serve in the image's environment without a token: %v, %s; want a refusal naming GOBIT_API_TOKEN", err, out)
	}

	env = append(env, "GOBIT_API_TOKEN=container-token")
	serve := exec.Command(bin, "serve")
	serve.Env = env
	var log syncBuffer
	serve.Stdout, serve.Stderr = &log, &log
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = serve.Process.Kill()
		_ = serve.Wait()
	}()
	testutil.WaitFor(t, 30*time.Second, "the HEALTHCHECK command to pass", func() bool {
		health := exec.Command(bin, df.healthcheck[1:]...)
		health.Env = env
		return health.Run() == nil
	})
	// And it fails when the token is wrong.
	bad := exec.Command(bin, df.healthcheck[1:]...)
	bad.Env = append(env, "GOBIT_API_TOKEN=wrong")
	if err := bad.Run(); err == nil {
		t.Error("the health check passes with a wrong token")
	}

	var compose struct {
		Services map[string]struct {
			Build       any               `yaml:"build"`
			Environment map[string]string `yaml:"environment"`
			Ports       []string          `yaml:"ports"`
			Volumes     []string          `yaml:"volumes"`
			Healthcheck struct {
				Test []string `yaml:"test"`
			} `yaml:"healthcheck"`
		} `yaml:"services"`
	}
	data, err := os.ReadFile(filepath.Join(root, "compose.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, &compose); err != nil {
		t.Fatalf("compose.yaml: %v", err)
	}
	svc, ok := compose.Services["gobit"]
	if !ok {
		t.Fatal("compose.yaml has no gobit service")
	}
	if svc.Build == nil || !strings.Contains(svc.Environment["GOBIT_API_TOKEN"], "GOBIT_API_TOKEN") {
		t.Errorf("compose.yaml: build %v, GOBIT_API_TOKEN %q: want the image built here and the token from the environment", svc.Build, svc.Environment["GOBIT_API_TOKEN"])
	}
	for _, want := range []string{":/data", ":/downloads", ":/config"} {
		if !slicesContainsSuffix(svc.Volumes, want) {
			t.Errorf("compose.yaml volumes %q lack %s", svc.Volumes, want)
		}
	}
	for _, want := range []string{"8080:8080", "6881:6881/tcp", "6881:6881/udp"} {
		if !slicesContainsSuffix(svc.Ports, want) {
			t.Errorf("compose.yaml ports %q lack %s", svc.Ports, want)
		}
	}
	if len(svc.Healthcheck.Test) < 3 || svc.Healthcheck.Test[2] != "health" {
		t.Errorf("compose.yaml healthcheck %q: want gobit health", svc.Healthcheck.Test)
	}
}

func slicesContainsSuffix(list []string, suffix string) bool {
	for _, s := range list {
		if strings.HasSuffix(s, suffix) {
			return true
		}
	}
	return false
}

// TestMakeInstall: make install puts the binary, a man page per command
// and both units (naming the installed binary) under DESTDIR/PREFIX.
func TestMakeInstall(t *testing.T) {
	if testing.Short() {
		t.Skip("builds gobit")
	}
	clearEnv(t)
	mk := testutil.NeedProgram(t, "make", "make")
	root := testutil.ModuleRoot(t)
	dest, build := t.TempDir(), t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, mk, "-C", root, "install", "DESTDIR="+dest, "PREFIX=/usr", "BUILD="+build)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make install: %v\n%s", err, out)
	}
	if fi, err := os.Stat(filepath.Join(dest, "usr/bin/gobit")); err != nil || fi.Mode()&0o111 == 0 {
		t.Errorf("no executable usr/bin/gobit: %v", err)
	}
	for _, page := range []string{"gobit.1", "gobit-serve.1", "gobit-config.1", "gobit-health.1"} {
		if _, err := os.Stat(filepath.Join(dest, "usr/share/man/man1", page)); err != nil {
			t.Errorf("man page: %v", err)
		}
	}
	for _, unit := range []string{"usr/lib/systemd/system/gobit.service", "usr/lib/systemd/user/gobit.service"} {
		d := unitDirectives(t, filepath.Join(dest, unit))
		if !containsString(d["ExecStart"], "/usr/bin/gobit serve") {
			t.Errorf("%s: ExecStart=%q, want the installed /usr/bin/gobit", unit, d["ExecStart"])
		}
	}
}
