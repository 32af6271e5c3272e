/* SPDX-License-Identifier: Apache-2.0 */
/*
 * api/units: docker's human-readable sizes and its text progress bar, shared by the daemon (the
 * "progress" string of a progress message) and the CLI (the bars it draws). Pure functions: any
 * thread.
 */
#ifndef BERTH_API_UNITS_H
#define BERTH_API_UNITS_H

#include <stdint.h>

#include "common/common.h"

/*
 * go-units' HumanSizeWithPrecision: SI units (B, kB, MB, GB, ...) and Go's %.*g, so "1.99MB"
 * with precision 3 and "2.537MB" with precision 4 (HumanSize). out holds at least 32 bytes.
 */
void api_human_size(double size, int precision, char out[32]);

/*
 * jsonmessage's JSONProgress.String() for a terminal width columns wide: "" when current and
 * total are both <= 0; "[====>     ]  1.2MB/2.5MB" (the bar only when width > 110); only the
 * current size when total is unknown or smaller than current. Appended to out.
 */
void api_progress_bar(int64_t current, int64_t total, int width, struct sb *out);

#endif
