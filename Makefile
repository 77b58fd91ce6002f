# minewatch: `make run` scans the bundled sample, `make test` runs the tests, `make bench`
# measures throughput against a plain libpcap read loop.
SWIFT ?= swift
BENCH_DIR := .build-bench
BENCH_PCAP := $(BENCH_DIR)/bench.pcap
BENCH_MB ?= 1000

.PHONY: all deps build run test bench sample format clean

all: build

# Installs what the build needs when it is missing (Debian: libpcap-dev, pkg-config).
deps:
	@if ! pkg-config --exists libpcap 2>/dev/null; then \
	  echo "installing libpcap-dev and pkg-config"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq libpcap-dev pkg-config >/dev/null; \
	fi

build: deps
	$(SWIFT) build

run: build
	.build/debug/minewatch scan Tests/Fixtures/sample.pcap

test: deps
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

format:
	$(SWIFT) format -i -r Sources Tests Package.swift

clean:
	rm -rf .build $(BENCH_DIR)
