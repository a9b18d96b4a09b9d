#!/usr/bin/env bash
# Container security tests: each case runs `runnel sandbox exec` on a busybox-static rootfs built
# in a temporary directory and fails (exit 1) if isolation breaks; exit 77 = skipped (kernel or
# machine lacks a feature), with the reason on stderr.
#   security.sh CASE    (RUNNEL = runnel binary, SYSPROBE = static probe helper)
set -u
CASE=${1:?case}
: "${RUNNEL:?}" "${SYSPROBE:?}"
# shellcheck source=stray_slirps.sh
. "$(dirname "$0")/stray_slirps.sh"

skip() { echo "SKIP: $*" >&2; exit 77; }
fail() { echo "FAIL: $*" >&2; exit 1; }
# expect NAME WANT GOT
expect() { [ "$2" = "$3" ] || fail "$1: expected [$2], got [$3]"; }

BUSYBOX=$(command -v busybox || true)
[ -n "$BUSYBOX" ] || skip "busybox not installed (scripts/install-deps.sh installs busybox-static)"
ldd "$BUSYBOX" >/dev/null 2>&1 && skip "$BUSYBOX is not static (install busybox-static)"

T=$(mktemp -d /var/tmp/runnel-sectest.XXXXXX)
cleanup() {
    [ -n "${BG:-}" ] && kill "$BG" 2>/dev/null
    wait 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT
export RUNNEL_SANDBOX_DIR=$T/state
ROOT=$T/rootfs
mkdir -p "$ROOT/bin" "$ROOT/etc" "$T/ws"
cp "$BUSYBOX" "$ROOT/bin/busybox"
cp "$SYSPROBE" "$ROOT/bin/sysprobe"
# Only the applets the cases use: one ln per applet is a process start (slow on a loaded host).
for a in sh true echo test ps cat wc nc sleep setsid id hostname ls mkdir touch grep ip wget timeout dd rm; do
    ln -s busybox "$ROOT/bin/$a"
done

run() { "$RUNNEL" sandbox exec --rootfs "$ROOT" "$@"; }

# Baseline: containers work here at all, else say why and skip.
if ! out=$(run -- true 2>&1); then
    skip "cannot create a container on this machine: $out"
fi

case "$CASE" in
processes)
    # Only the container's own processes exist: init (1) and the shell (2); the glob needs no fork.
    expect "proc listing" "/proc/1 /proc/2" "$(run -- sh -c 'echo /proc/[0-9]*')"
    expect "runner pid hidden" "absent" "$(run -- sh -c "test -e /proc/$$ && echo present || echo absent")"
    # ps writes to a file so no other process (a pipe's reader) can be listed beside it.
    expect "ps" "PID   COMMAND
    1 runnel-init
    2 sh
    3 ps" "$(run -- sh -c 'ps -o pid,comm > /tmp/p; cat /tmp/p')"
    # Its own cgroup namespace, with a cgroup (--pids) and without: every hierarchy's path is
    # its root, and the namespace is not the host's.
    host_cgns=$(readlink /proc/self/ns/cgroup)
    for limit in "" "--pids 64"; do
        # shellcheck disable=SC2086
        expect "cgroup paths ($limit)" "" "$(run $limit -- grep -v ':/$' /proc/self/cgroup)"
        # shellcheck disable=SC2086
        ns=$(run $limit -- ls -l /proc/self/ns/cgroup)
        case "$ns" in
        *"$host_cgns"*) fail "cgroup namespace ($limit): the host's ($ns)" ;;
        *"-> cgroup:["*) ;;
        *) fail "cgroup namespace ($limit): unexpected [$ns]" ;;
        esac
    done
    ;;
