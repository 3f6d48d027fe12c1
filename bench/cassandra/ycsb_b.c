/* ycsb_b.c — cassandra.ycsb_b: YCSB workload B, 95% reads and 5% updates. */
#include "ycsb.h"

int main(int argc, char **argv)
{
	return ycsb_main("cassandra.ycsb_b", 95, argc, argv);
}
