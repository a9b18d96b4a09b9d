#!/usr/bin/env bash
# `runnel run` jobs in runnel's containers: images built here from busybox-static and imported
# into a temp RUNNEL_HOME, workflows run in a temp git repository.
# usage: cjob_test.sh CASE   (env: RUNNEL, IMGTOOL; exit 77 = skipped)
set -euo pipefail
CASE=${1:?case}
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"
# shellcheck source=../sandbox/stray_slirps.sh
. "$HERE/../sandbox/stray_slirps.sh"
cjob_prereqs

T=$(mktemp -d /tmp/rn-cjob-test.XXXXXX)
cleanup() { rm -rf "$T"; }
trap cleanup EXIT
export RUNNEL_HOME=$T/home HOME=$T/userhome
mkdir -p "$HOME"
R=$T/repo
new_repo "$R"
make_image "$T/img" busybox:test
wf() { cat >"$R/.github/workflows/$1"; }
# run ARGS...: runnel run in the repo; stdout+stderr in $OUT, status in $RC
run() {
  commit_repo "$R"
  RC=0
  OUT=$(cd "$R" && "$RUNNEL" run "$@" 2>&1) || RC=$?
}
has_line() { grep -qxF -- "$1" <<<"$OUT" || fail "output lacks the line [$1]:
$OUT"; }
expect_rc() { [ "$1" == "$2" ] || fail "$3: expected [$2], got [$1]:
$OUT"; }
has() { grep -qF -- "$1" <<<"$OUT" || fail "output lacks [$1]:
$OUT"; }
# host_listener: an httpd on the host's loopback at $hostport (serving "host-page"), stopped at
# exit; jobs with a private network must not reach it.
host_listener() {
  hostport=$("$IMGTOOL" freeport)
  mkdir -p "$T/www" && echo host-page >"$T/www/index.html"
  busybox httpd -f -p "127.0.0.1:$hostport" -h "$T/www" &
  hpid=$!
  trap 'kill $hpid 2>/dev/null; cleanup' EXIT
  for _ in $(seq 50); do busybox wget -q -O /dev/null "http://127.0.0.1:$hostport/" && break; sleep 0.1; done
}

case $CASE in
image-job)
  wf ci.yml <<'EOF'
on: push
jobs:
  build:
    runs-on: ubuntu-latest
    env:
      IMAGE_VAR: from-job
    steps:
      - run: |
          . /etc/os-release; echo "os=$ID init=$(cat /proc/1/comm) host=$(hostname)"
          echo "var=$IMAGE_VAR home=$HOME pwd-ok=$([ "$(pwd)" = "$GITHUB_WORKSPACE" ] && echo yes)"
          echo "written in $ID" > from-container.txt
          echo "MARK=set-in-container" >> "$GITHUB_ENV"
      - run: echo "mark=$MARK shell=$(readlink /proc/$$/exe)"
EOF
  run -P ubuntu-latest=busybox:test
  expect_rc "$RC" 0 "exit status"
  has_line "[ci.yml/build] Job container: docker.io/library/busybox:test ($("$RUNNEL" image inspect busybox:test | jq -r .digest))"
  has_line "[ci.yml/build]   | os=runnel-test init=runnel-init host=build"
  has_line "[ci.yml/build]   | var=from-job home=/github/home pwd-ok=yes"
  has_line "[ci.yml/build]   | mark=set-in-container shell=/bin/busybox"
  expect_eq "$(cat "$R/from-container.txt")" "written in runnel-test" "file written in the workspace"
  ;;
host-root)
  # without -P an ubuntu-latest job runs in a container of the host's root filesystem
  mark=/var/tmp/rn-cjob-$$-$RANDOM
  wf ci.yml <<EOF
on: push
jobs:
  iso:
    runs-on: ubuntu-latest
    steps:
      - run: |
          echo "init=\$(cat /proc/1/comm) procs=\$(ls -d /proc/[0-9]* | wc -l)"
          echo x > $mark && echo "wrote $mark"
          echo ws > in-workspace.txt
      - run: cat $mark
EOF
  run
  expect_rc "$RC" 0 "exit status"
  # the container's pid 1, the step's shell and ls (plus the in-container helper)
  grep -qE '^\[ci.yml/iso\]   \| init=runnel-init procs=[3-5]$' <<<"$OUT" || fail "host processes visible:
$OUT"
  has_line "[ci.yml/iso]   | x"
  [ ! -e "$mark" ] || { rm -f "$mark"; fail "the job wrote $mark on the host"; }
  expect_eq "$(cat "$R/in-workspace.txt")" ws "workspace write"
  # control: -P ubuntu-latest=host runs on the host, where the file does land
  run -P ubuntu-latest=host
  expect_rc "$RC" 0 "exit status on the host"
  [ -e "$mark" ] || fail "control: $mark not written on the host"
  rm -f "$mark"
  grep -q 'init=runnel-init' <<<"$OUT" && fail "control ran in a container"
  # where containers cannot be made, the default falls back to the host with a warning (an
  # explicit image does not: that job fails)
  echo x >"$T/not-a-dir"
  commit_repo "$R"
  RC=0
  OUT=$(cd "$R" && RUNNEL_SANDBOX_DIR=$T/not-a-dir/sub "$RUNNEL" run 2>&1) || RC=$?
  expect_rc "$RC" 0 "exit status of the fallback"
  [ -e "$mark" ] || fail "fallback: $mark not written on the host"
  rm -f "$mark"
  [ "$(grep -c 'runnel: warning: cannot create job containers here (' <<<"$OUT")" = 1 ] ||
    fail "fallback warning:
$OUT"
  has "jobs run directly on the host (-P LABEL=host says so explicitly)"
  RC=0
  OUT=$(cd "$R" && RUNNEL_SANDBOX_DIR=$T/not-a-dir/sub "$RUNNEL" run -P ubuntu-latest=busybox:test 2>&1) || RC=$?
  expect_rc "$RC" 1 "exit status without containers and an image"
  has "[ci.yml/iso] error: cannot create the job's container: "
  ;;
container-job)
  mkdir -p "$T/vol" && echo "volume data" >"$T/vol/f.txt"
  wf ci.yml <<EOF
