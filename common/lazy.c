/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Libraries loaded at their first use. The lock is taken only until the library is loaded;
 * after that a symbol costs one dlsym, and each wrapper keeps what it found.
 */
#include "common/common.h"

#include <dlfcn.h>

void *lazy_sym(struct lazy_lib *lib, const char *name)
{
    void *h = __atomic_load_n(&lib->handle, __ATOMIC_ACQUIRE);
    if (!h) {
        pthread_mutex_lock(&lib->lock);
        h = lib->handle;
        if (!h) {
            h = dlopen(lib->soname, RTLD_NOW | RTLD_LOCAL);
            if (!h) {
                /* an installation error: the package depends on the library */
                log_error("cannot load %s: %s", lib->soname, dlerror());
                abort();
            }
            __atomic_store_n(&lib->handle, h, __ATOMIC_RELEASE);
        }
        pthread_mutex_unlock(&lib->lock);
    }
    void *s = dlsym(h, name);
    if (!s) {
        log_error("%s has no %s", lib->soname, name);
        abort();
    }
    return s;
}
