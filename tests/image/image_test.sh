#!/usr/bin/env bash
# Image store tests against a real registry: Debian's docker-registry on loopback (free port,
# storage in a temp dir), images built here from busybox-static and pushed with imgtool.
# usage: image_test.sh CASE   (env: RUNNEL, IMGTOOL; exit 77 = skipped)
set -euo pipefail
CASE=${1:?case}
: "${RUNNEL:?}" "${IMGTOOL:?}"
REGISTRY_BIN=${REGISTRY_BIN:-/usr/bin/docker-registry}
if [ ! -x "$REGISTRY_BIN" ]; then
  echo "SKIP: $REGISTRY_BIN missing (Debian package docker-registry; scripts/install-deps.sh)"
  exit 77
fi
BUSYBOX=/bin/busybox
file -L "$BUSYBOX" 2>/dev/null | grep -q 'statically linked' || {
  echo "SKIP: no static $BUSYBOX (package busybox-static)"
  exit 77
}
for tool in jq getfattr zstd; do
  command -v $tool >/dev/null || { echo "SKIP: $tool missing (scripts/install-deps.sh)"; exit 77; }
done

T=$(mktemp -d /tmp/rn-image-test.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  umount "$T/merged" 2>/dev/null || true
  rm -rf "$T"
}
trap cleanup EXIT
export RUNNEL_HOME=$T/home
export HOME=$T/userhome # no real ~/.docker/config.json leaks into the tests
mkdir -p "$HOME"
STORE=$RUNNEL_HOME/images

fail() { echo "FAIL ($CASE): $*" >&2; [ -f "$T/registry.log" ] && tail -5 "$T/registry.log" >&2; exit 1; }
expect_eq() { [ "$1" == "$2" ] || fail "$3: expected [$2], got [$1]"; }

# start_registry [AUTH_YAML]: sets REG=127.0.0.1:PORT
start_registry() {
  local port
  port=$("$IMGTOOL" freeport)
  cat >"$T/registry.yml" <<EOF
version: 0.1
log:
  level: debug
  formatter: text
storage:
  filesystem:
    rootdirectory: $T/storage
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
  secret: runnel-test-secret
${1:-}
EOF
  "$REGISTRY_BIN" serve "$T/registry.yml" >"$T/registry.log" 2>&1 &
  PIDS+=($!)
  REG=127.0.0.1:$port
  for _ in $(seq 100); do
    code=$(curl -s -o /dev/null -w '%{http_code}' "http://$REG/v2/" || true)
    [ "$code" = 200 ] || [ "$code" = 401 ] && return 0
    sleep 0.1
  done
  fail "registry did not start: $(tail -3 "$T/registry.log")"
}

