/* Matrix expansion. Follows the shape of GitHub's MatrixBuilder (actions/runner,
 * src/Sdk/WorkflowParser/Conversion/MatrixBuilder.cs), re-derived here:
 *  - legs are the cross product of the dimensions in key order, last key varying fastest;
 *  - an exclude entry removes a leg when every leaf of the entry equals the leg's value at
 *    that path (GitHub builds `matrix['k']... == literal` expressions, so the comparison is
 *    expression `==`: loose coercion, case-insensitive strings, partial objects match);
 *  - an include entry splits into a filter (keys that are dimensions) and extras (the rest);
 *    its extras are added to every leg the filter matches (later includes overwrite earlier
 *    extras, never dimension values); an entry that matched no leg becomes a leg of its own. */
#include "workflow/matrix.h"

#include "common/arena.h"
#include "common/strbuf.h"
#include "workflow/expr.h"
#include "workflow/yaml.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Above this many cross-product combinations we stop enumerating: excludes are listed one
 * by one, so they cannot realistically bring such a product back under 256. */
#define ENUMERATION_CAP ((size_t)1 << 20)

/* ---- Value helpers: GitHub's `==` (shared/notes/expressions.md §4) on expr.h's coercions ---- */

static bool kind_is_scalar_primitive(const json_t *v) {
    return json_is_null(v) || json_is_boolean(v);
}

bool rn_matrix_value_equals(const json_t *a, const json_t *b) {
    if (!a)
        a = json_null();
    if (!b)
        b = json_null();
    bool an = json_is_number(a), bn = json_is_number(b);
    if (json_typeof(a) == json_typeof(b) || (an && bn) ||
        (json_is_boolean(a) && json_is_boolean(b))) {
        if (json_is_null(a))
            return true;
        if (json_is_boolean(a))
            return json_is_true(a) == json_is_true(b);
        if (an)
            return json_number_value(a) == json_number_value(b);
        if (json_is_string(a))
            return rn_str_icmp(json_string_value(a), json_string_value(b)) == 0;
        return a == b; /* arrays and objects compare by reference */
    }
    /* Number vs String, or a Null/Boolean side: both become numbers. */
    bool a_ok = an || json_is_string(a) || kind_is_scalar_primitive(a);
    bool b_ok = bn || json_is_string(b) || kind_is_scalar_primitive(b);
    if (!a_ok || !b_ok)
        return false;
    if (json_is_string(a) && json_is_string(b))
        return false; /* unreachable: same kind handled above */
    return rn_value_to_number(a) == rn_value_to_number(b);
}

/* `value[key]` with the expression engine's index rules; NULL means null. */
static const json_t *index_by_key(const json_t *value, const char *key) {
    if (json_is_object(value))
        return rn_object_iget(value, key);
    if (json_is_array(value)) {
        json_t *k = json_string(key);
        double d = k ? rn_value_to_number(k) : NAN;
        json_decref(k);
        if (isnan(d) || d < 0 || isinf(d))
            return NULL;
        return json_array_get(value, (size_t)floor(d));
    }
    return NULL;
}

static const json_t *index_by_pos(const json_t *value, size_t i) {
    if (json_is_array(value))
        return json_array_get(value, i);
    if (json_is_object(value)) {
        char key[32];
        snprintf(key, sizeof key, "%zu", i);
        return rn_object_iget(value, key);
    }
    return NULL;
}

/* True when every leaf of `filter` equals the value at the same path in `actual`. Empty
 * mappings and sequences hold no leaf, so they match anything (as GitHub's do). */
static bool filter_matches(const json_t *filter, const json_t *actual) {
    if (json_is_object(filter)) {
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)filter, k, v) {
            if (!filter_matches(v, index_by_key(actual, k)))
                return false;
        }
        return true;
    }
    if (json_is_array(filter)) {
        size_t i;
        json_t *v;
        json_array_foreach(filter, i, v) {
            if (!filter_matches(v, index_by_pos(actual, i)))
                return false;
        }
        return true;
    }
    return rn_matrix_value_equals(actual, filter);
}

