/* SPDX-License-Identifier: Apache-2.0 */
/*
 * client/format: the subset of Go's text/template that `--format` needs, over jansson values,
 * and docker's conventions around it ("json", the "table" prefix, the \t and \n escapes).
 *
 * Supported: text; {{.}}, {{.A.B}}, {{$}}, {{$.A}}; string, number, bool and nil literals;
 * pipelines with |; parentheses; {{if}}/{{else}}/{{else if}}/{{end}}, {{range}}, {{with}};
 * {{- and -}} trimming; functions json, upper, lower, title, join, split, index, len, println,
 * print, eq, ne, lt, le, gt, ge, not, and, or, truncate, pad. Values print as Go prints them:
 * strings raw, numbers, true/false, arrays as [a b], objects as map[k:v], null as <nil>, a
 * missing field as <no value>. A field not found by exact name is looked up case-insensitively
 * (so .Client.APIVersion finds "ApiVersion").
 */
#ifndef BERTH_CLIENT_FORMAT_H
#define BERTH_CLIENT_FORMAT_H

#include <stdbool.h>
#include <stdio.h>
#include <jansson.h>

#include "common/common.h"

struct cli_format;

/*
 * Compiles src. "json" means "{{json .}}"; a "table" prefix is stripped and remembered; the
 * two-character escapes \t and \n become a tab and a newline. Errors read
 * "template parsing error: ...". The caller frees *out with cli_format_free().
 */
int cli_format_parse(const char *src, struct cli_format **out, struct err **err);
void cli_format_free(struct cli_format *f);
bool cli_format_is_table(const struct cli_format *f);
/* True when the template is empty after the "table" prefix (the caller's default applies). */
bool cli_format_is_empty(const struct cli_format *f);

/* Appends the template applied to dot to out. */
int cli_format_exec(const struct cli_format *f, json_t *dot, struct sb *out, struct err **err);

/*
 * Header labels for tables: returns the label of a field path such as "ID" or "State.Status",
 * or NULL for the default (the last element upper-cased).
 */
typedef const char *(*cli_format_label_fn)(const char *path, void *ud);
/* Appends the header row: the template with every field replaced by its label. */
int cli_format_exec_header(const struct cli_format *f, cli_format_label_fn fn, void *ud,
                           struct sb *out, struct err **err);

/* Prints fmt applied to dot and a newline (docker's version/info/inspect --format). */
int cli_format_print(const char *fmt, json_t *dot, FILE *out, struct err **err);
/*
 * Prints each element of rows (a JSON array) on its own line; a table format gets a header row
 * and columns aligned like docker's (min width 10, padding 3).
 */
int cli_format_list(const char *fmt, json_t *rows, cli_format_label_fn fn, void *ud, FILE *out,
                    struct err **err);

/* Appends v as Go's %v would print it. */
void cli_format_value(json_t *v, struct sb *out);

/* ---- aligned columns (Go's tabwriter, the subset docker uses) ---------------------------- */

struct cli_table {
    struct sb text;
    size_t minwidth, padding;
};

void cli_table_init(struct cli_table *t, size_t minwidth, size_t padding);
void cli_table_release(struct cli_table *t);
/* Appends text; cells end at '\t', lines at '\n'. */
void cli_table_add(struct cli_table *t, const char *s, size_t len);
void cli_table_addf(struct cli_table *t, const char *fmt, ...) _printf_(2, 3);
/* Appends the aligned text to out and empties t. */
void cli_table_render(struct cli_table *t, struct sb *out);

#endif
