/* SPDX-License-Identifier: Apache-2.0 */
#include "client/format.h"

#include <ctype.h>
#include <stdarg.h>
#include <math.h>
#include <string.h>
#include <strings.h>

/* ---- the tree ---------------------------------------------------------------------------- */

enum targ_kind { A_FIELD, A_ROOT, A_LIT, A_FUNC, A_PIPE };

struct tpipe;

struct targ {
    enum targ_kind kind;
    char **path; /* A_FIELD, A_ROOT: the elements after the dot */
    size_t npath;
    json_t *lit;       /* A_LIT */
    const void *func;  /* A_FUNC: a struct tfunc */
    struct tpipe *sub; /* A_PIPE */
    char *text;        /* the source of a field, for headers and messages */
};

struct tcmd {
    struct targ *args;
    size_t nargs;
};

struct tpipe {
    struct tcmd *cmds;
    size_t ncmds;
};

enum tnode_kind { N_TEXT, N_ACTION, N_IF, N_RANGE, N_WITH };

struct tnode;
struct tlist {
    struct tnode **v;
    size_t n;
};

struct tnode {
    enum tnode_kind kind;
    struct sb text;     /* N_TEXT */
    struct tpipe *pipe; /* the others */
    struct tlist body, alt;
};

struct cli_format {
    bool table;
    struct tlist root;
};

struct exec {
    json_t *root;
    struct sb *out;
    bool header;
    cli_format_label_fn label;
    void *ud;
    struct err **err;
};

typedef int (*tfunc_fn)(struct exec *x, json_t **args, size_t n, json_t **out);

struct tfunc {
    const char *name;
    size_t min, max;
    tfunc_fn fn;
};

static void pipe_free(struct tpipe *p);

static void list_free(struct tlist *l)
{
    for (size_t i = 0; i < l->n; i++) {
        struct tnode *n = l->v[i];
        sb_release(&n->text);
        pipe_free(n->pipe);
        list_free(&n->body);
        list_free(&n->alt);
        free(n);
    }
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

static void pipe_free(struct tpipe *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->ncmds; i++) {
        for (size_t j = 0; j < p->cmds[i].nargs; j++) {
            struct targ *a = &p->cmds[i].args[j];
            for (size_t k = 0; k < a->npath; k++)
                free(a->path[k]);
            free(a->path);
            json_decref(a->lit);
            pipe_free(a->sub);
            free(a->text);
        }
        free(p->cmds[i].args);
    }
    free(p->cmds);
    free(p);
}

void cli_format_free(struct cli_format *f)
{
    if (!f)
        return;
    list_free(&f->root);
    free(f);
}

static struct tnode *list_push(struct tlist *l, enum tnode_kind kind)
{
    struct tnode *n = xcalloc(1, sizeof(*n));
    n->kind = kind;
    sb_init(&n->text);
    l->v = xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
    l->v[l->n++] = n;
    return n;
}

/* ---- lexing ------------------------------------------------------------------------------ */

enum tok_kind { T_FIELD, T_ROOT, T_IDENT, T_STRING, T_NUMBER, T_PIPE, T_LPAREN, T_RPAREN };

struct tok {
    enum tok_kind kind;
    char *s;
};

struct parser {
    const char *src;
    size_t pos, len;
    int line;
    struct err **err;
    /* the tokens of the current action */
    struct tok *toks;
    size_t ntoks, cur;
    bool trim_next; /* a -}} asked to trim the whitespace that follows */
};

static int perr(struct parser *p, const char *fmt, ...) _printf_(2, 3);
static int perr(struct parser *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    _cleanup_free_ char *what = xvasprintf(fmt, ap);
    va_end(ap);
    return err_set(p->err, ERR_INVALID, 0, "template parsing error: template: :%d: %s", p->line,
                   what);
}

static void toks_clear(struct parser *p)
{
    for (size_t i = 0; i < p->ntoks; i++)
        free(p->toks[i].s);
    free(p->toks);
    p->toks = NULL;
    p->ntoks = p->cur = 0;
}

static void tok_push(struct parser *p, enum tok_kind kind, char *s)
{
    p->toks = xrealloc(p->toks, (p->ntoks + 1) * sizeof(*p->toks));
    p->toks[p->ntoks].kind = kind;
    p->toks[p->ntoks].s = s;
    p->ntoks++;
}

static bool is_ident_char(char c)
{
    return isalnum((unsigned char)c) || c == '_';
}

/* A quoted string starting at s[*i] (the quote); appends the value to sb. */
static int lex_string(struct parser *p, const char *s, size_t len, size_t *i, struct sb *sb)
{
    char q = s[(*i)++];
    while (*i < len && s[*i] != q) {
        char c = s[(*i)++];
        if (c == '\\' && q == '"' && *i < len) {
            char e = s[(*i)++];
            c = e == 'n' ? '\n' : e == 't' ? '\t' : e == 'r' ? '\r' : e;
        }
        sb_addc(sb, c);
    }
    if (*i >= len)
        return perr(p, "unterminated quoted string");
    (*i)++;
    return 0;
}

/* A field chain ".A.B" or "." starting at s[*i] (the dot). */
static void lex_path(const char *s, size_t len, size_t *i, struct sb *sb)
{
    while (*i < len && s[*i] == '.') {
        sb_addc(sb, s[(*i)++]);
        while (*i < len && is_ident_char(s[*i]))
            sb_addc(sb, s[(*i)++]);
    }
}