host-files)
    echo original >"$T/hostfile"
    mkdir -p "$T/ro"
    # The host's root as the lowest layer: writes land in the thrown-away upper layer.
    out=$("$RUNNEL" sandbox exec --rootfs / -v "$T/ws:/job" -v "$T/ro:/ro:ro" -- sh -c "
        echo pwned > '$T/hostfile' && cat '$T/hostfile'
        echo from-container > /job/result
        { echo x > /ro/f; } 2>/dev/null || echo ro-refused" 2>&1)
    expect "container output" "pwned
ro-refused" "$out"
    expect "host file untouched" "original" "$(cat "$T/hostfile")"
    expect "workspace written" "from-container" "$(cat "$T/ws/result")"
    [ -e "$T/ro/f" ] && fail "read-only bind was written"
    # Only the folder that layers in memory are mounted on (in their own namespaces) is left.
    expect "writable layer removed" "mem" "$(ls -A "$T/state")"
    ;;
syscalls)
    want="mount: EPERM
umount: EPERM
unshare: EPERM
unshare-user: EPERM
clone-newpid: EPERM
clone3: ENOSYS
setns: EPERM
kexec_load: EPERM
init_module: EPERM
finit_module: EPERM
bpf: EPERM
keyctl: EPERM
io_uring_setup: EPERM
perf_event_open: EPERM
pivot_root: EPERM
reboot: EPERM
swapon: EPERM
fork: ok"
    calls=$(echo "$want" | cut -d: -f1 | tr '\n' ' ')
    got=$(run -- sh -c "for c in $calls; do sysprobe \$c; done")
    expect "refused syscalls" "$want" "$got"
    # Control: the probe itself works (unconfined, mount succeeds), so the test can fail.
    expect "control" "mount: ok" "$(run --unconfined -- sysprobe mount)"
    ;;
ptrace)
    expect "ptrace of the runner" "ptrace: EPERM" "$(run -- sysprobe ptrace $$)"
    expect "ptrace of init" "ptrace: EPERM" "$(run -- sysprobe ptrace 1)"
    ;;
forkbomb)
    marker=bomb$$
    start=$(date +%s)
    out=$(run --pids 48 --timeout 20000 -- sh -c ": $marker; f(){ f|f& }; f; sleep 2; echo done" 2>"$T/err")
    rc=$?
    expect "runner exit" "0" "$rc"
    expect "main process output" "done" "$out"
    grep -q "can't fork" "$T/err" || fail "the pids limit was never hit: $(head -c 300 "$T/err")"
    [ $(($(date +%s) - start)) -lt 15 ] || fail "fork bomb was not contained quickly"
    pgrep -f "$marker" >/dev/null && fail "fork bomb processes survived: $(pgrep -f "$marker" | head)"
    expect "host still forks" "ok" "$(sh -c 'echo ok')"
    ;;
memory)
    out=$(run --memory 64m -- sh -c 'x=a; while :; do x=$x$x; done' 2>&1)
    rc=$?
    expect "exit status" "137" "$rc"
    expect "error" "runnel sandbox: killed by the memory limit (64 MiB)" "$out"
    # Control: within the limit the same container works.
    expect "below limit" "ok" "$(run --memory 64m -- sh -c 'echo ok')"
    ;;
survivors)
    marker=$((RANDOM + 100000))
    # setsid leaves the step's session and process group: only the cgroup / pid namespace can
    # still reach it.
    run -- sh -c "setsid sysprobe hold 1000 $marker & sleep 3" &
    BG=$!
    for _ in $(seq 100); do pgrep -f "sysprobe hold 1000 $marker" >/dev/null && break; sleep 0.05; done
    pgrep -f "sysprobe hold 1000 $marker" >/dev/null || fail "the background process never started"
    wait "$BG"
    BG=
    sleep 0.2
    pgrep -f "sysprobe hold 1000 $marker" >/dev/null && fail "a process outlived its container"
    ;;
