#include "workflow/yaml.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define TAG_PREFIX "tag:yaml.org,2002:"
/* Nesting deeper than this is rejected so recursive consumers cannot overflow the stack. */
#define MAX_DEPTH 50 /* GitHub: "Maximum object depth exceeded" past 50 levels */
/* Alias expansion cap (nodes reachable counting every path): stops "billion laughs". */
#define MAX_EXPANDED 2000000.0

typedef struct anchor {
    char *name;
    rn_ynode *node;
} anchor;

typedef struct frame {
    rn_ynode *node;
    rn_ynode **items; /* heap, moved into the arena when the collection ends */
    size_t n, cap;
    rn_ynode *pending_key; /* mappings: key waiting for its value */
    const char *anchor;    /* anchor to register when the collection ends */
} frame;

typedef struct loader {
    rn_arena *a;
    const char *file;
    const char *text;
    size_t len;
    rn_diags *diags;
    anchor *anchors;
    size_t n_anchors, cap_anchors;
    bool failed;
} loader;

static void offset_pos(const char *text, size_t len, size_t off, int *line, int *col) {
    *line = 1;
    *col = 1;
    for (size_t i = 0; i < off && i < len; i++) {
        if (text[i] == '\n') {
            (*line)++;
            *col = 1;
        } else if (((unsigned char)text[i] & 0xC0) != 0x80) {
            (*col)++;
        }
    }
}

static void add_anchor(loader *L, const char *name, rn_ynode *node) {
    if (!name)
        return;
    /* Later definitions of the same name shadow earlier ones (YAML spec). */
    if (L->n_anchors == L->cap_anchors) {
        L->cap_anchors = L->cap_anchors ? L->cap_anchors * 2 : 8;
        L->anchors = rn_xrealloc(L->anchors, L->cap_anchors * sizeof *L->anchors);
    }
    L->anchors[L->n_anchors++] = (anchor){rn_xstrdup(name), node};
}

static rn_ynode *find_anchor(loader *L, const char *name) {
    for (size_t i = L->n_anchors; i > 0; i--)
        if (!strcmp(L->anchors[i - 1].name, name))
            return L->anchors[i - 1].node;
    return NULL;
}

static const char *style_name(yaml_scalar_style_t s) {
    switch (s) {
    case YAML_SINGLE_QUOTED_SCALAR_STYLE:
        return "SingleQuoted";
    case YAML_DOUBLE_QUOTED_SCALAR_STYLE:
        return "DoubleQuoted";
    case YAML_LITERAL_SCALAR_STYLE:
        return "Literal";
    case YAML_FOLDED_SCALAR_STYLE:
        return "Folded";
    default:
        return "Plain";
    }
}

static bool is_null_text(const char *s) {
    return !*s || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") || !strcmp(s, "NULL");
}

static int bool_text(const char *s) {
    if (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE"))
        return 1;
    if (!strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "FALSE"))
        return 0;
    return -1;
}

static bool all_in(const char *s, const char *set) {
    if (!*s)
        return false;
    for (; *s; s++)
        if (!strchr(set, *s))
            return false;
    return true;
}

/* YAML 1.2 core schema int/float forms; returns false when s is not a number. */
static bool number_text(const char *s, double *out) {
    const char *p = s;
    if (!strncmp(p, "0x", 2) && all_in(p + 2, "0123456789abcdefABCDEF")) {
        *out = (double)strtoull(p + 2, NULL, 16);
        return true;
    }
    if (!strncmp(p, "0o", 2) && all_in(p + 2, "01234567")) {
        *out = (double)strtoull(p + 2, NULL, 8);
        return true;
    }
    bool neg = false;
    if (*p == '+' || *p == '-') {
        neg = *p == '-';
        p++;
    }
    if (!strcmp(p, ".inf") || !strcmp(p, ".Inf") || !strcmp(p, ".INF")) {
        *out = neg ? -INFINITY : INFINITY;
        return true;
    }
    if (p == s && (!strcmp(p, ".nan") || !strcmp(p, ".NaN") || !strcmp(p, ".NAN"))) {
        *out = NAN;
        return true;
    }
    /* [0-9]* (. [0-9]*)? ([eE][-+]?[0-9]+)? with at least one digit in the mantissa */
    const char *q = p;
    size_t digits = 0;
    while (isdigit((unsigned char)*q))
        q++, digits++;
    if (*q == '.') {
        q++;
        while (isdigit((unsigned char)*q))
            q++, digits++;
    }
    if (!digits)
        return false;
    if (*q == 'e' || *q == 'E') {
        q++;
        if (*q == '+' || *q == '-')
            q++;
        if (!isdigit((unsigned char)*q))
            return false;
        while (isdigit((unsigned char)*q))
            q++;
    }
    if (*q)
        return false;
    *out = strtod(s, NULL);
    return true;
}

