/* metrics.c — see metrics.h. */
#include <stdbool.h>
#include <string.h>
#include <time.h>

#include "metrics.h"

int64_t stm_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int bucket_of(uint64_t us)
{
	if (us < 8)
		return (int)us;
	int log = 63 - __builtin_clzll(us); /* >= 3 */
	int sub = (int)((us >> (log - 3)) & 7);
	int b = (log - 2) * 8 + sub;
	return b < STM_HIST_BUCKETS ? b : STM_HIST_BUCKETS - 1;
}

/* The upper bound (us) of bucket b. */
static double bucket_top(int b)
{
	if (b < 8)
		return b + 1;
	int log = b / 8 + 2, sub = b % 8;
	return (double)((8ULL + (uint64_t)sub + 1) << (log - 3));
}

void stm_metrics_complete(struct stm_metrics *m, uint64_t us)
{
	int b = bucket_of(us);
	STM_ADD(m->complete[b], 1);
}

double stm_hist_quantile(const uint64_t *hist, double q)
{
	uint64_t total = 0, seen = 0;
	for (int b = 0; b < STM_HIST_BUCKETS; b++)
		total += hist[b];
	if (total == 0)
		return 0;
	uint64_t want = (uint64_t)(q * (double)total);
	if (want >= total)
		want = total - 1;
	for (int b = 0; b < STM_HIST_BUCKETS; b++) {
		seen += hist[b];
		if (seen > want)
			return bucket_top(b) / 1000.0;
	}
	return bucket_top(STM_HIST_BUCKETS - 1) / 1000.0;
}

static const char *const counters[] = {"emitted",     "transferred", "executed", "acked",
                                       "failed",      "timed_out",   "dropped",  "pending",
                                       "pending_max", "execute_us"};

void stm_metrics_to_json(const struct stm_metrics *m, json_t *o)
{
	const uint64_t v[] = {STM_GET(m->emitted),     STM_GET(m->transferred),
	                      STM_GET(m->executed),    STM_GET(m->acked),
	                      STM_GET(m->failed),      STM_GET(m->timed_out),
	                      STM_GET(m->dropped),     STM_GET(m->pending),
	                      STM_GET(m->pending_max), STM_GET(m->execute_us)};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		json_object_set_new(o, counters[i], json_integer((json_int_t)v[i]));
	json_t *hist = json_array();
	for (int b = 0; b < STM_HIST_BUCKETS; b++) {
		uint64_t n = STM_GET(m->complete[b]);
		if (n > 0)
			json_array_append_new(hist, json_pack("[iI]", b, (json_int_t)n));
	}
	json_object_set_new(o, "complete_hist", hist);
	stm_metrics_finish_json(o);
}

void stm_metrics_add_json(json_t *sum, const json_t *o)
{
	for (size_t i = 0; i < sizeof(counters) / sizeof(counters[0]); i++) {
		json_int_t have = json_integer_value(json_object_get(sum, counters[i]));
		json_int_t add = json_integer_value(json_object_get(o, counters[i]));
		if (strcmp(counters[i], "pending_max") == 0)
			have = have > add ? have : add;
		else
			have += add;
		json_object_set_new(sum, counters[i], json_integer(have));
	}
	json_t *hist = json_object_get(sum, "complete_hist");
	if (!json_is_array(hist)) {
		hist = json_array();
		json_object_set_new(sum, "complete_hist", hist);
	}
	size_t i;
	json_t *pair;
	json_array_foreach(json_object_get(o, "complete_hist"), i, pair)
	{
		json_int_t b = json_integer_value(json_array_get(pair, 0));
		json_int_t n = json_integer_value(json_array_get(pair, 1));
		if (b < 0 || b >= STM_HIST_BUCKETS || n <= 0)
			continue;
		bool found = false;
		size_t k;
		json_t *mine;
		json_array_foreach(hist, k, mine)
		{
			if (json_integer_value(json_array_get(mine, 0)) == b) {
				json_array_set_new(
				    mine, 1,
				    json_integer(json_integer_value(json_array_get(mine, 1)) + n));
				found = true;
				break;
			}
		}
		if (!found)
			json_array_append_new(hist, json_pack("[II]", b, n));
	}
}

void stm_metrics_finish_json(json_t *sum)
{
	uint64_t local[STM_HIST_BUCKETS];
	memset(local, 0, sizeof(local));
	size_t i;
	json_t *pair;
	double total_us = 0;
	uint64_t count = 0;
	json_array_foreach(json_object_get(sum, "complete_hist"), i, pair)
	{
		json_int_t b = json_integer_value(json_array_get(pair, 0));
		json_int_t n = json_integer_value(json_array_get(pair, 1));
		if (b >= 0 && b < STM_HIST_BUCKETS && n > 0) {
			local[b] += (uint64_t)n;
			total_us += (double)n * bucket_top((int)b);
			count += (uint64_t)n;
		}
	}
	json_object_set_new(sum, "complete_ms_p50", json_real(stm_hist_quantile(local, 0.50)));
	json_object_set_new(sum, "complete_ms_p99", json_real(stm_hist_quantile(local, 0.99)));
	json_object_set_new(sum, "complete_ms_avg",
	                    json_real(count ? total_us / (double)count / 1000.0 : 0.0));
	json_int_t executed = json_integer_value(json_object_get(sum, "executed"));
	json_int_t us = json_integer_value(json_object_get(sum, "execute_us"));
	json_object_set_new(sum, "execute_ms_avg",
	                    json_real(executed ? (double)us / (double)executed / 1000.0 : 0.0));
}