cross)
    # Container A on the host root keeps a secret in its workspace and its upper layer (on disk).
    mkdir -p "$T/jobs/a" "$T/jobs/b"
    "$RUNNEL" sandbox exec --layer disk --rootfs / -v "$T/jobs/a:/job" -- sh -c \
        'echo secret > /job/s; echo secret > /etc/upper-secret; sleep 4' &
    BG=$!
    for _ in $(seq 100); do [ -e "$T/jobs/a/s" ] && break; sleep 0.05; done
    [ -e "$T/jobs/a/s" ] || fail "container A did not start"
    upper=$(ls -d "$T"/state/ctr-*/upper/etc/upper-secret 2>/dev/null | head -1)
    [ -n "$upper" ] || fail "cannot find A's upper layer on the host"
    # Container B, also on the host root, with the jobs root masked: sees neither.
    out=$("$RUNNEL" sandbox exec --rootfs / --mask "$T/jobs" -v "$T/jobs/b:/job" -- sh -c "
        cat '$T/jobs/a/s' 2>/dev/null || echo no-workspace
        cat '$upper' 2>/dev/null || echo no-upper
        ls '$T/state' | wc -l; cat /etc/upper-secret 2>/dev/null || echo own-etc" 2>&1)
    expect "container B" "no-workspace
no-upper
0
own-etc" "$out"
    # Two busybox containers: B's rootfs has no path to A's layers at all.
    expect "busybox B" "no-upper" "$(run -- sh -c "cat '$upper' 2>/dev/null || echo no-upper")"
    wait "$BG"
    BG=
    ;;
layers)
    # The default layer is in memory: writes, and a lower file's removal, work inside; nothing
    # of them is on the host's disk, during the run or after.
    mkdir -p "$T/ws"
    run -v "$T/ws:/job" -- sh -c 'echo secret > /etc/in-layer; rm /bin/true; touch /job/up
        sleep 2; cat /etc/in-layer; test -e /bin/true || echo removed' >"$T/out" 2>&1 &
    BG=$!
    for _ in $(seq 100); do [ -e "$T/ws/up" ] && break; sleep 0.05; done
    [ -e "$T/ws/up" ] || fail "the container did not start"
    expect "state while running" "mem 0" "$(ls -A "$T/state") $(find "$T/state" -mindepth 2 | wc -l)"
    wait "$BG"
    BG=
    expect "inside" "secret
removed" "$(cat "$T/out")"
    expect "lower untouched" "present" "$(test -e "$ROOT/bin/true" && echo present)"
    expect "state after" "mem 0" "$(ls -A "$T/state") $(find "$T/state" -mindepth 2 | wc -l)"
    # It is charged to the memory limit: 64 MB written into a 32 MB container is killed there,
    # and fits on disk (--layer disk).
    out=$(run --memory 32m -- sh -c 'dd if=/dev/zero of=/big bs=1M count=64 2>/dev/null; echo dd=$?' 2>&1)
    expect "memory layer over the limit" "dd=137
runnel sandbox: killed by the memory limit (32 MiB)" "$out"
    out=$(run --memory 32m --layer disk -- sh -c 'dd if=/dev/zero of=/big bs=1M count=64 2>/dev/null; echo dd=$?' 2>&1)
    expect "disk layer" "dd=0" "$out"
    expect "state after disk" "mem 0" "$(ls -A "$T/state") $(find "$T/state" -mindepth 2 | wc -l)"
    ;;
net-none)
    command -v busybox >/dev/null || skip "busybox missing"
    port=$((20000 + $$ % 20000))
    busybox nc -ll -p "$port" -e /bin/echo reachable &
    BG=$!
    sleep 0.3
    # Control: with the host's network the listener answers.
    expect "host network" "reachable" "$(run --net host -- nc -w 2 127.0.0.1 "$port" </dev/null 2>&1)"
    out=$(run --net none -- sh -c "nc -w 2 127.0.0.1 $port </dev/null && echo CONNECTED" 2>&1)
    case "$out" in *CONNECTED* | *reachable*) fail "network none reached the host: $out" ;; esac
    expect "network none" "nc: can't connect to remote host (127.0.0.1): Connection refused" "$out"
    expect "none: only lo" "lo" "$(run --net none -- sh -c 'ls /sys/class/net')"
    # private without slirp4netns: only lo too
    expect "private without slirp4netns: only lo" "lo" \
        "$(RUNNEL_SLIRP4NETNS= run --net private -- sh -c 'ls /sys/class/net')"
    ;;
