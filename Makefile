# minewatch: `make run` scans the bundled sample, `make test` runs the tests, `make bench`
# measures throughput against a plain libpcap read loop.
SWIFT ?= swift
BENCH_DIR := .build-bench
BENCH_PCAP := $(BENCH_DIR)/bench.pcap
BENCH_MB ?= 1000

.PHONY: all deps test-deps build run test bench sample format install clean

PREFIX ?= /usr/local
SYSCONFDIR ?= /etc

all: build

# Installs what the build needs when it is missing (Debian: libpcap-dev, pkg-config).
deps:
	@if ! pkg-config --exists libpcap 2>/dev/null; then \
	  echo "installing libpcap-dev and pkg-config"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq libpcap-dev pkg-config >/dev/null; \
	fi

# The daemon's live test needs ip (network namespaces), tcpreplay and a real rsyslogd.
test-deps: deps
	@missing=""; \
	command -v ip >/dev/null || missing="$$missing iproute2"; \
	command -v tcpreplay >/dev/null || missing="$$missing tcpreplay"; \
	command -v rsyslogd >/dev/null && [ -x /usr/sbin/rsyslogd ] || missing="$$missing rsyslog"; \
	if [ -n "$$missing" ]; then \
	  echo "installing$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

build: deps
	$(SWIFT) build

run: build
	.build/debug/minewatch scan Tests/Fixtures/sample.pcap

test: test-deps
	$(SWIFT) test

# Regenerates the bundled sample from the project's own generator.
sample: build
	.build/debug/minewatch-gen sample Tests/Fixtures/sample.pcap

bench: deps
	$(SWIFT) build -c release --product minewatch
	$(SWIFT) build -c release --product minewatch-gen
	@mkdir -p $(BENCH_DIR)
	@[ -f $(BENCH_PCAP) ] || .build/release/minewatch-gen bench $(BENCH_PCAP) --megabytes $(BENCH_MB)
	$(CC) -O2 -std=c11 -Wall -Wextra -o $(BENCH_DIR)/pcap_read_loop Benchmarks/pcap_read_loop.c -lpcap
	@[ -f $(BENCH_DIR)/sigs100k/big.pools.txt ] || Benchmarks/make_100k_signatures.sh .build/release/minewatch $(BENCH_DIR)/sigs100k
	@Benchmarks/run.sh $(BENCH_PCAP) $(BENCH_DIR)/pcap_read_loop .build/release/minewatch $(BENCH_DIR)/sigs100k

# Binary, signatures and docs under $(PREFIX); unit and sample config where systemd looks.
install:
	$(SWIFT) build -c release --product minewatch
	install -D -m 0755 .build/release/minewatch $(DESTDIR)$(PREFIX)/bin/minewatch
	install -d $(DESTDIR)$(PREFIX)/share/minewatch/signatures
	install -m 0644 signatures/*.txt $(DESTDIR)$(PREFIX)/share/minewatch/signatures/
	install -D -m 0644 README.md $(DESTDIR)$(PREFIX)/share/doc/minewatch/README.md
	install -D -m 0644 systemd/minewatch.service $(DESTDIR)$(SYSCONFDIR)/systemd/system/minewatch.service
	@if [ -f $(DESTDIR)$(SYSCONFDIR)/minewatch/minewatch.conf ]; then \
	  echo "keeping $(SYSCONFDIR)/minewatch/minewatch.conf"; \
	else \
	  install -D -m 0644 systemd/minewatch.conf $(DESTDIR)$(SYSCONFDIR)/minewatch/minewatch.conf; \
	fi

format:
	$(SWIFT) format -i -r Sources Tests Package.swift

clean:
	rm -rf .build $(BENCH_DIR)