/* ---- Diagnostics ---- */

static const char *token_type_name(const json_t *v) {
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "MappingToken";
    case JSON_ARRAY:
        return "SequenceToken";
    case JSON_STRING:
        return "StringToken";
    case JSON_INTEGER:
    case JSON_REAL:
        return "NumberToken";
    case JSON_TRUE:
    case JSON_FALSE:
        return "BooleanToken";
    default:
        return "NullToken";
    }
}

static void report(const rn_matrix_src *src, rn_diags *diags, const char *path, const char *fmt,
                   ...) __attribute__((format(printf, 4, 5)));
static void report(const rn_matrix_src *src, rn_diags *diags, const char *path, const char *fmt,
                   ...) {
    static const rn_matrix_src none = {NULL, 0, 0, NULL, NULL};
    if (!src)
        src = &none;
    int line = src->line, col = src->col;
    if (src->locate) {
        int l = 0, c = 0;
        if (src->locate(src->ud, path, &l, &c)) {
            line = l;
            col = c;
        }
    }
    va_list ap;
    va_start(ap, fmt);
    rn_diag_vadd(diags, src->file, line, col, fmt, ap);
    va_end(ap);
}

/* ---- Expansion ---- */

typedef struct include_entry {
    json_t *filter; /* dimension keys of the entry, entry order */
    json_t *extra;  /* the other keys */
    bool matched;
} include_entry;

typedef struct legs_builder {
    rn_matrix_leg *legs;
    size_t count, cap;
} legs_builder;

static void append_segments(rn_sb *sb, const json_t *v) {
    char num[64];
    const char *s = NULL;
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        const char *k;
        json_t *child;
        json_object_foreach((json_t *)v, k, child) {
            append_segments(sb, child);
        }
        return;
    }
    case JSON_ARRAY: {
        size_t i;
        json_t *child;
        json_array_foreach(v, i, child) {
            append_segments(sb, child);
        }
        return;
    }
    case JSON_STRING:
        s = json_string_value(v);
        break;
    case JSON_INTEGER:
    case JSON_REAL:
        rn_number_format(json_number_value(v), num, sizeof num);
        s = num;
        break;
    case JSON_TRUE:
        s = "true";
        break;
    case JSON_FALSE:
        s = "false";
        break;
    default:
        return; /* null contributes no segment */
    }
    if (!*s)
        return;
    if (sb->len)
        rn_sb_puts(sb, ", ");
    rn_sb_puts(sb, s);
}

/* Takes ownership of `values`; `name_source` is the object whose scalars name the leg. */
static void add_leg(legs_builder *b, json_t *values, const json_t *name_source) {
    if (b->count == b->cap) {
        b->cap = b->cap ? b->cap * 2 : 16;
        b->legs = rn_xrealloc(b->legs, b->cap * sizeof *b->legs);
    }
    rn_sb sb = RN_SB_INIT;
    append_segments(&sb, name_source);
    b->legs[b->count].values = values;
    b->legs[b->count].segments = sb.len ? rn_sb_take(&sb) : NULL;
    rn_sb_free(&sb);
    b->count++;
}

static void free_legs(rn_matrix_leg *legs, size_t count) {
    for (size_t i = 0; i < count; i++) {
        json_decref(legs[i].values);
        free(legs[i].segments);
    }
    free(legs);
}

void rn_matrix_free(rn_matrix *m) {
    if (!m)
        return;
    free_legs(m->legs, m->count);
    m->legs = NULL;
    m->count = 0;
}

static bool is_dimension(const json_t *dims, const char *key) {
    return rn_object_iget(dims, key) != NULL;
}