static rn_ynode *new_node(loader *L, rn_ynode_kind kind, yaml_mark_t m) {
    rn_ynode *n = rn_arena_alloc(L->a, sizeof *n);
    n->kind = kind;
    n->file = L->file;
    n->line = (int)m.line + 1;
    n->col = (int)m.column + 1;
    n->str = "";
    return n;
}

static void file_error(loader *L, const char *fmt, const char *a, const char *b, int line,
                       int col) {
    /* GitHub reports these tag/style problems without a position prefix. */
    char msg[512];
    snprintf(msg, sizeof msg, fmt, a, line, col, b);
    rn_diag_add(L->diags, L->file, 0, 0, "%s", msg);
    L->failed = true;
}

static rn_ynode *make_scalar(loader *L, yaml_event_t *ev) {
    rn_ynode *n = new_node(L, RN_Y_SCALAR, ev->start_mark);
    const char *val = (const char *)ev->data.scalar.value;
    n->len = ev->data.scalar.length;
    n->str = rn_arena_strndup(L->a, val, n->len);
    n->len = strlen(n->str); /* a "\0" escape truncates; keep len consistent with str */
    switch (ev->data.scalar.style) {
    case YAML_SINGLE_QUOTED_SCALAR_STYLE:
        n->style = RN_YSTYLE_SINGLE;
        break;
    case YAML_DOUBLE_QUOTED_SCALAR_STYLE:
        n->style = RN_YSTYLE_DOUBLE;
        break;
    case YAML_LITERAL_SCALAR_STYLE:
        n->style = RN_YSTYLE_LITERAL;
        break;
    case YAML_FOLDED_SCALAR_STYLE:
        n->style = RN_YSTYLE_FOLDED;
        break;
    default:
        n->style = RN_YSTYLE_PLAIN;
    }
    const char *tag = (const char *)ev->data.scalar.tag;
    bool plain = n->style == RN_YSTYLE_PLAIN;
    n->type = RN_YS_STRING;
    if (!tag || !strcmp(tag, "!")) {
        if (!plain || tag)
            return n;
        int b;
        if (is_null_text(n->str) && strlen(n->str) == n->len)
            n->type = RN_YS_NULL;
        else if ((b = bool_text(n->str)) >= 0) {
            n->type = RN_YS_BOOL;
            n->boolean = b;
        } else if (number_text(n->str, &n->number))
            n->type = RN_YS_NUMBER;
        return n;
    }
    if (!strcmp(tag, TAG_PREFIX "str"))
        return n;
    const char *kinds[] = {"null", "bool", "int", "float"};
    for (int k = 0; k < 4; k++) {
        char full[64];
        snprintf(full, sizeof full, TAG_PREFIX "%s", kinds[k]);
        if (strcmp(tag, full))
            continue;
        if (!plain) {
            char msg[512];
            snprintf(msg, sizeof msg,
                     "The scalar style '%s' on line %d and column %d is not valid with the tag "
                     "'%s'",
                     style_name(ev->data.scalar.style), n->line, n->col, full);
            rn_diag_add(L->diags, L->file, 0, 0, "%s", msg);
            L->failed = true;
            return n;
        }
        bool ok = false;
        if (k == 0) {
            ok = is_null_text(n->str);
            n->type = RN_YS_NULL;
        } else if (k == 1) {
            int b = bool_text(n->str);
            ok = b >= 0;
            n->type = RN_YS_BOOL;
            n->boolean = b > 0;
        } else {
            double d;
            ok = number_text(n->str, &d);
            /* !!int only takes the integer forms */
            if (ok && k == 2 && (strpbrk(n->str, ".eE") && strncmp(n->str, "0x", 2)))
                ok = false;
            n->type = RN_YS_NUMBER;
            n->number = d;
        }
        if (!ok)
            file_error(L, "The value '%s' on line %d and column %d is invalid for the type '%s'",
                       n->str, full, n->line, n->col);
        return n;
    }
    rn_diag_add(L->diags, L->file, 0, 0, "Unexpected tag '%s'", tag);
    L->failed = true;
    return n;
}