on: push
jobs:
  boxed:
    runs-on: ubuntu-latest
    container:
      image: busybox:test
      env:
        FROM_CONTAINER: c-env
      options: --hostname boxhost --user 1234:2345 --memory 256m --cpus 1.5 -e OPT_VAR=o-env
      volumes:
        - $T/vol:/data:ro
        - named:/named
    steps:
      - run: |
          echo "host=\$(hostname) id=\$(id -u):\$(id -g) env=\$FROM_CONTAINER/\$OPT_VAR os=\$(. /etc/os-release; echo \$ID)"
          echo "data=\$(cat /data/f.txt)"
          if touch /data/new 2>/dev/null; then echo "ro=no"; else echo "ro=yes"; fi
          echo "mem=\$(cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || echo ?)"
          echo "ctx=\${{ job.container.network }}"
  string-form:
    runs-on: ubuntu-latest
    container: busybox:test
    steps:
      - run: echo "string form on \$(. /etc/os-release; echo \$ID) as \$(id -u)"
EOF
  run
  expect_rc "$RC" 0 "exit status"
  has_line "[ci.yml/boxed]   | host=boxhost id=1234:2345 env=c-env/o-env os=runnel-test"
  has_line "[ci.yml/boxed]   | data=volume data"
  has_line "[ci.yml/boxed]   | ro=yes"
  has_line "[ci.yml/boxed]   | ctx=host"
  has_line "[ci.yml/string-form]   | string form on runnel-test as 0"
  # the memory limit when the cgroup is visible inside (v2 namespace or v1 memory mount)
  grep -qE '^\[ci.yml/boxed\]   \| mem=(268435456|\?)$' <<<"$OUT" || fail "memory limit:
$OUT"
  ;;
services)
  port=$("$IMGTOOL" freeport)
  # a listener on the host's loopback, reachable from the host (control) but not from the job
  host_listener
  expect_eq "$(busybox wget -q -O- "http://127.0.0.1:$hostport/")" host-page "host listener"
  wf ci.yml <<EOF
