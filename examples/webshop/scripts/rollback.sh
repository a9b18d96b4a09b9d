#!/usr/bin/env bash
# Rolls the local staging deployment back: stops the service whose pid the deploy job wrote to
# target/webshop.pid. (This example has no previous release to go back to; a real rollback would
# redeploy the last good one here.) Run from the workspace, as runnel/verify's `rollback` does.
set -euo pipefail
pidfile=target/webshop.pid
if [ ! -f "$pidfile" ]; then
  echo "rollback: no deployment to stop ($pidfile is absent)" >&2
  exit 1
fi
pid=$(cat "$pidfile")
kill "$pid"
# wait until it has let go of the port, so a redeploy can bind it at once
for _ in $(seq 1 50); do
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
rm -f "$pidfile"
echo "rolled back: stopped webshop pid $pid"
