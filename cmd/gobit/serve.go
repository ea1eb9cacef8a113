package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/gobit/gobit/internal/api"
	"github.com/gobit/gobit/internal/api/creds"
	"github.com/gobit/gobit/internal/api/qbittorrent"
	"github.com/gobit/gobit/internal/api/transmission"
	"github.com/gobit/gobit/internal/metrics"
	"github.com/gobit/gobit/internal/session"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// shutdownTimeout bounds how long serve waits for in-flight API requests
// after a signal.
const shutdownTimeout = 10 * time.Second

// serveOptions are the flags of gobit serve.
type serveOptions struct {
	addr         string
	downloadDir  string
	dataDir      string
	port         int
	listenHost   string
	logFile      string
	logLevel     string
	token        string
	apiUser      string
	apiPassword  string
	allowHosts   []string
	allowOrigins []string
	flushEvery   time.Duration
	limits       limitOptions
	automation   automationOptions
	discovery    discoveryOptions
	encryption   encryptionOptions
	network      networkOptions
	pprof        bool
	// metricsPerTorrent turns on /metrics' per-torrent series.
	metricsPerTorrent bool
	// flags are the resolved flags, for reloading the configuration.
	flags *pflag.FlagSet
	// qbtBypassLocal lets loopback clients use the qBittorrent API
	// without logging in.
	qbtBypassLocal bool
}