# rootfs DIR: a busybox userland
rootfs() {
  mkdir -p "$1/bin" "$1/etc" "$1/tmp"
  cp "$BUSYBOX" "$1/bin/busybox"
  for a in sh ls cat echo true; do ln -sf busybox "$1/bin/$a"; done
  echo base >"$1/etc/base.txt"
}
# layer DIR OUT gz|zst|tar
layer() {
  case $3 in
    gz) tar --numeric-owner -C "$1" -cf - . | gzip -n >"$2" ;;
    zst) tar --numeric-owner -C "$1" -cf - . | zstd -q -c >"$2" ;;
    tar) tar --numeric-owner -C "$1" -cf "$2" . ;;
  esac
}
# busybox_image OCIDIR [ARCH]: 2 layers (gzip busybox rootfs, zstd app layer); prints the digest
busybox_image() {
  local arch=${2:-amd64} w=$T/build-$RANDOM
  mkdir -p "$w/l1" "$w/l2/etc" "$w/l2/data"
  rootfs "$w/l1"
  echo "$arch" >"$w/l2/etc/arch.txt"
  echo app >"$w/l2/data/app.txt"
  chmod 0640 "$w/l2/data/app.txt"
  [ "$(id -u)" = 0 ] && chown 1234:5678 "$w/l2/data/app.txt"
  setfattr -n user.runnel -v kept "$w/l2/data/app.txt" 2>/dev/null || true
  layer "$w/l1" "$w/l1.tgz" gz
  tar --numeric-owner --xattrs --xattrs-include='user.*' -C "$w/l2" -cf - . | zstd -q -c >"$w/l2.tzst"
  "$IMGTOOL" mkimage "$1" --arch "$arch" --env PATH=/bin --env GREETING=hello \
    --entrypoint /bin/sh --cmd "-c true" --workdir /work --user 1000:1000 \
    "$w/l1.tgz" "$w/l2.tzst"
}
layer_dirs() { "$RUNNEL" image inspect "$1" | jq -r '.layers[].dir'; }
check_blobs() { # every stored blob hashes to its name
  for b in "$STORE"/blobs/sha256/*; do
    [ -e "$b" ] || continue
    expect_eq "$(sha256sum "$b" | cut -d' ' -f1)" "$(basename "$b")" "blob digest"
  done
}
no_leftovers() {
  local left
  left=$(find "$STORE/tmp" -mindepth 1 ! -name '*.lock' | head -3)
  [ -z "$left" ] || fail "leftovers in tmp/: $left"
}

case $CASE in
pull-tag)
  start_registry
  md=$(busybox_image "$T/img")
  "$IMGTOOL" push "$T/img" "$REG" test/busybox v1 >/dev/null
  out=$("$RUNNEL" image pull -q "$REG/test/busybox:v1")
  expect_eq "$out" "Digest: $md
Pulled: $REG/test/busybox:v1" "pull output"
  expect_eq "$("$RUNNEL" image ls -q)" "$REG/test/busybox:v1" "ls -q"
  "$RUNNEL" image ls | grep -q "^$REG/test/busybox:v1 *${md:0:19}  " || fail "ls line"
  mapfile -t dirs < <(layer_dirs "$REG/test/busybox:v1")
  expect_eq "${#dirs[@]}" 2 "layer count"
  cmp "${dirs[0]}/bin/busybox" "$BUSYBOX" || fail "busybox differs"
  expect_eq "$("${dirs[0]}/bin/busybox" echo runs)" runs "unpacked busybox runs"
  expect_eq "$(readlink "${dirs[0]}/bin/sh")" busybox "symlink kept"
  expect_eq "$(cat "${dirs[1]}/etc/arch.txt")" amd64 "zstd layer content"
  expect_eq "$(stat -c %a "${dirs[1]}/data/app.txt")" 640 "mode kept"
  if [ "$(id -u)" = 0 ]; then
    expect_eq "$(stat -c %u:%g "${dirs[1]}/data/app.txt")" 1234:5678 "numeric owner kept"
  fi
  if getfattr -n user.runnel "$T/build-"*/l2/data/app.txt >/dev/null 2>&1; then
    expect_eq "$(getfattr --only-values -n user.runnel "${dirs[1]}/data/app.txt")" kept "xattr kept"
  fi
  js=$("$RUNNEL" image inspect "$REG/test/busybox:v1")
  expect_eq "$(jq -c .config <<<"$js")" \
    '{"Env":["PATH=/bin","GREETING=hello"],"Entrypoint":["/bin/sh"],"Cmd":["-c","true"],"WorkingDir":"/work","User":"1000:1000"}' "config"
  expect_eq "$(jq -r .digest <<<"$js")" "$md" "inspect digest"
  expect_eq "$(jq -r '.layers|map(.size)|add' <<<"$js")" "$(jq -r .size <<<"$js")" "size"
  expect_eq "$(jq -r '.layers[1].mediaType' <<<"$js")" application/vnd.oci.image.layer.v1.tar+zstd "mt"
  check_blobs
  no_leftovers
  # a second pull downloads nothing
  err=$("$RUNNEL" image pull "$REG/test/busybox:v1" 2>&1 >/dev/null)
  expect_eq "$err" "" "second pull progress"
  ;;
pull-digest)
  start_registry
  md=$(busybox_image "$T/img")
  "$IMGTOOL" push "$T/img" "$REG" test/busybox v1 >/dev/null
  out=$("$RUNNEL" image pull -q "$REG/test/busybox@$md")
  expect_eq "$out" "Digest: $md
Pulled: $REG/test/busybox@$md" "pull by digest"
  expect_eq "$("$RUNNEL" image inspect "${md:7:12}" | jq -r .digest)" "$md" "inspect by id"
  bad=sha256:$(printf '%064d' 0)
  set +e
  err=$("$RUNNEL" image pull -q "$REG/test/busybox@$bad" 2>&1)
  rc=$?
  set -e
  expect_eq "$rc" 1 "missing digest exit"
  grep -q "HTTP 404" <<<"$err" || fail "missing digest message: $err"
  ;;
