package main

import (
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// flagsAfterEnv parses args for the subcommand sub, applies the
// environment and returns the resulting flag values.
func flagsAfterEnv(t *testing.T, sub string, args []string) (*cobra.Command, error) {
	t.Helper()
	root := newRootCmd()
	cmd, _, err := root.Find([]string{sub})
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.ParseFlags(args); err != nil {
		t.Fatal(err)
	}
	return cmd, applyEnv(cmd)
}

func TestFlagEnvPrecedence(t *testing.T) {
	tests := []struct {
		name    string
		sub     string
		env     map[string]string
		args    []string
		flag    string
		want    string
		wantErr string
	}{
		{"default", "serve", nil, nil, "addr", "127.0.0.1:8080", ""},
		{"env over default", "serve", map[string]string{"GOBIT_ADDR": "127.0.0.1:9999"}, nil, "addr", "127.0.0.1:9999", ""},
		{"flag over env", "serve", map[string]string{"GOBIT_ADDR": "127.0.0.1:9999"}, []string{"--addr", "127.0.0.1:7777"}, "addr", "127.0.0.1:7777", ""},
		{"dashed name", "serve", map[string]string{"GOBIT_API_TOKEN": "sekret"}, nil, "api-token", "sekret", ""},
		{"int from env", "serve", map[string]string{"GOBIT_PORT": "51413"}, nil, "port", "51413", ""},
		{"int flag over env", "serve", map[string]string{"GOBIT_PORT": "51413"}, []string{"--port=0"}, "port", "0", ""},
		{"empty env ignored", "serve", map[string]string{"GOBIT_PORT": ""}, nil, "port", "6881", ""},
		{"bad env value", "serve", map[string]string{"GOBIT_PORT": "lots"}, nil, "port", "", "GOBIT_PORT"},
		{"remote shares names", "ls", map[string]string{"GOBIT_ADDR": "127.0.0.1:1234", "GOBIT_API_TOKEN": "t"}, nil, "addr", "127.0.0.1:1234", ""},
		{"duration from env", "download", map[string]string{"GOBIT_TIMEOUT": "90s"}, nil, "timeout", "1m30s", ""},
		{"bool from env", "download", map[string]string{"GOBIT_SEED": "true"}, nil, "seed", "true", ""},
		{"no env twin for download data dir", "download", map[string]string{"GOBIT_DATA_DIR": "/daemon/state"}, nil, "data-dir", "", ""},
		{"no env twin for rm --delete-data", "rm", map[string]string{"GOBIT_DELETE_DATA": "true"}, nil, "delete-data", "false", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clearEnv(t)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			cmd, err := flagsAfterEnv(t, tt.sub, tt.args)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one naming %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := cmd.Flags().Lookup(tt.flag).Value.String(); got != tt.want {
				t.Errorf("--%s = %q, want %q", tt.flag, got, tt.want)
			}
		})
	}
}

func TestEnvDocumentedInHelp(t *testing.T) {
	clearEnv(t)
	out, _, code := gobit(t, "serve", "--help")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	mustContain(t, "serve --help", out, "[$GOBIT_API_TOKEN]", "[$GOBIT_ADDR]", "[$GOBIT_LOG_FILE]", "/add/magnet")
	out, _, _ = gobit(t, "download", "--help")
	if strings.Contains(out, "GOBIT_DATA_DIR") {
		t.Errorf("download --help documents GOBIT_DATA_DIR, which it ignores:\n%s", out)
	}
}

func TestIsLoopbackAddr(t *testing.T) {
	tests := []struct {
		addr    string
		want    bool
		wantErr bool
	}{
		{"127.0.0.1:8080", true, false},
		{"127.1.2.3:0", true, false},
		{"[::1]:8080", true, false},
		{"localhost:8080", true, false},
		{"LOCALHOST:1", true, false},
		{":8080", false, false},
		{"0.0.0.0:8080", false, false},
		{"[::]:8080", false, false},
		{"192.168.1.10:8080", false, false},
		{"example.org:80", false, false},
		{"127.0.0.1", false, true},
		{"", false, true},
	}
	for _, tt := range tests {
		got, err := isLoopbackAddr(tt.addr)
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("isLoopbackAddr(%q) = %v, %v", tt.addr, got, err)
		}
	}
}

func TestCheckExposure(t *testing.T) {
	for _, addr := range []string{":8080", "0.0.0.0:8080", "[::]:8080", "10.0.0.1:8080", "gobit.example:80"} {
		err := checkExposure(addr, "")
		if err == nil || !strings.Contains(err.Error(), "token") {
			t.Errorf("%s without token: %v, want a refusal naming the token", addr, err)
		}
		if err := checkExposure(addr, "tok"); err != nil {
			t.Errorf("%s with token: %v", addr, err)
		}
	}
	if err := checkExposure("127.0.0.1:8080", ""); err != nil {
		t.Errorf("loopback without token: %v", err)
	}
}

func TestDialAddr(t *testing.T) {
	tests := map[string]string{
		"127.0.0.1:8080":        "127.0.0.1:8080",
		":8080":                 "127.0.0.1:8080",
		"0.0.0.0:8080":          "127.0.0.1:8080",
		"[::]:8080":             "[::1]:8080",
		"http://host:1/":        "http://host:1/",
		"daemon.example:8080":   "daemon.example:8080",
		"not an address at all": "not an address at all",
	}
	for in, want := range tests {
		if got := dialAddr(in); got != want {
			t.Errorf("dialAddr(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestUsageErrors(t *testing.T) {
	clearEnv(t)
	tests := [][]string{
		{"bogus"},
		{"serve", "--no-such-flag"},
		{"serve", "extra-arg"},
		{"info"},
		{"download", "a", "b"},
		{"rm"},
		{"serve", "--log-level", "loud", "--addr", "127.0.0.1:0"},
	}
	for _, args := range tests {
		_, errOut, code := gobit(t, args...)
		if code != exitUsage {
			t.Errorf("gobit %v: exit %d, want %d; stderr %q", args, code, exitUsage, errOut)
		}
		if !strings.HasPrefix(errOut, "gobit: ") {
			t.Errorf("gobit %v: stderr %q does not start with 'gobit: '", args, errOut)
		}
	}
}
