/* SPDX-License-Identifier: Apache-2.0 */
/* berthd: parse the configuration, then hand over to the engine. */
#include <stdio.h>

#include "daemon/engine/engine.h"

int main(int argc, char **argv)
{
    struct engine_config cfg;
    struct err *err = NULL;
    int r = engine_config_parse(&cfg, argc, argv, &err);
    if (r < 0) {
        fprintf(stderr, "berthd: %s\n", err->msg);
        err_free(err);
        engine_config_release(&cfg);
        return 1;
    }
    if (r == ENGINE_PARSE_EXIT_OK) {
        engine_config_release(&cfg);
        return 0;
    }
    log_setup(cfg.log_level, 2);
    int status = engine_run(&cfg);
    engine_config_release(&cfg);
    return status;
}