bool rn_matrix_expand(const json_t *matrix, const rn_matrix_src *src, rn_matrix *out,
                      rn_diags *diags) {
    out->legs = NULL;
    out->count = 0;
    if (!json_is_object(matrix)) {
        report(src, diags, "",
               "Unexpected type '%s' encountered while reading 'matrix'. The type "
               "'MappingToken' was expected.",
               token_type_name(matrix));
        return false;
    }

    size_t errors_before = diags->count;
    json_t *dims = json_object(); /* dimension name -> array, borrowed values */
    const json_t *include = NULL, *exclude = NULL;
    bool has_vector = false, has_include = false;
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)matrix, key, value) {
        if (!strcmp(key, "include") || !strcmp(key, "exclude")) {
            if (!json_is_array(value)) {
                report(src, diags, key,
                       "Unexpected type '%s' encountered while reading 'matrix %ss'. The type "
                       "'SequenceToken' was expected.",
                       token_type_name(value), key);
                continue;
            }
            if (key[0] == 'i') {
                include = value;
                has_include = json_array_size(value) > 0;
            } else {
                exclude = value;
            }
            continue;
        }
        has_vector = true;
        if (!json_is_array(value)) {
            report(src, diags, key,
                   "Unexpected type '%s' encountered while reading 'matrix vector value'. The "
                   "type 'SequenceToken' was expected.",
                   token_type_name(value));
        } else if (json_array_size(value) == 0) {
            report(src, diags, key, "Matrix vector '%s' does not contain any values", key);
        } else {
            json_object_set(dims, key, value);
        }
    }
    if (!has_vector && !has_include)
        report(src, diags, "", "Matrix must define at least one vector");

    /* Include entries: split into filter and extras. */
    size_t n_include = include ? json_array_size(include) : 0;
    include_entry *inc = rn_xcalloc(n_include ? n_include : 1, sizeof *inc);
    for (size_t i = 0; i < n_include; i++) {
        const json_t *item = json_array_get(include, i);
        char path[64];
        snprintf(path, sizeof path, "include/%zu", i);
        if (!json_is_object(item)) {
            report(src, diags, path,
                   "Unexpected type '%s' encountered while reading 'matrix includes item'. The "
                   "type 'MappingToken' was expected.",
                   token_type_name(item));
            continue;
        }
        if (json_object_size(item) == 0) {
            report(src, diags, path, "Matrix include mapping does not contain any values");
            continue;
        }
        inc[i].filter = json_object();
        inc[i].extra = json_object();
        json_object_foreach((json_t *)item, key, value) {
            json_object_set(is_dimension(dims, key) ? inc[i].filter : inc[i].extra, key, value);
        }
    }

    /* Exclude entries: non-empty, and every first-level key names a dimension. */
    size_t n_exclude = exclude ? json_array_size(exclude) : 0;
    const json_t **exc = rn_xcalloc(n_exclude ? n_exclude : 1, sizeof *exc);
    size_t n_exc = 0;
    for (size_t i = 0; i < n_exclude; i++) {
        const json_t *item = json_array_get(exclude, i);
        char path[64];
        snprintf(path, sizeof path, "exclude/%zu", i);
        if (!json_is_object(item)) {
            report(src, diags, path,
                   "Unexpected type '%s' encountered while reading 'matrix excludes item'. The "
                   "type 'MappingToken' was expected.",
                   token_type_name(item));
            continue;
        }
        if (json_object_size(item) == 0) {
            report(src, diags, path, "Matrix exclude filter must not be empty");
            continue;
        }
        json_object_foreach((json_t *)item, key, value) {
            if (!is_dimension(dims, key)) {
                char kpath[300];
                snprintf(kpath, sizeof kpath, "exclude/%zu/%s", i, key);
                report(src, diags, kpath,
                       "Matrix exclude key '%s' does not match any key within the matrix", key);
            }
        }
        exc[n_exc++] = item;
    }

    legs_builder b = {NULL, 0, 0};
    bool ok = diags->count == errors_before;
    size_t n_dims = json_object_size(dims);
    size_t product = n_dims ? 1 : 0;
    bool too_many = false;
    json_object_foreach(dims, key, value) {
        size_t n = json_array_size(value);
        if (product > ENUMERATION_CAP / n)
            too_many = true;
        else
            product *= n;
    }
    if (ok && too_many) {
        report(src, diags, "", "Strategy produced more than %d jobs", RN_MATRIX_MAX_JOBS);
        ok = false;
    }

    const char **names = rn_xcalloc(n_dims ? n_dims : 1, sizeof *names);
    const json_t **vecs = rn_xcalloc(n_dims ? n_dims : 1, sizeof *vecs);
    size_t d = 0;
    json_object_foreach(dims, key, value) {
        names[d] = key;
        vecs[d++] = value;
    }

    for (size_t p = 0; ok && p < product; p++) {
        /* Mixed-radix digits, last dimension fastest (GitHub's order). */
        json_t *combo = json_object();
        size_t block = product;
        for (size_t k = 0; k < n_dims; k++) {
            size_t n = json_array_size(vecs[k]);
            block /= n;
            json_object_set(combo, names[k], json_array_get(vecs[k], (p / block) % n));
        }
        bool excluded = false;
        for (size_t e = 0; e < n_exc && !excluded; e++)
            excluded = filter_matches(exc[e], combo);
        if (excluded) {
            json_decref(combo);
            continue;
        }
        json_t *extra = NULL;
        for (size_t i = 0; i < n_include; i++) {
            if (!inc[i].filter || !filter_matches(inc[i].filter, combo))
                continue;
            inc[i].matched = true;
            if (!extra)
                extra = json_object();
            json_object_foreach(inc[i].extra, key, value) {
                /* keys are case-insensitive: overwrite under the first spelling */
                const char *target = key, *k2;
                json_t *v2;
                json_object_foreach(extra, k2, v2) {
                    if (!rn_str_icmp(k2, key)) {
                        target = k2;
                        break;
                    }
                }
                json_object_set(extra, target, value);
            }
        }
        json_t *values = json_copy(combo);
        if (extra) {
            json_object_foreach(extra, key, value) {
                json_object_set(values, key, value);
            }
            json_decref(extra);
        }
        add_leg(&b, values, combo);
        json_decref(combo);
        if (b.count > RN_MATRIX_MAX_JOBS)
            break;
    }
    for (size_t i = 0; ok && i < n_include && b.count <= RN_MATRIX_MAX_JOBS; i++) {
        if (!inc[i].filter || inc[i].matched)
            continue;
        json_t *values = json_copy(inc[i].filter);
        json_object_foreach(inc[i].extra, key, value) {
            json_object_set(values, key, value);
        }
        add_leg(&b, values, values);
    }
    if (ok && b.count > RN_MATRIX_MAX_JOBS) {
        report(src, diags, "", "Strategy produced more than %d jobs", RN_MATRIX_MAX_JOBS);
        ok = false;
    }
    if (ok && b.count == 0) {
        /* runnel's wording: GitHub documents no message for a matrix that excludes all. */
        report(src, diags, "", "Matrix produced no jobs: every combination is excluded");
        ok = false;
    }

    for (size_t i = 0; i < n_include; i++) {
        json_decref(inc[i].filter);
        json_decref(inc[i].extra);
    }
    free(inc);
    free(exc);
    free(names);
    free(vecs);
    json_decref(dims);
    if (!ok) {
        free_legs(b.legs, b.count);
        return false;
    }
    out->legs = b.legs;
    out->count = b.count;
    return true;
}