static int lex_action(struct parser *p, const char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        char c = s[i];
        struct sb sb = SB_INIT;
        if (isspace((unsigned char)c)) {
            i++;
            continue;
        }
        if (c == '|' || c == '(' || c == ')') {
            tok_push(p, c == '|' ? T_PIPE : c == '(' ? T_LPAREN : T_RPAREN, NULL);
            i++;
            continue;
        }
        if (c == '"' || c == '`') {
            if (lex_string(p, s, len, &i, &sb) < 0) {
                sb_release(&sb);
                return -1;
            }
            tok_push(p, T_STRING, xstrdup(sb_str(&sb)));
        } else if (c == '.') {
            lex_path(s, len, &i, &sb);
            tok_push(p, T_FIELD, xstrdup(sb_str(&sb)));
        } else if (c == '$') {
            i++;
            if (i < len && is_ident_char(s[i])) {
                sb_release(&sb);
                return perr(p, "variables are not supported");
            }
            lex_path(s, len, &i, &sb);
            tok_push(p, T_ROOT, xstrdup(sb_str(&sb)));
        } else if (isdigit((unsigned char)c) ||
                   ((c == '-' || c == '+') && i + 1 < len && isdigit((unsigned char)s[i + 1]))) {
            sb_addc(&sb, s[i++]);
            while (i < len && (isalnum((unsigned char)s[i]) || s[i] == '.'))
                sb_addc(&sb, s[i++]);
            tok_push(p, T_NUMBER, xstrdup(sb_str(&sb)));
        } else if (is_ident_char(c)) {
            while (i < len && is_ident_char(s[i]))
                sb_addc(&sb, s[i++]);
            tok_push(p, T_IDENT, xstrdup(sb_str(&sb)));
        } else {
            char bad[2] = {c, '\0'};
            return perr(p, "unexpected \"%s\" in command", bad);
        }
        sb_release(&sb);
    }
    return 0;
}

/* ---- functions --------------------------------------------------------------------------- */

static const struct tfunc *func_lookup(const char *name);

static const char *type_name(const json_t *v)
{
    switch (v ? json_typeof(v) : JSON_NULL) {
    case JSON_OBJECT:
        return "map";
    case JSON_ARRAY:
        return "slice";
    case JSON_STRING:
        return "string";
    case JSON_INTEGER:
        return "int";
    case JSON_REAL:
        return "float64";
    case JSON_TRUE:
    case JSON_FALSE:
        return "bool";
    default:
        return "nil";
    }
}

static int xerr(struct exec *x, const char *fmt, ...) _printf_(2, 3);
static int xerr(struct exec *x, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    _cleanup_free_ char *what = xvasprintf(fmt, ap);
    va_end(ap);
    return err_set(x->err, ERR_INVALID, 0, "template: :1: executing: %s", what);
}

static bool truthy(const json_t *v)
{
    switch (v ? json_typeof(v) : JSON_NULL) {
    case JSON_OBJECT:
        return json_object_size(v) > 0;
    case JSON_ARRAY:
        return json_array_size(v) > 0;
    case JSON_STRING:
        return json_string_length(v) > 0;
    case JSON_INTEGER:
        return json_integer_value(v) != 0;
    case JSON_REAL:
        return json_real_value(v) != 0;
    case JSON_TRUE:
        return true;
    default:
        return false;
    }
}

static char *value_str(json_t *v)
{
    struct sb sb = SB_INIT;
    cli_format_value(v, &sb);
    sb_str(&sb);
    return sb_steal(&sb);
}

static int fn_json(struct exec *x, json_t **a, size_t n, json_t **out)
{
    char *s = json_dumps(a[0] ? a[0] : json_null(), JSON_COMPACT | JSON_ENCODE_ANY);
    if (!s)
        return xerr(x, "json: cannot encode value");
    *out = json_string(s);
    free(s);
    return 0;
}

static int fn_case(struct exec *x, json_t **a, int mode, json_t **out)
{
    _cleanup_free_ char *s = value_str(a[0]);
    bool start = true;
    for (char *p = s; *p; p++) {
        if (mode == 0 || (mode == 2 && start))
            *p = (char)toupper((unsigned char)*p);
        else if (mode == 1)
            *p = (char)tolower((unsigned char)*p);
        start = isspace((unsigned char)*p) || *p == '-' || *p == '_';
    }
    *out = json_string(s);
    return 0;
}

static int fn_upper(struct exec *x, json_t **a, size_t n, json_t **out)
{
    return fn_case(x, a, 0, out);
}

static int fn_lower(struct exec *x, json_t **a, size_t n, json_t **out)
{
    return fn_case(x, a, 1, out);
}

static int fn_title(struct exec *x, json_t **a, size_t n, json_t **out)
{
    return fn_case(x, a, 2, out);
}

static int fn_join(struct exec *x, json_t **a, size_t n, json_t **out)
{
    if (!json_is_array(a[0]) || !json_is_string(a[1]))
        return xerr(x, "join: expected a list and a string separator");
    struct sb sb = SB_INIT;
    size_t i;
    json_t *e;
    json_array_foreach(a[0], i, e)
    {
        if (i > 0)
            sb_adds(&sb, json_string_value(a[1]));
        cli_format_value(e, &sb);
    }
    *out = json_string(sb_str(&sb));
    sb_release(&sb);
    return 0;
}

