# ringtrain — the two commands a newcomer needs:
#   make run    installs what is missing, builds, and trains the Fashion-MNIST example
#   make test   installs what is missing, builds (release, ASan/UBSan, TSan) and runs every test:
#               what CI runs, stage by stage, timed
# The fast tier while working: make check (release build; unit and integration tests that need
# no control plane and no full training run; a few minutes on a warm tree).
# Other targets: deps, build, bench (a report in bench/results), bench-quick, fuzz, images, test-images, format, check-format, clean,
# movielens (MovieLens-100k into build/movielens for examples/movielens-fm.yaml).

SHELL := /bin/bash
JOBS ?= $(shell nproc)
RELEASE_DIR ?= build/release
# The ASan+UBSan tree is built with clang, with libFuzzer's coverage in every target, so the fuzz
# targets (tests/fuzz) live beside the tests and the code is compiled by a second compiler.
ASAN_DIR ?= build/asan-clang
TSAN_DIR ?= build/tsan
# Our own threaded code runs under ThreadSanitizer: N ranks as threads over real sockets (sync,
# async, ssp and the codecs), the transport, the worker's client against scripted servers, the
# operator's work queue, metrics, leader election, informer (scripted watch) and progress
# poller, the controller (informers, workers, expectations, progress poller) against a real
# API server, and checkpoints (the background writer; servers snapshotting while they train).
# Longest first: tests/sanitizers/run_tsan.sh runs them JOBS at a time in the order listed.
TSAN_TESTS := tests/integration/operator/controller/operator_controller_apiserver_test \
  tests/integration/operator/leader/leader_election_apiserver_test \
  tests/unit/worker/worker_tests tests/unit/ps/ps_tests \
  tests/integration/consistency_test tests/unit/operator/controller/operator_controller_tests \
  tests/unit/data/text_stream_test tests/integration/sync_exactness_test \
  tests/unit/ckpt/ckpt_tests tests/unit/operator/metrics/operator_metrics_tests \
  tests/unit/ckpt/ckpt_cluster_test tests/unit/operator/leader/operator_leader_tests \
  tests/unit/operator/operator_tests tests/unit/ckpt/ckpt_server_tests \
  tests/unit/transport/transport_tests
EXAMPLE ?= examples/fashion-mnist.yaml

# Debian packages needed to build, test and run the example (installed only when missing).
DEB_PACKAGES := build-essential cmake ninja-build pkg-config git ca-certificates \
  libprotobuf-dev protobuf-compiler libzmq3-dev cppzmq-dev libeigen3-dev \
  libyaml-cpp-dev nlohmann-json3-dev libgtest-dev libgmock-dev googletest \
  libcli11-dev zlib1g-dev libbenchmark-dev clang-format dataset-fashion-mnist \
  libcpprest-dev libmicrohttpd-dev libssl-dev openssl python3-yaml ccache bsdextrautils \
  libonnx-dev python3-onnx python3-venv clang libclang-rt-14-dev \
  libcurl4-openssl-dev libpugixml-dev python3-pip

# ccache: objects are reused across build trees and clones (paths inside the tree hash
# relative to it).
export CCACHE_BASEDIR := $(CURDIR)
export CCACHE_NOHASHDIR := true
# The tests share a precompiled header (tests/CMakeLists.txt); ccache caches compilations
# that use one only with these relaxations (its manual, "Precompiled headers").
export CCACHE_SLOPPINESS := pch_defines,time_macros,include_file_mtime,include_file_ctime

# Go (for the pinned Kubernetes control plane and schema checks) comes with the machine.
export PATH := /usr/local/go/bin:$(PATH)

SUDO := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)

.PHONY: deps build build-asan build-tsan run check test test-release test-asan test-tsan fuzz bench \
  bench-quick \
  bench-deps format check-format clean controlplane test-controlplane s3server test-crd crd crd-tools images \
  images-deps image-binaries test-images onnxruntime movielens

# $(call apt_install_missing,PACKAGES,WHO): apt-get installs those of PACKAGES not installed yet.
define apt_install_missing
missing=""; \
for p in $(1); do \
  dpkg-query -W -f='$${Status}' "$$p" 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
done; \
if [ -n "$$missing" ]; then \
  echo "make $(2): installing$$missing"; \
  $(SUDO) apt-get update -q && \
  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing; \
else \
  echo "make $(2): all Debian packages present"; \
fi
endef

deps:
	@$(call apt_install_missing,$(DEB_PACKAGES),deps)