char *rn_matrix_job_name(const char *job_name, const rn_matrix_leg *leg) {
    char *name = leg && leg->segments ? rn_xprintf("%s (%s)", job_name, leg->segments)
                                      : rn_xstrdup(job_name);
    /* GitHub cuts at 100 UTF-16 units: 97 kept plus "...". Count code points, close enough
     * for the BMP, and never split a UTF-8 sequence. */
    size_t units = 0, i = 0, cut = 0;
    for (; name[i]; i++) {
        if (((unsigned char)name[i] & 0xC0) == 0x80)
            continue;
        if (units == 97)
            cut = i;
        units++;
    }
    if (units > 100) {
        name[cut] = '\0';
        char *cut_name = rn_xprintf("%s...", name);
        free(name);
        return cut_name;
    }
    return name;
}

/* ---- From YAML ---- */

static bool has_expression(const rn_ynode *n, bool *reads_needs) {
    if (!n)
        return false;
    if (n->kind == RN_Y_SCALAR) {
        if (n->type != RN_YS_STRING || !strstr(n->str, "${{"))
            return false;
        /* a coarse look at the text is enough to tell the two run-time cases apart */
        for (const char *p = strstr(n->str, "needs"); p; p = strstr(p + 1, "needs")) {
            char before = p == n->str ? ' ' : p[-1];
            if (!isalnum((unsigned char)before) && before != '_' && before != '-' &&
                (p[5] == '.' || p[5] == '[' || p[5] == ')' || p[5] == ' '))
                *reads_needs = true;
        }
        return true;
    }
    bool any = false;
    for (size_t i = 0; i < n->n; i++) {
        if (n->kind == RN_Y_SEQ) {
            any = has_expression(n->items[i], reads_needs) || any;
        } else {
            any = has_expression(n->pairs[i].key, reads_needs) || any;
            any = has_expression(n->pairs[i].value, reads_needs) || any;
        }
    }
    return any;
}

