# ringtrain — the two commands a newcomer needs:
#   make run    installs what is missing, builds, and trains the Fashion-MNIST example
#   make test   installs what is missing, builds (release + ASan/UBSan) and runs every test
# Other targets: deps, build, bench, format, check-format, clean.

SHELL := /bin/bash
JOBS ?= $(shell nproc)
RELEASE_DIR ?= build/release
ASAN_DIR ?= build/asan
EXAMPLE ?= examples/fashion-mnist.yaml

# Debian packages needed to build, test and run the example (installed only when missing).
DEB_PACKAGES := build-essential cmake ninja-build pkg-config git ca-certificates \
  libprotobuf-dev protobuf-compiler libzmq3-dev cppzmq-dev libeigen3-dev \
  libyaml-cpp-dev nlohmann-json3-dev libgtest-dev libgmock-dev googletest \
  libcli11-dev zlib1g-dev libbenchmark-dev clang-format dataset-fashion-mnist

SUDO := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)

.PHONY: deps build build-asan run test test-release test-asan bench format check-format clean

deps:
	@missing=""; \
	for p in $(DEB_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' "$$p" 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "make deps: installing$$missing"; \
	  $(SUDO) apt-get update -q && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q --no-install-recommends $$missing; \
	else \
	  echo "make deps: all Debian packages present"; \
	fi

$(RELEASE_DIR)/build.ninja: | deps
	cmake -S . -B $(RELEASE_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Release

$(ASAN_DIR)/build.ninja: | deps
	cmake -S . -B $(ASAN_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Debug \
	  -DRINGTRAIN_SANITIZE=address,undefined -DRINGTRAIN_BUILD_BENCH=OFF

build: deps $(RELEASE_DIR)/build.ninja
	cmake --build $(RELEASE_DIR) -j $(JOBS)

build-asan: deps $(ASAN_DIR)/build.ninja
	cmake --build $(ASAN_DIR) -j $(JOBS)

run: build
	$(RELEASE_DIR)/runtime/ringtrain run $(EXAMPLE)

test-release: build
	cd $(RELEASE_DIR) && ctest --output-on-failure -j $(JOBS) --timeout 900

# Sanitizers slow training down several times: the full-accuracy runs (label "slow") run in
# the release build only.
test-asan: build-asan
	cd $(ASAN_DIR) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --output-on-failure -j $(JOBS) --timeout 900 -LE slow

test: deps check-format
	$(MAKE) test-release
	$(MAKE) test-asan

bench: build
	$(RELEASE_DIR)/bench/transport_bench

FORMAT_FILES = $(shell git ls-files '*.cc' '*.h')

format:
	clang-format -i $(FORMAT_FILES)

check-format: deps
	@clang-format --dry-run -Werror $(FORMAT_FILES) && echo "check-format: ok"

clean:
	rm -rf build