on: push
jobs:
  with-svc:
    runs-on: ubuntu-latest
    container: busybox:test
    services:
      web:
        image: busybox:test
        env:
          MSG: hello-from-web
        command: sh -c 'mkdir -p /www && echo "\$MSG" > /www/index.html && sleep 1 && exec httpd -f -p $port -h /www'
        options: --health-cmd "wget -q -O /dev/null http://127.0.0.1:$port/" --health-interval 300ms --health-retries 20
        ports:
          - $port:$port
    steps:
      - run: |
          echo "by-name=\$(wget -q -O- http://web:$port/)"
          echo "localhost=\$(wget -q -O- http://localhost:$port/)"
          echo "port=\${{ job.services.web.ports['$port'] }} net=\${{ job.container.network }}/\${{ job.services.web.network }}"
          # the private network: the host's loopback services are not reachable from here
          # (busybox-static 1.35's wget -T segfaults: a crash must not pass for "unreachable")
          o=\$(timeout 5 wget -q -O /dev/null http://127.0.0.1:$hostport/ 2>&1) && r=0 || r=\$?; echo "host: \$o rc=\$r"
  sick:
    runs-on: ubuntu-latest
    services:
      db:
        image: busybox:test
        command: sleep 30
        options: --health-cmd "echo not ready; exit 1" --health-interval 100ms --health-retries 2
    steps:
      - run: echo never
EOF
  run
  expect_rc "$RC" 1 "exit status"
  has_line "[ci.yml/with-svc] Waiting for service web to be healthy: wget -q -O /dev/null http://127.0.0.1:$port/"
  has_line "[ci.yml/with-svc] Service web is healthy"
  has_line "[ci.yml/with-svc]   | by-name=hello-from-web"
  has_line "[ci.yml/with-svc]   | localhost=hello-from-web"
  has_line "[ci.yml/with-svc]   | port=$port net=private/private"
  has_line "[ci.yml/with-svc]   | host: wget: can't connect to remote host (127.0.0.1): Connection refused rc=1"
  has "[ci.yml/with-svc] 🏁  Job succeeded"
  has_line "[ci.yml/sick] error: service 'db' is unhealthy: its health check failed 2 times (last: exit code 1: not ready)"
  grep -qxF '[ci.yml/sick]   | never' <<<"$OUT" && fail "the sick job ran its steps"
  # nothing of either job outlives it
  pgrep -f "httpd -f -p $port" >/dev/null && fail "the service outlived its job"
  true
  ;;
docker-action)
  mkdir -p "$R/act" "$R/dfile"
  cat >"$R/act/action.yml" <<'EOF'
name: greeter
inputs:
  who:
    default: world
runs:
  using: docker
  image: docker://busybox:test
  entrypoint: /bin/sh
  args:
    - -c
    - 'echo "hello $1 INPUT_WHO=$INPUT_WHO ws=$GITHUB_WORKSPACE pwd=$(pwd) os=$(. /etc/os-release; echo $ID)"; echo "greeting=hi-$1" >> "$GITHUB_OUTPUT"; echo made > from-action.txt'
    - sh
    - ${{ inputs.who }}
EOF
  cat >"$R/dfile/action.yml" <<'EOF'
name: built
runs:
  using: docker
  image: Dockerfile
EOF
  wf ci.yml <<'EOF'
on: push
jobs:
  act:
    runs-on: ubuntu-latest
    steps:
      - id: g
        uses: ./act
        with:
          who: runnel user
      - run: echo "output=${{ steps.g.outputs.greeting }} file=$(cat from-action.txt)"
      - uses: docker://busybox:test
        with:
          entrypoint: /bin/sh
          args: -c 'echo "n=$# INPUT_FOO=$INPUT_FOO args=$*"' x "two words" three
          foo: bar
      - uses: ./dfile
EOF
  run -P ubuntu-latest=host
  expect_rc "$RC" 1 "exit status"
  has_line "[ci.yml/act]   | hello runnel user INPUT_WHO=runnel user ws=/github/workspace pwd=/github/workspace os=runnel-test"
  has_line "[ci.yml/act]   | output=hi-runnel user file=made"
  has_line "[ci.yml/act]   | n=2 INPUT_FOO=bar args=two words three"
  has_line "[ci.yml/act]   error: $R/dfile/action.yml: building Dockerfile actions is not supported; use image: docker://..."
  ;;
seed)
  # the seed's deploy pipeline, trimmed of setup-java (no JDK in a busybox image), with a stub
  # ./mvnw that says where it runs: its test job must run in the container
  sed '/Setup Java/,/java-version/d' "$HERE/../run/seed-dry-run/.github/workflows/deploy.yml" |
    wf deploy.yml
  printf '#!/bin/sh\n. /etc/os-release\necho "mvnw $* on $ID"\nexit 3\n' >"$R/mvnw"
  chmod +x "$R/mvnw"
  run -P ubuntu-latest=busybox:test .github/workflows/deploy.yml
  expect_rc "$RC" 1 "exit status"
  has "[Deploy/test] Job container: docker.io/library/busybox:test"
  has_line "[Deploy/test]   | mvnw test on runnel-test"
  has_line "[Deploy/test]   error: Process completed with exit code 3."
  has_line "[Deploy/build] ⏭  Job skipped (a needed job did not succeed)"
  # and the seed as it is: its test job runs in the container and fails at setup-java
  cp "$HERE/../run/seed-dry-run/.github/workflows/deploy.yml" "$R/.github/workflows/deploy.yml"
  run -P ubuntu-latest=busybox:test .github/workflows/deploy.yml
  expect_rc "$RC" 1 "exit status (seed as is)"
  has "[Deploy/test] Job container: docker.io/library/busybox:test"
  has_line "[Deploy/test]   error: Input required and not supplied: distribution"
  ;;
