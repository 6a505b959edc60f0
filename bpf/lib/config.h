/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * config.h - the datapath's load-time configuration (struct sl_cfg in sl_abi.h), a rodata
 * constant: the verifier sees its value, so disabled features cost nothing at run time.
 */
#ifndef SL_CONFIG_H
#define SL_CONFIG_H

#include "sl_abi.h"

const volatile struct sl_cfg sl_cfg = SL_CFG_DEFAULTS;

#define SL_CFG_ON(f) (sl_cfg.flags & (f))

#endif /* SL_CONFIG_H */