manifest-list)
  start_registry
  busybox_image "$T/arm" arm64 >/dev/null
  busybox_image "$T/amd" amd64 >/dev/null
  read -r idx md < <("$IMGTOOL" push "$T/amd" "$REG" test/multi v1 --list "$T/arm")
  out=$("$RUNNEL" image pull -q "$REG/test/multi:v1")
  expect_eq "$out" "Digest: $md
Pulled: $REG/test/multi:v1" "list resolved to amd64"
  js=$("$RUNNEL" image inspect "$REG/test/multi:v1")
  expect_eq "$(jq -r .architecture <<<"$js")" amd64 "arch"
  expect_eq "$(cat "$(jq -r '.layers[1].dir' <<<"$js")/etc/arch.txt")" amd64 "amd64 layer"
  armman=$T/arm/blobs/sha256/$(jq -r '.manifests[0].digest' "$T/arm/index.json" | cut -c8-)
  armlayer=$(jq -r '.layers[1].digest' "$armman")
  [ ! -e "$STORE/blobs/sha256/${armlayer:7}" ] || fail "arm64 layer downloaded"
  # by the index digest too
  out=$("$RUNNEL" image pull -q "$REG/test/multi@$idx")
  expect_eq "$out" "Digest: $md
Pulled: $REG/test/multi@$idx" "pull index digest"
  ;;
corrupt)
  start_registry
  busybox_image "$T/img" >/dev/null
  "$IMGTOOL" push "$T/img" "$REG" test/busybox v1 >/dev/null
  l2=$(jq -r '.layers[1].digest' "$T/img/blobs/sha256/$(jq -r '.manifests[0].digest' "$T/img/index.json" | cut -c8-)")
  data=$(find "$T/storage" -path "*/blobs/sha256/*/${l2:7}/data")
  [ -f "$data" ] || fail "registry blob not found"
  printf 'X' | dd of="$data" bs=1 seek=20 conv=notrunc status=none
  set +e
  err=$("$RUNNEL" image pull -q "$REG/test/busybox:v1" 2>&1)
  rc=$?
  set -e
  expect_eq "$rc" 1 "corrupt exit"
  grep -q "runnel image pull: blob $l2: digest mismatch: got sha256:" <<<"$err" || fail "message: $err"
  expect_eq "$("$RUNNEL" image ls -q)" "" "nothing tagged"
  [ ! -e "$STORE/blobs/sha256/${l2:7}" ] || fail "corrupt blob stored"
  [ ! -e "$STORE/layers/sha256/${l2:7}" ] || fail "corrupt layer unpacked"
  check_blobs
  # Nothing of the corrupt blob is kept. A layer still downloading when the pull stopped may
  # stay as a .partial for the next pull to resume (how far it got depends on timing).
  left=$(find "$STORE/tmp" -mindepth 1 ! -name '*.lock' ! -name '*.partial' | head -3)
  [ -z "$left" ] || fail "leftovers in tmp/: $left"
  [ ! -e "$STORE/tmp/${l2:7}.partial" ] || fail "corrupt blob kept as partial"
  ;;
