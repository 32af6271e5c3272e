/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Aligned columns the way Go's text/tabwriter lays out docker's tables: a cell is text ended by
 * a tab; the text after a line's last tab is not aligned. A column's width is the widest cell
 * plus the padding (at least minwidth) over each run of consecutive lines that have that column.
 */
#include "client/format.h"

#include <stdarg.h>
#include <string.h>

void cli_table_init(struct cli_table *t, size_t minwidth, size_t padding)
{
    sb_init(&t->text);
    t->minwidth = minwidth;
    t->padding = padding;
}

void cli_table_release(struct cli_table *t)
{
    sb_release(&t->text);
}

void cli_table_add(struct cli_table *t, const char *s, size_t len)
{
    sb_add(&t->text, s, len);
}

void cli_table_addf(struct cli_table *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = xvasprintf(fmt, ap);
    va_end(ap);
    sb_adds(&t->text, s);
    free(s);
}

/* Display width: code points, not bytes. */
static size_t text_width(const char *s, size_t len)
{
    size_t w = 0;
    for (size_t i = 0; i < len; i++)
        w += ((unsigned char)s[i] & 0xc0) != 0x80;
    return w;
}

struct tline {
    const char *start;
    size_t len;
    size_t ncells;  /* tab-terminated cells */
    size_t *widths; /* per cell */
};

static void split_lines(const char *buf, size_t len, struct tline **out, size_t *nout)
{
    struct tline *lines = NULL;
    size_t n = 0;
    const char *p = buf, *end = buf + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        lines = xrealloc(lines, (n + 1) * sizeof(*lines));
        struct tline *l = &lines[n++];
        memset(l, 0, sizeof(*l));
        l->start = p;
        l->len = (size_t)(le - p);
        const char *c = p;
        for (const char *q = p; q < le; q++) {
            if (*q != '\t')
                continue;
            l->widths = xrealloc(l->widths, (l->ncells + 1) * sizeof(*l->widths));
            l->widths[l->ncells++] = text_width(c, (size_t)(q - c));
            c = q + 1;
        }
        p = nl ? nl + 1 : end;
    }
    *out = lines;
    *nout = n;
}

void cli_table_render(struct cli_table *t, struct sb *out)
{
    struct tline *lines = NULL;
    size_t n = 0;
    bool trailing_nl = t->text.len > 0 && t->text.buf[t->text.len - 1] == '\n';
    split_lines(t->text.buf, t->text.len, &lines, &n);
    size_t maxcells = 0;
    for (size_t i = 0; i < n; i++)
        maxcells = lines[i].ncells > maxcells ? lines[i].ncells : maxcells;
    /* colw[i * maxcells + c]: the width of column c for line i's block */
    size_t *colw = xcalloc(n * (maxcells ? maxcells : 1), sizeof(*colw));
    for (size_t c = 0; c < maxcells; c++) {
        size_t i = 0;
        while (i < n) {
            if (lines[i].ncells <= c) {
                i++;
                continue;
            }
            size_t j = i, w = t->minwidth;
            for (; j < n && lines[j].ncells > c; j++) {
                if (lines[j].widths[c] + t->padding > w)
                    w = lines[j].widths[c] + t->padding;
            }
            for (size_t k = i; k < j; k++)
                colw[k * maxcells + c] = w;
            i = j;
        }
    }
    for (size_t i = 0; i < n; i++) {
        const char *c = lines[i].start;
        for (size_t k = 0; k < lines[i].ncells; k++) {
            const char *tab = memchr(c, '\t', lines[i].len - (size_t)(c - lines[i].start));
            sb_add(out, c, (size_t)(tab - c));
            for (size_t w = lines[i].widths[k]; w < colw[i * maxcells + k]; w++)
                sb_addc(out, ' ');
            c = tab + 1;
        }
        sb_add(out, c, lines[i].len - (size_t)(c - lines[i].start));
        if (i + 1 < n || trailing_nl)
            sb_addc(out, '\n');
        free(lines[i].widths);
    }
    free(colw);
    free(lines);
    sb_reset(&t->text);
}