outlive)
  # nothing a job started survives it: a setsid daemon (out of the step's process group) in the
  # host-root container, and a step killed by the job's timeout in an image container
  tag=rn-cjob-outlive-$$-$RANDOM
  wf ci.yml <<EOF
on: push
jobs:
  daemon:
    runs-on: ubuntu-latest
    steps:
      - run: setsid sleep 301 </dev/null >/dev/null 2>&1 & sleep 0.5; echo started
      - run: pgrep -x sleep >/dev/null && echo "still there in the job"
  slow:
    runs-on: ubuntu-latest
    container: busybox:test
    timeout-minutes: 0.05
    steps:
      - run: sleep 302 & sleep 303
EOF
  before=$(pgrep -c -f '^sleep 30[123]$' || true)
  run
  expect_rc "$RC" 1 "exit status"
  has_line "[ci.yml/daemon]   | still there in the job"
  has_line "[ci.yml/slow] error: The job running on runner runnel has exceeded the maximum execution time of 0.05 minutes."
  sleep 0.2
  expect_eq "$(pgrep -c -f '^sleep 30[123]$' || true)" "$before" "processes left after the jobs"
  ;;
pull)
  # the README walkthrough: an image in a registry, `runnel image pull`, a container: job; and
  # -P LABEL=IMAGE with an image not in the store yet (pulled when the job starts)
  command -v curl >/dev/null || skip "curl missing"
  start_registry "$T"
  trap 'kill $REG_PID 2>/dev/null; cleanup' EXIT
  build_image "$T/pushed" --env PUSHED=yes
  "$IMGTOOL" push "$T/pushed" "$REG" team/build 1 >/dev/null || fail "push build:1"
  "$IMGTOOL" push "$T/pushed" "$REG" team/other 2 >/dev/null || fail "push other:2"
  "$RUNNEL" image pull "$REG/team/build:1" >/dev/null 2>&1 || fail "runnel image pull"
  wf ci.yml <<EOF
on: push
jobs:
  test:
    runs-on: ubuntu-latest
    container: $REG/team/build:1
    steps:
      - run: echo "pushed=\$PUSHED os=\$(. /etc/os-release; echo \$ID)"
  other:
    runs-on: ubuntu-22.04
    steps:
      - run: echo "other pushed=\$PUSHED"
EOF
  run -P "ubuntu-22.04=$REG/team/other:2"
  expect_rc "$RC" 0 "exit status"
  has_line "[ci.yml/test]   | pushed=yes os=runnel-test"
  has_line "[ci.yml/other]   | other pushed=yes"
  expect_eq "$("$RUNNEL" image ls -q | grep -v busybox:test)" "$REG/team/build:1
$REG/team/other:2" "store after the run"
  ;;
pids)
  # Default job limits: every job and service container gets a pids limit (4096), --pids-limit
  # in options and RUNNEL_PIDS_LIMIT override it. The bombs are bounded (depth 8: a few hundred
  # processes, no fork error without a limit) so that a missing limit fails the test instead of
  # taking the machine down.
  out=$("$RUNNEL" sandbox exec --pids 64 -- /bin/true 2>&1) || skip "containers with a pids limit: $out"
  grep -q pids <<<"$out" && skip "no pids cgroup controller here: $out"
  mark=rn-h6bomb-$$-$RANDOM
  bomb=": $mark; f(){ [ \"\$1\" -lt 8 ] || { sleep 3; return; }; f \$((\$1+1)) | f \$((\$1+1)) & wait; }; f 0; echo done"
  wf ci.yml <<EOF
on: push
jobs:
  bomb:
    runs-on: ubuntu-latest
    timeout-minutes: 1
    steps:
      - run: |
          sh -c '$bomb' 2>err.txt; echo "rc=\$? fork-errors=\$(grep -ciE "cannot fork|can't fork" err.txt)"
