/* ycsb_a.c — cassandra.ycsb_a: YCSB workload A, 50% reads and 50% updates. */
#include "ycsb.h"

int main(int argc, char **argv)
{
	return ycsb_main("cassandra.ycsb_a", 50, argc, argv);
}
