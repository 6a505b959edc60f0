/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* entries.h - the map entries the compiler wants now, with what was last handed out, so that a
 * delta is the net difference however many changes happened in between. Internal to policy/. */
#ifndef SL_ENTRIES_H
#define SL_ENTRIES_H

#include <errno.h>
#include <stdlib.h>

#include "htab.h"
#include "sl_policy.h"

enum ent_map { ENT_IDENT, ENT_PEER, ENT_CIDR, ENT_PORTS, ENT_MAX };

struct ent {
	struct sl_hnode hn;
	struct ent *tnext; /* touched since the last take */
	uint8_t map, cur, emitted, touched;
	uint8_t key[28];
	uint8_t val[8], old[8];
};

struct ents {
	struct sl_htab h;
	struct ent *touched;
	size_t count[ENT_MAX]; /* entries wanted now */
	size_t inplace;	       /* values changed in place outside sl_ident (must not happen) */
	uint64_t dels;	       /* entries removed so far: room may have been made */
};

int ents_init(struct ents *e);
void ents_fini(struct ents *e);
int ents_set(struct ents *e, enum ent_map map, const void *key, const void *val);
void ents_del(struct ents *e, enum ent_map map, const void *key);
const void *ents_get(const struct ents *e, enum ent_map map, const void *key);
/* Appends the net changes since the last take to d (not eps) and forgets them. */
int ents_take(struct ents *e, struct sl_delta *d);
int ents_snapshot(const struct ents *e, struct sl_delta *d);

/* Append to an SL_VEC; 0 or -ENOMEM. */
#define VEC_PUSH(vec, item)                                                   \
	({                                                                    \
		int r_ = 0;                                                   \
		if ((vec).n == (vec).cap) {                                   \
			size_t nc_ = (vec).cap ? (vec).cap * 2 : 16;          \
			void *nv_ = realloc((vec).v, nc_ * sizeof(*(vec).v)); \
			if (nv_) {                                            \
				(vec).v = nv_;                                \
				(vec).cap = nc_;                              \
			} else {                                              \
				r_ = -ENOMEM;                                 \
			}                                                     \
		}                                                             \
		if (!r_)                                                      \
			(vec).v[(vec).n++] = (item);                          \
		r_;                                                           \
	})

#endif /* SL_ENTRIES_H */