EOF
  start=$(date +%s)
  RUNNEL_PIDS_LIMIT=64 run
  expect_rc "$RC" 0 "exit status (RUNNEL_PIDS_LIMIT=64)"
  has_line "[ci.yml/bomb]   | done"
  grep -qE '^\[ci.yml/bomb\]   \| rc=0 fork-errors=[1-9][0-9]*$' <<<"$OUT" ||
    fail "the pids limit of RUNNEL_PIDS_LIMIT was never hit: $OUT"
  [ $(($(date +%s) - start)) -lt 40 ] || fail "the fork bomb was not contained quickly"
  pgrep -f "$mark" >/dev/null && fail "fork bomb processes survived: $(pgrep -af "$mark" | head -3)"
  # --pids-limit in the options of an image container (busybox sh says "can't fork")
  wf ci.yml <<EOF
on: push
jobs:
  bomb:
    runs-on: ubuntu-latest
    timeout-minutes: 1
    container:
      image: busybox:test
      options: --pids-limit 64
    steps:
      - run: |
          sh -c '$bomb' 2>err.txt; echo "rc=\$? fork-errors=\$(grep -ciE "cannot fork|can't fork" err.txt)"
EOF
  run
  expect_rc "$RC" 0 "exit status (--pids-limit 64)"
  has_line "[ci.yml/bomb]   | done"
  grep -qE '^\[ci.yml/bomb\]   \| rc=0 fork-errors=[1-9][0-9]*$' <<<"$OUT" ||
    fail "the pids limit of --pids-limit was never hit: $OUT"
  pgrep -f "$mark" >/dev/null && fail "fork bomb processes survived: $(pgrep -af "$mark" | head -3)"
  # The limits the kernel enforces, read from the host while the job runs: the default for the
  # job, --pids-limit for a service, none with --pids-limit -1.
  wf ci.yml <<EOF
on: push
jobs:
  limits:
    runs-on: ubuntu-latest
    services:
      capped:
        image: busybox:test
        command: "sh -c ': $mark-capped; sleep 120; :'"
        options: --pids-limit 100
      free:
        image: busybox:test
        command: "sh -c ': $mark-free; sleep 120; :'"
        options: --pids-limit -1
    steps:
      - run: |
          sh -c ': $mark-job; for i in \$(seq 600); do [ -e "$R/go" ] && exit 0; sleep 0.1; done; exit 1'
EOF
  commit_repo "$R"
  (cd "$R" && "$RUNNEL" run >"$T/limits.out" 2>&1) &
  rpid=$!
  # pids.max of the cgroup the process with the marker is in, as the host sees it
  pids_max() {
    local pid cg mnt
    pid=$(pgrep -o -f "$1") || return 1
    if cg=$(grep -E '^[0-9]+:([^:]*,)?pids(,[^:]*)?:' "/proc/$pid/cgroup"); then
      mnt=$(awk '$3 == "cgroup" && $4 ~ /(^|,)pids(,|$)/ {print $2; exit}' /proc/mounts)
    else
      cg=$(grep '^0::' "/proc/$pid/cgroup")
      mnt=$(awk '$3 == "cgroup2" {print $2; exit}' /proc/mounts)
    fi
    cat "$mnt${cg#*:*:}/pids.max" 2>/dev/null || echo "no pids.max in ${cg#*:*:}"
  }
  for _ in $(seq 300); do
    pgrep -f "$mark-job" >/dev/null && pgrep -f "$mark-capped" >/dev/null &&
      pgrep -f "$mark-free" >/dev/null && break
    sleep 0.1
  done
  job=$(pids_max "$mark-job") || { touch "$R/go"; wait $rpid || true; fail "the job never ran: $(cat "$T/limits.out")"; }
  capped=$(pids_max "$mark-capped")
  free=$(pids_max "$mark-free")
  touch "$R/go"
  wait $rpid || fail "limits job failed: $(cat "$T/limits.out")"
  expect_eq "$job" 4096 "default pids limit of a job container"
  expect_eq "$capped" 100 "pids limit of a service with --pids-limit 100"
  [[ $free != [0-9]* ]] || fail "a service with --pids-limit -1 has a pids limit: $free"
  sleep 0.2
  pgrep -f "$mark" >/dev/null && fail "processes survived the job: $(pgrep -af "$mark" | head -3)"
  # a docker action's container gets the same default, and RUNNEL_PIDS_LIMIT reaches it
  wf ci.yml <<EOF
on: push
jobs:
  act:
    runs-on: ubuntu-latest
    steps:
      - uses: docker://busybox:test
        with:
          entrypoint: /bin/sh
          args: >-
            -c ': $mark-action; for i in \$(seq 600); do [ -e /github/workspace/go2 ] && exit 0; sleep 0.1; done; exit 1'