resume)
  start_registry
  w=$T/build
  mkdir -p "$w/l1" "$w/big"
  # l1 stays far below the abort point, so only the big blob can be the one cut (downloads run
  # in parallel: a cut of another blob first would stop the pull before big reached 1000000).
  echo small >"$w/l1/small.txt"
  head -c 3000000 /dev/urandom >"$w/big/random.bin"
  layer "$w/l1" "$w/l1.tgz" gz
  layer "$w/big" "$w/big.tar" tar
  md=$("$IMGTOOL" mkimage "$T/img" "$w/l1.tgz" "$w/big.tar")
  "$IMGTOOL" push "$T/img" "$REG" test/big v1 >/dev/null
  big=sha256:$(sha256sum "$w/big.tar" | cut -d' ' -f1)
  size=$(stat -c %s "$w/big.tar")
  set +e
  err=$(RUNNEL_IMAGE_ABORT_AFTER=1000000 "$RUNNEL" image pull -q "$REG/test/big:v1" 2>&1)
  rc=$?
  set -e
  expect_eq "$rc" 1 "interrupted pull exit"
  grep -q "partial download kept for resume" <<<"$err" || fail "message: $err"
  expect_eq "$(stat -c %s "$STORE/tmp/${big:7}.partial")" 1000000 "partial size"
  expect_eq "$("$RUNNEL" image ls -q)" "" "nothing tagged after interruption"
  : >"$T/registry.log.mark"
  before=$(wc -l <"$T/registry.log")
  err=$("$RUNNEL" image pull "$REG/test/big:v1" 2>&1 >/dev/null)
  grep -q "^${big:0:19}: resuming at byte 1000000$" <<<"$err" || fail "no resume: $err"
  # the registry served only the rest of the blob
  tail -n +"$before" "$T/registry.log" | grep "${big:7}" | grep -q "http.response.written=$((size - 1000000))" ||
    fail "registry did not serve a range of $((size - 1000000)) bytes"
  expect_eq "$("$RUNNEL" image inspect "$REG/test/big:v1" | jq -r .digest)" "$md" "digest"
  cmp "$STORE/layers/sha256/${big:7}/random.bin" "$w/big/random.bin" || fail "content"
  check_blobs
  no_leftovers
  ;;
basic-auth | config-auth)
  htpasswd -Bbn tester s3cret >"$T/htpasswd"
  start_registry "auth:
  htpasswd:
    realm: runnel-test
    path: $T/htpasswd"
  md=$(busybox_image "$T/img")
  "$IMGTOOL" push "$T/img" "$REG" test/private v1 --user tester:s3cret >/dev/null
  set +e
  err=$("$RUNNEL" image pull -q "$REG/test/private:v1" 2>&1)
  rc=$?
  set -e
  expect_eq "$rc" 1 "no credentials exit"
  expect_eq "$err" "runnel image pull: $REG: authentication required (use --user or docker login credentials in ~/.docker/config.json)" "no credentials"
  set +e
  err=$("$RUNNEL" image pull -q --user tester:wrong "$REG/test/private:v1" 2>&1)
  rc=$?
  set -e
  expect_eq "$rc" 1 "bad password exit"
  expect_eq "$err" "runnel image pull: http://$REG/v2/test/private/manifests/v1: unauthorized (HTTP 401)" "bad password"
  if [ "$CASE" = basic-auth ]; then
    out=$("$RUNNEL" image pull -q --user tester:s3cret "$REG/test/private:v1")
  else
    mkdir -p "$HOME/.docker"
    printf '{"auths":{"%s":{"auth":"%s"}}}' "$REG" "$(printf tester:s3cret | base64)" >"$HOME/.docker/config.json"
    out=$("$RUNNEL" image pull -q "$REG/test/private:v1")
  fi
  expect_eq "$out" "Digest: $md
Pulled: $REG/test/private:v1" "authenticated pull"
  check_blobs
  ;;
token-auth)
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/key.pem" -out "$T/cert.pem" \
    -subj /CN=runnel-token -days 1 2>/dev/null
  tport=$("$IMGTOOL" freeport)
  "$IMGTOOL" tokend "$tport" "$T/key.pem" "$T/cert.pem" runnel-issuer 2>"$T/tokend.log" &
  PIDS+=($!)
  start_registry "auth:
  token:
    realm: http://127.0.0.1:$tport/token
    service: runnel-registry
    issuer: runnel-issuer
    rootcertbundle: $T/cert.pem"
  expect_eq "$(curl -s -o /dev/null -w '%{http_code}' "http://$REG/v2/")" 401 "registry wants a token"
  md=$(busybox_image "$T/img")
  "$IMGTOOL" push "$T/img" "$REG" test/tok v1 >/dev/null
  out=$("$RUNNEL" image pull -q "$REG/test/tok:v1")
  expect_eq "$out" "Digest: $md
Pulled: $REG/test/tok:v1" "token pull"
  grep -q "^tokend: scope=repository:test/tok:pull basic=0$" "$T/tokend.log" ||
    fail "no pull token request: $(cat "$T/tokend.log")"
  check_blobs
  ;;
