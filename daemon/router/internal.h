/* SPDX-License-Identifier: Apache-2.0 */
/* Private to daemon/router. */
#ifndef BERTH_ROUTER_INTERNAL_H
#define BERTH_ROUTER_INTERNAL_H

#include "daemon/router/router.h"

/* Decodes %XX escapes (and '+' as a space when plus_is_space). Caller frees. */
char *route_pct_decode(const char *s, size_t len, bool plus_is_space);

#endif