static int fn_split(struct exec *x, json_t **a, size_t n, json_t **out)
{
    if (!json_is_string(a[0]) || !json_is_string(a[1]))
        return xerr(x, "split: expected two strings");
    const char *s = json_string_value(a[0]), *sep = json_string_value(a[1]);
    size_t seplen = strlen(sep);
    json_t *arr = json_array();
    while (seplen > 0) {
        const char *hit = strstr(s, sep);
        if (!hit)
            break;
        json_array_append_new(arr, json_stringn(s, (size_t)(hit - s)));
        s = hit + seplen;
    }
    json_array_append_new(arr, json_string(s));
    *out = arr;
    return 0;
}

static int fn_index(struct exec *x, json_t **a, size_t n, json_t **out)
{
    json_t *cur = a[0];
    for (size_t i = 1; i < n && cur; i++) {
        if (json_is_object(cur) && json_is_string(a[i]))
            cur = json_object_get(cur, json_string_value(a[i]));
        else if (json_is_array(cur) && json_is_integer(a[i]))
            cur = json_array_get(cur, (size_t)json_integer_value(a[i]));
        else if (json_is_null(cur))
            cur = NULL;
        else
            return xerr(x, "index: cannot index %s", type_name(cur));
    }
    *out = json_incref(cur);
    return 0;
}

static int fn_len(struct exec *x, json_t **a, size_t n, json_t **out)
{
    if (json_is_string(a[0]))
        *out = json_integer((json_int_t)json_string_length(a[0]));
    else if (json_is_array(a[0]))
        *out = json_integer((json_int_t)json_array_size(a[0]));
    else if (json_is_object(a[0]))
        *out = json_integer((json_int_t)json_object_size(a[0]));
    else
        return xerr(x, "len of %s", type_name(a[0]));
    return 0;
}

static int fn_print_impl(json_t **a, size_t n, bool ln, json_t **out)
{
    struct sb sb = SB_INIT;
    for (size_t i = 0; i < n; i++) {
        bool space = ln || (i > 0 && !json_is_string(a[i]) && !json_is_string(a[i - 1]));
        if (i > 0 && space)
            sb_addc(&sb, ' ');
        if (a[i])
            cli_format_value(a[i], &sb);
        else
            sb_adds(&sb, "<nil>");
    }
    if (ln)
        sb_addc(&sb, '\n');
    *out = json_string(sb_str(&sb));
    sb_release(&sb);
    return 0;
}

static int fn_print(struct exec *x, json_t **a, size_t n, json_t **out)
{
    return fn_print_impl(a, n, false, out);
}

static int fn_println(struct exec *x, json_t **a, size_t n, json_t **out)
{
    return fn_print_impl(a, n, true, out);
}

/* -2 when a and b cannot be ordered, else -1/0/1. */
static int compare(const json_t *a, const json_t *b)
{
    if (json_is_number(a) && json_is_number(b)) {
        if (json_is_integer(a) && json_is_integer(b)) {
            json_int_t x = json_integer_value(a), y = json_integer_value(b);
            return x < y ? -1 : x > y;
        }
        double x = json_number_value(a), y = json_number_value(b);
        return x < y ? -1 : x > y;
    }
    if (json_is_string(a) && json_is_string(b)) {
        int c = strcmp(json_string_value(a), json_string_value(b));
        return c < 0 ? -1 : c > 0;
    }
    if (json_is_boolean(a) && json_is_boolean(b))
        return json_is_true(a) == json_is_true(b) ? 0 : -2;
    if ((!a || json_is_null(a)) && (!b || json_is_null(b)))
        return 0;
    return -2;
}

static int fn_eq(struct exec *x, json_t **a, size_t n, json_t **out)
{
    bool eq = false;
    for (size_t i = 1; i < n && !eq; i++)
        eq = compare(a[0], a[i]) == 0;
    *out = json_boolean(eq);
    return 0;
}

static int fn_ne(struct exec *x, json_t **a, size_t n, json_t **out)
{
    *out = json_boolean(compare(a[0], a[1]) != 0);
    return 0;
}

static int fn_order(struct exec *x, json_t **a, int lo, int hi, json_t **out)
{
    int c = compare(a[0], a[1]);
    if (c == -2 || (json_is_boolean(a[0])))
        return xerr(x, "incompatible types for comparison");
    *out = json_boolean(c >= lo && c <= hi);
    return 0;
}

static int fn_lt(struct exec *x, json_t **a, size_t n, json_t **out)
{
    return fn_order(x, a, -1, -1, out);
}

static int fn_le(struct exec *x, json_t **a, size_t n, json_t **out)
{
    return fn_order(x, a, -1, 0, out);
}

static int fn_gt(struct exec *x, json_t **a, size_t n, json_t **out)
{
    return fn_order(x, a, 1, 1, out);
}

static int fn_ge(struct exec *x, json_t **a, size_t n, json_t **out)
{
    return fn_order(x, a, 0, 1, out);
}

static int fn_not(struct exec *x, json_t **a, size_t n, json_t **out)
{
    *out = json_boolean(!truthy(a[0]));
    return 0;
}

static int fn_and(struct exec *x, json_t **a, size_t n, json_t **out)
{
    size_t i = 0;
    while (i + 1 < n && truthy(a[i]))
        i++;
    *out = json_incref(a[i]);
    return 0;
}

static int fn_or(struct exec *x, json_t **a, size_t n, json_t **out)
{
    size_t i = 0;
    while (i + 1 < n && !truthy(a[i]))
        i++;
    *out = json_incref(a[i]);
    return 0;
}

