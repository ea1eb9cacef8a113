# gobit developer targets. The swarm benchmark needs opentracker, mktorrent,
# aria2c, python3-libtorrent (for /usr/bin/python3) and, optionally,
# transmission-cli; see bench/swarm/main.go.

GO ?= go
BENCH_FLAGS ?=

# Installation directories (make install PREFIX=/usr DESTDIR=pkg/).
PREFIX ?= /usr/local
DESTDIR ?=
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
SYSTEMD_SYSTEM_UNITDIR ?= $(PREFIX)/lib/systemd/system
SYSTEMD_USER_UNITDIR ?= $(PREFIX)/lib/systemd/user
BUILD ?= build

.PHONY: test build man install uninstall clean bench bench-smoke bench-seed bench-wan bench-wan-smoke

# A static binary, as the Dockerfile builds it.
build:
	CGO_ENABLED=0 $(GO) build -trimpath -o $(BUILD)/gobit ./cmd/gobit

# One man page per command (gobit.1, gobit-serve.1, ...), from the CLI itself.
man: build
	rm -rf $(BUILD)/man
	$(BUILD)/gobit gen-man $(BUILD)/man

# The binary, the man pages and the systemd units (whose ExecStart names
# the installed binary).
install: build man
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 \
		$(DESTDIR)$(SYSTEMD_SYSTEM_UNITDIR) $(DESTDIR)$(SYSTEMD_USER_UNITDIR)
	install -m 0755 $(BUILD)/gobit $(DESTDIR)$(BINDIR)/gobit
	install -m 0644 $(BUILD)/man/*.1 $(DESTDIR)$(MANDIR)/man1/
	sed 's|/usr/local/bin/gobit|$(BINDIR)/gobit|g' contrib/systemd/gobit.service > $(BUILD)/gobit.service
	sed 's|/usr/local/bin/gobit|$(BINDIR)/gobit|g' contrib/systemd/gobit-user.service > $(BUILD)/gobit-user.service
	install -m 0644 $(BUILD)/gobit.service $(DESTDIR)$(SYSTEMD_SYSTEM_UNITDIR)/gobit.service
	install -m 0644 $(BUILD)/gobit-user.service $(DESTDIR)$(SYSTEMD_USER_UNITDIR)/gobit.service

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/gobit $(DESTDIR)$(MANDIR)/man1/gobit.1 $(DESTDIR)$(MANDIR)/man1/gobit-*.1 \
		$(DESTDIR)$(SYSTEMD_SYSTEM_UNITDIR)/gobit.service $(DESTDIR)$(SYSTEMD_USER_UNITDIR)/gobit.service

clean:
	rm -rf $(BUILD)

test:
	$(GO) test ./...

# The full benchmark: 1 GiB, 3 runs, every client (takes several minutes).
bench:
	$(GO) run ./bench/swarm $(BENCH_FLAGS)

# Seeding: gobit vs libtorrent as the only seeder for two libtorrent leechers.
bench-seed:
	$(GO) run ./bench/swarm -mode seed $(BENCH_FLAGS)

# A quick run for CI: fails only if a client fails or data is not identical.
bench-smoke:
	$(GO) run ./bench/swarm -size 64MiB -runs 1 -clients gobit,aria2 -seeders 1

# The WAN-shaped swarm benchmark (root; network namespaces and an emulated
# link per node): scenarios a-d, 256 MiB, 3 rounds, every client.
bench-wan:
	$(GO) run ./bench/wan -scenario a,b,c,d $(BENCH_FLAGS)

# Its CI configuration: checks the data, never the timing.
bench-wan-smoke:
	$(GO) run ./bench/wan -scenario a -size 16MiB -seeders 3 -rounds 1 -clients gobit,libtorrent