static void push_item(frame *f, rn_ynode *n) {
    if (f->n == f->cap) {
        f->cap = f->cap ? f->cap * 2 : 8;
        f->items = rn_xrealloc(f->items, f->cap * sizeof *f->items);
    }
    f->items[f->n++] = n;
}

static bool is_merge_key(const rn_ynode *k) {
    return k->kind == RN_Y_SCALAR && k->style == RN_YSTYLE_PLAIN && !strcmp(k->str, "<<");
}

static bool has_key(rn_ypair *pairs, size_t n, const rn_ynode *key) {
    if (key->kind != RN_Y_SCALAR)
        return false;
    for (size_t i = 0; i < n; i++)
        if (pairs[i].key->kind == RN_Y_SCALAR && !strcmp(pairs[i].key->str, key->str))
            return true;
    return false;
}

/* Builds the pair list of a finished mapping, expanding `<<` merge keys: keys written in the
 * mapping itself win, then earlier merge sources win over later ones. */
static void finish_map(loader *L, frame *f) {
    rn_ynode *m = f->node;
    size_t cap = f->n / 2 + 1;
    for (size_t i = 0; i + 1 < f->n; i += 2)
        if (is_merge_key(f->items[i])) {
            rn_ynode *v = f->items[i + 1];
            if (v->kind == RN_Y_MAP)
                cap += v->n;
            else if (v->kind == RN_Y_SEQ)
                for (size_t j = 0; j < v->n; j++)
                    if (v->items[j]->kind == RN_Y_MAP)
                        cap += v->items[j]->n;
        }
    rn_ypair *pairs = rn_arena_alloc(L->a, cap * sizeof *pairs);
    size_t n = 0;
    for (size_t i = 0; i + 1 < f->n; i += 2)
        if (!is_merge_key(f->items[i]))
            pairs[n++] = (rn_ypair){f->items[i], f->items[i + 1]};
    for (size_t i = 0; i + 1 < f->n; i += 2) {
        if (!is_merge_key(f->items[i]))
            continue;
        rn_ynode *v = f->items[i + 1];
        rn_ynode *single[1] = {v};
        rn_ynode **srcs = v->kind == RN_Y_SEQ ? v->items : single;
        size_t nsrc = v->kind == RN_Y_SEQ ? v->n : 1;
        for (size_t s = 0; s < nsrc; s++) {
            rn_ynode *src = srcs[s];
            if (src->kind != RN_Y_MAP) {
                rn_diag_add(L->diags, L->file, src->line, src->col,
                            "A merge key '<<' must be followed by a mapping or a sequence of "
                            "mappings");
                L->failed = true;
                continue;
            }
            for (size_t j = 0; j < src->n; j++)
                if (!has_key(pairs, n, src->pairs[j].key))
                    pairs[n++] = src->pairs[j];
        }
    }
    m->pairs = pairs;
    m->n = n;
}

