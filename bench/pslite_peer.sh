#!/bin/bash
# ps-lite side by side with ringtrain's sparse push and pull (issue 14; bench/sparse_kv_bench.cc
# runs this with --peer and prints the ratios).
#
# ps-lite is the one BytePS's source distribution on PyPI carries (byteps==0.2.5.post15,
# sha256-pinned; 3rdparty/ps-lite), built once with Debian's libzmq into
# ${RINGTRAIN_CACHE_DIR:-~/.cache/ringtrain}/pslite/, outside the repository. The workload is
# bench/pslite_peer/kv_peer.cc (ours, built beside it): ps-lite's own key-value store
# (KVServerDefaultHandle<float>) and its workers as processes (a scheduler, the servers, the
# workers, loopback TCP, no authentication: ps-lite has none), each worker pushing one batch of
# its keys and pulling them back, repeatedly:
#   big:   10^7 keys over all the workers in one batch each, 3 rounds (the first push creates
#          every key in the store; the later ones update them)
#   small: batches of 1000 keys, 300 rounds (ringtrain's side runs 3000; the rate is per key)
# For 1 server + 1 worker and 2 servers + 2 workers it prints one line per workload:
#   peer <servers> <workers> big push <keys/s> pull <keys/s> first <keys/s>
#   peer <servers> <workers> small push <keys/s> pull <keys/s>
# keys/s = keys pushed (pulled) by all workers in a round / the slowest worker's seconds, the
# median of the rounds after the first. --smoke: 10^5 keys and 50 small rounds.
#
# Beware on a small machine: this ps-lite (BytePS's fork) receives by polling its sockets without
# blocking in a loop, so each of its processes, the scheduler's too, keeps a core busy; with more
# processes than cores (2 + 2 and a scheduler on 2 cores) its requests wait for a core, which
# costs it far more than the work does. Upstream ps-lite blocks in zmq_msg_recv.
# Exit status 1 (with the reason on stderr) when ps-lite cannot be fetched, built or run.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
version=0.2.5.post15
sha256=9d6a3c5be4c4b5a172739744bb32725c433f9a9f63794e1885e7376ff4eea99f
root="${RINGTRAIN_CACHE_DIR:-$HOME/.cache/ringtrain}/pslite/byteps-$version"
big=10000000
small_rounds=300
if [[ ${1:-} == --smoke ]]; then
  big=100000
  small_rounds=50
fi

build() {
  mkdir -p "$root"
  exec 9>"$root.lock"
  flock 9
  if [[ ! -f $root/built ]]; then
    echo "pslite_peer: fetching and building ps-lite (byteps==$version) into $root" >&2
    local tmp
    tmp=$(mktemp -d)
    pip download --quiet --no-deps --no-binary :all: "byteps==$version" -d "$tmp" >&2
    echo "$sha256  $tmp/byteps-$version.tar.gz" | sha256sum -c --quiet
    tar -xzf "$tmp/byteps-$version.tar.gz" -C "$tmp" "byteps-$version/3rdparty/ps-lite"
    rm -rf "$root/ps-lite"
    mv "$tmp/byteps-$version/3rdparty/ps-lite" "$root/ps-lite"
    rm -rf "$tmp"
    # DEPS_PATH=/usr: Debian's zmq.h is there, so ps-lite downloads nothing.
    make -C "$root/ps-lite" ps DEPS_PATH=/usr -j2 >"$root/build.log" 2>&1 ||
      { tail -20 "$root/build.log" >&2; exit 1; }
    touch "$root/built"
  fi
  local src="$here/pslite_peer/kv_peer.cc"
  peer="$root/kv_peer-$(sha256sum "$src" | cut -c1-12)"
  if [[ ! -x $peer ]]; then
    g++ -std=c++14 -O3 -I "$root/ps-lite/include" -o "$peer.tmp" "$src" \
      "$root/ps-lite/build/libps.a" -lzmq -pthread -lrt
    mv "$peer.tmp" "$peer"
  fi
  flock -u 9
}

# run SERVERS WORKERS KEYS_PER_WORKER ROUNDS: the workers' lines on stdout.
run() {
  local servers=$1 workers=$2 keys=$3 rounds=$4 dir pids=()
  dir=$(mktemp -d)
  export DMLC_NUM_SERVER=$servers DMLC_NUM_WORKER=$workers DMLC_PS_ROOT_URI=127.0.0.1
  export DMLC_NODE_HOST=127.0.0.1 DMLC_INTERFACE=lo
  DMLC_PS_ROOT_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  export DMLC_PS_ROOT_PORT
  DMLC_ROLE=scheduler "$peer" "$keys" "$rounds" >"$dir/scheduler" 2>&1 &
  pids+=($!)
  for ((i = 0; i < servers; ++i)); do
    DMLC_ROLE=server "$peer" "$keys" "$rounds" >"$dir/server-$i" 2>&1 &
    pids+=($!)
  done
  local wpids=()
  for ((i = 0; i < workers; ++i)); do
    DMLC_ROLE=worker timeout 600 "$peer" "$keys" "$rounds" >"$dir/worker-$i" 2>&1 &
    wpids+=($!)
  done
  local failed=0
  for p in "${wpids[@]}"; do wait "$p" || failed=1; done
  for p in "${pids[@]}"; do
    timeout 30 tail --pid="$p" -f /dev/null || { kill -9 "$p" 2>/dev/null || true; }
  done
  if ((failed)); then
    echo "pslite_peer: a worker failed ($servers servers, $workers workers):" >&2
    tail -n 5 "$dir"/worker-* >&2
    rm -rf "$dir"
    exit 1
  fi
  grep -h '^pslite worker' "$dir"/worker-*
  rm -rf "$dir"
}

# rate OP PHASE: keys/s per round (all workers' keys / the slowest worker's seconds), the median
# of the rounds after the first (PHASE again) or the first round's (PHASE first).
rate() {
  awk -v op="$1" -v phase="$2" '
    $4 == op {
      n = ++count[$3]; keys[n] += $(NF - 3); if ($(NF - 1) > slow[n]) slow[n] = $(NF - 1)
    }
    END {
      for (r = 1; r in keys; ++r) {
        if ((phase == "first") == (r == 1)) printf "%.0f\n", keys[r] / slow[r]
      }
    }' | sort -n | awk '{ v[NR] = $1 } END { print NR ? v[int((NR + 1) / 2)] : "nan" }'
}

build
for pair in "1 1" "2 2"; do
  read -r servers workers <<<"$pair"
  out=$(run "$servers" "$workers" $((big / workers)) 3)
  echo "peer $servers $workers big push $(rate push again <<<"$out") pull $(rate pull again <<<"$out") first $(rate push first <<<"$out")"
  out=$(run "$servers" "$workers" 1000 "$small_rounds")
  echo "peer $servers $workers small push $(rate push again <<<"$out") pull $(rate pull again <<<"$out")"
done