static int fn_truncate(struct exec *x, json_t **a, size_t n, json_t **out)
{
    if (!json_is_integer(a[1]) || json_integer_value(a[1]) < 0)
        return xerr(x, "truncate: expected a length");
    _cleanup_free_ char *s = value_str(a[0]);
    size_t want = (size_t)json_integer_value(a[1]), chars = 0, i = 0;
    for (; s[i]; i++) {
        if (((unsigned char)s[i] & 0xc0) != 0x80 && chars++ == want)
            break;
    }
    *out = json_stringn(s, i);
    return 0;
}

static int fn_pad(struct exec *x, json_t **a, size_t n, json_t **out)
{
    if (!json_is_integer(a[1]) || !json_is_integer(a[2]) || json_integer_value(a[1]) < 0 ||
        json_integer_value(a[2]) < 0 || json_integer_value(a[1]) > 4096 ||
        json_integer_value(a[2]) > 4096)
        return xerr(x, "pad: expected two small lengths");
    _cleanup_free_ char *s = value_str(a[0]);
    char *r = xasprintf("%*s%s%*s", (int)json_integer_value(a[1]), "", s,
                        (int)json_integer_value(a[2]), "");
    *out = json_string(r);
    free(r);
    return 0;
}

static const struct tfunc funcs[] = {
    {.name = "json", .min = 1, .max = 1, .fn = fn_json},
    {.name = "upper", .min = 1, .max = 1, .fn = fn_upper},
    {.name = "lower", .min = 1, .max = 1, .fn = fn_lower},
    {.name = "title", .min = 1, .max = 1, .fn = fn_title},
    {.name = "join", .min = 2, .max = 2, .fn = fn_join},
    {.name = "split", .min = 2, .max = 2, .fn = fn_split},
    {.name = "index", .min = 1, .max = 16, .fn = fn_index},
    {.name = "len", .min = 1, .max = 1, .fn = fn_len},
    {.name = "print", .min = 0, .max = 64, .fn = fn_print},
    {.name = "println", .min = 0, .max = 64, .fn = fn_println},
    {.name = "eq", .min = 2, .max = 16, .fn = fn_eq},
    {.name = "ne", .min = 2, .max = 2, .fn = fn_ne},
    {.name = "lt", .min = 2, .max = 2, .fn = fn_lt},
    {.name = "le", .min = 2, .max = 2, .fn = fn_le},
    {.name = "gt", .min = 2, .max = 2, .fn = fn_gt},
    {.name = "ge", .min = 2, .max = 2, .fn = fn_ge},
    {.name = "not", .min = 1, .max = 1, .fn = fn_not},
    {.name = "and", .min = 1, .max = 16, .fn = fn_and},
    {.name = "or", .min = 1, .max = 16, .fn = fn_or},
    {.name = "truncate", .min = 2, .max = 2, .fn = fn_truncate},
    {.name = "pad", .min = 3, .max = 3, .fn = fn_pad},
};

static const struct tfunc *func_lookup(const char *name)
{
    for (size_t i = 0; i < ARRAY_SIZE(funcs); i++) {
        if (strcmp(funcs[i].name, name) == 0)
            return &funcs[i];
    }
    return NULL;
}

/* ---- parsing ----------------------------------------------------------------------------- */

static struct tpipe *parse_pipe(struct parser *p, bool in_paren);

static void split_path(struct targ *a, const char *s)
{
    /* s is "." or ".A.B" (T_FIELD) or "" / ".A" (T_ROOT) */
    a->text = xstrdup(s);
    const char *q = s;
    while (*q == '.') {
        q++;
        size_t n = strcspn(q, ".");
        if (n == 0)
            break;
        a->path = xrealloc(a->path, (a->npath + 1) * sizeof(*a->path));
        a->path[a->npath++] = xstrndup(q, n);
        q += n;
    }
}

static json_t *parse_number(const char *s)
{
    char *end = NULL;
    long long v = strtoll(s, &end, 0);
    if (end && *end == '\0')
        return json_integer(v);
    double d = strtod(s, &end);
    if (end && *end == '\0')
        return json_real(d);
    return NULL;
}

static int parse_arg(struct parser *p, struct targ *a)
{
    struct tok *t = &p->toks[p->cur++];
    switch (t->kind) {
    case T_FIELD:
        a->kind = A_FIELD;
        split_path(a, t->s);
        return 0;
    case T_ROOT:
        a->kind = A_ROOT;
        split_path(a, t->s);
        return 0;
    case T_STRING:
        a->kind = A_LIT;
        a->lit = json_string(t->s);
        if (!a->lit)
            return perr(p, "string is not valid UTF-8");
        return 0;
    case T_NUMBER:
        a->kind = A_LIT;
        a->lit = parse_number(t->s);
        return a->lit ? 0 : perr(p, "bad number syntax: \"%s\"", t->s);
    case T_IDENT:
        if (strcmp(t->s, "true") == 0 || strcmp(t->s, "false") == 0 || strcmp(t->s, "nil") == 0) {
            a->kind = A_LIT;
            a->lit = strcmp(t->s, "nil") == 0 ? json_null() : json_boolean(t->s[0] == 't');
            return 0;
        }
        a->kind = A_FUNC;
        a->func = func_lookup(t->s);
        return a->func ? 0 : perr(p, "function \"%s\" not defined", t->s);
    case T_LPAREN:
        a->kind = A_PIPE;
        a->sub = parse_pipe(p, true);
        if (!a->sub)
            return -1;
        if (p->cur >= p->ntoks || p->toks[p->cur].kind != T_RPAREN)
            return perr(p, "unclosed left paren");
        p->cur++;
        return 0;
    default:
        return perr(p, "unexpected \"%s\" in operand", t->kind == T_PIPE ? "|" : ")");
    }
}

