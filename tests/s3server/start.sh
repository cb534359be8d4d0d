#!/usr/bin/env bash
# start.sh — starts a single-process SeaweedFS (`weed server -s3`: master,
# volume server, filer and S3 gateway in one process) on 127.0.0.1 with free
# ports, all state in DIR, S3 authentication on (one admin key pair).
#
# Usage: start.sh DIR
#
# Uses the weed of build.sh (RINGTRAIN_S3SERVER_BIN overrides the cache dir);
# it does not build it.
#
# Writes into DIR:
#   s3.json      the S3 identities (-s3.config): one identity with a random
#                access key and secret and the Admin, Read, List, Tagging and
#                Write actions; kept across stop/start of the same DIR
#   credentials  KEY=VALUE lines (shell-sourceable, no spaces or quotes):
#                AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION,
#                S3_ENDPOINT=http://127.0.0.1:PORT, S3_SERVER_PID, S3_SERVER_DIR
#   pid          weed's pid (stop.sh reads it)
#   weed.flags   weed's command line, one argument per line
#   weed.log     weed's output (all of its logging: -logtostderr)
#   data/        volumes, master metadata and the filer's leveldb (kept across
#                stop/start)
#   ports        the eight ports (a restart reuses them if they are free)
#   tmp/         weed's TMPDIR; HOME is DIR too, so no ~/.seaweedfs/*.toml
#                of the user applies
# Outside DIR weed creates only its gRPC Unix sockets,
# /tmp/seaweedfs-{master,volume,filer,s3}-grpc-PORT.sock (the path is fixed in
# weed server); stop.sh removes them.
#
# Every listener is on 127.0.0.1: master, volume, filer and S3 each with an
# HTTP and a gRPC port; Iceberg and Lance catalogs, IAM API, metrics, pprof
# and telemetry are off. Buckets are not created implicitly by a PutObject
# (-s3.autoCreateBucket=false, as on AWS). Each bucket is a SeaweedFS
# collection with volumes of its own: a new bucket's first write grows one
# 64 MB volume (sparse), out of RINGTRAIN_S3SERVER_VOLUMES (default 16) slots,
# so a test can fill about that many buckets.
#
# weed runs with a clean environment (env -i): only PATH, HOME=DIR,
# TMPDIR=DIR/tmp, the WEED_* settings below and the caller's WEED_*,
# GOMAXPROCS, GOMEMLIMIT, GOGC and GODEBUG (so a caller's AWS_* credentials
# never become an identity of this server).
#
# Waits (polling, deadline RINGTRAIN_S3SERVER_TIMEOUT seconds, default 60)
# until the S3 port answers /healthz, the master has the volume server
# registered, a signed ListBuckets with the key pair returns 200, the filer
# has joined the cluster (before that a PutObject blocks on the filer's lock
# service) and the master accepts writes (after a restart of a DIR that has
# volumes it refuses them for a fixed 15 s warm-up). A fresh DIR is ready in
# ~10 s (S3 answers after ~3 s; writes wait for the filer), a restart in
# ~17 s. On failure it prints the tail of weed.log, stops weed and exits
# non-zero.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

dir=""
for arg; do
  case "$arg" in
    -h | --help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    -*) s3_die "unknown option $arg" ;;
    *) [[ -z "$dir" ]] || s3_die "one DIR only"; dir="$arg" ;;
  esac
done
[[ -n "$dir" ]] || s3_die "usage: start.sh DIR"
for tool in curl python3 setsid; do
  command -v "$tool" >/dev/null || s3_die "$tool is required"
done

mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"
if s3_is_ours "$dir" "$(cat "$dir/pid" 2>/dev/null || true)"; then
  s3_die "weed is already running for $dir (stop.sh $dir first)"
fi
rm -f "$dir/pid" "$dir/credentials"

S3_BIN_DIR="$(s3_bin_dir)"
weed="$S3_BIN_DIR/weed"
[[ -x "$weed" ]] || s3_die "$weed is missing: run $S3_DIR/build.sh first"

timeout="${RINGTRAIN_S3SERVER_TIMEOUT:-60}"
volumes="${RINGTRAIN_S3SERVER_VOLUMES:-16}"
region=us-east-1

started_ok=0
on_exit() {
  if [[ "$started_ok" != 1 ]]; then
    echo "s3server: start failed; stopping what was started" >&2
    "$S3_DIR/stop.sh" "$dir" >&2 || true
  fi
}
trap on_exit EXIT

