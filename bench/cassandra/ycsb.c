/* ycsb.c — see ycsb.h. */
#include "ycsb.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <actor/runtime.h>

#include "bench.h"
#include "cas_client.h"
#include "cas_discover.h"
#include "cas_session.h"

static int64_t records = 1000000, ops = 200000, record_bytes = 1024, window = 128, periodic = 0;
static const bench_flag flags[] = {
    {"records", &records, "records loaded before the run"},
    {"ops", &ops, "operations measured"},
    {"record_bytes", &record_bytes, "bytes per record"},
    {"window", &window, "requests in flight"},
    {"periodic", &periodic, "1: commit log sync periodic (Cassandra's default), 0: batch"},
};

static char dir[256];
static pid_t children[2];

/* ---- the cluster ------------------------------------------------------------------ */

static bool port_free(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	bool ok = fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
	if (fd >= 0)
		close(fd);
	return ok;
}

static int free_ports(int span)
{
	static bool seeded;
	if (!seeded)
		srand((unsigned)getpid());
	seeded = true;
	for (int t = 0; t < 1000; t++) {
		int base = 20000 + rand() % 12000; /* below the ephemeral range */
		bool ok = true;
		for (int i = 0; i < span && ok; i++)
			ok = port_free(base + i);
		if (ok)
			return base;
	}
	bench_fail("no free ports");
}