static int parse_cmd(struct parser *p, struct tcmd *c)
{
    while (p->cur < p->ntoks && p->toks[p->cur].kind != T_PIPE &&
           p->toks[p->cur].kind != T_RPAREN) {
        c->args = xrealloc(c->args, (c->nargs + 1) * sizeof(*c->args));
        struct targ *a = &c->args[c->nargs++];
        memset(a, 0, sizeof(*a));
        if (parse_arg(p, a) < 0)
            return -1;
    }
    if (c->nargs == 0)
        return perr(p, "missing value for command");
    /* A field with one argument may be a method ({{.Label "k"}}); exec decides. */
    bool method = c->nargs == 2 && (c->args[0].kind == A_FIELD || c->args[0].kind == A_ROOT);
    if (c->nargs > 1 && c->args[0].kind != A_FUNC && !method)
        return perr(p, "can't give argument to non-function %s",
                    c->args[0].text ? c->args[0].text : "");
    return 0;
}

static struct tpipe *parse_pipe(struct parser *p, bool in_paren)
{
    struct tpipe *pipe = xcalloc(1, sizeof(*pipe));
    for (;;) {
        pipe->cmds = xrealloc(pipe->cmds, (pipe->ncmds + 1) * sizeof(*pipe->cmds));
        struct tcmd *c = &pipe->cmds[pipe->ncmds++];
        memset(c, 0, sizeof(*c));
        if (parse_cmd(p, c) < 0)
            goto fail;
        if (p->cur >= p->ntoks)
            break;
        if (p->toks[p->cur].kind == T_RPAREN) {
            if (in_paren)
                break;
            perr(p, "unexpected right paren");
            goto fail;
        }
        p->cur++; /* '|' */
    }
    for (size_t i = 1; i < pipe->ncmds; i++) {
        if (pipe->cmds[i].args[0].kind != A_FUNC) {
            perr(p, "non executable command in pipeline stage %zu", i + 1);
            goto fail;
        }
    }
    return pipe;
fail:
    pipe_free(pipe);
    return NULL;
}

enum term { TERM_EOF, TERM_END, TERM_ELSE, TERM_ELSE_IF };

static int parse_list(struct parser *p, struct tlist *l, enum term *term, struct tpipe **elif);

/* Reads the raw text of the next action; sets trim flags. Returns 1 at EOF (text only). */
static int next_action(struct parser *p, struct tlist *l, bool *trim_left_next, const char **body,
                       size_t *blen)
{
    const char *s = p->src + p->pos;
    const char *open = strstr(s, "{{");
    size_t textlen = open ? (size_t)(open - s) : strlen(s);
    if (textlen > 0) {
        struct tnode *n = list_push(l, N_TEXT);
        const char *t = s;
        if (*trim_left_next) {
            while (textlen > 0 && isspace((unsigned char)*t)) {
                t++;
                textlen--;
            }
        }
        sb_add(&n->text, t, textlen);
    }
    for (const char *q = s; q < s + (open ? (size_t)(open - s) : strlen(s)); q++)
        p->line += *q == '\n';
    *trim_left_next = false;
    if (!open) {
        p->pos = p->len;
        return 1;
    }
    const char *a = open + 2;
    if (a[0] == '-' && (a[1] == ' ' || a[1] == '\t' || a[1] == '\n' || a[1] == '\r')) {
        a += 2;
        /* trim the whitespace before the action */
        if (l->n > 0 && l->v[l->n - 1]->kind == N_TEXT && textlen > 0) {
            struct sb *t = &l->v[l->n - 1]->text;
            while (t->len > 0 && isspace((unsigned char)t->buf[t->len - 1]))
                t->buf[--t->len] = '\0';
        }
    }
    /* find the closing braces outside quotes */
    const char *q = a;
    char quote = 0;
    for (; *q; q++) {
        if (quote) {
            if (*q == '\\' && quote == '"' && q[1])
                q++;
            else if (*q == quote)
                quote = 0;
        } else if (*q == '"' || *q == '`') {
            quote = *q;
        } else if (q[0] == '}' && q[1] == '}') {
            break;
        }
    }
    if (!*q)
        return perr(p, "unclosed action");
    const char *end = q;
    if (end - a >= 2 && end[-1] == '-' && isspace((unsigned char)end[-2])) {
        end -= 2;
        *trim_left_next = true;
    }
    *body = a;
    *blen = (size_t)(end - a);
    for (const char *c = a; c < q; c++)
        p->line += *c == '\n';
    p->pos = (size_t)(q + 2 - p->src);
    return 0;
}

