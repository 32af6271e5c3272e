/* SPDX-License-Identifier: Apache-2.0 */
/* Private to daemon/layer: a directory's entries in name order (pack.c and changes.c walk
 * trees with it). */
#ifndef BERTH_LAYER_DIRLIST_H
#define BERTH_LAYER_DIRLIST_H

#include <stddef.h>

/*
 * The names in directory fd but "." and "..", sorted by strcmp, into *out (n of them in *nout;
 * free with layer_names_free). fd stays open and its position is not moved. On failure returns
 * -errno and sets *failed to what failed ("open directory" or "read directory").
 */
int layer_dir_names(int fd, char ***out, size_t *nout, const char **failed);
void layer_names_free(char **v, size_t n);

#endif
