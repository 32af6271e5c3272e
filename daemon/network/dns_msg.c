/* SPDX-License-Identifier: Apache-2.0 */
/*
 * DNS messages for the embedded server (dns.c): the one question of a query, and an answer
 * with A records. Pure and bounds-checked (every input comes from a container); any thread.
 */
#include "daemon/network/internal.h"

#include <string.h>

enum { DNS_TTL = 600 };

static uint16_t rd16(const unsigned char *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static void wr16(unsigned char *p, uint16_t v)
{
    p[0] = (unsigned char)(v >> 8);
    p[1] = (unsigned char)v;
}

int dns_parse_query(const unsigned char *buf, size_t len, struct dns_question *q)
{
    memset(q, 0, sizeof(*q));
    if (!buf || len < 12)
        return -1;
    q->id = rd16(buf);
    q->flags = rd16(buf + 2);
    /* a query (QR 0), standard opcode, one question, no answers */
    if ((q->flags & 0x8000) || ((q->flags >> 11) & 0xf) != 0 || rd16(buf + 4) != 1 ||
        rd16(buf + 6) != 0)
        return -1;
    size_t off = 12, nlen = 0;
    for (;;) {
        if (off >= len)
            return -1;
        unsigned lab = buf[off++];
        if (lab == 0)
            break;
        if (lab > 63) /* no compression in a question we answer */
            return -1;
        if (off + lab > len || nlen + lab + 1 >= sizeof(q->name))
            return -1;
        if (nlen)
            q->name[nlen++] = '.';
        for (unsigned i = 0; i < lab; i++) {
            unsigned char c = buf[off + i];
            if (c == 0 || c == '.')
                return -1;
            q->name[nlen++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
        }
        off += lab;
    }
    q->name[nlen] = '\0';
    if (off + 4 > len)
        return -1;
    q->qtype = rd16(buf + off);
    q->qclass = rd16(buf + off + 2);
    q->end = off + 4;
    return 0;
}

size_t dns_build_answer(const struct dns_question *q, const unsigned char *query, int rcode,
                        const uint32_t *addrs, size_t n, unsigned char *out, size_t cap)
{
    size_t qlen = q->end - 12, need = 12 + qlen + n * 16;
    if (q->end < 12 || need > cap)
        return 0;
    wr16(out, q->id);
    /* QR, the question's RD, RA, AA, and rcode */
    wr16(out + 2, (uint16_t)(0x8000 | 0x0400 | (q->flags & 0x0100) | 0x0080 | (rcode & 0xf)));
    wr16(out + 4, 1);
    wr16(out + 6, (uint16_t)n);
    wr16(out + 8, 0);
    wr16(out + 10, 0);
    memcpy(out + 12, query + 12, qlen);
    unsigned char *p = out + 12 + qlen;
    for (size_t i = 0; i < n; i++) {
        wr16(p, 0xc00c); /* the question's name */
        wr16(p + 2, 1);  /* A */
        wr16(p + 4, 1);  /* IN */
        wr16(p + 6, 0);
        wr16(p + 8, DNS_TTL);
        wr16(p + 10, 4);
        memcpy(p + 12, &addrs[i], 4);
        p += 16;
    }
    return need;
}