func newServeCmd() *cobra.Command {
	var o serveOptions
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the gobit daemon and its HTTP API",
		Long: `Run the gobit daemon: the torrent session and its HTTP API.

The API listens on --addr (default 127.0.0.1:8080). Listening on an address
other machines can reach requires --api-token; clients then send
"Authorization: Bearer <token>" (or "X-Gobit-Token: <token>").

No web page can drive the API: requests must be addressed (Host header) to
localhost, a loopback address, the host of --addr or a name listed in
--api-allowed-hosts (when --addr is 0.0.0.0 or [::], any IP address works
too), and browsers' cross-site requests that change state are refused.
Behind a reverse proxy, list its public name, or "*" to turn the Host check
off (the proxy must pass the Host header through).

Besides the JSON API under /api/v1, the original tool's route works:
  curl --location 'localhost:8080/add/magnet' --header 'Content-Type: text/plain' --data '<magnet>'

Stop with Ctrl-C or SIGTERM: in-flight requests finish, then torrents stop.
SIGHUP reloads the configuration file: rate, queue and ratio limits change
at once; other changed settings are logged as needing a restart. Under
systemd (Type=notify or notify-reload) readiness, reloads and shutdown are
reported through $NOTIFY_SOCKET.

` + precedenceDoc,
		Args: argsUsage(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.flags = cmd.Flags()
			return runServe(cmd.Context(), o, cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.addr, "addr", defaultAPIAddr, "address of the HTTP API (host:port)")
	f.StringVar(&o.downloadDir, "download-dir", defaultDownloadDir(), "where torrents are saved ($XDG_DOWNLOAD_DIR/gobit or ~/Downloads/gobit)")
	f.StringVar(&o.dataDir, "data-dir", defaultDataDir(), "where state is kept ($XDG_DATA_HOME/gobit or ~/.local/share/gobit)")
	f.IntVar(&o.port, "port", defaultPeerPort, "TCP port for incoming peer connections (0 picks a free one)")
	f.StringVar(&o.listenHost, "listen-host", "", "host or IP the peer listener binds (default: all interfaces)")
	f.StringVar(&o.logFile, "log-file", "", "also append logs to this file")
	f.StringVar(&o.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	f.StringVar(&o.token, "api-token", "", "token API clients must send; required when --addr is not loopback")
	f.StringVar(&o.apiUser, "api-user", "", "user name the Transmission and qBittorrent APIs ask for (with --api-password)")
	f.StringVar(&o.apiPassword, "api-password", "", "password the Transmission and qBittorrent APIs ask for (the --api-token is accepted as a password too)")
	f.BoolVar(&o.qbtBypassLocal, "qbt-bypass-local-auth", false, "let clients on this machine (loopback) use the qBittorrent API without logging in, as qBittorrent's bypass_local_auth")
	f.StringSliceVar(&o.allowHosts, "api-allowed-hosts", nil, "further host names the API answers to (comma-separated; *.domain for subdomains, * for any, behind a reverse proxy)")
	f.StringSliceVar(&o.allowOrigins, "api-allowed-origins", nil, "origins allowed to change state and read answers across origins, such as a browser extension's chrome-extension://<id> or moz-extension://<uuid>, or a web UI served elsewhere (comma-separated; no wildcards)")
	f.DurationVar(&o.flushEvery, "flush-interval", session.DefaultFlushInterval, "how often resume data is saved to the data dir")
	o.limits.register(f)
	o.automation.register(f)
	o.discovery.register(f)
	o.encryption.register(f)
	o.network.register(f)
	registerPprofFlag(f, &o.pprof)
	f.BoolVar(&o.metricsPerTorrent, "metrics-per-torrent", true, fmt.Sprintf("serve per-torrent series on /metrics (for the first %d torrents; false for seedboxes with many torrents)", metrics.DefaultMaxTorrents))
	addConfigFlag(cmd)
	return cmd
}

// credentials returns the secrets API clients may present.
func (o serveOptions) credentials() creds.Credentials {
	return creds.Credentials{User: o.apiUser, Password: o.apiPassword, Token: o.token}
}

// mounts returns the handlers served beside gobit's own API: the
// compatibility APIs and /metrics. Each lives in its own package.
func mounts(sess *session.Session, o serveOptions, log *slog.Logger) []api.Mount {
	var ms []api.Mount
	// /metrics: Prometheus scrapes, behind --api-token like the API.
	ms = append(ms, api.Mount{Pattern: "GET /metrics", Handler: metrics.Handler(sess, metrics.Options{PerTorrent: o.metricsPerTorrent})})
	trpc := transmission.New(sess, transmission.Options{Credentials: o.credentials(), Logger: log})
	ms = append(ms,
		api.Mount{Pattern: "/transmission/rpc", Handler: trpc, OwnAuth: true},
		api.Mount{Pattern: "/transmission/rpc/", Handler: trpc, OwnAuth: true})
	saveDir, err := filepath.Abs(o.downloadDir)
	if err != nil {
		saveDir = o.downloadDir
	}
	ms = append(ms, api.Mount{Pattern: qbittorrent.Prefix, OwnAuth: true, Handler: qbittorrent.New(sess, qbittorrent.Options{
		Credentials: o.credentials(), BypassLocal: o.qbtBypassLocal, DefaultSavePath: saveDir, Logger: log,
	})})
	return ms
}

// runServe runs the daemon until ctx is cancelled.
func runServe(ctx context.Context, o serveOptions, stderr io.Writer) error {
	if err := checkExposure(o.addr, o.token); err != nil {
		return err
	}
	if err := api.ValidateAllowedHosts(o.allowHosts); err != nil {
		return &usageError{fmt.Errorf("%s: %w", api.AllowedHostsFlag, err)}
	}
	if err := api.ValidateAllowedOrigins(o.allowOrigins); err != nil {
		return &usageError{fmt.Errorf("%s: %w", api.AllowedOriginsFlag, err)}
	}
	if o.port < 0 || o.port > 65535 {
		return &usageError{fmt.Errorf("--port %d: want 0..65535", o.port)}
	}
	level, err := parseLevel(o.logLevel)
	if err != nil {
		return err
	}
	log, closeLog, err := newLogger(stderr, level, o.logFile)
	if err != nil {
		return err
	}
	defer closeLog()

	if err := os.MkdirAll(o.dataDir, 0o700); err != nil {
		return fmt.Errorf("creating the data directory (--data-dir): %w", err)
	}
	// A second gobit on the same data directory is told so before it binds
	// anything (the session would find the database locked, later).
	if session.DataDirInUse(o.dataDir) {
		return lockedError(o.dataDir)
	}
	if err := session.CheckDownloadDir(o.downloadDir); err != nil {
		return fmt.Errorf("%w (--download-dir)", err)
	}

	// Bind the API before the session starts: a busy or bad address is
	// cheaper to report before torrents are restored and started.
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return apiListenError(o.addr, err)
	}
	defer ln.Close()

	cfg := session.Config{
		DownloadDir:   o.downloadDir,
		DataDir:       o.dataDir,
		ListenAddr:    o.listenHost,
		Port:          o.port,
		Logger:        log,
		FlushInterval: o.flushEvery,
	}
	if err := o.limits.apply(&cfg); err != nil {
		return err
	}
	if err := o.automation.apply(&cfg); err != nil {
		return err
	}
	if err := o.discovery.apply(&cfg); err != nil {
		return err
	}
	if err := o.encryption.apply(&cfg); err != nil {
		return err
	}
	o.network.apply(&cfg)
	if adjustSessionConfig != nil {
		adjustSessionConfig(&cfg)
	}
	sess, err := session.New(cfg)
	if err != nil {
		return sessionStartError(err, o.dataDir, o.port)
	}
	closeSession := func() error {
		if err := sess.Close(); err != nil {
			return fmt.Errorf("closing session: %w", err)
		}
		return nil
	}

	apiOpts := api.Options{Token: o.token, Logger: log, Addr: o.addr, AllowedHosts: o.allowHosts, AllowedOrigins: o.allowOrigins}
	apiOpts.Mounts = mounts(sess, o, log)
	srv := &http.Server{
		// Guard covers the --pprof profiles too; the API checks again.
		Handler:           api.Guard(apiOpts, withPprof(o.pprof, o.token, api.NewHandler(sess, apiOpts))),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       2 * time.Minute,
		WriteTimeout:      2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	srv.RegisterOnShutdown(sess.CloseEvents) // event streams would hold up Shutdown
	errC := make(chan error, 1)
	go func() { errC <- srv.Serve(ln) }()
	log.Info("gobit daemon listening",
		"api", "http://"+ln.Addr().String(),
		"peer_port", sess.Port(),
		"download_dir", o.downloadDir,
		"data_dir", o.dataDir,
		"token", o.token != "")
	svc := startService(o, sess, log, "http://"+ln.Addr().String())
	defer svc.stopping()

	select {
	case err := <-errC:
		_ = closeSession()
		return fmt.Errorf("serving the API: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down")
	svc.stopping()
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	shutErr := srv.Shutdown(sctx)
	if shutErr != nil {
		shutErr = fmt.Errorf("stopping the API: %w", shutErr)
		_ = srv.Close()
	}
	if err := <-errC; err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Warn("API server", "err", err)
	}
	err = errors.Join(shutErr, closeSession())
	if err == nil {
		log.Info("stopped")
	}
	return err
}
