#!/usr/bin/env bash
# Image pull + unpack throughput: `runnel image pull` of a generated ~100 MB, 4-layer gzip image
# from a loopback docker-registry, against `curl` download + `tar -xzf` of the same blobs, in
# the same invocation. usage: bench/image_bench.sh [BUILD_DIR] [ROUNDS]   (see bench/README.md)
set -euo pipefail
BUILD=${1:-build}
ROUNDS=${2:-3}
RUNNEL=$BUILD/runnel
IMGTOOL=$BUILD/tests/rn_imgtool
[ -x "$RUNNEL" ] && [ -x "$IMGTOOL" ] || {
  echo "build first: cmake --build $BUILD --target runnel rn_imgtool" >&2
  exit 2
}
command -v docker-registry >/dev/null || { echo "docker-registry missing (scripts/install-deps.sh)" >&2; exit 2; }
RUNNEL=$(realpath "$RUNNEL")
IMGTOOL=$(realpath "$IMGTOOL")
T=$(mktemp -d /tmp/rn-image-bench.XXXXXX)
RPID=
cleanup() {
  [ -n "$RPID" ] && kill "$RPID" 2>/dev/null && wait "$RPID" 2>/dev/null
  rm -rf "$T"
}
trap cleanup EXIT

port=$("$IMGTOOL" freeport)
cat >"$T/registry.yml" <<EOF
version: 0.1
log: {level: error, accesslog: {disabled: true}}
storage: {filesystem: {rootdirectory: $T/storage}}
http: {addr: 127.0.0.1:$port, secret: bench}
EOF
docker-registry serve "$T/registry.yml" >"$T/registry.log" 2>&1 &
RPID=$!
REG=127.0.0.1:$port
for _ in $(seq 100); do
  curl -sf -o /dev/null "http://$REG/v2/" && break
  sleep 0.1
done

# 4 layers of ~25 MB each: many files of base64 text (compressible like real binaries and
# text, about 4:3), so both gunzip and the file creation cost count.
echo "generating the image..." >&2
layers=()
for l in 1 2 3 4; do
  d=$T/src/l$l
  mkdir -p "$d"
  for f in $(seq 200); do
    mkdir -p "$d/dir$((f % 20))"
    head -c 98304 /dev/urandom | base64 >"$d/dir$((f % 20))/file$f"
  done
  tar --numeric-owner -C "$d" -cf - . | gzip -1 -n >"$T/l$l.tgz"
  layers+=("$T/l$l.tgz")
done
"$IMGTOOL" mkimage "$T/oci" "${layers[@]}" >/dev/null
"$IMGTOOL" push "$T/oci" "$REG" bench/big v1 >/dev/null
bytes=$(cat "${layers[@]}" | wc -c)
unpacked=$(du -sb "$T/src" | cut -f1)
calc() { awk "BEGIN { print $* }"; }
printf 'image: %d layers, %.1f MB compressed, %.1f MB unpacked\n' "${#layers[@]}" \
  "$(calc "$bytes / 1000000")" "$(calc "$unpacked / 1000000")"

now() { date +%s.%N; }
best_r=999999 best_b=999999
for r in $(seq "$ROUNDS"); do
  rm -rf "$T/home" "$T/base"
  sync
  t0=$(now)
  RUNNEL_HOME=$T/home "$RUNNEL" image pull -q "$REG/bench/big:v1" >/dev/null
  t1=$(now)
  mkdir -p "$T/base"
  for f in "${layers[@]}"; do
    dg=sha256:$(sha256sum "$f" | cut -c1-64)
    curl -sf -o "$T/base/blob" "http://$REG/v2/bench/big/blobs/$dg"
    mkdir -p "$T/base/${dg:7}"
    tar -xzf "$T/base/blob" -C "$T/base/${dg:7}"
    rm -f "$T/base/blob"
  done
  t2=$(now)
  tr=$(calc "$t1 - $t0")
  tb=$(calc "$t2 - $t1")
  printf 'round %d: runnel %.3f s, curl + tar -xzf %.3f s\n' "$r" "$tr" "$tb"
  [ "$(calc "$tr < $best_r")" = 1 ] && best_r=$tr
  [ "$(calc "$tb < $best_b")" = 1 ] && best_b=$tb
done
mb=$(calc "$bytes / 1000000")
printf 'runnel image pull:  %.2f s  %.1f MB/s (download, sha256 verify, unpack)\n' "$best_r" \
  "$(calc "$mb / $best_r")"
printf 'curl + tar -xzf:    %.2f s  %.1f MB/s (download, unpack; no verification)\n' "$best_b" \
  "$(calc "$mb / $best_b")"
printf 'ratio runnel / baseline time: %.2f\n' "$(calc "$best_r / $best_b")"
