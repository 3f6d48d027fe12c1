#!/usr/bin/env bash
# The SDK as an outside framework author gets it: install this build into a temporary
# prefix, build examples/ there through pkg-config (make) and through the CMake package
# (find_package), with no path into the source or build tree, then run each example
# against a `plexus local` from the prefix and check what it printed.
#
#   installed.sh BUILD_DIR EXAMPLES_DIR
set -euo pipefail
build=$1
examples=$2
tmp=$(mktemp -d "${TMPDIR:-/tmp}/plexus-sdk-test-XXXXXX")
local_pid=
cleanup() {
	[ -n "$local_pid" ] && kill -TERM "$local_pid" 2>/dev/null && wait "$local_pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
fail() {
	echo "FAIL: $*" >&2
	exit 1
}

prefix=$tmp/prefix
cmake --install "$build" --prefix "$prefix" >/dev/null
export PKG_CONFIG_PATH=$prefix/lib/pkgconfig

# Only the public headers are installed, and a program cannot reach anything else.
[ -f "$prefix/include/plexus/scheduler.h" ] || fail "plexus/scheduler.h not installed"
[ -f "$prefix/include/plexus/plexus.pb-c.h" ] || fail "plexus/plexus.pb-c.h not installed"
[ -f "$prefix/include/actor/actor.h" ] || fail "actor/actor.h not installed"
for internal in master agent common proto frameworks; do
	[ ! -e "$prefix/include/$internal" ] || fail "internal headers installed: include/$internal"
done
printf '#include "common/resources.h"\nint main(void){return 0;}\n' >"$tmp/internal.c"
if cc -c -o "$tmp/internal.o" "$tmp/internal.c" $(pkg-config --cflags plexus) 2>/dev/null; then
	fail "an internal header was reachable from the installed include directory"
fi
# A pure actor program does not need protobuf.
pkg-config --libs libactor | grep -q protobuf && fail "libactor drags in protobuf-c"
[ "$("$prefix/bin/plexus" --version)" = "plexus $(pkg-config --modversion plexus)" ] ||
	fail "plexus --version does not match plexus.pc"

cp -r "$examples" "$tmp/examples"
make -s -C "$tmp/examples" >/dev/null || fail "examples do not build with pkg-config"
cmake -S "$tmp/examples" -B "$tmp/cmake-build" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null ||
	fail "find_package(Plexus) failed"
cmake --build "$tmp/cmake-build" >/dev/null || fail "examples do not build with the CMake package"

# A cluster from the prefix, on a port the kernel picks (it prints its address).
"$prefix/bin/plexus" local --agents=2 --port=0 --work-dir="$tmp/work" \
	--resources='cpus:2;mem:1024' >"$tmp/local.out" 2>"$tmp/local.log" &
local_pid=$!
master=
for _ in $(seq 100); do
	master=$(sed -n 's/^Use --master=\([^ ]*\) .*/\1/p' "$tmp/local.out")
	[ -n "$master" ] && "$prefix/bin/plexus" state --master="$master" >/dev/null 2>&1 && break
	sleep 0.1
done
[ -n "$master" ] || fail "plexus local did not start: $(tail -n 3 "$tmp/local.log")"

run() { # run NAME PROGRAM: runs one example with a deadline, output in $tmp/NAME.out
	timeout 60 "$2" "$master" >"$tmp/$1.out" 2>"$tmp/$1.err" || {
		cat "$tmp/$1.out" "$tmp/$1.err" >&2
		fail "$1 exited $?"
	}
}
passed=0
run ten_tasks "$tmp/examples/scheduler/ten_tasks"
[ "$(grep -c TASK_FINISHED "$tmp/ten_tasks.out")" -eq 10 ] || fail "ten_tasks: not 10 tasks finished"
passed=$((passed + 1))
run squares "$tmp/examples/executor/squares"
grep -q "sum of squares 1..4: 30" "$tmp/squares.out" || fail "squares: wrong sum"
passed=$((passed + 1))
run hello_cpp "$tmp/examples/cpp/hello"
grep -q "the task ended TASK_FINISHED" "$tmp/hello_cpp.out" || fail "hello (C++) did not finish"
passed=$((passed + 1))
run ten_tasks_cmake "$tmp/cmake-build/ten_tasks"
passed=$((passed + 1))
"$tmp/examples/actors/pingpong" | grep -q "ponger hit the ball 50000 times" || fail "pingpong"
passed=$((passed + 1))
echo "$passed passed, 0 failed"
