# ringtrain/runtime: the `ringtrain` binary that parameter-server and worker pods run
# (`ringtrain ps`, `ringtrain worker`; the operator passes the role as the argument).
# Build from the repository root:  buildah bud -f images/runtime.Dockerfile -t ringtrain/runtime:0.1.0 .
#                              or: docker build -f images/runtime.Dockerfile -t ringtrain/runtime:0.1.0 .
# Data: Fashion-MNIST ships in the image; other data is read from object storage (s3://,
# http(s)://: libcurl and the CA certificates are here) or mounted volumes.
# The bases: Debian's from Docker Hub by default; `make images` on a machine without a registry
# builds one with debootstrap and passes it here (images/build.sh).
ARG BUILD_BASE=docker.io/library/debian:bookworm
ARG RUN_BASE=docker.io/library/debian:bookworm-slim
# Where the binary comes from: `build` compiles it in the stage below (docker build, or any
# machine); `prebuilt` takes images/prebuilt/ringtrain from the context, which `make images`
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
    && cmake --build /build --target ringtrain \
    && mkdir -p /out && cp /build/runtime/ringtrain /out/

FROM scratch AS prebuilt
COPY images/prebuilt/ringtrain /out/ringtrain

FROM ${BINARIES} AS binaries

FROM ${RUN_BASE}
# Exactly the shared libraries the binary links (ldd), and Debian's Fashion-MNIST at the path
# the examples name (/usr/share/datasets/fashion-mnist, 30 MB), so `kubectl apply -f
# examples/fashion-mnist.yaml` trains in a cluster as `ringtrain run` does on one machine.
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
      libprotobuf32 libzmq5 libyaml-cpp0.7 libonnx1 zlib1g libcurl4 libpugixml1v5 \
      ca-certificates dataset-fashion-mnist \
    && rm -rf /var/lib/apt/lists/*
COPY --from=binaries /out/ringtrain /usr/local/bin/ringtrain
# PS 7070 (RINGTRAIN_BIND), worker 0's status socket 7071 (RINGTRAIN_STATUS_BIND).
EXPOSE 7070 7071
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/ringtrain"]
CMD ["version"]
