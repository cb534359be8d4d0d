#!/usr/bin/env bash
# smoke_test.sh — proves the pinned SeaweedFS S3 server works end to end with
# the system curl's SigV4 signing (curl --aws-sigv4, i.e. libcurl's
# CURLOPT_AWS_SIGV4): builds (a no-op when cached), starts it in a temp dir,
# checks that it listens on 127.0.0.1 only, then: create a bucket, put
# objects, GET, ranged GET, ListObjectsV2 with max-keys and continuation-token
# pagination, the error codes (wrong secret, unknown key, anonymous, missing
# bucket, missing key), a restart of the same DIR (same endpoint, data kept)
# and a clean stop. Prints "ok"/"FAIL" per check and, last,
# "N passed, M failed"; exits 0 only if every check passed.
#
# Then it prints, without counting them, how the system curl's SigV4 signing
# fares with query strings and bodies it does not canonicalise itself (see
# README.md): libcurl 7.88 signs the query string exactly as written, so
# requests must be sent in canonical form.
#
# Usage: smoke_test.sh
# RINGTRAIN_KEEP_SMOKE_DIR=1 keeps the temp dir (logs) after the run.
# shellcheck disable=SC2329 # cleanup and the s3_* wrappers run via trap and check_out
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

CHECKS_NAME="s3server smoke test"
source "$here/../controlplane/checks.sh"

# ---- build -----------------------------------------------------------------
if ! bin="$("$here/build.sh" | tail -n 1)" || [[ ! -x "$bin/weed" ]]; then
  fail "build.sh"
  finish
fi
ok "build.sh -> $bin"

