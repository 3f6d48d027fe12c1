/* bench.h — what every benchmark program shares: timing, percentiles, RSS, flags,
 * the one JSON result line, a countdown latch, and peer processes.
 *
 * A benchmark is one program that runs one fixed workload and prints, as the last line
 * of its stdout, one JSON object (see docs/benchmarks.md):
 *
 *     {"bench":"net.tcp_floor","value":27000.0,"unit":"roundtrips/s","params":{...},...}
 *
 * Logs go to stderr. A program that finds its work was not done (counts that do not
 * match, a peer that failed) exits non-zero through bench_fail() and prints no result.
 *
 * Typical shape:
 *
 *     static int64_t repeat = 100000;
 *     static const bench_flag flags[] = {
 *             {"repeat", &repeat, "round trips"},
 *     };
 *     int main(int argc, char **argv)
 *     {
 *             bench_start("net.tcp_floor", argc, argv, flags, BENCH_NFLAGS(flags));
 *             ... measure ...
 *             bench_result *r = bench_result_alloc(value, "roundtrips/s");
 *             bench_result_extra(r, "p50_us", p50);
 *             bench_result_print(r);
 *             return 0;
 *     }
 *
 * This library knows nothing of libactor, so the network floors can use it alone. */
#ifndef BENCH_BENCH_H
#define BENCH_BENCH_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Actors of one benchmark that run on different workers must not share a cache line
 * in their state, or the benchmark measures its own false sharing: give every state
 * struct a first member `BENCH_CACHELINE_ALIGNED char pad_;` or align the struct, and
 * allocate arrays of them with bench_alloc_aligned(). */
#define BENCH_CACHELINE 64
#define BENCH_CACHELINE_ALIGNED _Alignas(BENCH_CACHELINE)

/* n zeroed objects of size bytes each, aligned to a cache line; bench_fail()s on out of
 * memory. Free with free(). */
void *bench_alloc_aligned(size_t n, size_t size);

/* ---- time -------------------------------------------------------------------- */

/* Nanoseconds on CLOCK_MONOTONIC. */
uint64_t bench_now_ns(void);

/* ---- samples ----------------------------------------------------------------- */

/* Sorts n samples in place, ascending. */
void bench_sort_u64(uint64_t *v, size_t n);

/* The p-th percentile (0 < p <= 100, nearest rank) of n samples already sorted
 * ascending. Returns 0 when n == 0. */
uint64_t bench_percentile(const uint64_t *sorted, size_t n, double p);

/* ---- memory ------------------------------------------------------------------ */

/* Resident set size of this process in bytes (VmRSS), or 0 if /proc is unreadable. */
size_t bench_rss_bytes(void);
/* Peak resident set size of this process in bytes (VmHWM), or 0 if unreadable. */
size_t bench_peak_rss_bytes(void);

/* ---- flags ------------------------------------------------------------------- */

/* A parameter that `--name=N` overrides. value holds the default on entry. */
typedef struct bench_flag {
	const char *name;
	int64_t *value;
	const char *help;
} bench_flag;

#define BENCH_NFLAGS(a) (sizeof(a) / sizeof((a)[0]))

/* Starts the benchmark called name ("group.program"). Parses argv: every flag of the
 * table (--name=N), plus the built-in ones:
 *   --runs=N    run the whole program N times, each in a fresh process, and print
 *               the result of the median run (with every run's value under "runs")
 *   --peer=ROLE this process is a peer started by bench_peer_spawn (internal)
 *   --port=N    a port handed to a peer (internal)
 *   --help      prints the flags and exits
 * Exits with status 2 on an unknown or malformed flag. With --runs=N > 1 it never
 * returns: it runs the children and exits with their combined status. flags must
 * outlive the program (its values appear under "params" in the result). */
void bench_start(const char *name, int argc, char **argv, const bench_flag *flags, size_t n);

/* Prints "name: message" to stderr and exits with status 1. Use it whenever the
 * workload was not done as specified, so a wrong run never prints a figure. */
void bench_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* Logs "name: message" to stderr. */
void bench_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- the result line --------------------------------------------------------- */

typedef struct bench_result bench_result;

/* A result whose figure is value in unit ("roundtrips/s", "bytes/actor", ...).
 * Aborts on out of memory (a benchmark has nothing better to do). */
bench_result *bench_result_alloc(double value, const char *unit);
/* Adds a further figure as a top-level key, e.g. "p99_us". */
void bench_result_extra(bench_result *r, const char *key, double value);
/* Adds a further figure that is a count (printed as an integer). */
void bench_result_count(bench_result *r, const char *key, int64_t value);
/* Adds a parameter under "params" beyond those of the flag table (e.g. "workers"). */
void bench_result_param(bench_result *r, const char *key, int64_t value);
/* Adds the flags' values under "params" and "peak_rss_bytes", prints the object as one
 * line on stdout, flushes, and frees r. */
void bench_result_print(bench_result *r);

/* ---- latch ------------------------------------------------------------------- */

/* A countdown latch for a thread outside the runtime to wait on work done by others.
 * Counting down is one atomic add; only the last count takes a lock. */
typedef struct bench_latch bench_latch;

bench_latch *bench_latch_alloc(int64_t count);
void bench_latch_free(bench_latch *l);
/* Counts down by one; safe from any thread. */
void bench_latch_count_down(bench_latch *l);
/* Waits until the count reached zero, for at most timeout_ms of real time. Returns 0
 * when it has, -1 on timeout. */
int bench_latch_wait(bench_latch *l, int64_t timeout_ms);
/* The count still to go. */
int64_t bench_latch_remaining(const bench_latch *l);

/* ---- peer processes ---------------------------------------------------------- */

/* The role given to this process by bench_peer_spawn, or NULL in the main process. */
const char *bench_peer_role(void);
/* The --port given to this peer, or -1. */
int bench_peer_port(void);

/* Starts this same program again as a peer: /proc/self/exe with the caller's flags,
 * then --peer=role and --port=port (omitted when port < 0). The peer dies with its
 * parent (PR_SET_PDEATHSIG). Its stdout goes to stderr, so only the main process
 * prints a result. Returns the child's pid; bench_fail()s if it cannot start. */
pid_t bench_peer_spawn(const char *role, int port);
/* Waits up to timeout_ms for the peer to exit; kills it after that. Returns 0 when it
 * exited with status 0, -1 otherwise. */
int bench_peer_wait(pid_t pid, int64_t timeout_ms);

#endif