net-private)
    # The private network's route out (slirp4netns): the host's non-loopback address is reached,
    # the host's loopback is not (127.0.0.1 is the container's own; 10.0.2.2, slirp's gateway,
    # would forward to the host's loopback without --disable-host-loopback); nothing survives.
    command -v slirp4netns >/dev/null || skip "slirp4netns missing (Debian package slirp4netns)"
    hostip=$(ip -4 -o addr show scope global 2>/dev/null | awk '{sub("/.*", "", $4); print $4; exit}')
    [ -n "$hostip" ] || skip "no global IPv4 address on this host"
    port=$((20000 + $$ % 20000))
    mkdir -p "$T/www" && echo page >"$T/www/index.html"
    busybox httpd -f -p "$hostip:$port" -h "$T/www" &
    BG=$!
    busybox httpd -f -p "127.0.0.1:$((port + 1))" -h "$T/www" &
    BG2=$!
    for _ in $(seq 50); do
        busybox wget -q -O /dev/null "http://$hostip:$port/" 2>/dev/null &&
            busybox wget -q -O /dev/null "http://127.0.0.1:$((port + 1))/" 2>/dev/null && break
        sleep 0.1
    done
    before=$(stray_slirps)
    expect "route and tap0" "lo tap0 default via 10.0.2.2 dev tap0" \
        "$(run --net private -- sh -c 'echo $(ls /sys/class/net) $(ip route | grep default)' 2>&1)"
    # (no wget -T: busybox-static 1.35's segfaults, and a crash must not pass for "unreachable")
    expect "outside reached" "page" "$(run --net private -- timeout 10 wget -q -O- "http://$hostip:$port/" 2>&1)"
    out=$(run --net private -- sh -c "timeout 5 wget -q -O- http://127.0.0.1:$((port + 1))/; timeout 5 wget -q -O- http://10.0.2.2:$((port + 1))/" 2>&1)
    expect "host loopback" "wget: can't connect to remote host (127.0.0.1): Connection refused
wget: can't connect to remote host (10.0.2.2): Network is unreachable" "$out"
    kill "$BG2" 2>/dev/null
    expect "slirp4netns processes after the containers" "$before" "$(stray_slirps)"
    ;;
userns)
    # Not root: a user namespace maps container root to the caller (no limits: no cgroup needed).
    command -v setpriv >/dev/null || skip "setpriv (util-linux) missing"
    [ "$(id -u)" = 0 ] || skip "needs root to switch to an unprivileged user"
    chmod 755 "$T"
    mkdir -p "$T/ustate"
    chown 65534:65534 "$T/ustate"
    out=$(RUNNEL_SANDBOX_DIR=$T/ustate setpriv --reuid=65534 --regid=65534 --clear-groups \
        "$RUNNEL" sandbox exec --rootfs "$ROOT" -- \
        sh -c 'id -u; echo /proc/[0-9]*; echo x > /new && cat /new; sysprobe mount' 2>"$T/err")
    rc=$?
    [ $rc = 125 ] && skip "no unprivileged user namespaces here: $(cat "$T/err")"
    expect "unprivileged container" "0
/proc/1 /proc/2
x
mount: EPERM" "$out"
    [ -e "$ROOT/new" ] && fail "the unprivileged container wrote into its lower layer"
    [ -z "$(ls -A "$T/ustate")" ] || fail "writable layer not removed"
    ;;
*)
    fail "unknown case $CASE"
    ;;
esac
echo "PASS: $CASE"
