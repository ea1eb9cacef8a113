package main

// Profiling hooks: "gobit serve --pprof" mounts net/http/pprof next to the
// API, and "gobit download --cpuprofile/--memprofile" writes profiles of a
// one-shot download. The benchmark in bench/swarm uses the latter.

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/pprof"
	"os"
	"runtime"
	runpprof "runtime/pprof"
	"strings"

	"github.com/gobit/gobit/internal/api"
	"github.com/spf13/pflag"
)

// pprofPrefix is the path under which --pprof serves the profiles.
const pprofPrefix = "/debug/pprof/"

// registerPprofFlag adds serve's --pprof flag.
func registerPprofFlag(f *pflag.FlagSet, on *bool) {
	f.BoolVar(on, "pprof", false, "serve Go profiles (net/http/pprof) under "+pprofPrefix+" on the API address")
}

// withPprof returns apiHandler unchanged when on is false. Otherwise it
// returns a mux that serves net/http/pprof under /debug/pprof/ and hands
// every other path to apiHandler. The profiles are guarded by the same
// token as the API when token is non-empty, because they expose memory
// contents and command lines.
func withPprof(on bool, token string, apiHandler http.Handler) http.Handler {
	if !on {
		return apiHandler
	}
	mux := http.NewServeMux()
	mux.Handle("/", apiHandler)
	prof := http.NewServeMux()
	prof.HandleFunc(pprofPrefix, pprof.Index)
	prof.HandleFunc(pprofPrefix+"cmdline", pprof.Cmdline)
	prof.HandleFunc(pprofPrefix+"profile", pprof.Profile)
	prof.HandleFunc(pprofPrefix+"symbol", pprof.Symbol)
	prof.HandleFunc(pprofPrefix+"trace", pprof.Trace)
	mux.Handle(pprofPrefix, requireToken(token, prof))
	return mux
}

// requireToken rejects requests that do not carry token the way API
// clients send it ("Authorization: Bearer <token>" or the X-Gobit-Token
// header). An empty token lets every request through.
func requireToken(token string, next http.Handler) http.Handler {
	if token == "" {
		return next
	}
	want := sha256.Sum256([]byte(token))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got := r.Header.Get(api.TokenHeader)
		if b, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
			got = b
		}
		sum := sha256.Sum256([]byte(got))
		if got == "" || subtle.ConstantTimeCompare(sum[:], want[:]) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="gobit"`)
			http.Error(w, "missing or wrong API token", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// profileOptions are download's --cpuprofile and --memprofile flags.
type profileOptions struct {
	cpu string // CPU profile file, written while the download runs
	mem string // heap profile file, written when the download ends

	cpuFile *os.File
}

// register adds the profiling flags to f.
func (p *profileOptions) register(f *pflag.FlagSet) {
	f.StringVar(&p.cpu, "cpuprofile", "", "write a Go CPU profile of the run to this file")
	f.StringVar(&p.mem, "memprofile", "", "write a Go heap profile to this file when the run ends")
}

// start begins CPU profiling if it was asked for. The caller must call
// stop once the work to profile is done.
func (p *profileOptions) start() error {
	if p.cpu == "" {
		return nil
	}
	f, err := os.Create(p.cpu)
	if err != nil {
		return fmt.Errorf("creating the CPU profile: %w", err)
	}
	if err := runpprof.StartCPUProfile(f); err != nil {
		f.Close()
		return fmt.Errorf("starting the CPU profile: %w", err)
	}
	p.cpuFile = f
	return nil
}

// stop ends CPU profiling and writes the heap profile, reporting failures
// on stderr: a failed profile must not turn a good download into an error.
func (p *profileOptions) stop(stderr io.Writer) {
	var errs []error
	if p.cpuFile != nil {
		runpprof.StopCPUProfile()
		if err := p.cpuFile.Close(); err != nil {
			errs = append(errs, fmt.Errorf("writing the CPU profile: %w", err))
		}
		p.cpuFile = nil
	}
	if p.mem != "" {
		if err := writeHeapProfile(p.mem); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		fmt.Fprintf(stderr, "gobit: %v\n", err)
	}
}

// writeHeapProfile writes the heap profile (in-use and allocated since
// start) to name after a garbage collection, so that in-use figures are
// current.
func writeHeapProfile(name string) error {
	f, err := os.Create(name)
	if err != nil {
		return fmt.Errorf("creating the heap profile: %w", err)
	}
	runtime.GC()
	err = runpprof.Lookup("heap").WriteTo(f, 0)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("writing the heap profile: %w", err)
	}
	return nil
}
