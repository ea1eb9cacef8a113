# gobit developer targets. The swarm benchmark needs opentracker, mktorrent,
# aria2c, python3-libtorrent (for /usr/bin/python3) and, optionally,
# transmission-cli; see bench/swarm/main.go.

GO ?= go
BENCH_FLAGS ?=

.PHONY: test bench bench-smoke bench-seed bench-wan bench-wan-smoke

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