whiteouts)
  start_registry
  w=$T/build
  mkdir -p "$w/l1/a" "$w/l1/o/sub" "$w/l2/a" "$w/l2/o"
  rootfs "$w/l1"
  echo keep >"$w/l1/a/keep"
  echo gone >"$w/l1/a/gone"
  echo old >"$w/l1/o/old"
  echo old >"$w/l1/o/sub/old"
  echo f >"$w/l1/f"
  : >"$w/l2/a/.wh.gone"
  : >"$w/l2/o/.wh..wh..opq"
  echo new >"$w/l2/o/new"
  : >"$w/l2/.wh.f"
  layer "$w/l1" "$w/l1.tgz" gz
  layer "$w/l2" "$w/l2.tgz" gz
  "$IMGTOOL" mkimage "$T/img" "$w/l1.tgz" "$w/l2.tgz" >/dev/null
  "$IMGTOOL" push "$T/img" "$REG" test/wh v1 >/dev/null
  "$RUNNEL" image pull -q "$REG/test/wh:v1" >/dev/null
  mapfile -t dirs < <(layer_dirs "$REG/test/wh:v1")
  L1=${dirs[0]} L2=${dirs[1]}
  expect_eq "$(stat -c '%F %t:%T' "$L2/a/gone")" "character special file 0:0" "whiteout a/gone"
  expect_eq "$(stat -c '%F %t:%T' "$L2/f")" "character special file 0:0" "whiteout f"
  ns=$(jq -r .overlay_xattr "$STORE/store.json")
  expect_eq "$ns" "$([ "$(id -u)" = 0 ] && echo trusted || echo user)" "xattr namespace"
  expect_eq "$(getfattr --only-values -n "$ns.overlay.opaque" "$L2/o" 2>/dev/null)" y "opaque xattr"
  expect_eq "$(find "$L1" "$L2" -name '.wh.*' | wc -l)" 0 ".wh. entries left"
  expect_eq "$(cat "$L1/a/gone")" gone "lower layer untouched"
  if [ "$(id -u)" = 0 ] && mkdir -p "$T/merged" &&
    mount -t overlay overlay -o "lowerdir=$L2:$L1" "$T/merged" 2>/dev/null; then
    expect_eq "$(ls "$T/merged/a")" keep "merged a/"
    expect_eq "$(ls "$T/merged/o")" new "merged opaque o/"
    [ ! -e "$T/merged/f" ] || fail "merged f still visible"
    expect_eq "$(cat "$T/merged/etc/base.txt")" base "merged base"
    umount "$T/merged"
  else
    echo "note: overlay mount unavailable; checked the markers only"
  fi
  ;;
traversal)
  start_registry
  mkdir -p "$T/outside"
  w=$T/build
  mkdir -p "$w/l1"
  rootfs "$w/l1"
  layer "$w/l1" "$w/l1.tgz" gz
  for kind in dotdot absolute symlink hardlink; do
    "$IMGTOOL" evil "$w/$kind.tar" "$kind" "$T/outside"
    rm -rf "$T/img-$kind"
    "$IMGTOOL" mkimage "$T/img-$kind" "$w/l1.tgz" "$w/$kind.tar" >/dev/null
    "$IMGTOOL" push "$T/img-$kind" "$REG" "test/$kind" v1 >/dev/null
    d=sha256:$(sha256sum "$w/$kind.tar" | cut -d' ' -f1)
    set +e
    err=$("$RUNNEL" image pull -q "$REG/test/$kind:v1" 2>&1)
    rc=$?
    set -e
    expect_eq "$rc" 1 "$kind exit"
    case $kind in
      dotdot) want="unsafe path '../escaped.txt' refused (absolute or '..')" ;;
      absolute) want="unsafe path '/tmp/runnel-image-escaped.txt' refused (absolute or '..')" ;;
      symlink) want="'link/escaped.txt': Cannot extract through symlink" ;;
      hardlink) want="unsafe hard link target '../../../../../../etc/hostname' refused" ;;
    esac
    grep -qF "runnel image pull: layer $d: $want" <<<"$err" || fail "$kind message: $err"
    [ ! -e "$STORE/layers/sha256/${d:7}" ] || fail "$kind layer published"
  done
  [ -z "$(ls -A "$T/outside")" ] || fail "wrote outside: $(ls -A "$T/outside")"
  [ ! -e /tmp/runnel-image-escaped.txt ] || fail "wrote /tmp/runnel-image-escaped.txt"
  [ ! -e "$STORE/layers/escaped.txt" ] && [ ! -e "$STORE/tmp/escaped.txt" ] || fail "escaped in store"
  expect_eq "$("$RUNNEL" image ls -q)" "" "nothing tagged"
  no_leftovers
  ;;
