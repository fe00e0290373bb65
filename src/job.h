/* SPDX-License-Identifier: MIT */
/* A call run in a thread of its own, or at once when no thread can be had:
 * the caller's result is the same either way, only the time differs. */
#ifndef BPFPROV_JOB_H
#define BPFPROV_JOB_H

#include <pthread.h>
#include <stdbool.h>

struct job {
	pthread_t thread;
	bool running;
};

static inline void job_start(struct job *j, void *(*fn)(void *), void *arg)
{
	j->running = pthread_create(&j->thread, NULL, fn, arg) == 0;
	if (!j->running)
		fn(arg);
}

static inline void job_wait(struct job *j)
{
	if (j->running)
		pthread_join(j->thread, NULL);
	j->running = false;
}

#endif