static const rn_ynode *map_value(const rn_ynode *map, const char *key, const rn_ynode **key_node) {
    if (!map || map->kind != RN_Y_MAP)
        return NULL;
    for (size_t i = 0; i < map->n; i++) {
        const rn_ynode *k = map->pairs[i].key;
        if (k->kind == RN_Y_SCALAR && !strcmp(rn_yaml_scalar_text(k), key)) {
            if (key_node)
                *key_node = k;
            return map->pairs[i].value;
        }
    }
    return NULL;
}

/* Resolves "os", "include/1", "exclude/0/foo" (a key) against the matrix node. */
static bool locate_in_yaml(void *ud, const char *path, int *line, int *col) {
    const rn_ynode *node = ud;
    char *copy = rn_xstrdup(path);
    char *save = NULL;
    const rn_ynode *at = node;
    int depth = 0;
    for (char *seg = strtok_r(copy, "/", &save); seg && at; seg = strtok_r(NULL, "/", &save)) {
        const rn_ynode *key = NULL;
        if (at->kind == RN_Y_SEQ) {
            size_t i = strtoul(seg, NULL, 10);
            at = i < at->n ? at->items[i] : NULL;
        } else {
            const rn_ynode *v = map_value(at, seg, &key);
            at = depth == 2 ? key : v; /* a key inside an include/exclude entry */
        }
        depth++;
    }
    free(copy);
    if (!at)
        return false;
    *line = at->line;
    *col = at->col;
    return true;
}

rn_matrix_kind rn_matrix_from_yaml(const rn_ynode *matrix, rn_matrix *out, rn_diags *diags) {
    out->legs = NULL;
    out->count = 0;
    if (!matrix)
        return RN_MATRIX_NONE;
    bool reads_needs = false;
    if (has_expression(matrix, &reads_needs))
        return reads_needs ? RN_MATRIX_FROM_NEEDS : RN_MATRIX_DYNAMIC;
    json_t *value = rn_yaml_to_json(matrix);
    rn_matrix_src src = {matrix->file, matrix->line, matrix->col, locate_in_yaml, (void *)matrix};
    bool ok = rn_matrix_expand(value, &src, out, diags);
    json_decref(value);
    return ok ? RN_MATRIX_LITERAL : RN_MATRIX_ERROR;
}