# ---- credentials (kept if DIR already has them) ----------------------------
if [[ ! -s "$dir/s3.json" ]]; then
  (
    umask 077
    python3 -c 'import json, secrets, string, sys
upper = string.ascii_uppercase + string.digits
alnum = string.ascii_letters + string.digits
config = {"identities": [{
    "name": "ringtrain-admin",
    "credentials": [{
        "accessKey": "RT" + "".join(secrets.choice(upper) for _ in range(18)),
        "secretKey": "".join(secrets.choice(alnum) for _ in range(40)),
    }],
    "actions": ["Admin", "Read", "List", "Tagging", "Write"],
}]}
json.dump(config, sys.stdout, indent=2)
print()' >"$dir/s3.json.tmp"
  )
  mv -f "$dir/s3.json.tmp" "$dir/s3.json"
fi
read -r access_key secret_key < <(python3 -c 'import json, sys
c = json.load(open(sys.argv[1]))["identities"][0]["credentials"][0]
print(c["accessKey"], c["secretKey"])' "$dir/s3.json")

# ---- weed ------------------------------------------------------------------
mkdir -p "$dir/data" "$dir/tmp"

# Unix socket paths are limited to 107 bytes; fall back to weed's default
# (/tmp/seaweedfs-{filer,s3}-PORT.sock) for a DIR with a long path.
sock_flags=()
if ((${#dir} <= 90)); then
  sock_flags=("-filer.localSocket=$dir/filer.sock" "-s3.localSocket=$dir/s3.sock")
fi

s3_healthy() { [[ "$(curl -sS -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$1/healthz")" == 200 ]]; }
# The master knows the volume server (with free volume slots) once it has
# had its first heartbeat; before that, writes fail with "no free volumes".
volume_registered() {
  curl -fsS --max-time 5 "http://127.0.0.1:$1/dir/status" | python3 -c 'import json, sys
t = json.load(sys.stdin)["Topology"]
sys.exit(0 if t.get("Max", 0) > 0 and t.get("DataCenters") else 1)'
}
signed_list_buckets() {
  [[ "$(curl -sS -o /dev/null -w '%{http_code}' --max-time 5 \
    --aws-sigv4 "aws:amz:$region:s3" --user "$access_key:$secret_key" \
    "http://127.0.0.1:$1/")" == 200 ]]
}
# A PutObject takes a lock from the filer's lock service, which has no
# server ("no lock server found"; the S3 gateway retries every second) until
# the filer has joined the cluster (on a fresh DIR it first waits 3 s after
# the master's bootstrap for peers; fixed in weed) and the master has sent
# it the lock ring, a second later. Nothing answers that over HTTP, so this
# watches for the log line of this run that says the filer got the ring.
filer_joined() {
  tail -c "+$((log_offset + 1))" "$dir/weed.log" |
    grep -qF "LockRing: filer@127.0.0.1:$1 received ring update"
}
# A master that restarts with volumes refuses to assign file ids (writes)
# for a fixed warm-up of 15 s (3 pulses of 5 s) after it becomes leader,
# while volume servers report in; a lookup of an unknown volume answers 503
# then, and 404 once writes can go through.
master_warm() {
  [[ "$(curl -sS -o /dev/null -w '%{http_code}' --max-time 5 \
    "http://127.0.0.1:$1/dir/lookup?volumeId=4294967295")" == 404 ]]
}
addr_in_use() { tail -n 50 "$dir/weed.log" 2>/dev/null | grep -qi 'address already in use'; }

# wait_for WHAT CMD...: waits (deadline: $deadline) until CMD succeeds.
wait_for() {
  local what="$1"
  shift
  echo "s3server: waiting for $what ..." >&2
  while ! "$@" >/dev/null 2>&1; do
    if ! s3_alive "$pid"; then
      echo "s3server: weed ($pid) exited while waiting for $what" >&2
      return 1
    fi
    if ((SECONDS >= deadline)); then
      echo "s3server: no $what within $timeout s" >&2
      return 1
    fi
    sleep 0.2
  done
}

# A restart of the same DIR reuses the previous ports when they are still
# free: the same endpoint for clients, and the master finds its own state
# again (data/m<master port>). With new ports the master starts a new state
# and, as a production safety valve, would freeze volume growth when the
# volume server reports the old cluster's topology id; off for this
# throwaway store (WEED_MASTER_VOLUME_GROWTH_FREEZE_ON_TOPOLOGY_MISMATCH).
ports=""
if [[ -s "$dir/ports" ]]; then
  ports="$(cat "$dir/ports")"
  # shellcheck disable=SC2086 # eight numbers
  s3_ports_free $ports || ports=""
fi
# weed's environment. WEED_* set its configuration keys: a bucket's first
# write grows one volume, not seven; no post-bootstrap hold on volume id
# allocation (it waits for volume servers that a one-process cluster does
# not have); the filer's leveldb2 store (8 databases) gets 1 MB write buffers
# and block caches instead of 16 and 32 MB (its journal replay on a restart
# otherwise fills ~80 MB of write buffers). The caller's GO* runtime knobs
# and WEED_* settings are passed on (and win).
weed_env=(PATH="$PATH" HOME="$dir" TMPDIR="$dir/tmp" LANG=C
  WEED_MASTER_VOLUME_GROWTH_COPY_1=1
  WEED_MASTER_VOLUME_GROWTH_ALLOCATION_DEFERRAL=0s
  WEED_MASTER_VOLUME_GROWTH_FREEZE_ON_TOPOLOGY_MISMATCH=false
  WEED_LEVELDB2_WRITE_BUFFER_SIZE_MB=1
  WEED_LEVELDB2_BLOCK_CACHE_SIZE_MB=1)
while read -r name; do
  weed_env+=("$name=${!name}")
done < <(compgen -e | grep -E '^(WEED_|GOMAXPROCS$|GOMEMLIMIT$|GOGC$|GODEBUG$)' || true)

start=$SECONDS
for attempt in 1 2 3; do
  [[ -n "$ports" ]] || ports="$(s3_free_ports 8)"
  read -r master_port master_grpc volume_port volume_grpc filer_port filer_grpc \
    s3_port s3_grpc <<<"$ports"
  echo "$ports" >"$dir/ports"
  ports=""
  cat >"$dir/weed.flags" <<EOF
-logtostderr
server
-ip=127.0.0.1
-ip.bind=127.0.0.1
-dir=$dir/data
-master.port=$master_port
-master.port.grpc=$master_grpc
-master.volumeSizeLimitMB=64
-master.telemetry=false
-master.electionTimeout=1s
-volume.port=$volume_port
-volume.port.grpc=$volume_grpc
-volume.max=$volumes
-volume.preStopSeconds=0
-filer.port=$filer_port
-filer.port.grpc=$filer_grpc
-s3
-s3.port=$s3_port
-s3.port.grpc=$s3_grpc
-s3.port.iceberg=0
-s3.port.lance=0
-s3.iam=false
-s3.autoCreateBucket=false
-s3.config=$dir/s3.json
EOF
  printf '%s\n' "${sock_flags[@]}" >>"$dir/weed.flags"
  mapfile -t flags <"$dir/weed.flags"
  echo "==== $(date -u +%FT%TZ) s3server: starting weed (attempt $attempt) ====" >>"$dir/weed.log"
  log_offset="$(stat -c %s "$dir/weed.log")"
  # In a session of its own, so that a Ctrl-C aimed at the caller does not
  # reach it, and with a clean environment: weed turns AWS_ACCESS_KEY_ID and
  # AWS_SECRET_ACCESS_KEY in its environment into one more admin identity.
  (cd "$dir" && exec env -i "${weed_env[@]}" setsid "$weed" "${flags[@]}") \
    </dev/null >>"$dir/weed.log" 2>&1 &
  pid=$!
  echo "$pid" >"$dir/pid"
  deadline=$((SECONDS + timeout))
  if wait_for "the S3 port 127.0.0.1:$s3_port to answer /healthz" s3_healthy "$s3_port" &&
    wait_for "the master (127.0.0.1:$master_port) to register the volume server" \
      volume_registered "$master_port" &&
    wait_for "a signed ListBuckets to succeed" signed_list_buckets "$s3_port" &&
    wait_for "the filer to join the cluster (object writes take its lock)" \
      filer_joined "$filer_port" &&
    wait_for "the master's warm-up to end (15 s after a restart of a DIR with volumes)" \
      master_warm "$master_port"; then
    break
  fi
  "$S3_DIR/stop.sh" "$dir" >&2 || true
  if ((attempt < 3)) && addr_in_use; then
    echo "s3server: a port was taken meanwhile; retrying with other ports" >&2
    continue
  fi
  s3_log_tail "$dir"
  s3_die "weed did not become ready"
done

endpoint="http://127.0.0.1:$s3_port"
cat >"$dir/credentials.tmp" <<EOF
AWS_ACCESS_KEY_ID=$access_key
AWS_SECRET_ACCESS_KEY=$secret_key
AWS_REGION=$region
S3_ENDPOINT=$endpoint
S3_SERVER_PID=$pid
EOF
printf 'S3_SERVER_DIR=%q\n' "$dir" >>"$dir/credentials.tmp"
chmod 600 "$dir/credentials.tmp"
mv -f "$dir/credentials.tmp" "$dir/credentials"

started_ok=1
echo "s3server: ready in $((SECONDS - start)) s: $endpoint (pid $pid, credentials $dir/credentials)" >&2