static int parse_action(struct parser *p, struct tlist *l, enum term *term, struct tpipe **elif)
{
    if (p->ntoks == 0)
        return perr(p, "missing value for command");
    struct tok *t = &p->toks[0];
    const char *kw = t->kind == T_IDENT ? t->s : "";
    if (strcmp(kw, "end") == 0 || strcmp(kw, "else") == 0) {
        if (strcmp(kw, "end") == 0) {
            *term = TERM_END;
            return p->ntoks == 1 ? 1 : perr(p, "unexpected input after end");
        }
        if (p->ntoks == 1) {
            *term = TERM_ELSE;
            return 1;
        }
        if (p->toks[1].kind != T_IDENT || strcmp(p->toks[1].s, "if") != 0 || p->ntoks < 3)
            return perr(p, "unexpected input after else");
        p->cur = 2;
        *elif = parse_pipe(p, false);
        if (!*elif)
            return -1;
        *term = TERM_ELSE_IF;
        return 1;
    }
    enum tnode_kind kind = strcmp(kw, "if") == 0      ? N_IF
                           : strcmp(kw, "range") == 0 ? N_RANGE
                           : strcmp(kw, "with") == 0  ? N_WITH
                                                      : N_ACTION;
    if (kind == N_ACTION) {
        struct tnode *n = list_push(l, N_ACTION);
        n->pipe = parse_pipe(p, false);
        return n->pipe ? 0 : -1;
    }
    if (p->ntoks < 2)
        return perr(p, "missing value for %s", kw);
    p->cur = 1;
    /* The tokens are consumed before the body is parsed: the body lexes further actions. */
    struct tpipe *pipe = parse_pipe(p, false);
    if (!pipe)
        return -1;
    toks_clear(p);
    struct tnode *n = list_push(l, kind);
    n->pipe = pipe;
    enum term t2;
    struct tpipe *e2 = NULL;
    if (parse_list(p, &n->body, &t2, &e2) < 0)
        return -1;
    while (t2 == TERM_ELSE_IF) {
        if (kind != N_IF) {
            pipe_free(e2);
            return perr(p, "else if is only supported with if");
        }
        struct tnode *inner = list_push(&n->alt, N_IF);
        inner->pipe = e2;
        e2 = NULL;
        if (parse_list(p, &inner->body, &t2, &e2) < 0)
            return -1;
        n = inner;
    }
    if (t2 == TERM_ELSE) {
        if (parse_list(p, &n->alt, &t2, &e2) < 0)
            return -1;
        if (t2 != TERM_END) {
            pipe_free(e2);
            return perr(p, "%s", t2 == TERM_EOF ? "unexpected EOF" : "expected end; found else");
        }
    }
    if (t2 != TERM_END)
        return perr(p, "unexpected EOF");
    return 0;
}

static int parse_list(struct parser *p, struct tlist *l, enum term *term, struct tpipe **elif)
{
    for (;;) {
        const char *body = NULL;
        size_t blen = 0;
        int r = next_action(p, l, &p->trim_next, &body, &blen);
        if (r < 0)
            return -1;
        if (r == 1) {
            *term = TERM_EOF;
            return 0;
        }
        toks_clear(p);
        if (blen >= 2 && body[0] == '/' && body[1] == '*')
            continue; /* a comment */
        if (lex_action(p, body, blen) < 0)
            return -1;
        r = parse_action(p, l, term, elif);
        toks_clear(p);
        if (r < 0)
            return -1;
        if (r == 1)
            return 0;
    }
}

/* ---- execution --------------------------------------------------------------------------- */

static int exec_list(struct exec *x, const struct tlist *l, json_t *dot);
static int eval_pipe(struct exec *x, const struct tpipe *p, json_t *dot, json_t **out);

/* Field lookup: exact name first, then case-insensitive. Borrowed result; NULL when absent. */
static json_t *field_get(json_t *obj, const char *name)
{
    json_t *v = json_object_get(obj, name);
    if (v)
        return v;
    const char *k;
    json_t *e;
    json_object_foreach(obj, k, e)
    {
        if (strcasecmp(k, name) == 0)
            return e;
    }
    return NULL;
}

static char *default_label(const char *path)
{
    const char *last = strrchr(path, '.');
    char *s = xstrdup(last ? last + 1 : path);
    for (char *q = s; *q; q++)
        *q = (char)toupper((unsigned char)*q);
    return s;
}

static int eval_field(struct exec *x, const struct targ *a, json_t *dot, json_t **out)
{
    if (x->header && a->npath > 0) {
        const char *path = a->text + (a->text[0] == '.' ? 1 : 0);
        const char *label = x->label ? x->label(path, x->ud) : NULL;
        if (label) {
            *out = json_string(label);
        } else {
            _cleanup_free_ char *d = default_label(path);
            *out = json_string(d);
        }
        return 0;
    }
    json_t *cur = a->kind == A_ROOT ? x->root : dot;
    for (size_t i = 0; i < a->npath && cur; i++) {
        if (json_is_null(cur)) {
            cur = NULL;
        } else if (!json_is_object(cur)) {
            _cleanup_free_ char *what = xasprintf("<%s>: can't evaluate field %s in type %s",
                                                  a->text, a->path[i], type_name(cur));
            return xerr(x, "at %s", what);
        } else {
            cur = field_get(cur, a->path[i]);
        }
    }
    *out = json_incref(cur);
    return 0;
}

static int eval_arg(struct exec *x, const struct targ *a, json_t *dot, json_t **out)
{
    switch (a->kind) {
    case A_FIELD:
    case A_ROOT:
        return eval_field(x, a, dot, out);
    case A_LIT:
        *out = json_incref(a->lit);
        return 0;
    case A_PIPE:
        return eval_pipe(x, a->sub, dot, out);
    case A_FUNC:
    default:
        return xerr(x, "function used as a value");
    }
}

/*
 * A field given one argument, like docker's {{.Label "com.example"}} method: the field is an
 * object (the caller's rows carry one for each such method) and the argument its key. A
 * missing key gives "", as Go's map lookup does.
 */
static int eval_method(struct exec *x, const struct tcmd *c, json_t *dot, json_t **out)
{
    json_t *obj = NULL, *key = NULL;
    int r = eval_arg(x, &c->args[0], dot, &obj);
    if (r == 0)
        r = eval_arg(x, &c->args[1], dot, &key);
    if (r == 0 && (!json_is_object(obj) || !json_is_string(key)))
        r = xerr(x, "can't give argument to non-function %s", c->args[0].text);
    if (r == 0) {
        json_t *v = json_object_get(obj, json_string_value(key));
        *out = v ? json_incref(v) : json_string("");
    }
    json_decref(obj);
    json_decref(key);
    return r;
}

