/* cli.c — `plexus spark submit` runs a job program (the word count example) against a
 * real cluster: its output equals the reference, it shows its progress, and bad usage
 * is refused with a reason. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "spk_test.h"

static void register_fns(void)
{
}

SPK_TEST_BOOT(register_fns)

static struct spk_cluster cluster;

static void setup(void)
{
	spk_cluster_start(&cluster, 2, "cpus:2;mem:1024;disk:1024");
}

static void teardown(void)
{
	spk_cluster_stop(&cluster);
}

TestSuite(cli, .init = setup, .fini = teardown, .timeout = 150);

/* Runs plexus with args; stderr into errpath. The exit status. */
static int run(const char *const *args, const char *errpath)
{
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		int fd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		dup2(fd, 2);
		dup2(fd, 1);
		execv(PLEXUS_PATH, (char *const *)args);
		_exit(127);
	}
	int st;
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *text = calloc(1, 1 << 20);
	size_t n = f ? fread(text, 1, (1 << 20) - 1, f) : 0;
	text[n] = '\0';
	if (f)
		fclose(f);
	return text;
}

Test(cli, submit_runs_word_count_with_a_progress_line)
{
	char in[400], out[400], err[400], master[128];
	snprintf(in, sizeof(in), "%s/words.txt", cluster.dir);
	snprintf(out, sizeof(out), "%s/out", cluster.dir);
	snprintf(err, sizeof(err), "%s/submit.log", cluster.dir);
	snprintf(master, sizeof(master), "--master=%s", cluster.master);
	int want[50] = {0};
	FILE *f = fopen(in, "w");
	for (int i = 0; i < 5000; i++) {
		int w = (i * 7919) % 50;
		want[w]++;
		fprintf(f, "word%d%s", w, i % 10 == 9 ? "\n" : " ");
	}
	fclose(f);
	const char *args[] = {PLEXUS_PATH,   "spark", "submit", master, "--progress",
	                      SPK_WORDCOUNT, in,      out,      NULL};
	int rc = run(args, err);
	char *log = slurp(err);
	cr_assert_eq(rc, 0, "submit failed: %s", log);
	cr_expect(strstr(log, "[job 1 stage") != NULL, "no progress line in: %s", log);
	free(log);
	int got[50] = {0};
	for (int p = 0; p < 4; p++) {
		char part[500], line[64];
		snprintf(part, sizeof(part), "%s/part-%05d", out, p);
		FILE *pf = fopen(part, "r");
		cr_assert_not_null(pf, "no %s", part);
		while (fgets(line, sizeof(line), pf) != NULL) {
			int w, c;
			cr_assert_eq(sscanf(line, "word%d\t%d", &w, &c), 2, "line %s", line);
			got[w] += c;
		}
		fclose(pf);
	}
	for (int w = 0; w < 50; w++)
		cr_expect_eq(got[w], want[w], "word%d", w);
}

Test(cli, page_views_per_url_per_hour_equal_the_reference)
{
	char log[400], out[400], err[400], master[128], gen[32];
	snprintf(log, sizeof(log), "%s/views.log", cluster.dir);
	snprintf(out, sizeof(out), "%s/views", cluster.dir);
	snprintf(err, sizeof(err), "%s/views.err", cluster.dir);
	snprintf(master, sizeof(master), "--master=%s", cluster.master);
	snprintf(gen, sizeof(gen), "--generate=%d", 6000);
	pid_t pid = fork();
	if (pid == 0) {
		execl(SPK_PAGEVIEWS, SPK_PAGEVIEWS, gen, log, (char *)NULL);
		_exit(127);
	}
	int st;
	waitpid(pid, &st, 0);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	/* The reference: views per (page, hour) from the log itself. */
	enum { PAGES = 20, HOURS = 4 };
	int want[PAGES][HOURS] = {{0}};
	long long first_hour = -1;
	FILE *f = fopen(log, "r");
	long long ts;
	int page;
	while (fscanf(f, "%lld /page/%d %*s", &ts, &page) == 2) {
		if (first_hour < 0)
			first_hour = ts / 3600;
		cr_assert(page >= 0 && page < PAGES && ts / 3600 - first_hour < HOURS);
		want[page][ts / 3600 - first_hour]++;
	}
	fclose(f);
	const char *args[] = {PLEXUS_PATH,   "spark", "submit", master,
	                      SPK_PAGEVIEWS, log,     out,      NULL};
	int rc = run(args, err);
	char *text = slurp(err);
	cr_assert_eq(rc, 0, "%s", text);
	free(text);
	int got[PAGES][HOURS] = {{0}};
	char prev[128] = "";
	for (int p = 0; p < 2; p++) {
		char part[500], line[256];
		snprintf(part, sizeof(part), "%s/part-%05d", out, p);
		FILE *pf = fopen(part, "r");
		cr_assert_not_null(pf, "no %s", part);
		while (fgets(line, sizeof(line), pf) != NULL) {
			long long hour;
			int views;
			cr_assert_eq(sscanf(line, "/page/%d\t%lld\t%d", &page, &hour, &views), 3,
			             "line %s", line);
			char key[128];
			snprintf(key, sizeof(key), "/page/%d\t%lld", page, hour);
			cr_expect_lt(strcmp(prev, key), 0, "%s after %s", key, prev);
			snprintf(prev, sizeof(prev), "%s", key);
			got[page][hour - first_hour] += views;
		}
		fclose(pf);
	}
	for (int p = 0; p < PAGES; p++)
		for (int h = 0; h < HOURS; h++)
			cr_expect_eq(got[p][h], want[p][h], "page %d hour %d", p, h);
}

Test(cli, bad_usage_is_refused_with_a_reason)
{
	char err[400];
	snprintf(err, sizeof(err), "%s/bad.log", cluster.dir);
	const char *no_master[] = {PLEXUS_PATH, "spark", "submit", SPK_WORDCOUNT, NULL};
	cr_expect_eq(run(no_master, err), 2);
	char *log = slurp(err);
	cr_expect(strstr(log, "--master") != NULL, "%s", log);
	free(log);
	const char *missing[] = {PLEXUS_PATH,        "spark", "submit", "--master=127.0.0.1:1",
	                         "/no/such/program", NULL};
	cr_expect_eq(run(missing, err), 2);
	log = slurp(err);
	cr_expect(strstr(log, "/no/such/program") != NULL, "%s", log);
	free(log);
	const char *unknown[] = {PLEXUS_PATH, "spark", "frobnicate", NULL};
	cr_expect_eq(run(unknown, err), 2);
}
