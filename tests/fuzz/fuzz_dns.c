/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target for the embedded DNS server's packet code (daemon/network/dns_msg.c): every
 * input is parsed as a query; a parsed one is answered with a few A records into buffers of
 * every size up to the needed one.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "daemon/network/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct dns_question q;
    if (dns_parse_query(data, size, &q) < 0)
        return 0;
    if (q.end > size || strlen(q.name) >= sizeof(q.name))
        __builtin_trap();
    static unsigned char out[1024];
    const uint32_t addrs[3] = {0x0100000a, 0x0200000a, 0x0300000a};
    size_t n = (size_t)(q.id % 4);
    size_t need = dns_build_answer(&q, data, q.flags & 0xf, addrs, n, out, sizeof(out));
    for (size_t cap = 0; cap < need; cap++) {
        if (dns_build_answer(&q, data, 0, addrs, n, out, cap) != 0)
            __builtin_trap();
    }
    return 0;
}