static void report_parser_error(loader *L, yaml_parser_t *p) {
    int line, col;
    if (p->error == YAML_READER_ERROR) {
        offset_pos(L->text, L->len, p->problem_offset, &line, &col);
        if (p->problem && strstr(p->problem, "UTF-8"))
            rn_diag_add(L->diags, L->file, line, col, "Invalid UTF-8 in YAML: %s (byte 0x%02x)",
                        p->problem, (unsigned)p->problem_value & 0xff);
        else
            rn_diag_add(L->diags, L->file, line, col, "Invalid YAML input: %s",
                        p->problem ? p->problem : "read error");
        return;
    }
    line = (int)p->problem_mark.line + 1;
    col = (int)p->problem_mark.column + 1;
    size_t off = p->problem_mark.index;
    if (off < L->len && L->text[off] == '\t')
        rn_diag_add(L->diags, L->file, line, col,
                    "Tabs are not allowed in YAML indentation; use spaces (%s)",
                    p->problem ? p->problem : "syntax error");
    else if (p->context)
        rn_diag_add(L->diags, L->file, line, col, "YAML syntax error: %s %s",
                    p->problem ? p->problem : "error", p->context);
    else
        rn_diag_add(L->diags, L->file, line, col, "YAML syntax error: %s",
                    p->problem ? p->problem : "error");
}

rn_ynode *rn_yaml_load(rn_arena *a, const char *file, const char *text, size_t len,
                       rn_diags *diags) {
    loader L = {.a = a,
                .file = file ? rn_arena_strdup(a, file) : NULL,
                .text = text,
                .len = len,
                .diags = diags};
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser)) {
        rn_diag_add(diags, file, 0, 0, "cannot initialize the YAML parser");
        return NULL;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING);

    frame stack[MAX_DEPTH + 1];
    size_t depth = 0;
    rn_ynode *root = NULL;
    int documents = 0;
    bool done = false;
    while (!done) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&parser, &ev)) {
            report_parser_error(&L, &parser);
            L.failed = true;
            break;
        }
        rn_ynode *value = NULL;
        switch (ev.type) {
        case YAML_STREAM_END_EVENT:
            done = true;
            break;
        case YAML_DOCUMENT_START_EVENT:
            if (++documents > 1) {
                rn_diag_add(diags, L.file, (int)ev.start_mark.line + 1,
                            (int)ev.start_mark.column + 1,
                            "Only one YAML document is allowed in a workflow file");
                L.failed = true;
                done = true;
            }
            break;
        case YAML_SCALAR_EVENT:
            value = make_scalar(&L, &ev);
            add_anchor(&L, (const char *)ev.data.scalar.anchor, value);
            break;
        case YAML_ALIAS_EVENT:
            value = find_anchor(&L, (const char *)ev.data.alias.anchor);
            if (!value) {
                rn_diag_add(diags, L.file, (int)ev.start_mark.line + 1,
                            (int)ev.start_mark.column + 1, "Unknown alias '*%s'",
                            (const char *)ev.data.alias.anchor);
                L.failed = true;
                done = true;
            }
            break;
        case YAML_SEQUENCE_START_EVENT:
        case YAML_MAPPING_START_EVENT:
            if (depth == MAX_DEPTH) {
                rn_diag_add(diags, L.file, 0, 0, "Maximum object depth exceeded");
                L.failed = true;
                done = true;
                break;
            }
            {
                bool seq = ev.type == YAML_SEQUENCE_START_EVENT;
                const char *anc = (const char *)(seq ? ev.data.sequence_start.anchor
                                                     : ev.data.mapping_start.anchor);
                const char *tag =
                    (const char *)(seq ? ev.data.sequence_start.tag : ev.data.mapping_start.tag);
                if (tag && strcmp(tag, "!") &&
                    strcmp(tag, seq ? TAG_PREFIX "seq" : TAG_PREFIX "map")) {
                    rn_diag_add(diags, L.file, 0, 0, "Unexpected tag '%s'", tag);
                    L.failed = true;
                }
                stack[depth++] =
                    (frame){.node = new_node(&L, seq ? RN_Y_SEQ : RN_Y_MAP, ev.start_mark),
                            .anchor = anc ? rn_arena_strdup(a, anc) : NULL};
            }
            break;
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT: {
            frame *f = &stack[--depth];
            value = f->node;
            if (value->kind == RN_Y_SEQ) {
                value->items = rn_arena_alloc(a, (f->n ? f->n : 1) * sizeof *value->items);
                if (f->n)
                    memcpy(value->items, f->items, f->n * sizeof *f->items);
                value->n = f->n;
            } else {
                finish_map(&L, f);
            }
            free(f->items);
            add_anchor(&L, f->anchor, value);
            break;
        }
        default:
            break;
        }
        yaml_event_delete(&ev);
        if (!value)
            continue;
        /* Expanded size, counting shared (aliased) subtrees once per reference. */
        if (value->kind != RN_Y_SCALAR) {
            double size = 1;
            if (value->kind == RN_Y_SEQ)
                for (size_t i = 0; i < value->n; i++)
                    size += value->items[i]->kind == RN_Y_SCALAR ? 1 : value->items[i]->number;
            else
                for (size_t i = 0; i < value->n; i++)
                    size += 1 + (value->pairs[i].value->kind == RN_Y_SCALAR
                                     ? 1
                                     : value->pairs[i].value->number);
            value->number = size; /* collections keep their expanded size here */
            if (size > MAX_EXPANDED) {
                rn_diag_add(diags, L.file, value->line, value->col,
                            "The document is too large once its aliases are expanded");
                L.failed = true;
                done = true;
            }
        }
        if (depth == 0) {
            root = value;
        } else {
            push_item(&stack[depth - 1], value);
        }
    }
    while (depth > 0)
        free(stack[--depth].items);
    yaml_parser_delete(&parser);
    for (size_t i = 0; i < L.n_anchors; i++)
        free(L.anchors[i].name);
    free(L.anchors);
    if (L.failed)
        return NULL;
    if (!root) {
        root = rn_arena_alloc(a, sizeof *root);
        root->kind = RN_Y_SCALAR;
        root->file = L.file;
        root->line = root->col = 1;
        root->str = "";
        root->type = RN_YS_NULL;
    }
    return root;
}

