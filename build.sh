#!/usr/bin/env bash
# The one entry point of Plexus.
#
#   ./build.sh               install missing Debian packages, configure, build (debug)
#   ./build.sh test          build and run every test, in a normal build and under ASan+UBSan
#   ./build.sh bench [--FLAG=N ...] [NAME ...]
#                            build in Release and run the benchmarks (all, or the ones named);
#                            flags go to every program, e.g. --runs=3 for the median of 3
#   ./build.sh run [FLAGS]   build and run the main job: the lambda architecture on one
#                            cluster, with a live view (see README.md, docs/lambda.md)
#   ./build.sh install [PREFIX]
#                            build in Release and install the SDK (headers, libraries,
#                            pkg-config files, CMake package, programs) into PREFIX
#                            (default /usr/local); see docs/framework-guide.md
#
# A second run only rebuilds what changed and installs nothing.
set -euo pipefail
cd "$(dirname "$0")"

PACKAGES=(
	build-essential cmake pkg-config
	libev-dev libnng-dev libmbedtls-dev
	libprotobuf-c-dev protobuf-c-compiler
	libcriterion-dev libjansson-dev
	libcurl4-openssl-dev libarchive-dev curl libjs-jquery chromium
	python3
)

JOBS=$(nproc 2>/dev/null || echo 2)

log() { printf '== %s\n' "$*" >&2; }

ensure_packages() {
	local missing=() p
	for p in "${PACKAGES[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
			missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	log "installing Debian packages: ${missing[*]}"
	local sudo=()
	[ "$(id -u)" -eq 0 ] || sudo=(sudo)
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -q --no-install-recommends "${missing[@]}"
}

# build_tree DIR BUILD_TYPE [cmake args...]: configure once, then build incrementally.
build_tree() {
	local dir=$1 type=$2
	shift 2
	if [ ! -f "build/$dir/CMakeCache.txt" ]; then
		log "configuring build/$dir ($type)"
		cmake -S . -B "build/$dir" -DCMAKE_BUILD_TYPE="$type" "$@" >/dev/null
	fi
	log "building build/$dir"
	cmake --build "build/$dir" -j "$JOBS"
}

run_tests() {
	local dir=$1
	log "testing build/$dir"
	ctest --test-dir "build/$dir" --output-on-failure -j "$JOBS"
}

# Benchmarks are named like "actor.pingpong_local"; the program is bench/actor/pingpong_local.
# Arguments that start with "--" are flags handed to every program (see docs/benchmarks.md).
# Each program prints its one JSON result line on stdout; everything else goes to stderr.
run_bench() {
	local names=() flags=() arg name bin failed=0
	for arg in "$@"; do
		case "$arg" in
		--*) flags+=("$arg") ;;
		*) names+=("$arg") ;;
		esac
	done
	if [ ${#names[@]} -eq 0 ]; then
		mapfile -t names < <(find build/release/bench -mindepth 2 -maxdepth 2 -type f -perm -u+x \
			-printf '%h/%f\n' | sed 's|build/release/bench/||; s|/|.|' | sort)
	fi
	for name in "${names[@]}"; do
		bin="build/release/bench/${name/./\/}"
		if [ ! -x "$bin" ]; then
			echo "unknown benchmark: $name" >&2
			failed=1
			continue
		fi
		log "bench $name"
		"$bin" "${flags[@]}" || {
			log "bench $name FAILED"
			failed=1
		}
	done
	return $failed
}

# The main job: the lambda architecture on one `plexus local` cluster (docs/lambda.md):
# cassandra, storm, spark and a page-view generator sharing it, with a live view until
# Ctrl-C, which stops everything. Flags go to `plexus lambda up` (e.g. --rate=100000).
run_lambda() {
	exec build/debug/cli/plexus-lambda up "$@"
}

cmd=${1:-build}
[ $# -gt 0 ] && shift
case "$cmd" in
build)
	ensure_packages
	build_tree debug Debug
	;;
test)
	ensure_packages
	build_tree debug Debug
	# The shared libraries, for the test that installs the SDK and builds examples/.
	cmake --build build/debug -j "$JOBS" --target sdk
	run_tests debug
	build_tree asan Debug -DPLEXUS_SANITIZE=ON
	run_tests asan
	;;
bench)
	# Only the result lines go to stdout, so `./build.sh bench > results.jsonl` works.
	{
		ensure_packages
		build_tree release Release
	} >&2
	run_bench "$@"
	;;
run)
	ensure_packages
	build_tree debug Debug
	run_lambda "$@"
	;;
install)
	prefix=${1:-/usr/local}
	ensure_packages
	build_tree release Release
	cmake --build build/release -j "$JOBS" --target sdk
	log "installing into $prefix"
	cmake --install build/release --prefix "$prefix" >/dev/null
	log "installed: pkg-config --cflags --libs plexus (PKG_CONFIG_PATH=$prefix/lib/pkgconfig)"
	;;
-h | --help | help)
	sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'
	;;
*)
	echo "build.sh: unknown command '$cmd' (try: build, test, bench, run, install)" >&2
	exit 2
	;;
esac