$(RELEASE_DIR)/build.ninja: | deps
	cmake -S . -B $(RELEASE_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Release

# The sanitizer trees build neither the benchmarks nor the full-training tests (label slow),
# which only the release tree runs.
$(ASAN_DIR)/build.ninja: | deps
	CXX=clang++ cmake -S . -B $(ASAN_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Debug \
	  -DRINGTRAIN_SANITIZE=address,undefined -DRINGTRAIN_FUZZ=ON -DRINGTRAIN_BUILD_BENCH=OFF \
	  -DRINGTRAIN_SLOW_TESTS=OFF

$(TSAN_DIR)/build.ninja: | deps
	cmake -S . -B $(TSAN_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Debug \
	  -DRINGTRAIN_SANITIZE=thread -DRINGTRAIN_BUILD_BENCH=OFF -DRINGTRAIN_SLOW_TESTS=OFF

build: deps $(RELEASE_DIR)/build.ninja
	cmake --build $(RELEASE_DIR) -j $(JOBS)

build-asan: deps $(ASAN_DIR)/build.ninja
	cmake --build $(ASAN_DIR) -j $(JOBS)

build-tsan: deps $(TSAN_DIR)/build.ninja
	cmake --build $(TSAN_DIR) -j $(JOBS) --target $(notdir $(TSAN_TESTS))

# Builds just the binary (not the tests) before training.
run: deps $(RELEASE_DIR)/build.ninja
	cmake --build $(RELEASE_DIR) -j $(JOBS) --target ringtrain
	$(RELEASE_DIR)/runtime/ringtrain run $(EXAMPLE)

test-release: build onnxruntime s3server movielens
	cd $(RELEASE_DIR) && ctest --output-on-failure -j $(JOBS) --timeout 900

# The fast tier: no control plane, no S3 server, no full training runs.
check: deps check-format build
	cd $(RELEASE_DIR) && ctest --output-on-failure -j $(JOBS) --timeout 900 \
	  -LE 'slow|controlplane|s3server'

# Sanitizers slow training down several times: the full-accuracy runs (label "slow") run in
# the release build only. The fuzz targets run 15 s each here (label fuzz).
ASAN_ENV = ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
  LSAN_OPTIONS=suppressions=$(CURDIR)/tests/sanitizers/lsan.supp \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
test-asan: build-asan s3server
	cd $(ASAN_DIR) && $(ASAN_ENV) ctest --output-on-failure -j $(JOBS) --timeout 900 -LE slow

# Long fuzzing runs (FUZZ_SECONDS per target, JOBS targets at a time) that grow the corpus in
# tests/fuzz/corpus; each prints its executions. An input that fails is copied to
# $(ASAN_DIR)/fuzz-artifacts/<target>/: keep it in the corpus as a regression input.
FUZZ_SECONDS ?= 600
FUZZERS := wire_fuzz codec_fuzz spec_yaml_fuzz spec_json_fuzz idx_fuzz kubeconfig_fuzz \
  watch_event_fuzz control_event_fuzz keys_fuzz text_data_fuzz
fuzz: build-asan
	@printf '%s\n' $(FUZZERS) | $(ASAN_ENV) xargs -P $(JOBS) -I{} \
	  bash tests/fuzz/run_fuzz.sh $(ASAN_DIR)/tests/fuzz/{} $(FUZZ_SECONDS) \
	    tests/fuzz/corpus/{} tests/fuzz/corpus/{}

test-tsan: build-tsan controlplane
	@bash tests/sanitizers/run_tsan.sh $(TSAN_DIR) $(JOBS) $(TSAN_TESTS)

# The real control plane for the operator's tests: kube-apiserver, etcd, kube-controller-manager,
# kubectl and helm at pinned versions, built from Go modules into a cache outside the repo
# (about 20 minutes the first time on 2 cores; instant afterwards).
controlplane: deps
	bash tests/controlplane/build.sh

test-controlplane: controlplane
	bash tests/controlplane/smoke_test.sh

# A real S3 server for the storage tests: SeaweedFS's `weed` at a pinned version, built from Go
# modules into a cache outside the repo like the control plane (tests/s3server/build.sh).
s3server: deps
	@bash tests/s3server/build.sh >/dev/null

# onnxruntime from PyPI, for the test that serves exported models with it
# (tests/e2e/onnx_export_test.cc): a venv with every package pinned
# (tests/onnxruntime/requirements.txt), cached outside the repo, keyed by the pins (about 20 s
# the first time; instant afterwards).
onnxruntime: deps
	@bash tests/onnxruntime/venv.sh >/dev/null

# MovieLens-100k (RecBole's wheel from PyPI, three files kept in the cache; tests/movielens/
# fetch.sh), prepared into build/movielens/{train,test}.csv for examples/movielens-fm.yaml.
movielens: deps $(RELEASE_DIR)/build.ninja
	@cmake --build $(RELEASE_DIR) -j $(JOBS) --target ringtrain >/dev/null
	@$(RELEASE_DIR)/runtime/ringtrain prepare movielens --out build/movielens \
	  --from "$$(bash tests/movielens/fetch.sh | tail -n 1)" >/dev/null

# The CRD and chart: the CRD (generated from the spec's field table; the unit test
# CrdTest.CheckedInCopiesAreWhatTheCommandPrints keeps the files equal to `ringtrain crd`)
# checked by the API server's own validation code against the C++ parser's verdicts, and the
# chart linted and rendered by the real helm.
test-crd: build controlplane crd-tools
	bash tests/crd/check_crd_schema.sh $(RELEASE_DIR)/runtime/ringtrain
	bash tests/crd/check_chart.sh

# Regenerates the CRD and the chart's copy from the field table (contract/src/spec_table*.cc).
crd: build
	$(RELEASE_DIR)/runtime/ringtrain crd > crds/ringtrain.io_trainingjobs.yaml
	cp crds/ringtrain.io_trainingjobs.yaml charts/ringtrain/crds/ringtrain.io_trainingjobs.yaml

# The CRD checker (Go), built with the control plane's flags so it reuses its build cache.
crd-tools: controlplane
	bash tests/crd/check_crd_schema.sh --build-only

# Every stage, timed (tests/stage.sh; a table at the end). The Go side (control plane and CRD
# checker: module downloads, then compiles) runs while the release tree compiles, so the
# downloads overlap the C++ compiler.
STAGE = STAGE_LOG=$(CURDIR)/build/stages.tsv bash tests/stage.sh
test: deps
	@mkdir -p build && rm -f build/stages.tsv
	@$(STAGE) check-format $(MAKE) --no-print-directory check-format
	@$(STAGE) "release build + control plane" $(MAKE) --no-print-directory -j2 build controlplane crd-tools \
	  s3server
	@$(STAGE) "release tests" $(MAKE) --no-print-directory test-release
	@$(STAGE) "ASan+UBSan build and tests" $(MAKE) --no-print-directory test-asan
	@$(STAGE) "TSan build and tests" $(MAKE) --no-print-directory test-tsan
	@$(STAGE) "CRD and chart" $(MAKE) --no-print-directory test-crd
	@$(STAGE) "control-plane smoke" $(MAKE) --no-print-directory test-controlplane
	@$(STAGE) "images" $(MAKE) --no-print-directory test-images
	@echo "== make test: stages (seconds)"; column -t -s "$$(printf '\t')" build/stages.tsv; \
	  awk -F'\t' '{ s += $$2 } END { printf "== make test: %d s in all\n", s }' build/stages.tsv

# PyTorch for bench/ddp_baseline.py, the DDP baseline `make bench` compares against; only the
# benchmark needs it, so it is not in DEB_PACKAGES (installed only when missing). Without
# libopenblas0-pthread, Debian's libblas.so.3 (which python3-torch uses) is the reference BLAS,
# and DDP runs several times slower than it can: installing it switches the libblas.so.3
# alternative to OpenBLAS. ddp_baseline.py prints which BLAS it actually loaded.
# bench/scaling_bench.py receives the ringtrain processes' events with python3-zmq and decodes
# them with python3-protobuf (classes protoc generates from proto/ringtrain.proto).
BENCH_DEB_PACKAGES := python3-torch python3-numpy libopenblas0-pthread python3-yaml \
  python3-matplotlib python3-zmq python3-protobuf

bench-deps:
	@$(call apt_install_missing,$(BENCH_DEB_PACKAGES),bench-deps)

# Every benchmark, then a report a person can read: bench/results/<date>.md, with <date>.json
# and the plots beside it (bench/report.py). bench-quick: a smoke run of a few minutes.
bench: deps bench-deps controlplane s3server movielens $(RELEASE_DIR)/build.ninja
	cmake --build $(RELEASE_DIR) -j $(JOBS) --target ringtrain transport_bench training_modes_bench \
	  checkpoint_bench recovery_bench reader_bench ringtrain-operator stream_memory_bench \
	  sparse_kv_bench compute_floor bulk_copy_bench
	/usr/bin/python3 bench/report.py --build $(RELEASE_DIR)

bench-quick: deps bench-deps movielens $(RELEASE_DIR)/build.ninja
	cmake --build $(RELEASE_DIR) -j $(JOBS) --target ringtrain transport_bench sparse_kv_bench \
	  compute_floor bulk_copy_bench
	/usr/bin/python3 bench/report.py --build $(RELEASE_DIR) --quick

# Container images (images/*.Dockerfile): ringtrain/runtime:VERSION and ringtrain/operator:VERSION,
# built with buildah (no daemon) on a Debian base made with debootstrap (no registry), into
# ~/.cache/ringtrain/images (images/buildah.sh lists or pushes them); as root (buildah, chroot).
# test-images runs a real
# job through them: the operator image against the real API server, the pods as containers of
# the runtime image.
VERSION := $(shell grep -m1 -o 'ringtrain VERSION [0-9.]*' CMakeLists.txt | cut -d' ' -f3)
IMAGE_DEB_PACKAGES := buildah netavark debootstrap

images-deps:
	@$(call apt_install_missing,$(IMAGE_DEB_PACKAGES),images-deps)

# The images take the release tree's binaries (built on the same Debian release) instead of
# compiling them again inside buildah.
image-binaries: deps $(RELEASE_DIR)/build.ninja
	cmake --build $(RELEASE_DIR) -j $(JOBS) --target ringtrain ringtrain-operator

images: images-deps image-binaries
	$(SUDO) bash images/build.sh $(VERSION) $(RELEASE_DIR)

test-images: images controlplane
	$(SUDO) bash tests/e2e/images_e2e.sh $(VERSION)

FORMAT_FILES = $(shell git ls-files '*.cc' '*.h')

format:
	clang-format -i $(FORMAT_FILES)

check-format: deps
	@clang-format --dry-run -Werror $(FORMAT_FILES) && echo "check-format: ok"

clean:
	rm -rf build
