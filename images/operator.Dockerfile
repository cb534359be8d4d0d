# ringtrain/operator: the `ringtrain-operator` binary the Helm chart's Deployment runs.
# Build from the repository root:  buildah bud -f images/operator.Dockerfile -t ringtrain/operator:0.1.0 .
#                              or: docker build -f images/operator.Dockerfile -t ringtrain/operator:0.1.0 .
# The bases: Debian's from Docker Hub by default; `make images` on a machine without a registry
# builds one with debootstrap and passes it here (images/build.sh).
ARG BUILD_BASE=docker.io/library/debian:bookworm
ARG RUN_BASE=docker.io/library/debian:bookworm-slim
# Where the binary comes from: `build` compiles it in the stage below (docker build, or any
# machine); `prebuilt` takes images/prebuilt/ringtrain-operator from the context, which `make images`
# copies from the release build it has already made on the same Debian release (so the
# compiler does not run twice). Unused stages are skipped.
ARG BINARIES=build
FROM ${BUILD_BASE} AS build
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
      build-essential cmake ninja-build pkg-config ca-certificates \
      libprotobuf-dev protobuf-compiler libzmq3-dev cppzmq-dev libeigen3-dev libyaml-cpp-dev \
      nlohmann-json3-dev libcli11-dev zlib1g-dev libcpprest-dev libmicrohttpd-dev libssl-dev \
      libonnx-dev libcurl4-openssl-dev libpugixml-dev libsodium-dev \
    && rm -rf /var/lib/apt/lists/*
COPY . /src
RUN cmake -S /src -B /build -G Ninja -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF \
      -DRINGTRAIN_BUILD_BENCH=OFF \
    && cmake --build /build --target ringtrain-operator \
    && mkdir -p /out && cp /build/operator/ringtrain-operator /out/

FROM scratch AS prebuilt
COPY images/prebuilt/ringtrain-operator /out/ringtrain-operator

FROM ${BINARIES} AS binaries

FROM ${RUN_BASE}
# Exactly the shared libraries the binary links (ldd); CA certificates for the API server.
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
      libcpprest2.10 libmicrohttpd12 libssl3 libprotobuf32 libzmq5 libyaml-cpp0.7 zlib1g ca-certificates \
    && rm -rf /var/lib/apt/lists/*
COPY --from=binaries /out/ringtrain-operator /usr/local/bin/ringtrain-operator
# /metrics 8080, /healthz and /readyz 8081 (the chart's defaults).
EXPOSE 8080 8081
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/ringtrain-operator"]