import-oci)
  md=$(busybox_image "$T/img")
  jq '.manifests[0].annotations={"io.containerd.image.name":"example.com/test/imported:v1"}' \
    "$T/img/index.json" >"$T/idx" && mv "$T/idx" "$T/img/index.json"
  expect_eq "$("$RUNNEL" image import "$T/img")" "Imported: example.com/test/imported:v1" "import dir"
  tar -C "$T/img" -cf "$T/img.tar" .
  expect_eq "$("$RUNNEL" image import --tag other/name:v2 "$T/img.tar")" \
    "Imported: docker.io/other/name:v2" "import tar"
  expect_eq "$("$RUNNEL" image ls -q)" "docker.io/other/name:v2
example.com/test/imported:v1" "ls"
  expect_eq "$("$RUNNEL" image inspect other/name:v2 | jq -r .digest)" "$md" "digest kept"
  mapfile -t dirs < <(layer_dirs example.com/test/imported:v1)
  cmp "${dirs[0]}/bin/busybox" "$BUSYBOX" || fail "busybox differs"
  check_blobs
  no_leftovers
  ;;
import-docker)
  busybox_image "$T/img" >/dev/null
  mkdir -p "$T/save"
  "$IMGTOOL" dockersave "$T/img" "$T/save" test/saved:v1
  tar -C "$T/save" -cf "$T/save.tar" .
  expect_eq "$("$RUNNEL" image import "$T/save.tar")" "Imported: docker.io/test/saved:v1" "import"
  js=$("$RUNNEL" image inspect test/saved:v1)
  expect_eq "$(jq -r '.layers|map(.mediaType)|unique|.[]' <<<"$js")" \
    application/vnd.docker.image.rootfs.diff.tar "layer types"
  expect_eq "$(jq -c .config.Entrypoint <<<"$js")" '["/bin/sh"]' "config"
  mapfile -t dirs < <(jq -r '.layers[].dir' <<<"$js")
  cmp "${dirs[0]}/bin/busybox" "$BUSYBOX" || fail "busybox differs"
  expect_eq "$(cat "${dirs[1]}/data/app.txt")" app "layer 2"
  # each layer blob is the uncompressed tar of the archive
  for f in "$T"/save/*/layer.tar; do
    [ -f "$STORE/blobs/sha256/$(sha256sum "$f" | cut -d' ' -f1)" ] || fail "blob of $f"
  done
  check_blobs
  ;;
prune)
  start_registry
  w=$T/build
  mkdir -p "$w/base" "$w/a" "$w/b"
  rootfs "$w/base"
  echo a >"$w/a/a.txt"
  echo b >"$w/b/b.txt"
  for x in base a b; do layer "$w/$x" "$w/$x.tgz" gz; done
  "$IMGTOOL" mkimage "$T/A" "$w/base.tgz" "$w/a.tgz" >/dev/null
  "$IMGTOOL" mkimage "$T/B" "$w/base.tgz" "$w/b.tgz" >/dev/null
  "$IMGTOOL" push "$T/A" "$REG" test/a v1 >/dev/null
  "$IMGTOOL" push "$T/B" "$REG" test/b v1 >/dev/null
  "$RUNNEL" image pull -q "$REG/test/a:v1" >/dev/null
  "$RUNNEL" image pull -q "$REG/test/b:v1" >/dev/null
  h() { sha256sum "$1" | cut -d' ' -f1; }
  expect_eq "$(ls "$STORE/blobs/sha256" | wc -l)" 7 "blobs before"
  expect_eq "$("$RUNNEL" image prune)" "Deleted 0 blobs and 0 layers, 0B freed" "prune nothing"
  expect_eq "$("$RUNNEL" image rm "$REG/test/a:v1")" "Untagged: $REG/test/a:v1" "rm"
  set +e
  err=$("$RUNNEL" image rm "$REG/test/a:v1" 2>&1)
  rc=$?
  set -e
  expect_eq "$rc:$err" "1:runnel image rm: image '$REG/test/a:v1' is not in the store" "rm twice"
  "$RUNNEL" image prune | grep -q '^Deleted 3 blobs and 1 layers, .* freed$' || fail "prune counts"
  [ ! -e "$STORE/blobs/sha256/$(h "$w/a.tgz")" ] || fail "a blob kept"
  [ ! -e "$STORE/layers/sha256/$(h "$w/a.tgz")" ] || fail "a layer kept"
  [ -d "$STORE/layers/sha256/$(h "$w/base.tgz")" ] || fail "shared layer removed"
  [ -d "$STORE/layers/sha256/$(h "$w/b.tgz")" ] || fail "b layer removed"
  expect_eq "$(ls "$STORE/blobs/sha256" | wc -l)" 4 "blobs after"
  expect_eq "$(cat "$("$RUNNEL" image inspect "$REG/test/b:v1" | jq -r '.layers[1].dir')/b.txt")" b "b intact"
  ;;
concurrent)
  start_registry
  w=$T/build
  mkdir -p "$w/l1" "$w/big"
  rootfs "$w/l1"
  head -c 8000000 /dev/urandom >"$w/big/random.bin"
  layer "$w/l1" "$w/l1.tgz" gz
  layer "$w/big" "$w/big.tgz" gz
  md=$("$IMGTOOL" mkimage "$T/img" "$w/l1.tgz" "$w/big.tgz")
  "$IMGTOOL" push "$T/img" "$REG" test/conc v1 >/dev/null
  "$RUNNEL" image pull -q "$REG/test/conc:v1" >"$T/out1" 2>"$T/err1" &
  p1=$!
  "$RUNNEL" image pull -q "$REG/test/conc:v1" >"$T/out2" 2>"$T/err2" &
  p2=$!
  wait $p1 || fail "pull 1: $(cat "$T/err1")"
  wait $p2 || fail "pull 2: $(cat "$T/err2")"
  for i in 1 2; do
    expect_eq "$(cat "$T/out$i")" "Digest: $md
Pulled: $REG/test/conc:v1" "pull $i"
  done
  expect_eq "$(ls "$STORE/layers/sha256" | wc -l)" 2 "layers"
  expect_eq "$(jq -r '.refs|keys[]' "$STORE/index.json")" "$REG/test/conc:v1" "index"
  # each blob went over the wire once
  expect_eq "$(grep -c "GET /v2/test/conc/blobs/sha256:$(sha256sum "$w/big.tgz" | cut -d' ' -f1)" "$T/registry.log" || true)" 1 "big blob fetched once"
  cmp "$STORE/layers/sha256/$(sha256sum "$w/big.tgz" | cut -d' ' -f1)/random.bin" "$w/big/random.bin"
  check_blobs
  no_leftovers
  ;;
unprivileged)
  # a store made by an unprivileged user marks opaque dirs with user.overlay.* (userxattr)
  [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1 || { echo "SKIP: needs root and user nobody"; exit 77; }
  mkdir -p "$T/l/o" "$T/l/d"
  : >"$T/l/.wh.f"
  : >"$T/l/o/.wh..wh..opq"
  mknod "$T/l/d/null" c 1 3
  layer "$T/l" "$T/l.tgz" gz
  md=$("$IMGTOOL" mkimage "$T/img" --name test/nobody:v1 "$T/l.tgz")
  chmod -R a+rwX "$T"
  out=$(su nobody -s /bin/sh -c "RUNNEL_HOME='$RUNNEL_HOME' '$RUNNEL' image import '$T/img'" 2>&1) ||
    fail "import as nobody: $out"
  expect_eq "$out" "Imported: docker.io/test/nobody:v1" "import"
  expect_eq "$(jq -r .overlay_xattr "$STORE/store.json")" user "namespace"
  L=$STORE/layers/sha256/$(sha256sum "$T/l.tgz" | cut -c1-64)
  expect_eq "$(getfattr --only-values -n user.overlay.opaque "$L/o")" y "user opaque xattr"
  expect_eq "$(stat -c '%F %t:%T %U' "$L/f")" "character special file 0:0 nobody" "whiteout"
  [ ! -e "$L/d/null" ] || fail "device node created by an unprivileged user"
  expect_eq "$(stat -c %U "$L/o")" nobody "owned by the user"
  ;;
*)
  fail "unknown case"
  ;;
esac
echo "ok: $CASE"
