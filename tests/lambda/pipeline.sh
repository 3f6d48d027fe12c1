#!/usr/bin/env bash
# tests/lambda/pipeline.sh BUILD-DIR — the lambda architecture end to end on real
# processes: `plexus lambda up` with a fixed number of events; once the generator is
# done and a batch run covers every bucket, the merged count of every URL equals the
# generator's ground truth; then SIGTERM stops everything and nothing is left running.
set -euo pipefail
build=$1
base=$(mktemp -d "${TMPDIR:-/tmp}/lambda-test.XXXXXX")
work=$base/run # emptied by up at start
log=$base/up.log
port=$((20000 + RANDOM % 20000))
http=$((port + 1))
up_pid=
cleanup() {
	[ -n "$up_pid" ] && kill -TERM "$up_pid" 2>/dev/null && wait "$up_pid" 2>/dev/null
	rm -rf "$base"
}
trap cleanup EXIT
fail() {
	echo "FAIL: $*" >&2
	tail -n 20 "$work"/logs/*.log "$log" >&2 || true
	exit 1
}

"$build/cli/plexus-lambda" up --no-view --port="$port" --http-port="$http" \
	--work-dir="$work" --rate=2000 --events=20000 --urls=20 --bucket=2secs \
	--batch-every=3secs >"$log" 2>&1 &
up_pid=$!

truth="$work/dataset/_truth.json"
deadline=$((SECONDS + 240))
while :; do
	[ $SECONDS -lt $deadline ] || fail "the merged counts never equalled the ground truth"
	kill -0 "$up_pid" 2>/dev/null || fail "plexus lambda up ended"
	if [ -f "$truth" ] && grep -q '"done": *true' "$truth" &&
		top=$(curl -sf "http://127.0.0.1:$http/lambda/top?n=100"); then
		if python3 - "$truth" "$top" <<'PY'
import json, sys
truth = json.load(open(sys.argv[1]))
top = json.loads(sys.argv[2])
merged = {a["url"]: a for a in top}
ok = truth["generated"] == 20000 and len(merged) == len(truth["urls"]) and all(
    u in merged and merged[u]["views"] == n and merged[u]["batch"]["events"] == 20000
    for u, n in truth["urls"].items())
sys.exit(0 if ok else 1)
PY
		then
			break
		fi
	fi
	sleep 1
done
echo "merged counts equal the ground truth after a batch run"

# Bad input gets a 400 with a message.
code=$(curl -s -o "$base/bad.json" -w '%{http_code}' "http://127.0.0.1:$http/lambda/query?url=%27x")
[ "$code" = 400 ] && grep -q error "$base/bad.json" || fail "a bad url answered $code"

kill -TERM "$up_pid"
wait "$up_pid" || true
up_pid=
grep -q 'stopped: nothing left running' "$log" || fail "up did not stop cleanly"
left=$(for p in /proc/[0-9]*; do
	cwd=$(readlink "$p/cwd" 2>/dev/null || true)
	case "$cwd" in "$work"/*) echo "${p#/proc/}" ;; esac
done)
[ -z "$left" ] || fail "processes left running: $left"
echo "stopped, nothing left running"