/* prev: the previous command's result (borrowed), appended as the last argument. */
static int eval_cmd(struct exec *x, const struct tcmd *c, json_t *dot, bool has_prev, json_t *prev,
                    json_t **out)
{
    const struct targ *first = &c->args[0];
    if (first->kind != A_FUNC && c->nargs == 2 && !x->header &&
        (first->kind == A_FIELD || first->kind == A_ROOT))
        return eval_method(x, c, dot, out);
    if (first->kind != A_FUNC)
        return eval_arg(x, first, dot, out);
    const struct tfunc *f = first->func;
    size_t n = c->nargs - 1 + (has_prev ? 1 : 0);
    if (n < f->min || n > f->max)
        return xerr(x, "wrong number of args for %s", f->name);
    json_t *args[64] = {0};
    int r = 0;
    size_t i = 0;
    for (; i + 1 < c->nargs && r == 0; i++)
        r = eval_arg(x, &c->args[i + 1], dot, &args[i]);
    if (r == 0 && has_prev)
        args[i++] = json_incref(prev);
    if (r == 0)
        r = f->fn(x, args, n, out);
    for (size_t k = 0; k < ARRAY_SIZE(args); k++)
        json_decref(args[k]);
    return r;
}

static int eval_pipe(struct exec *x, const struct tpipe *p, json_t *dot, json_t **out)
{
    json_t *val = NULL;
    for (size_t i = 0; i < p->ncmds; i++) {
        json_t *next = NULL;
        int r = eval_cmd(x, &p->cmds[i], dot, i > 0, val, &next);
        json_decref(val);
        if (r < 0)
            return -1;
        val = next;
    }
    *out = val;
    return 0;
}

static int exec_range(struct exec *x, const struct tnode *n, json_t *v, json_t *dot)
{
    if (!truthy(v))
        return exec_list(x, &n->alt, dot);
    if (json_is_array(v)) {
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e)
        {
            if (exec_list(x, &n->body, e) < 0)
                return -1;
        }
        return 0;
    }
    if (!json_is_object(v))
        return xerr(x, "range can't iterate over %s", type_name(v));
    /* Go ranges over maps in key order. */
    size_t nk = json_object_size(v), k = 0;
    _cleanup_free_ const char **keys = xcalloc(nk, sizeof(*keys));
    const char *key;
    json_t *e;
    json_object_foreach(v, key, e)
    {
        keys[k++] = key;
    }
    for (size_t i = 1; i < nk; i++) {
        for (size_t j = i; j > 0 && strcmp(keys[j - 1], keys[j]) > 0; j--) {
            const char *t = keys[j];
            keys[j] = keys[j - 1];
            keys[j - 1] = t;
        }
    }
    for (size_t i = 0; i < nk; i++) {
        if (exec_list(x, &n->body, json_object_get(v, keys[i])) < 0)
            return -1;
    }
    return 0;
}

static int exec_node(struct exec *x, const struct tnode *n, json_t *dot)
{
    if (n->kind == N_TEXT) {
        sb_add(x->out, n->text.buf, n->text.len);
        return 0;
    }
    json_t *v = NULL;
    if (eval_pipe(x, n->pipe, dot, &v) < 0)
        return -1;
    int r = 0;
    switch (n->kind) {
    case N_ACTION:
        if (v)
            cli_format_value(v, x->out);
        else
            sb_adds(x->out, "<no value>");
        break;
    case N_IF:
        r = exec_list(x, truthy(v) ? &n->body : &n->alt, dot);
        break;
    case N_WITH:
        r = truthy(v) ? exec_list(x, &n->body, v) : exec_list(x, &n->alt, dot);
        break;
    case N_RANGE:
        r = exec_range(x, n, v, dot);
        break;
    default:
        break;
    }
    json_decref(v);
    return r;
}

static int exec_list(struct exec *x, const struct tlist *l, json_t *dot)
{
    for (size_t i = 0; i < l->n; i++) {
        if (exec_node(x, l->v[i], dot) < 0)
            return -1;
    }
    return 0;
}

/* ---- printing values --------------------------------------------------------------------- */

/* Go's %v for float64: the shortest digits that round-trip, %e when exp < -4 or >= 6. */
static void format_real(double d, struct sb *out)
{
    if (isnan(d) || isinf(d)) {
        sb_adds(out, isnan(d) ? "NaN" : d > 0 ? "+Inf" : "-Inf");
        return;
    }
    char buf[64];
    int prec = 1;
    for (; prec < 17; prec++) {
        snprintf(buf, sizeof(buf), "%.*e", prec - 1, d);
        if (strtod(buf, NULL) == d)
            break;
    }
    snprintf(buf, sizeof(buf), "%.*e", prec - 1, d);
    int exp = atoi(strchr(buf, 'e') + 1);
    if (exp < -4 || exp >= 6) {
        sb_adds(out, buf);
        return;
    }
    int decimals = prec - 1 - exp;
    sb_addf(out, "%.*f", decimals > 0 ? decimals : 0, d);
}

