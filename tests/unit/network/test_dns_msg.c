/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The embedded DNS server's packet code: a query's question, answers with A records, and
 * malformed packets (short, compressed names, overlong labels and names, answers instead of
 * questions, truncation at every length) refused without reading out of bounds.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include "daemon/network/internal.h"

/* A query for name (dotted) of type qtype, id 0x1234, RD set. Returns its length. */
static size_t make_query(const char *name, uint16_t qtype, unsigned char *out)
{
    static const unsigned char hdr[12] = {0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0};
    memcpy(out, hdr, 12);
    size_t off = 12;
    for (const char *p = name; *p;) {
        size_t n = strcspn(p, ".");
        out[off++] = (unsigned char)n;
        memcpy(out + off, p, n);
        off += n;
        p += n;
        if (*p == '.')
            p++;
    }
    out[off++] = 0;
    out[off++] = (unsigned char)(qtype >> 8);
    out[off++] = (unsigned char)qtype;
    out[off++] = 0;
    out[off++] = 1;
    return off;
}

static void test_parse_query(void **state)
{
    (void)state;
    unsigned char q[512];
    size_t len = make_query("Web.MyNet", 1, q);
    struct dns_question dq;
    assert_int_equal(dns_parse_query(q, len, &dq), 0);
    assert_int_equal(dq.id, 0x1234);
    assert_string_equal(dq.name, "web.mynet");
    assert_int_equal(dq.qtype, 1);
    assert_int_equal(dq.qclass, 1);
    assert_int_equal(dq.end, len);
}

static void test_build_answer(void **state)
{
    (void)state;
    unsigned char q[512], a[512];
    size_t len = make_query("web", 1, q);
    struct dns_question dq;
    assert_int_equal(dns_parse_query(q, len, &dq), 0);
    uint32_t addrs[2] = {htonl(0x0a000002), htonl(0x0a000003)};
    size_t n = dns_build_answer(&dq, q, 0, addrs, 2, a, sizeof(a));
    assert_int_equal(n, len + 32);
    assert_int_equal(a[0], 0x12);
    assert_int_equal(a[1], 0x34);
    assert_true(a[2] & 0x80);         /* a response */
    assert_true(a[2] & 0x01);         /* RD echoed */
    assert_int_equal(a[3] & 0x0f, 0); /* NOERROR */
    assert_int_equal(a[7], 2);        /* two answers */
    assert_memory_equal(a + 12, q + 12, len - 12);
    assert_int_equal(a[len], 0xc0); /* name: pointer to the question */
    assert_int_equal(a[len + 1], 0x0c);
    assert_int_equal(a[len + 11], 4); /* rdlength */
    assert_memory_equal(a + len + 12, "\x0a\x00\x00\x02", 4);
    /* NXDOMAIN, no answers */
    n = dns_build_answer(&dq, q, 3, NULL, 0, a, sizeof(a));
    assert_int_equal(n, len);
    assert_int_equal(a[3] & 0x0f, 3);
    assert_int_equal(a[7], 0);
    /* too small a buffer: nothing */
    assert_int_equal(dns_build_answer(&dq, q, 0, addrs, 2, a, len + 10), 0);
}

static void test_malformed(void **state)
{
    (void)state;
    unsigned char q[600];
    struct dns_question dq;
    size_t len = make_query("a.b", 1, q);
    /* every truncation is refused */
    for (size_t i = 0; i < len; i++)
        assert_int_equal(dns_parse_query(q, i, &dq), -1);
    assert_int_equal(dns_parse_query(NULL, 0, &dq), -1);
    /* a response, two questions, an answer count, another opcode */
    unsigned char bad[600];
    memcpy(bad, q, len);
    bad[2] |= 0x80;
    assert_int_equal(dns_parse_query(bad, len, &dq), -1);
    memcpy(bad, q, len);
    bad[5] = 2;
    assert_int_equal(dns_parse_query(bad, len, &dq), -1);
    memcpy(bad, q, len);
    bad[7] = 1;
    assert_int_equal(dns_parse_query(bad, len, &dq), -1);
    memcpy(bad, q, len);
    bad[2] |= 0x28; /* opcode 5 */
    assert_int_equal(dns_parse_query(bad, len, &dq), -1);
    /* a compression pointer in the question */
    memcpy(bad, q, len);
    bad[12] = 0xc0;
    assert_int_equal(dns_parse_query(bad, len, &dq), -1);
    /* a label longer than the packet */
    memcpy(bad, q, len);
    bad[12] = 60;
    assert_int_equal(dns_parse_query(bad, len, &dq), -1);
    /* a NUL or a dot inside a label */
    memcpy(bad, q, len);
    bad[13] = '.';
    assert_int_equal(dns_parse_query(bad, len, &dq), -1);
    /* a name longer than 255 bytes: five labels of 63 */
    memcpy(bad, q, 12);
    size_t off = 12;
    for (int i = 0; i < 5; i++) {
        bad[off++] = 63;
        memset(bad + off, 'x', 63);
        off += 63;
    }
    bad[off++] = 0;
    memset(bad + off, 0, 4);
    bad[off + 1] = 1;
    bad[off + 3] = 1;
    assert_int_equal(dns_parse_query(bad, off + 4, &dq), -1);
    /* random bytes never crash (and rarely parse) */
    srand(7);
    for (int round = 0; round < 20000; round++) {
        size_t n = (size_t)(rand() % 80);
        for (size_t i = 0; i < n; i++)
            bad[i] = (unsigned char)rand();
        if (n > 5) {
            bad[2] &= 0x07; /* mostly queries, so the name parser runs */
            bad[4] = 0;
            bad[5] = 1;
            bad[6] = bad[7] = 0;
        }
        if (dns_parse_query(bad, n, &dq) == 0) {
            assert_true(dq.end <= n);
            assert_true(strlen(dq.name) < sizeof(dq.name));
            unsigned char out[600];
            assert_true(dns_build_answer(&dq, bad, 0, NULL, 0, out, sizeof(out)) == dq.end);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_query),
        cmocka_unit_test(test_build_answer),
        cmocka_unit_test(test_malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
