#!/usr/bin/env bash
# Smoke tests against a running webshop: /health must say UP and /api/catalog must list products.
#   scripts/smoke-tests.sh [BASE_URL]     default http://127.0.0.1:${PORT:-8080}
# Each check is retried (RETRIES times, DELAY seconds apart) so a service still starting passes.
set -euo pipefail
base=${1:-http://127.0.0.1:${PORT:-8080}}
retries=${RETRIES:-10}
delay=${DELAY:-1}

# check NAME PATH EXPECTED_STATUS BODY_SUBSTRING
check() {
  local name=$1 path=$2 want=$3 needle=$4 body status attempt
  for ((attempt = 1; attempt <= retries; attempt++)); do
    body=$(curl -sS --max-time 5 -w '\n%{http_code}' "$base$path" 2>/dev/null) || body=$'\n000'
    status=${body##*$'\n'}
    body=${body%$'\n'*}
    if [ "$status" = "$want" ] && [[ "$body" == *"$needle"* ]]; then
      echo "smoke: $name ok ($status)"
      return 0
    fi
    sleep "$delay"
  done
  echo "smoke: $name FAILED after $retries attempts: GET $base$path -> $status, body: ${body:0:200}" >&2
  return 1
}

check health /health 200 '"status":"UP"'
check catalog /api/catalog 200 '"sku":"KB-001"'
check product /api/catalog/1 200 '"id":1'
check missing-product /api/catalog/999 404 '"error"'
echo "smoke: all checks passed against $base"