# ---- start -----------------------------------------------------------------
work="$(mktemp -d "${TMPDIR:-/tmp}/ringtrain-s3smoke.XXXXXX")"
dir="$work/s3"
cleanup() {
  "$here/stop.sh" "$dir" >/dev/null 2>&1
  if [[ "${RINGTRAIN_KEEP_SMOKE_DIR:-0}" == 1 ]]; then
    echo "kept $work"
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT
start_t=$SECONDS
if ! out="$(RINGTRAIN_S3SERVER_BIN="$bin" "$here/start.sh" "$dir" 2>&1)"; then
  fail "start.sh" "$out"
  finish
fi
ok "start.sh (ready in $((SECONDS - start_t)) s)"
set -a
# shellcheck source=/dev/null
source "$dir/credentials"
set +a
pid="$S3_SERVER_PID"
check "DIR/pid matches the credentials" test "$(cat "$dir/pid")" = "$pid"
check_out "weed version names the pinned commit" "$(source "$here/lib.sh" && s3_versions && echo "$SEAWEEDFS_COMMIT")" \
  "$bin/weed" version
rss_kb="$(awk '/^VmRSS/ { print $2 }' "/proc/$pid/status")"
ok "RSS after start: $((rss_kb / 1024)) MB"

listeners="$(ss -Hltnp 2>/dev/null | grep "pid=$pid," | awk '{ print $4 }')"
if [[ -n "$listeners" ]] && ! grep -qv '^127\.0\.0\.1:' <<<"$listeners"; then
  ok "all $(wc -l <<<"$listeners") TCP listeners are on 127.0.0.1"
else
  fail "all TCP listeners are on 127.0.0.1" "$listeners"
fi
check "no UDP sockets" test -z "$(ss -Hlunp 2>/dev/null | grep "pid=$pid,")"

# ---- S3 with curl --aws-sigv4 ------------------------------------------------
E="$S3_ENDPOINT"
# s3 CURL_ARGS...: a signed request; prints "HTTP <code>" and then the body.
s3() {
  local body code
  body="$(mktemp "$work/body.XXXXXX")"
  code="$(curl -sS -o "$body" -w '%{http_code}' --aws-sigv4 "aws:amz:$AWS_REGION:s3" \
    --user "${S3_USER:-$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY}" "$@")"
  echo "HTTP $code"
  cat "$body"
  rm -f "$body"
}
# query K=V...: the query string in SigV4 canonical form (what libcurl 7.88
# signs verbatim): sorted by key, every byte but A-Za-z0-9-_.~ percent-encoded
# with upper-case hex, "=" even for an empty value.
query() {
  python3 -c 'import sys, urllib.parse as u
q = u.quote
pairs = sorted(a.split("=", 1) if "=" in a else [a, ""] for a in sys.argv[1:])
print("&".join(q(k, safe="-_.~") + "=" + q(v, safe="-_.~") for k, v in pairs))' "$@"
}
# sha256 STRING: hex SHA-256, for x-amz-content-sha256.
sha256() { printf '%s' "$1" | sha256sum | cut -d' ' -f1; }

bucket=ringtrain-smoke
check_out "PUT bucket" '^HTTP 200$' s3 -X PUT "$E/$bucket"
printf 'hello, s3 world\n' >"$work/a.txt"
check_out "PUT object with -T (empty-payload signature)" '^HTTP 200$' \
  s3 -T "$work/a.txt" "$E/$bucket/dir/a.txt"
b_body='second object'
check_out "PUT object with --data-binary and x-amz-content-sha256" '^HTTP 200$' \
  s3 -X PUT -H "x-amz-content-sha256: $(sha256 "$b_body")" --data-binary "$b_body" "$E/$bucket/dir/b.txt"
check_out "PUT object whose key needs encoding (x=1 y.txt)" '^HTTP 200$' \
  s3 -T "$work/a.txt" -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' "$E/$bucket/dir/x%3D1%20y.txt"
check_out "GET object" '^hello, s3 world$' s3 "$E/$bucket/dir/a.txt"
check_out "GET object, key with '=' and ' '" '^HTTP 200$' s3 "$E/$bucket/dir/x%3D1%20y.txt"
out="$(s3 -H 'Range: bytes=2-5' "$E/$bucket/dir/a.txt")"
if [[ "$out" == $'HTTP 206\nllo,' ]]; then ok "ranged GET bytes=2-5 -> 206 'llo,'"; else fail "ranged GET bytes=2-5" "$out"; fi
check_out "ranged GET beyond the end -> 416 InvalidRange" '<Code>InvalidRange</Code>' \
  s3 -H 'Range: bytes=100-200' "$E/$bucket/dir/a.txt"

# Pagination: one key per page, following NextContinuationToken ("dir/a.txt"
# etc.: it contains '/', and '=' for the last key, so it must be encoded).
keys=()
token=""
for page in 1 2 3 4; do
  params=(list-type=2 max-keys=1 prefix=dir/)
  [[ -z "$token" ]] || params+=("continuation-token=$token")
  out="$(s3 "$E/$bucket?$(query "${params[@]}")")"
  if ! grep -q '^HTTP 200$' <<<"$out"; then
    fail "ListObjectsV2 page $page" "$out"
    break
  fi
  key="$(grep -o '<Key>[^<]*</Key>' <<<"$out" | sed 's/<[^>]*>//g')"
  [[ -z "$key" ]] || keys+=("$key")
  token="$(grep -o '<NextContinuationToken>[^<]*</NextContinuationToken>' <<<"$out" | sed 's/<[^>]*>//g')"
  [[ -n "$token" ]] || break
done
if [[ "${keys[*]}" == "dir/a.txt dir/b.txt dir/x=1 y.txt" && -z "$token" ]]; then
  ok "ListObjectsV2 max-keys=1 + continuation-token: ${#keys[@]} pages, ${keys[*]}"
else
  fail "ListObjectsV2 pagination" "keys: ${keys[*]}; last token: $token"
fi
check_out "ListObjectsV2 delimiter=/ -> CommonPrefixes" '<CommonPrefixes><Prefix>dir/</Prefix>' \
  s3 "$E/$bucket?$(query list-type=2 delimiter=/)"
check_out "GET ?location= (valueless parameter written with '=')" '^HTTP 200$' s3 "$E/$bucket?location="

# ---- errors ------------------------------------------------------------------
s3_wrong_secret() { S3_USER="$AWS_ACCESS_KEY_ID:wrong-$AWS_SECRET_ACCESS_KEY" s3 "$@"; }
s3_unknown_key() { S3_USER="RTNOSUCHKEY0000000000:$AWS_SECRET_ACCESS_KEY" s3 "$@"; }
check_out "wrong secret -> 403 SignatureDoesNotMatch" '<Code>SignatureDoesNotMatch</Code>' \
  s3_wrong_secret "$E/$bucket/dir/a.txt"
check_out "unknown access key -> 403 InvalidAccessKeyId" '<Code>InvalidAccessKeyId</Code>' \
  s3_unknown_key "$E/$bucket/dir/a.txt"
check_out "anonymous GET -> 403 AccessDenied" '<Code>AccessDenied</Code>' \
  curl -sS "$E/$bucket/dir/a.txt"
check_out "missing bucket -> 404 NoSuchBucket" '<Code>NoSuchBucket</Code>' s3 "$E/no-such-bucket?list-type=2"
check_out "PUT into a missing bucket -> 404 NoSuchBucket (no implicit create)" '<Code>NoSuchBucket</Code>' \
  s3 -T "$work/a.txt" "$E/no-such-bucket/a.txt"
check_out "missing key -> 404 NoSuchKey" '<Code>NoSuchKey</Code>' s3 "$E/$bucket/dir/nope.txt"
check_out "DELETE a non-empty bucket -> 409 BucketNotEmpty" '<Code>BucketNotEmpty</Code>' s3 -X DELETE "$E/$bucket"

# ---- restart -------------------------------------------------------------------
check "stop.sh" "$here/stop.sh" "$dir"
restart_t=$SECONDS
if out="$(RINGTRAIN_S3SERVER_BIN="$bin" "$here/start.sh" "$dir" 2>&1)"; then
  ok "start.sh on the same DIR (ready in $((SECONDS - restart_t)) s)"
else
  fail "start.sh on the same DIR" "$out"
fi
old_endpoint="$E"
set -a
# shellcheck source=/dev/null
source "$dir/credentials"
set +a
check "same endpoint after the restart" test "$S3_ENDPOINT" = "$old_endpoint"
E="$S3_ENDPOINT"
check_out "objects survive the restart" '^second object$' s3 "$E/$bucket/dir/b.txt"
check_out "a new bucket after the restart" '^HTTP 200$' s3 -X PUT "$E/$bucket-2"
check_out "a write to it after the restart" '^HTTP 200$' s3 -T "$work/a.txt" "$E/$bucket-2/a.txt"

# ---- what curl 7.88's SigV4 signing does not canonicalise (informational) -----
echo "---- $(curl --version | head -n 1 | cut -d' ' -f1-2): requests not in canonical form (not counted)"
note() {
  local what="$1" code
  shift
  code="$(s3 "$@" | head -n 1)"
  printf 'note - %-62s %s\n' "$what" "$code"
}
note "query not sorted (list-type=2&prefix=dir%2F&max-keys=1)" "$E/$bucket?list-type=2&prefix=dir%2F&max-keys=1"
note "'/' not encoded (list-type=2&prefix=dir/)" "$E/$bucket?list-type=2&prefix=dir/"
note "'=' not encoded in a value (continuation-token=dir%2Fx=1...)" \
  "$E/$bucket?continuation-token=dir%2Fx=1&list-type=2"
note "lower-case hex (list-type=2&prefix=dir%2f)" "$E/$bucket?list-type=2&prefix=dir%2f"
note "space as '+' (list-type=2&prefix=dir%2Fx%3D1+y)" "$E/$bucket?list-type=2&prefix=dir%2Fx%3D1+y"
note "valueless parameter (?location)" "$E/$bucket?location"
note "curl -G --url-query (encodes with lower-case hex)" -G --url-query "list-type=2" --url-query "prefix=dir/" "$E/$bucket"
note "'=' not encoded in the path (dir/x=1 y.txt as dir/x=1%20y.txt)" "$E/$bucket/dir/x=1%20y.txt"
note "--data-binary without x-amz-content-sha256" -X PUT --data-binary 'z' "$E/$bucket/z.txt"
echo "----"

# ---- stop ------------------------------------------------------------------------
pid="$S3_SERVER_PID"
grpc_ports="$(grep -o 'port\.grpc=[0-9]*' "$dir/weed.flags" | cut -d= -f2)"
check "stop.sh" "$here/stop.sh" "$dir"
if [[ -d "/proc/$pid" ]] && grep -qF "$dir/" "/proc/$pid/cmdline" 2>/dev/null; then
  fail "weed is gone after stop.sh" "pid $pid still running"
else
  ok "weed is gone after stop.sh"
fi
left=""
for port in $grpc_ports; do
  for f in /tmp/seaweedfs-*-grpc-"$port".sock; do [[ -e "$f" ]] && left+=" $f"; done
done
check "no gRPC sockets left in /tmp" test -z "$left"
finish
