/* The clock a core runs at, as seen from this guest: a chain of dependent integer adds runs one
 * per cycle, timed per wall-clock second and per second of this thread's processor time (the
 * second is the core's clock while the thread ran, whatever else shares the machine).
 *   cc -O2 bench/clock_probe.c -o /tmp/clock_probe && taskset -c 0 /tmp/clock_probe [ADDS] [REPEATS]
 * docs/BENCHMARKS.md "Why the peak moves". */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double seconds(clockid_t clock) {
  struct timespec t;
  clock_gettime(clock, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

int main(int argc, char **argv) {
  const long adds = argc > 1 ? atol(argv[1]) : 300000000L;
  const int repeats = argc > 2 ? atoi(argv[2]) : 1;
  for (int r = 0; r < repeats; ++r) {
    long x = 0;
    const double wall = seconds(CLOCK_MONOTONIC), cpu = seconds(CLOCK_THREAD_CPUTIME_ID);
    for (long i = 0; i < adds; i += 10)
      __asm__ volatile("add $1,%0\n\tadd $1,%0\n\tadd $1,%0\n\tadd $1,%0\n\tadd $1,%0\n\t"
                       "add $1,%0\n\tadd $1,%0\n\tadd $1,%0\n\tadd $1,%0\n\tadd $1,%0"
                       : "+r"(x));
    printf("%.2f GHz per wall second, %.2f GHz per processor second\n", adds / (seconds(CLOCK_MONOTONIC) - wall) / 1e9,
           adds / (seconds(CLOCK_THREAD_CPUTIME_ID) - cpu) / 1e9);
  }
  return 0;
}