static pid_t spawn(const char *log, const char *const *argv)
{
	pid_t pid = fork();
	if (pid < 0)
		bench_fail("fork: %s", strerror(errno));
	if (pid == 0) {
		char path[512];
		snprintf(path, sizeof(path), "%s/%s", dir, log);
		if (freopen(path, "w", stdout) == NULL || dup2(fileno(stdout), 2) < 0)
			_exit(127);
		setpgid(0, 0);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	return pid;
}

/* Ends everything started, executors included (they come back to us as orphans). */
static void cleanup(void)
{
	for (int i = 0; i < 2; i++)
		if (children[i] > 0) {
			kill(children[i], SIGKILL);
			waitpid(children[i], NULL, 0);
		}
	for (int round = 0; round < 50; round++) {
		int found = 0;
		DIR *d = opendir("/proc");
		for (struct dirent *e; d && (e = readdir(d)) != NULL;) {
			char path[300], buf[512];
			int pid = atoi(e->d_name);
			snprintf(path, sizeof(path), "/proc/%d/stat", pid);
			FILE *f = pid > 0 ? fopen(path, "r") : NULL;
			if (f == NULL)
				continue;
			size_t n = fread(buf, 1, sizeof(buf) - 1, f);
			fclose(f);
			buf[n] = '\0';
			const char *p = strrchr(buf, ')');
			int ppid = 0;
			if (p && sscanf(p + 2, "%*c %d", &ppid) == 1 && ppid == getpid()) {
				kill(-pid, SIGKILL);
				kill(pid, SIGKILL);
				found++;
			}
		}
		if (d)
			closedir(d);
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		if (found == 0)
			break;
		struct timespec ts = {0, 20 * 1000000};
		nanosleep(&ts, NULL);
	}
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (dir[0] && system(cmd) != 0)
		bench_log("cannot remove %s", dir);
}

static void fail_cleanup(const char *why)
{
	cleanup();
	bench_fail("%s", why);
}

/* Starts plexus local with three agents and the scheduler; returns the node list. */
static char *start_cluster(char *master, size_t n)
{
	snprintf(dir, sizeof(dir), "/tmp/cas-bench-%d-XXXXXX", (int)getpid());
	if (mkdtemp(dir) == NULL)
		bench_fail("mkdtemp: %s", strerror(errno));
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	int http = free_ports(1), ports;
	do
		ports = free_ports(30);
	while (http >= ports && http < ports + 30);
	char portf[32], work[512], res[160], m[96], st[600];
	snprintf(master, n, "127.0.0.1:%d", http);
	snprintf(portf, sizeof(portf), "--port=%d", http);
	snprintf(work, sizeof(work), "--work-dir=%s/work", dir);
	snprintf(res, sizeof(res), "--resources=cpus:2;mem:4096;disk:65536;ports:[%d-%d]", ports,
	         ports + 29);
	const char *local[] = {PLEXUS_PATH, "local", "--agents=3", "--ip=127.0.0.1", portf, work, res,
	                       "--allocation-interval=200ms", NULL};
	children[0] = spawn("local.log", local);
	snprintf(m, sizeof(m), "--master=%s", master);
	snprintf(st, sizeof(st), "--state=%s/scheduler.json", dir);
	const char *sched[] = {CAS_PATH, "start", m, "--nodes=3", "--rf=3", st, "--cpus=0.5",
	                       "--mem=1024", "--disk=16384",
	                       periodic ? "--node-args=--memtable-mb=64 --commitlog-sync=periodic"
	                                : "--node-args=--memtable-mb=64 --commitlog-sync=batch",
	                       NULL};
	children[1] = spawn("scheduler.log", sched);
	for (int waited = 0; waited < 120000; waited += 200) {
		cas_discovery d;
		char err[256];
		if (cas_discover(master, "cassandra", &d, err, sizeof(err)) == 0 && d.nnodes == 3) {
			char *nodes = strdup(d.nodes);
			cas_discovery_fini(&d);
			return nodes;
		}
		cas_discovery_fini(&d);
		struct timespec ts = {0, 200 * 1000000};
		nanosleep(&ts, NULL);
	}
	fail_cleanup("the three nodes did not start");
	return NULL;
}

/* ---- the workload ------------------------------------------------------------------- */

/* YCSB's ZipfianGenerator (Gray et al., "Quickly generating billion-record synthetic
 * databases"), theta 0.99, over [0, n). */
struct zipf {
	double theta, alpha, zetan, eta, zeta2;
	uint64_t n, rng;
};

static double zeta(uint64_t n, double theta)
{
	double s = 0;
	for (uint64_t i = 1; i <= n; i++)
		s += 1.0 / pow((double)i, theta);
	return s;
}

static void zipf_init(struct zipf *z, uint64_t n)
{
	z->n = n;
	z->theta = 0.99;
	z->zeta2 = zeta(2, z->theta);
	z->zetan = zeta(n, z->theta);
	z->alpha = 1.0 / (1.0 - z->theta);
	z->eta = (1 - pow(2.0 / (double)n, 1 - z->theta)) / (1 - z->zeta2 / z->zetan);
	z->rng = 88172645463325252ULL ^ (uint64_t)getpid();
}

static double uniform(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return (double)(*s >> 11) / 9007199254740992.0;
}

static uint64_t zipf_next(struct zipf *z)
{
	double u = uniform(&z->rng), uz = u * z->zetan;
	if (uz < 1.0)
		return 0;
	if (uz < 1.0 + pow(0.5, z->theta))
		return 1;
	uint64_t v = (uint64_t)((double)z->n * pow(z->eta * u - z->eta + 1, z->alpha));
	return v < z->n ? v : z->n - 1;
}

/* YCSB scatters the popular keys over the key space with a hash (FNV-64). */
static uint64_t scatter(uint64_t k, uint64_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	for (int i = 0; i < 8; i++) {
		h ^= (k >> (i * 8)) & 0xFF;
		h *= 0x100000001b3ULL;
	}
	return h % n;
}

static sem_t slots;
static uint64_t *lat;
static int64_t failures;
static uint8_t *payload;

struct op {
	uint64_t start;
	int64_t index; /* into lat, -1 while loading */
};

static void done_cb(int status, const char *message, const cas_cells *cells, void *arg)
{
	struct op *o = arg;
	(void)cells;
	if (status != CAS_OK) {
		if (__atomic_fetch_add(&failures, 1, __ATOMIC_RELAXED) < 5)
			bench_log("request failed: %s", message);
	} else if (o->index >= 0) {
		lat[o->index] = bench_now_ns() - o->start;
	}
	free(o);
	sem_post(&slots);
}

static void partition(uint64_t key, cas_wbuf *p)
{
	char k[32];
	int n = snprintf(k, sizeof(k), "user%llu", (unsigned long long)key);
	cas_put_u8(p, 14);
	cas_put_raw(p, "ycsb.usertable", 14);
	cas_put_raw(p, k, (size_t)n);
}

static void issue(cas_client *c, bool read, uint64_t key, int64_t index)
{
	struct op *o = malloc(sizeof(*o));
	cas_wbuf p = {0};
	if (o == NULL)
		bench_fail("out of memory");
	partition(key, &p);
	sem_wait(&slots);
	o->index = index;
	o->start = bench_now_ns();
	int rc;
	if (read) {
		rc = cas_client_read_async(c, CAS_QUORUM, p.data, p.len, done_cb, o);
	} else {
		cas_wbuf k = {0};
		cas_cells cells = {0};
		cas_put_u16(&k, (uint16_t)p.len);
		cas_put_raw(&k, p.data, p.len);
		cas_put_u8(&k, 0x03);
		cas_put_raw(&k, "field0", 6);
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		payload[key % (size_t)record_bytes] ^= 1; /* every version differs */
		cas_cells_push(&cells, cas_cell_alloc(k.data, (uint32_t)k.len,
		                                      (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000,
		                                      0, 0, payload, (uint32_t)record_bytes));
		rc = cas_client_write_async(c, CAS_QUORUM, p.data, p.len, &cells, done_cb, o);
		cas_cells_fini(&cells);
		cas_wbuf_fini(&k);
	}
	cas_wbuf_fini(&p);
	if (rc != 0)
		bench_fail("cannot send a request");
}

static void drain(void)
{
	for (int64_t i = 0; i < window; i++)
		sem_wait(&slots);
	for (int64_t i = 0; i < window; i++)
		sem_post(&slots);
}

int ycsb_main(const char *name, int read_percent, int argc, char **argv)
{
	bench_start(name, argc, argv, flags, BENCH_NFLAGS(flags));
	if (records < 1 || ops < 1 || record_bytes < 1 || window < 1)
		bench_fail("records, ops, record_bytes and window must be positive");
	char master[64], err[512];
	char *nodes = start_cluster(master, sizeof(master));
	actor_config cfg;
	actor_config_default(&cfg);
	cfg.listen = true;
	cfg.http_port = -1;
	if (actor_runtime_init(&cfg) != 0)
		fail_cleanup("cannot start the runtime");
	cas_client *c = cas_client_connect(nodes, 20000, err, sizeof(err));
	if (c == NULL)
		fail_cleanup(err);
	/* Every node must see the whole ring before QUORUM is reachable everywhere. */
	for (int waited = 0;; waited += 100) {
		size_t up = 0;
		char *save = NULL, *list = strdup(nodes);
		for (char *n = strtok_r(list, ",", &save); n; n = strtok_r(NULL, ",", &save)) {
			cas_ring_info info;
			if (cas_client_ring(c, n, &info, err, sizeof(err)) == CAS_OK) {
				size_t k = 0;
				for (size_t i = 0; i < info.n; i++)
					k += info.v[i].up;
				up += k == 3;
				cas_ring_info_fini(&info);
			}
		}
		free(list);
		if (up == 3)
			break;
		if (waited > 30000)
			fail_cleanup("the ring did not form");
		struct timespec ts = {0, 100 * 1000000};
		nanosleep(&ts, NULL);
	}
	cas_session *s = cas_session_alloc(c);
	cas_result r;
	cas_session_set_consistency(s, CAS_QUORUM);
	if (cas_session_execute(s, "CREATE KEYSPACE ycsb WITH replication = {'class': "
	                           "'SimpleStrategy', 'replication_factor': 3}",
	                        &r, err, sizeof(err)) != 0)
		fail_cleanup(err);
	cas_result_fini(&r);
	cas_session_free(s);

	sem_init(&slots, 0, (unsigned)window);
	payload = malloc((size_t)record_bytes);
	lat = calloc((size_t)ops, sizeof(*lat));
	if (payload == NULL || lat == NULL)
		fail_cleanup("out of memory");
	memset(payload, 'x', (size_t)record_bytes);
	uint64_t t0 = bench_now_ns();
	for (int64_t i = 0; i < records; i++)
		issue(c, false, (uint64_t)i, -1);
	drain();
	double load_s = (double)(bench_now_ns() - t0) / 1e9;
	bench_log("loaded %lld records in %.1f s (%.0f inserts/s)", (long long)records, load_s,
	          (double)records / load_s);
	if (failures)
		fail_cleanup("some inserts failed");

	struct zipf z;
	zipf_init(&z, (uint64_t)records);
	uint64_t choose = 0x9E3779B97F4A7C15ULL;
	t0 = bench_now_ns();
	for (int64_t i = 0; i < ops; i++) {
		bool read = uniform(&choose) * 100 < read_percent;
		issue(c, read, scatter(zipf_next(&z), (uint64_t)records), i);
	}
	drain();
	double run_s = (double)(bench_now_ns() - t0) / 1e9;
	if (failures)
		fail_cleanup("some operations failed");
	bench_sort_u64(lat, (size_t)ops);
	bench_result *res = bench_result_alloc((double)ops / run_s, "ops/s");
	bench_result_extra(res, "p50_ms", (double)bench_percentile(lat, (size_t)ops, 50) / 1e6);
	bench_result_extra(res, "p99_ms", (double)bench_percentile(lat, (size_t)ops, 99) / 1e6);
	bench_result_extra(res, "load_inserts_per_s", (double)records / load_s);
	bench_result_param(res, "read_percent", read_percent);
	bench_result_param(res, "nodes", 3);
	bench_result_param(res, "rf", 3);
	cas_client_free(c);
	actor_runtime_fini();
	cleanup();
	free(nodes);
	free(lat);
	free(payload);
	bench_result_print(res);
	return 0;
}
