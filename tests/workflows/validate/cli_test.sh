#!/bin/sh
# CLI tests for `runnel validate`: exact exit codes and stderr on the fixtures next to this file.
# usage: cli_test.sh RUNNEL_BIN
set -u
BIN=$1
DIR=$(cd "$(dirname "$0")" && pwd)
cd "$DIR" || exit 1
fail=0
check() { # name expected_status expected_stderr -- args...
    name=$1 want_status=$2 want_err=$3
    shift 3
    err=$("$BIN" validate "$@" 2>&1 >/dev/null)
    status=$?
    if [ "$status" != "$want_status" ] || [ "$err" != "$want_err" ]; then
        printf 'FAIL %s\n  status: %s (want %s)\n  stderr:\n%s\n  want:\n%s\n' \
            "$name" "$status" "$want_status" "$err" "$want_err"
        fail=1
    else
        echo "ok   $name"
    fi
}
W=repo/.github/workflows
check valid 0 "" $W/ok.yml
check errors 1 "$W/bad.yml:5:22: Unexpected value 'soon'
$W/bad.yml:7:14: Unrecognized named-value: 'secret'. Located at position 1 within expression: secret.x
$W/bad.yml:8:15: Expected format {org}/{repo}[/path]@ref. Actual 'badformat'
$W/bad.yml:10:20: Job 'test' depends on unknown job 'nope'.
$W/bad.yml:15:11: Secret token is required, but not provided while calling.
$W/bad.yml:17:13: Unexpected value 'not-a-bool'
$W/bad.yml:18:14: Invalid input, extra is not defined in the referenced workflow." $W/bad.yml
check workflow-refs 1 "$W/refs.yml:4:11: invalid value workflow reference: cannot specify version when calling local workflows
$W/refs.yml:6:11: invalid value workflow reference: no version specified
$W/refs.yml:8:11: invalid value workflow reference: references to workflows must be prefixed with format 'owner/repository/' or './' for local workflows" $W/refs.yml
check remote-unchecked 0 "" $W/remote.yml
check local-repository 1 "$W/remote.yml:4:11: Input level is required, but not provided while calling.
$W/remote.yml:6:13: Invalid input, name is not defined in the referenced workflow." \
    --local-repository acme/tools@v1=ext $W/remote.yml
check missing-file 2 "runnel validate: cannot read nope.yml: No such file or directory" nope.yml
check no-args 2 "runnel validate: no workflow file given
usage: runnel validate [--local-repository OWNER/REPO@REF=DIR]... FILE...
Checks workflow files; prints every error as FILE:LINE:COL: message.
Exit status: 0 valid, 1 errors found, 2 usage error or unreadable file."
check bad-option-value 2 "runnel validate: --local-repository needs OWNER/REPO@REF=DIR, got 'acme'" \
    --local-repository acme $W/ok.yml
exit $fail
