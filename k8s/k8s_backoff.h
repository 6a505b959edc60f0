/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* k8s_backoff.h - exponential backoff with jitter, capped, reset on success. */
#ifndef SL_K8S_BACKOFF_H
#define SL_K8S_BACKOFF_H

#include <stdint.h>

/* Attempt n waits a random time in [base/2, base], base = min(initial * 2^n, max): the
 * jitter spreads reconnecting agents even at the cap, and no wait exceeds max. */
struct sl_k8s_backoff {
	unsigned initial_ms, max_ms;
	unsigned attempt;
	uint64_t rng;
};

void sl_k8s_backoff_init(struct sl_k8s_backoff *b, unsigned initial_ms, unsigned max_ms,
			 uint64_t seed);
/* The next delay (ms); advances the schedule. */
unsigned sl_k8s_backoff_next(struct sl_k8s_backoff *b);
void sl_k8s_backoff_reset(struct sl_k8s_backoff *b);

#endif
