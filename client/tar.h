/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A small tar writer and reader for berth cp (the client links no libarchive): ustar headers
 * with pax records for what ustar cannot hold; reading understands ustar, pax and GNU long
 * names. Blocking; single-threaded.
 */
#ifndef BERTH_CLIENT_TAR_H
#define BERTH_CLIENT_TAR_H

#include <stdbool.h>

#include "common/common.h"

/*
 * Writes the tree at path (lstat: a symlink is written as one; follow: the top is stat'ed and
 * followed) as a tar to fd, its top entry named name and a directory's content under name/.
 * Owners, modes, mtimes, symlinks, hardlinks within the tree, fifos and devices are kept.
 * Ends with the end-of-archive blocks.
 */
int cli_tar_write(int fd, const char *path, const char *name, bool follow, struct err **err);

/*
 * Reads a tar from fd and creates its entries below the directory dest (which must exist),
 * never following a symlink on the way and refusing absolute names and "..". Entry names that
 * are old_base or start with old_base "/" are renamed to start with new_base instead (docker
 * cp's rebase; both NULL: as named). A directory never replaces a non-directory or the other
 * way round. Owners are not applied (the files belong to the user running berth).
 */
int cli_tar_extract(int fd, const char *dest, const char *old_base, const char *new_base,
                    struct err **err);

#endif