EOF
  commit_repo "$R"
  (cd "$R" && "$RUNNEL" run -P ubuntu-latest=host >"$T/action.out" 2>&1) &
  rpid=$!
  for _ in $(seq 300); do pgrep -f "$mark-action" >/dev/null && break; sleep 0.1; done
  action=$(pids_max "$mark-action") || action="the action never ran"
  touch "$R/go2"
  wait $rpid || fail "docker action job failed: $(cat "$T/action.out")"
  expect_eq "$action" 4096 "default pids limit of a docker action's container"
  RUNNEL_PIDS_LIMIT=lots run -P ubuntu-latest=host
  expect_rc "$RC" 1 "exit status (RUNNEL_PIDS_LIMIT=lots)"
  has_line "[ci.yml/act]   error: docker action busybox:test: invalid RUNNEL_PIDS_LIMIT 'lots' (a count, or -1)"
  true
  ;;
net)
  # The private network of a job with services has a route out through slirp4netns: a server on
  # the host's non-loopback address is reachable, the host's loopback is not (neither as
  # 127.0.0.1, the job's own, nor as slirp's gateway 10.0.2.2: --disable-host-loopback), the
  # service still by name and on localhost, DNS is slirp's forwarder; nothing is left running.
  [ "$(id -u)" = 0 ] || skip "the private network of a job with services needs root"
  command -v slirp4netns >/dev/null || skip "slirp4netns missing (Debian package slirp4netns)"
  hostip=$(ip -4 -o addr show scope global 2>/dev/null | awk '{sub("/.*", "", $4); print $4; exit}')
  [ -n "$hostip" ] || skip "no global IPv4 address on this host"
  port=$("$IMGTOOL" freeport)
  outport=$("$IMGTOOL" freeport)
  loport=$("$IMGTOOL" freeport)
  mkdir -p "$T/www" && echo outside-page >"$T/www/index.html"
  busybox httpd -f -p "$hostip:$outport" -h "$T/www" &
  h1=$!
  busybox httpd -f -p "127.0.0.1:$loport" -h "$T/www" &
  h2=$!
  trap 'kill $h1 $h2 2>/dev/null; cleanup' EXIT
  for _ in $(seq 50); do
    busybox wget -q -O /dev/null "http://$hostip:$outport/" &&
      busybox wget -q -O /dev/null "http://127.0.0.1:$loport/" && break
    sleep 0.1
  done
  expect_eq "$(busybox wget -q -O- "http://127.0.0.1:$loport/")" outside-page "host loopback listener"
  before=$(stray_slirps)
  wf ci.yml <<EOF
