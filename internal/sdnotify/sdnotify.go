// Package sdnotify tells the service manager about the service's state, the
// protocol of systemd's sd_notify(3): newline-separated KEY=VALUE
// assignments in one datagram sent to the unix socket named by
// $NOTIFY_SOCKET (a path, or an abstract socket name starting with '@').
//
// A Notifier is built once from the environment; a nil Notifier (no
// $NOTIFY_SOCKET, so not run by a service manager that asked for it)
// does nothing. The package does no other I/O.
package sdnotify

import (
	"context"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"
)

// The environment variables the service manager sets.
const (
	EnvSocket       = "NOTIFY_SOCKET"
	EnvWatchdogUsec = "WATCHDOG_USEC"
	EnvWatchdogPID  = "WATCHDOG_PID"
)

// maxStatus bounds the STATUS text sent, in bytes.
const maxStatus = 512

// sendTimeout bounds one datagram write: the service manager's socket
// buffer is normally never full, but a stuck reader must not stall the
// daemon.
const sendTimeout = 2 * time.Second

// Notifier sends state notifications to the service manager.
type Notifier struct {
	addr     *net.UnixAddr
	watchdog time.Duration
}

// FromEnv returns a Notifier for the socket named by $NOTIFY_SOCKET, or
// nil when the variable is unset or empty. When unsetEnv is true it
// removes $NOTIFY_SOCKET, $WATCHDOG_USEC and $WATCHDOG_PID from the
// environment so that programs the service starts do not inherit them. An
// address that is neither an absolute path nor an abstract name ('@…'),
// such as systemd's vsock: form, is an error.
func FromEnv(unsetEnv bool) (*Notifier, error) {
	sock := os.Getenv(EnvSocket)
	usec := os.Getenv(EnvWatchdogUsec)
	pid := os.Getenv(EnvWatchdogPID)
	if unsetEnv {
		os.Unsetenv(EnvSocket)
		os.Unsetenv(EnvWatchdogUsec)
		os.Unsetenv(EnvWatchdogPID)
	}
	if sock == "" {
		return nil, nil
	}
	n, err := New(sock)
	if err != nil {
		return nil, err
	}
	n.watchdog = watchdogInterval(usec, pid, os.Getpid())
	return n, nil
}

// New returns a Notifier sending to the unix datagram socket at addr: an
// absolute path, or '@' followed by the name of an abstract socket.
func New(addr string) (*Notifier, error) {
	if len(addr) < 2 || (addr[0] != '/' && addr[0] != '@') {
		return nil, fmt.Errorf("sdnotify: %s=%q: want an absolute socket path or an @abstract name", EnvSocket, addr)
	}
	if len(addr) > 107 { // sun_path holds 108 bytes with the terminator
		return nil, fmt.Errorf("sdnotify: %s is %d bytes long; a unix socket address holds at most 107", EnvSocket, len(addr))
	}
	return &Notifier{addr: &net.UnixAddr{Name: addr, Net: "unixgram"}}, nil
}

// watchdogInterval parses $WATCHDOG_USEC; the watchdog is the service's
// only when $WATCHDOG_PID is unset or names this process.
func watchdogInterval(usec, pid string, self int) time.Duration {
	if usec == "" {
		return 0
	}
	if pid != "" {
		p, err := strconv.Atoi(pid)
		if err != nil || p != self {
			return 0
		}
	}
	u, err := strconv.ParseUint(usec, 10, 63)
	if err != nil || u == 0 || u > uint64(365*24*time.Hour/time.Microsecond) {
		return 0
	}
	return time.Duration(u) * time.Microsecond
}

// Send sends the assignments, each "KEY=VALUE", in one datagram. On a nil
// Notifier it does nothing.
func (n *Notifier) Send(assignments ...string) error {
	if n == nil || len(assignments) == 0 {
		return nil
	}
	for _, a := range assignments {
		if !strings.Contains(a, "=") || strings.ContainsAny(a, "\n\x00") {
			return fmt.Errorf("sdnotify: bad assignment %q", a)
		}
	}
	c, err := net.DialUnix("unixgram", nil, n.addr)
	if err != nil {
		return fmt.Errorf("sdnotify: %w", err)
	}
	defer c.Close()
	_ = c.SetWriteDeadline(time.Now().Add(sendTimeout))
	if _, err := c.Write([]byte(strings.Join(assignments, "\n") + "\n")); err != nil {
		return fmt.Errorf("sdnotify: %w", err)
	}
	return nil
}

// Ready says the service has finished starting up, with a status line.
func (n *Notifier) Ready(status string) error {
	return n.Send("READY=1", statusLine(status))
}

// Reloading says the service is reloading its configuration; Ready must
// follow when it is done. The MONOTONIC_USEC timestamp lets a
// Type=notify-reload unit (systemd 253 and later) tell this reload from an
// earlier one.
func (n *Notifier) Reloading(status string) error {
	as := []string{"RELOADING=1", statusLine(status)}
	if us, ok := monotonicUsec(); ok {
		as = append(as, "MONOTONIC_USEC="+strconv.FormatUint(us, 10))
	}
	return n.Send(as...)
}

// Stopping says the service is shutting down.
func (n *Notifier) Stopping(status string) error {
	return n.Send("STOPPING=1", statusLine(status))
}

// Status updates the free-form status line the service manager shows.
func (n *Notifier) Status(status string) error {
	return n.Send(statusLine(status))
}

// WatchdogInterval returns how often the service manager expects a
// keep-alive ($WATCHDOG_USEC), or 0 when it expects none.
func (n *Notifier) WatchdogInterval() time.Duration {
	if n == nil {
		return 0
	}
	return n.watchdog
}

// Watchdog sends WATCHDOG=1 at half the watchdog interval until ctx is
// done. It returns at once when there is no watchdog.
func (n *Notifier) Watchdog(ctx context.Context) {
	iv := n.WatchdogInterval()
	if iv <= 0 {
		return
	}
	t := time.NewTicker(iv / 2)
	defer t.Stop()
	for {
		_ = n.Send("WATCHDOG=1") // a missed beat is retried at the next tick
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// statusLine makes one STATUS= assignment of s, on one line and bounded.
func statusLine(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' || r == 0 {
			return ' '
		}
		return r
	}, s)
	if len(s) > maxStatus {
		s = strings.ToValidUTF8(s[:maxStatus], "")
	}
	return "STATUS=" + s
}
