/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private to daemon/layer: the one tar-entry engine behind layer_unpack (image layers) and
 * layer_extract (docker cp into a container). Blocking; any thread.
 */
#ifndef BERTH_LAYER_UNPACK_H
#define BERTH_LAYER_UNPACK_H

#include "daemon/layer/layer.h"
#include "daemon/layer/stream.h"

struct unpack_opts {
    bool whiteouts;    /* ".wh." entries are overlay whiteouts (a layer); else plain files */
    bool keep_root;    /* a "./" entry gives the root its metadata (a layer); else skipped */
    bool cp_conflicts; /* noOverwriteDirNonDir: a directory never replaces a non-directory,
                          and the messages are docker cp's */
    bool replace_dirs; /* docker cp without it: a non-directory replaces a directory tree (a
                          layer that tries is refused instead) */
    int64_t uid, gid;  /* >= 0: the owner of every entry; < 0: the tar's */
};

/*
 * Unpacks the tar from s into root_fd (a directory; borrowed) under the confinement rules of
 * layer.h: names cleaned, parents never through a symlink, hardlinks inside root_fd only.
 */
int unpack_tar(int root_fd, struct lstream *s, const struct unpack_opts *o,
               struct layer_unpack_result *res, struct err **err);

#endif