on: push
jobs:
  net:
    runs-on: ubuntu-latest
    container: busybox:test
    services:
      web:
        image: busybox:test
        command: sh -c 'mkdir -p /www && echo svc-page > /www/index.html && exec httpd -f -p $port -h /www'
        options: --health-cmd "wget -q -O /dev/null http://127.0.0.1:$port/" --health-interval 300ms --health-retries 20
    steps:
      - run: |
          echo "outside=\$(timeout 10 wget -q -O- http://$hostip:$outport/)"
          echo "by-name=\$(wget -q -O- http://web:$port/) localhost=\$(wget -q -O- http://localhost:$port/)"
          # (busybox-static 1.35's wget -T segfaults: a crash must not pass for "unreachable")
          o=\$(timeout 5 wget -q -O /dev/null http://127.0.0.1:$loport/ 2>&1) && r=0 || r=\$?; echo "loopback: \$o rc=\$r"
          o=\$(timeout 5 wget -q -O /dev/null http://10.0.2.2:$loport/ 2>&1) && r=0 || r=\$?; echo "gateway: \$o rc=\$r"
          echo "resolv=\$(cat /etc/resolv.conf) route=\$(ip route | grep -c '^default via 10.0.2.2 dev tap0')"
EOF
  run
  expect_rc "$RC" 0 "exit status"
  has_line "[ci.yml/net]   | outside=outside-page"
  has_line "[ci.yml/net]   | by-name=svc-page localhost=svc-page"
  has_line "[ci.yml/net]   | loopback: wget: can't connect to remote host (127.0.0.1): Connection refused rc=1"
  has_line "[ci.yml/net]   | gateway: wget: can't connect to remote host (10.0.2.2): Network is unreachable rc=1"
  has_line "[ci.yml/net]   | resolv=nameserver 10.0.2.3 route=1"
  grep -q "no route outside" <<<"$OUT" && fail "warned about a missing route: $OUT"
  sleep 0.2
  expect_eq "$(stray_slirps)" "$before" "slirp4netns processes after the job"
  pgrep -f "httpd -f -p $port" >/dev/null && fail "the service outlived its job"
  # Without slirp4netns: today's private network (only lo), said once in the job's log.
  RUNNEL_SLIRP4NETNS=$T/no-slirp4netns run
  expect_rc "$RC" 0 "exit status without slirp4netns"
  has_line "[ci.yml/net] warning: the job's private network has no route outside (only the job and its services): slirp4netns not found (install the Debian package slirp4netns)"
  expect_eq "$(grep -c "no route outside" <<<"$OUT")" 1 "warnings without slirp4netns"
  grep -q "outside=outside-page" <<<"$OUT" && fail "the outside was reachable without slirp4netns"
  has_line "[ci.yml/net]   | by-name=svc-page localhost=svc-page"
  has_line "[ci.yml/net]   | loopback: wget: can't connect to remote host (127.0.0.1): Connection refused rc=1"
  ;;
cache-svc)
  # A job with services has a private network: runnel's cache service for its JavaScript
  # actions listens on the same 127.0.0.1:PORT inside it, while the host's other loopback
  # listeners stay unreachable.
  host_listener
  mkdir -p "$R/.github/actions/probe"
  cat >"$R/.github/actions/probe/action.yml" <<'EOF'
name: probe
runs:
  using: node20
  main: main.js
EOF
  cat >"$R/.github/actions/probe/main.js" <<EOF
// Shaped like @actions/cache's v1 lookup, then a plain request to another host listener.
const base = process.env.ACTIONS_CACHE_URL;
const q = \`\${base}_apis/artifactcache/cache?keys=k&version=v\`;
(async () => {
  console.log(\`url=\${base ? base.replace(/:\\d+\\//, ':PORT/') : 'unset'}\`);
  const good = await fetch(q, { headers: { Authorization: \`Bearer \${process.env.ACTIONS_RUNTIME_TOKEN}\` } });
  console.log(\`with token: \${good.status}\`);
  const bad = await fetch(q, { headers: { Authorization: 'Bearer wrong' } });
  console.log(\`wrong token: \${bad.status}\`);
  try {
    const r = await fetch('http://127.0.0.1:$hostport/');
    console.log(\`host listener: \${r.status}\`);
  } catch (e) {
    console.log(\`host listener: \${e.cause ? e.cause.code : e}\`);
  }
})().catch((e) => { console.log(\`error: \${e}\`); process.exit(1); });
EOF
  wf ci.yml <<'EOF'
on: push
jobs:
  with-svc:
    runs-on: ubuntu-latest
    services:
      idle:
        image: busybox:test
        command: sleep 60
    steps:
      - uses: ./.github/actions/probe
      - run: echo "net=${{ job.services.idle.network }}"
EOF
  run
  expect_rc "$RC" 0 "exit status"
  has_line "[ci.yml/with-svc]   | url=http://127.0.0.1:PORT/"
  has_line "[ci.yml/with-svc]   | with token: 204"
  has_line "[ci.yml/with-svc]   | wrong token: 401"
  has_line "[ci.yml/with-svc]   | host listener: ECONNREFUSED"
  has_line "[ci.yml/with-svc]   | net=private"
  grep -q "cache service unavailable" <<<"$OUT" && fail "a cache service warning: $OUT"
  true
  ;;
cache-image)
  # actions/cache in an image container: `~` is the job's /github/home (a folder of the run on
  # the host), never the host user's home; the entry names the job's paths, so the next run
  # (another folder) gets the same bytes back; a path in the container's own files is refused.
  wf ci.yml <<'EOF'
on: push
jobs:
  build:
    runs-on: ubuntu-latest
    container: busybox:test
    steps:
      - uses: actions/cache@v4
        id: c
        with:
          path: |
            ~/.stuff
            deps
          key: stuff-1
      - run: |
          echo "hit=${{ steps.c.outputs.cache-hit }} home=$HOME"
          if [ ! -f ~/.stuff/x ]; then
            mkdir -p ~/.stuff deps
            head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n' > ~/.stuff/x
            cp ~/.stuff/x deps/y
          fi
          echo "home-data=$(cat ~/.stuff/x) ws-data=$(cat deps/y)"
      - uses: actions/cache@v4
        with:
          path: /opt/tool
          key: tool-1
EOF
  printf 'deps/\n' >"$R/.gitignore"
  run
  expect_rc "$RC" 0 "exit status (run 1)"
  has_line "[ci.yml/build]   | hit= home=/github/home"
  d1=$(grep -o 'home-data=[0-9a-f]* ws-data=[0-9a-f]*' <<<"$OUT")
  [ -n "$d1" ] || fail "run 1 printed no data: $OUT"
  has "Cache saved with key: stuff-1"
  has "/opt/tool is inside the job's container, where runnel's built-in cache does not reach"
  [ -e "$HOME/.stuff" ] && fail "the cache wrote into the host user's home"
  rm -rf "$R/deps"
  run
  expect_rc "$RC" 0 "exit status (run 2)"
  has_line "[ci.yml/build]   | hit=true home=/github/home"
  has "Cache restored from key: stuff-1"
  d2=$(grep -o 'home-data=[0-9a-f]* ws-data=[0-9a-f]*' <<<"$OUT")
  expect_eq "$d2" "$d1" "restored bytes"
  [ -e "$HOME/.stuff" ] && fail "the restore wrote into the host user's home"
  true
  ;;
setup-java-image)
  # setup-java in an image container: the host's JDKs are not in it, so only the tool cache
  # (shared at its host path) counts; a JDK there is found and runs in the container.
  export RUNNER_TOOL_CACHE=$T/toolcache
  mkdir -p "$RUNNER_TOOL_CACHE"
  wf ci.yml <<'EOF'
on: push
jobs:
  build:
    runs-on: ubuntu-latest
    container: busybox:test
    steps:
      - uses: actions/setup-java@v4
        with:
          distribution: temurin
          java-version: '17'
      - run: echo "home=$JAVA_HOME" && java -version
EOF
  run
  expect_rc "$RC" 1 "exit status without a JDK in the tool cache"
  has_line "[ci.yml/build]   error: no installed JDK matches java-version '17' (found: none in $RUNNER_TOOL_CACHE); in an image container runnel's setup-java looks only in the tool cache (RUNNER_TOOL_CACHE), which the container shares: the host's JDKs are not in it"
  jdk=$RUNNER_TOOL_CACHE/Java_Temurin-Hotspot_jdk/17.0.9/x64
  mkdir -p "$jdk/bin"
  echo 'JAVA_VERSION="17.0.9"' >"$jdk/release"
  printf '#!/bin/sh\necho "fake openjdk 17.0.9 on $(. /etc/os-release; echo $ID)"\n' >"$jdk/bin/java"
  chmod +x "$jdk/bin/java"
  run
  expect_rc "$RC" 0 "exit status with a JDK in the tool cache"
  has_line "[ci.yml/build]   | home=$jdk"
  has_line "[ci.yml/build]   | fake openjdk 17.0.9 on runnel-test"
  ;;
coverage-image)
  # runnel/coverage@v1 reads the reports from the host side: in an image container, those in
  # the workspace; one in the container's own /tmp is refused, not read from the host's /tmp.
  printf 'SF:a.c\nDA:1,1\nDA:2,0\nLF:2\nLH:1\nend_of_record\n' >/tmp/rn-cjob-host.$$.info
  trap 'rm -f /tmp/rn-cjob-host.$$.info; cleanup' EXIT
  wf ci.yml <<EOF
on: push
jobs:
  ws:
    runs-on: ubuntu-latest
    container: busybox:test
    steps:
      - run: printf 'SF:a.c\\nDA:1,1\\nDA:2,1\\nLF:2\\nLH:2\\nend_of_record\\n' > cov.info
      - uses: runnel/coverage@v1
        with:
          reports: cov.info
  inside:
    runs-on: ubuntu-latest
    container: busybox:test
    steps:
      - run: printf 'SF:a.c\\nDA:1,1\\nLF:1\\nLH:1\\nend_of_record\\n' > /tmp/rn-cjob-host.$$.info
      - uses: runnel/coverage@v1
        with:
          reports: /tmp/rn-cjob-host.$$.info
EOF
  printf 'cov.info\n' >"$R/.gitignore"
  run
  expect_rc "$RC" 1 "exit status"
  has "[ci.yml/ws] 🏁  Job succeeded"
  has_line "[ci.yml/inside]   error: runnel/coverage@v1: /tmp/rn-cjob-host.$$.info is inside the job's container, where runnel cannot read it: put the reports in the workspace"
  ;;
*)
  fail "unknown case $CASE"
  ;;
esac
echo "ok: $CASE"