rn_ynode *rn_yaml_get(const rn_ynode *map, const char *key) {
    if (!map || map->kind != RN_Y_MAP)
        return NULL;
    for (size_t i = 0; i < map->n; i++)
        if (map->pairs[i].key->kind == RN_Y_SCALAR && !strcmp(map->pairs[i].key->str, key))
            return map->pairs[i].value;
    return NULL;
}

const char *rn_yaml_str(const rn_ynode *n) {
    return n && n->kind == RN_Y_SCALAR ? n->str : NULL;
}

bool rn_yaml_is_null(const rn_ynode *n) {
    return !n || (n->kind == RN_Y_SCALAR && n->type == RN_YS_NULL);
}

const char *rn_yaml_scalar_text(const rn_ynode *n) {
    if (!n || n->kind != RN_Y_SCALAR || n->type == RN_YS_NULL)
        return "";
    if (n->type == RN_YS_BOOL)
        return n->boolean ? "true" : "false";
    return n->str;
}

json_t *rn_yaml_to_json(const rn_ynode *n) {
    if (!n)
        return json_null();
    switch (n->kind) {
    case RN_Y_SCALAR:
        switch (n->type) {
        case RN_YS_NULL:
            return json_null();
        case RN_YS_BOOL:
            return json_boolean(n->boolean);
        case RN_YS_NUMBER:
            /* jansson rejects non-finite reals; GitHub prints them as strings anyway */
            if (!isfinite(n->number))
                return json_string(isnan(n->number) ? "NaN"
                                   : n->number > 0  ? "Infinity"
                                                    : "-Infinity");
            return json_real(n->number);
        default:
            return json_stringn(n->str, n->len);
        }
    case RN_Y_SEQ: {
        json_t *arr = json_array();
        for (size_t i = 0; i < n->n; i++)
            json_array_append_new(arr, rn_yaml_to_json(n->items[i]));
        return arr;
    }
    case RN_Y_MAP: {
        json_t *obj = json_object();
        for (size_t i = 0; i < n->n; i++) {
            const rn_ynode *k = n->pairs[i].key;
            const char *key = k->kind == RN_Y_SCALAR ? rn_yaml_scalar_text(k) : "";
            json_object_set_new(obj, key, rn_yaml_to_json(n->pairs[i].value));
        }
        return obj;
    }
    }
    return json_null();
}