void cli_format_value(json_t *v, struct sb *out)
{
    size_t i;
    json_t *e;
    switch (v ? json_typeof(v) : JSON_NULL) {
    case JSON_STRING:
        sb_add(out, json_string_value(v), json_string_length(v));
        break;
    case JSON_INTEGER:
        sb_addf(out, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        break;
    case JSON_REAL:
        format_real(json_real_value(v), out);
        break;
    case JSON_TRUE:
        sb_adds(out, "true");
        break;
    case JSON_FALSE:
        sb_adds(out, "false");
        break;
    case JSON_ARRAY:
        sb_addc(out, '[');
        json_array_foreach(v, i, e)
        {
            if (i > 0)
                sb_addc(out, ' ');
            cli_format_value(e, out);
        }
        sb_addc(out, ']');
        break;
    case JSON_OBJECT: {
        /* Go prints maps as map[k:v ...] in key order. */
        size_t nk = json_object_size(v), k = 0;
        _cleanup_free_ const char **keys = xcalloc(nk ? nk : 1, sizeof(*keys));
        const char *key;
        json_object_foreach(v, key, e)
        {
            keys[k++] = key;
        }
        for (size_t a = 1; a < nk; a++) {
            for (size_t b = a; b > 0 && strcmp(keys[b - 1], keys[b]) > 0; b--) {
                const char *t = keys[b];
                keys[b] = keys[b - 1];
                keys[b - 1] = t;
            }
        }
        sb_adds(out, "map[");
        for (size_t a = 0; a < nk; a++) {
            if (a > 0)
                sb_addc(out, ' ');
            sb_addf(out, "%s:", keys[a]);
            cli_format_value(json_object_get(v, keys[a]), out);
        }
        sb_addc(out, ']');
        break;
    }
    default:
        sb_adds(out, "<nil>");
        break;
    }
}

/* ---- public entry points ----------------------------------------------------------------- */

static char *unescape(const char *src)
{
    struct sb sb = SB_INIT;
    for (const char *p = src; *p; p++) {
        if (p[0] == '\\' && (p[1] == 't' || p[1] == 'n')) {
            sb_addc(&sb, p[1] == 't' ? '\t' : '\n');
            p++;
        } else {
            sb_addc(&sb, *p);
        }
    }
    sb_str(&sb);
    return sb_steal(&sb);
}

int cli_format_parse(const char *src, struct cli_format **out, struct err **err)
{
    struct cli_format *f = xcalloc(1, sizeof(*f));
    const char *s = src;
    if (strcmp(s, "json") == 0)
        s = "{{json .}}";
    _cleanup_free_ char *tmp = NULL;
    if (strncmp(s, "table", 5) == 0) {
        f->table = true;
        s += 5;
        while (*s == ' ')
            s++;
        tmp = unescape(s);
        size_t n = strlen(tmp);
        while (n > 0 && tmp[n - 1] == ' ')
            tmp[--n] = '\0';
    } else {
        tmp = unescape(s);
    }
    struct parser p = {.src = tmp, .len = strlen(tmp), .line = 1, .err = err};
    enum term term = TERM_EOF;
    struct tpipe *elif = NULL;
    int r = parse_list(&p, &f->root, &term, &elif);
    toks_clear(&p);
    pipe_free(elif);
    if (r == 0 && term != TERM_EOF)
        r = perr(&p, "unexpected {{%s}}", term == TERM_END ? "end" : "else");
    if (r < 0) {
        cli_format_free(f);
        return -1;
    }
    *out = f;
    return 0;
}

bool cli_format_is_table(const struct cli_format *f)
{
    return f->table;
}

bool cli_format_is_empty(const struct cli_format *f)
{
    return f->root.n == 0;
}

int cli_format_exec(const struct cli_format *f, json_t *dot, struct sb *out, struct err **err)
{
    struct exec x = {.root = dot, .out = out, .err = err};
    return exec_list(&x, &f->root, dot);
}

int cli_format_exec_header(const struct cli_format *f, cli_format_label_fn fn, void *ud,
                           struct sb *out, struct err **err)
{
    struct exec x = {.root = NULL, .out = out, .header = true, .label = fn, .ud = ud, .err = err};
    return exec_list(&x, &f->root, NULL);
}

int cli_format_print(const char *fmt, json_t *dot, FILE *out, struct err **err)
{
    struct cli_format *f = NULL;
    if (cli_format_parse(fmt, &f, err) < 0)
        return -1;
    struct sb sb = SB_INIT;
    int r = cli_format_exec(f, dot, &sb, err);
    if (r == 0) {
        sb_addc(&sb, '\n');
        fwrite(sb.buf, 1, sb.len, out);
    }
    sb_release(&sb);
    cli_format_free(f);
    return r;
}

int cli_format_list(const char *fmt, json_t *rows, cli_format_label_fn fn, void *ud, FILE *out,
                    struct err **err)
{
    struct cli_format *f = NULL;
    if (cli_format_parse(fmt, &f, err) < 0)
        return -1;
    struct sb sb = SB_INIT;
    int r = 0;
    if (f->table) {
        r = cli_format_exec_header(f, fn, ud, &sb, err);
        sb_addc(&sb, '\n');
    }
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row)
    {
        if (r < 0)
            break;
        r = cli_format_exec(f, row, &sb, err);
        sb_addc(&sb, '\n');
    }
    if (r == 0 && f->table) {
        struct cli_table t;
        cli_table_init(&t, 10, 3);
        cli_table_add(&t, sb.buf, sb.len);
        sb_reset(&sb);
        cli_table_render(&t, &sb);
        cli_table_release(&t);
    }
    if (r == 0 && sb.len) /* nothing to print: no rows and no header */
        fwrite(sb.buf, 1, sb.len, out);
    sb_release(&sb);
    cli_format_free(f);
    return r;
}
