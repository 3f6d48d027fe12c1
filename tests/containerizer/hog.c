/* hog.c — a task for the containerizer tests.
 *   hog mem MIB [hold]   allocates MIB MiB, touches every page, says "touched" on
 *                        stdout, then (with hold) waits to be killed
 *   hog spin CPU         pins itself to CPU and spins forever */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc >= 3 && strcmp(argv[1], "mem") == 0) {
		size_t mib = (size_t)atol(argv[2]);
		long page = sysconf(_SC_PAGESIZE);
		char **chunks = calloc(mib + 1, sizeof(*chunks));
		if (chunks == NULL)
			return 2;
		for (size_t i = 0; i < mib; i++) {
			/* One MiB at a time, so that a limit is met on the way up. */
			volatile char *p = malloc(1 << 20);
			if (p == NULL)
				return 2;
			for (size_t off = 0; off < (1 << 20); off += (size_t)page)
				p[off] = 1;
			chunks[i] = (char *)p;
		}
		printf("touched %zu MiB\n", mib);
		fflush(stdout);
		if (argc >= 4 && strcmp(argv[3], "hold") == 0)
			for (;;)
				pause();
		for (size_t i = 0; i < mib; i++)
			free(chunks[i]);
		free(chunks);
		return 0;
	}
	if (argc >= 3 && strcmp(argv[1], "spin") == 0) {
		cpu_set_t set;
		CPU_ZERO(&set);
		CPU_SET(atoi(argv[2]), &set);
		if (sched_setaffinity(0, sizeof(set), &set) != 0)
			return 3;
		for (volatile unsigned long n = 0;; n++)
			;
	}
	fprintf(stderr, "usage: hog mem MIB [hold] | hog spin CPU\n");
	return 2;
}
