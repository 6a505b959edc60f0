// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* k8s_backoff.c - exponential backoff with jitter, capped, reset on success. */
#include "k8s_backoff.h"

static uint64_t xorshift(uint64_t *s)
{
	uint64_t x = *s ? *s : 0x9e3779b97f4a7c15ull;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*s = x;
	return x;
}

void sl_k8s_backoff_init(struct sl_k8s_backoff *b, unsigned initial_ms, unsigned max_ms,
			 uint64_t seed)
{
	b->initial_ms = initial_ms ? initial_ms : 1;
	b->max_ms = max_ms < b->initial_ms ? b->initial_ms : max_ms;
	b->attempt = 0;
	b->rng = seed;
}

unsigned sl_k8s_backoff_next(struct sl_k8s_backoff *b)
{
	uint64_t base = b->initial_ms;
	unsigned half, d;

	for (unsigned i = 0; i < b->attempt && base < b->max_ms; i++)
		base *= 2;
	if (base >= b->max_ms)
		base = b->max_ms;
	else
		b->attempt++; /* stops growing at the cap: no overflow */
	half = (unsigned)(base / 2);
	d = half + (unsigned)(xorshift(&b->rng) % ((uint64_t)(base - half) + 1));
	return d ? d : 1; /* never 0: no busy loop */
}

void sl_k8s_backoff_reset(struct sl_k8s_backoff *b)
{
	b->attempt = 0;
}
