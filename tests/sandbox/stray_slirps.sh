# Sourced by tests/sandbox/security.sh and tests/cjob/cjob_test.sh.
# stray_slirps: the pids (sorted) of slirp4netns processes that no live owner holds any more.
# Owners: the runnel front (`runnel sandbox`), runnel-core (`runnel run`) and unit_container;
# other tests running in parallel own theirs. A process that ends between pgrep and ps is not
# a stray.
stray_slirps() {
  local p pp
  for p in $(pgrep -x slirp4netns); do
    pp=$(ps -o ppid= -p "$p" | tr -d ' ')
    [ -n "$pp" ] || continue
    case "$(ps -o comm= -p "$pp" 2>/dev/null)" in
    runnel | runnel-core | unit_container) ;;
    *) echo "$p" ;;
    esac
  done | sort
}
