# minewatch: `make run` scans the bundled sample, `make test` runs the tests, `make bench`
# measures throughput against a plain libpcap read loop (MW_BASELINE=BINARY: an earlier build too).
SWIFT ?= swift
BENCH_DIR := .build-bench
BENCH_PCAP := $(BENCH_DIR)/bench.pcap
BENCH_MB ?= 1000
BENCH_ROUNDS ?= 7
STATIC_BIN := .build-static/release/minewatch

.PHONY: all deps test-deps build run report test static deb test-package bench bench-live bench-tunnels bench-hostile sample format install clean fuzz fuzz-build test-sanitize

FUZZ_DIR := .build-fuzz
FUZZ_C_TARGETS := fuzz_packets fuzz_stream fuzz_json fuzz_names fuzz_capture
FUZZ_TARGETS := $(FUZZ_C_TARGETS) fuzz_session
FUZZ_SECONDS ?= 600
FUZZ_JOBS ?= 2
CORE_SOURCES := $(wildcard Sources/MinewatchCore/*.c)
# Real tunnelled traffic, so the fuzzers start from every decapsulation path.
TUNNEL_SEEDS := $(addprefix Tests/Fixtures/captures/ordinary/,vxlan.pcap 4in4tunnel.pcap 4in6tunnel.pcap 6in6tunnel.pcap ipv6_in_gtp.pcap teredo.pcap)

PREFIX ?= /usr/local
SYSCONFDIR ?= /etc

all: build

# Installs what the build needs when it is missing (Debian: libpcap-dev, libssl-dev for
# SHA-256 and the verification's TLS client, pkg-config).
deps:
	@if ! pkg-config --exists libpcap libcrypto libssl zlib 2>/dev/null; then \
	  echo "installing libpcap-dev, libssl-dev, zlib1g-dev and pkg-config"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq libpcap-dev libssl-dev zlib1g-dev pkg-config >/dev/null; \
	fi

# The daemon's live test needs ip (network namespaces), tcpreplay and a real rsyslogd; the
# HTML report is checked in headless Chromium.
test-deps: deps
	@missing=""; \
	command -v ip >/dev/null || missing="$$missing iproute2"; \
	command -v tcpreplay >/dev/null || missing="$$missing tcpreplay"; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	command -v rsyslogd >/dev/null && [ -x /usr/sbin/rsyslogd ] || missing="$$missing rsyslog"; \
	command -v openssl >/dev/null || missing="$$missing openssl"; \
	command -v python3 >/dev/null || missing="$$missing python3"; \
	command -v curl >/dev/null || missing="$$missing curl"; \
	if [ -n "$$missing" ]; then \
	  echo "installing$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

build: deps
	$(SWIFT) build

run: build
	.build/debug/minewatch scan Tests/Fixtures/sample.pcap

# The bundled sample as an HTML report, with the example asset map and evidence files.
report: build
	@rm -rf .build/sample-evidence
	.build/debug/minewatch scan --quiet --format json --assets systemd/assets.example.csv \
	  --evidence .build/sample-evidence Tests/Fixtures/sample.pcap > .build/sample-report.json
	.build/debug/minewatch report .build/sample-report.json -o .build/sample-report.html
	@echo "open .build/sample-report.html"

test: test-deps
	$(SWIFT) test

# Resource bounds under attack: one capture per table an attacker could aim at.
bench-hostile: deps
	$(SWIFT) build -c release --product minewatch
	$(SWIFT) build -c release --product minewatch-gen
	@Benchmarks/hostile.sh .build/release/minewatch-gen .build/release/minewatch $(BENCH_DIR)/hostile

# Regenerates the bundled sample from the project's own generator.
sample: build
	.build/debug/minewatch-gen sample Tests/Fixtures/sample.pcap

bench: static
	$(SWIFT) build -c release --product minewatch-gen
	@mkdir -p $(BENCH_DIR)
	@[ -f $(BENCH_PCAP) ] || .build/release/minewatch-gen bench $(BENCH_PCAP) --megabytes $(BENCH_MB)
	$(CC) -O2 -std=c11 -Wall -Wextra -o $(BENCH_DIR)/pcap_read_loop Benchmarks/pcap_read_loop.c -lpcap
	@[ -f $(BENCH_DIR)/sigs100k/big.pools.txt ] || Benchmarks/make_100k_signatures.sh $(STATIC_BIN) $(BENCH_DIR)/sigs100k
	@MW_BASELINE=$(MW_BASELINE) NDPI_READER=$(NDPI_READER) BENCH_ROUNDS=$(BENCH_ROUNDS) Benchmarks/run.sh $(BENCH_PCAP) $(BENCH_DIR)/pcap_read_loop $(STATIC_BIN) $(BENCH_DIR)/sigs100k

# The daemon's sustained packet rate: the benchmark capture replayed by tcpreplay onto a veth
# in a namespace of its own, at fixed rates and as fast as one and two senders go (root).
bench-live: bench
	@command -v tcpreplay >/dev/null || { SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq tcpreplay >/dev/null; }
	@Benchmarks/live.sh $(BENCH_PCAP) $(STATIC_BIN)

# The cost of each encapsulation on the benchmark capture (wrapped copies written once).
bench-tunnels: bench
	$(SWIFT) build -c release --product minewatch-gen
	@Benchmarks/tunnels.sh $(BENCH_PCAP) .build/release/minewatch-gen $(STATIC_BIN)

# The binary that is installed (make install, the package) and measured (make bench): the Swift
# runtime linked in, so it needs only Debian's own libraries, not the toolchain it was built with
# — and it starts sooner, with no Swift shared libraries to load and bind (a scan of an empty
# capture 12.8 ms against 17.7 on the bench machine).
static: deps
	$(SWIFT) build -c release --product minewatch --static-swift-stdlib --scratch-path .build-static

# A Debian package of that binary.
DEB_VERSION := $(shell sed -n 's/.*static let release = "\(.*\)"/\1/p' Sources/minewatch/Minewatch.swift)
DEB_ARCH := $(shell dpkg --print-architecture 2>/dev/null || echo amd64)
DEB_DIR := .build-deb
DEB := $(DEB_DIR)/minewatch_$(DEB_VERSION)_$(DEB_ARCH).deb

deb: static
	@command -v dpkg-shlibdeps >/dev/null && command -v strip >/dev/null || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq dpkg-dev binutils >/dev/null; }
	$(SWIFT) package --allow-writing-to-package-directory generate-manual --multi-page --configuration debug \
	  --date $$(cat signatures/VERSION) --authors "minewatch developers<minewatch@example.org>"
	@mkdir -p $(DEB_DIR)
	systemd/build-deb.sh $(STATIC_BIN) .build/plugins/GenerateManual/outputs/minewatch \
	  $(DEB_VERSION) $(DEB_ARCH) $(DEB_DIR)

# The package as an administrator meets it: lintian, then dpkg -i into a fresh Debian 12 root
# (debootstrap, no Swift in it) and minewatch run there. Needs root and Debian's mirror.
test-package: deb
	@command -v debootstrap >/dev/null && command -v lintian >/dev/null || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq debootstrap lintian >/dev/null; }
	systemd/test-package.sh $(DEB) Tests/Fixtures/sample.pcap $(DEB_DIR)/bookworm

# Binary, signatures and docs under $(PREFIX); unit and sample config where systemd looks.
install: static
	install -D -m 0755 $(STATIC_BIN) $(DESTDIR)$(PREFIX)/bin/minewatch
	install -d $(DESTDIR)$(PREFIX)/share/minewatch/signatures
	install -m 0644 signatures/*.txt signatures/VERSION $(DESTDIR)$(PREFIX)/share/minewatch/signatures/
	install -D -m 0644 README.md $(DESTDIR)$(PREFIX)/share/doc/minewatch/README.md
	install -D -m 0644 systemd/minewatch.service $(DESTDIR)$(SYSCONFDIR)/systemd/system/minewatch.service
	install -D -m 0644 systemd/minewatch.logrotate $(DESTDIR)$(SYSCONFDIR)/logrotate.d/minewatch
	@if [ -f $(DESTDIR)$(SYSCONFDIR)/minewatch/minewatch.conf ]; then \
	  echo "keeping $(SYSCONFDIR)/minewatch/minewatch.conf"; \
	else \
	  install -D -m 0644 systemd/minewatch.conf $(DESTDIR)$(SYSCONFDIR)/minewatch/minewatch.conf; \
	fi

# The whole suite, Swift and C, under AddressSanitizer and UndefinedBehaviorSanitizer (any
# report stops the run). Leak checking is off: libXCTest leaks by design (PLATFORM.md).
test-sanitize: test-deps
	ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	  $(SWIFT) test --scratch-path .build-sanitize --sanitize=address \
	  -Xcc -fsanitize=undefined -Xswiftc -Xclang-linker -Xswiftc -fsanitize=undefined

# libFuzzer targets on every C entry point that sees wire bytes, with ASan and UBSan.
fuzz-build: deps
	@mkdir -p $(FUZZ_DIR)
	@for t in $(FUZZ_C_TARGETS); do \
	  clang -g -O1 -std=c11 -Wall -Wextra -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	    -fuse-ld=lld -ISources/MinewatchCore/include -ISources/MinewatchCore Tests/Fuzz/$$t.c $(CORE_SOURCES) \
	    -lpcap -o $(FUZZ_DIR)/$$t || exit 1; \
	done
	@cc -O1 -std=c11 -Wall -Wextra Tests/Fuzz/make_seeds.c -lpcap -o $(FUZZ_DIR)/make_seeds
	$(SWIFT) build --scratch-path .build-fuzz-swift --product fuzz-session --sanitize=fuzzer --sanitize=address \
	  -Xswiftc -DFUZZING -Xswiftc -use-ld=lld
	@cp .build-fuzz-swift/debug/fuzz-session $(FUZZ_DIR)/fuzz_session

# Runs each target for FUZZ_SECONDS (FUZZ_JOBS at a time) from seeds taken from the test
# captures; crashes land in $(FUZZ_DIR)/crashes and make this fail.
fuzz: fuzz-build
	@for t in $(FUZZ_TARGETS); do mkdir -p $(FUZZ_DIR)/corpus/$$t; done
	@mkdir -p $(FUZZ_DIR)/seeds/packets $(FUZZ_DIR)/seeds/json $(FUZZ_DIR)/crashes
	@$(FUZZ_DIR)/make_seeds $(FUZZ_DIR)/seeds Tests/Fixtures/*.pcap $(wildcard Tests/Fixtures/captures/miners/*.pcap* Tests/Fixtures/captures/public/*.pcap*) $(TUNNEL_SEEDS)
	@cp -n $(FUZZ_DIR)/seeds/packets/* $(FUZZ_DIR)/corpus/fuzz_packets/ 2>/dev/null || true
	@cp -n $(FUZZ_DIR)/seeds/json/* $(FUZZ_DIR)/corpus/fuzz_json/ 2>/dev/null || true
	@cp -n $(FUZZ_DIR)/seeds/json/* $(FUZZ_DIR)/corpus/fuzz_session/ 2>/dev/null || true
	@cp -n Tests/Fixtures/*.pcap $(wildcard Tests/Fixtures/captures/miners/*.pcap* Tests/Fixtures/captures/public/*.pcap*) $(TUNNEL_SEEDS) $(FUZZ_DIR)/corpus/fuzz_capture/ 2>/dev/null || true
	@echo $(FUZZ_TARGETS) | tr ' ' '\n' | xargs -P $(FUZZ_JOBS) -I{} sh -c \
	  '$(FUZZ_DIR)/{} -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
	     -artifact_prefix=$(FUZZ_DIR)/crashes/{}- $(FUZZ_DIR)/corpus/{} Tests/Fuzz/regressions/{} \
	     > $(FUZZ_DIR)/{}.log 2>&1; echo "{}: exit $$?, $$(grep -o "Done [0-9]* runs in [0-9]* second" $(FUZZ_DIR)/{}.log | tail -1)"'
	@if ls $(FUZZ_DIR)/crashes/* >/dev/null 2>&1; then echo "fuzz: findings in $(FUZZ_DIR)/crashes"; ls $(FUZZ_DIR)/crashes; exit 1; fi

format:
	$(SWIFT) format -i -r Sources Tests Package.swift

clean:
	rm -rf .build $(BENCH_DIR)
