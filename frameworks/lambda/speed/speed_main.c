/* speed_main.c — the speed layer's topology program (see speed.h). */
#include "speed.h"

static void build(stm_topology *t, void *arg)
{
	(void)arg;
	stm_component *tail = stm_spout(t, "tail", &speed_tail_spout, NULL, 1);
	stm_declare(tail, STM_DEFAULT_STREAM, 3, "url", "bucket", "time");
	stm_component *count = stm_bolt(t, "count", &speed_count_bolt, NULL,
	                                (int)stm_conf_int(t, "lambda.counters", 2));
	stm_declare(count, STM_DEFAULT_STREAM, 0);
	stm_fields(count, "tail", STM_DEFAULT_STREAM, 1, "url");
	stm_tick_every(count, stm_conf_int(t, SPEED_CONF_FLUSH_MS, 100));
	stm_set_workers(t, 2);
	/* In flight: the events of a few flush intervals at 100,000 events/s. */
	stm_set_max_spout_pending(t, 100000);
	stm_set_message_timeout_ms(t, 10000);
}

int main(int argc, char **argv)
{
	return stm_main(argc, argv, build, NULL);
}
