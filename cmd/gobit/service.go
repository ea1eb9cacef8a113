package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"github.com/gobit/gobit/internal/sdnotify"
	"github.com/gobit/gobit/internal/session"
)

// daemonService ties a running gobit serve to its service manager
// (sd_notify: readiness, reloads, watchdog, shutdown) and reloads the
// configuration on SIGHUP.
type daemonService struct {
	notify *sdnotify.Notifier
	log    *slog.Logger
	cancel context.CancelFunc
	wg     sync.WaitGroup
	once   sync.Once
}

// startService is called once the API listens and the session has
// started: it tells the service manager the daemon is ready and starts
// handling SIGHUP.
func startService(o serveOptions, sess *session.Session, log *slog.Logger, apiURL string) *daemonService {
	n, err := sdnotify.FromEnv(true) // programs gobit runs must not notify in its name
	if err != nil {
		log.Warn("cannot notify the service manager", "err", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &daemonService{notify: n, log: log, cancel: cancel}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	rl := newReloader(o.flags, sess, log)
	status := fmt.Sprintf("serving the API on %s; peer port %d", apiURL, sess.Port())
	s.wg.Add(2)
	go func() {
		defer s.wg.Done()
		n.Watchdog(ctx)
	}()
	go func() {
		defer s.wg.Done()
		defer signal.Stop(hup)
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
			}
			log.Info("SIGHUP: reloading the configuration")
			s.send(n.Reloading("reloading the configuration"))
			summary, err := rl.reload()
			if err != nil {
				summary = "configuration not reloaded: " + err.Error()
			}
			s.send(n.Ready(status + "; " + summary))
		}
	}()
	s.send(n.Ready(status))
	return s
}

// send logs a failed notification.
func (s *daemonService) send(err error) {
	if err != nil {
		s.log.Warn("cannot notify the service manager", "err", err)
	}
}

// stopping tells the service manager the daemon is shutting down and
// stops handling SIGHUP. It may be called more than once.
func (s *daemonService) stopping() {
	s.once.Do(func() {
		s.send(s.notify.Stopping("shutting down"))
		s.cancel()
		s.wg.Wait()
	})
}
