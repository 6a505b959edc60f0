# Sluice: the commands a newcomer and CI use. Everything builds into build/ with meson.
#   make          build          make test   deps + build + every suite (what CI runs)
#   make demo     sandbox demo   make bench  benchmarks     make fuzz  fuzz targets
BUILD      ?= build
BUILD_FUZZ ?= build-fuzz
FUZZ_SECONDS ?= 60
MESON_TEST_ARGS ?=

DEB_PACKAGES := clang llvm iptables ipset libbpf-dev bpftool libnl-3-dev libnl-route-3-dev libcjson-dev \
	libcurl4-openssl-dev libyaml-dev libcmocka-dev libmicrohttpd-dev meson ninja-build \
	pkg-config iproute2 iputils-ping containernetworking-plugins python3 python3-yaml iperf3 \
	libclang-rt-14-dev gnuplot-nox procps psmisc kmod util-linux ca-certificates podman runc golang-go golang-github-appc-cni-dev prometheus

.PHONY: all build deps test demo bench fuzz clean format

all: build

# Idempotent and fast when everything is installed: apt runs only for what is missing.
deps:
	@missing=$$(for p in $(DEB_PACKAGES); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; \
	done); \
	if [ -n "$$missing" ]; then \
		echo "installing:" $$missing; \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
			--no-install-recommends $$missing; \
	fi

$(BUILD)/build.ninja:
	meson setup $(BUILD)

build: $(BUILD)/build.ninja
	ninja -C $(BUILD)

test: deps
	$(MAKE) build
	tests/run-all $(BUILD) $(MESON_TEST_ARGS)

demo: deps
	$(MAKE) build
	e2e/demo $(DEMO_ARGS)

bench: deps
	$(MAKE) build
	bench/run-all $(BUILD)

fuzz: deps
	CC=clang meson setup $(BUILD_FUZZ) -Dfuzz=true --reconfigure 2>/dev/null || \
		CC=clang meson setup $(BUILD_FUZZ) -Dfuzz=true
	ninja -C $(BUILD_FUZZ)
	FUZZ_SECONDS=$(FUZZ_SECONDS) meson test -C $(BUILD_FUZZ) --suite fuzz --print-errorlogs

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(BUILD_FUZZ)
