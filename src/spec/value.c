/*
 * value.c — wast2json values <-> struct kiln_val for kiln-spec.
 *
 * wast2json writes every number as a decimal string: integers unsigned
 * (two's complement), floats as the decimal value of their bit pattern
 * (u32 for f32, u64 for f64). Expected floats may instead be the patterns
 * "nan:canonical" (sign ignored, quiet bit only) or "nan:arithmetic" (quiet
 * bit set, any payload). A v128 carries "lane_type" and an array of lane
 * strings, lowest lane first; each float lane may be a NaN pattern.
 * References are "null" or a host number (externref only; see spec.h).
 */
#include "spec/spec.h"

#include <errno.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Lane shape of a v128 lane type name: width in bytes and whether float. */
struct lane_shape {
    const char *name;
    unsigned bytes;
    bool is_float;
};

static const struct lane_shape LANES[] = {
    {"i8", 1, false},  {"i16", 2, false}, {"i32", 4, false},
    {"i64", 8, false}, {"f32", 4, true},  {"f64", 8, true},
};

static const struct lane_shape *lane_shape(const char *name)
{
    size_t i;
    if (!name)
        return NULL;
    for (i = 0; i < sizeof LANES / sizeof LANES[0]; i++)
        if (!strcmp(LANES[i].name, name))
            return &LANES[i];
    return NULL;
}

static const struct {
    const char *name;
    uint8_t type;
} TYPES[] = {
    {"i32", KILN_I32},         {"i64", KILN_I64},
    {"f32", KILN_F32},         {"f64", KILN_F64},
    {"v128", KILN_V128},       {"funcref", KILN_FUNCREF},
    {"externref", KILN_EXTERNREF},
};

/* Returns the name of valtype t (see spec.h). */
const char *spec_valtype_name(uint8_t t)
{
    size_t i;
    for (i = 0; i < sizeof TYPES / sizeof TYPES[0]; i++)
        if (TYPES[i].type == t)
            return TYPES[i].name;
    return "?";
}

/* Returns the valtype named by j's "type" field, or 0 (see spec.h). */
uint8_t spec_val_type(const json_t *j)
{
    const char *name = json_string_value(json_object_get(j, "type"));
    size_t i;
    if (!name)
        return 0;
    for (i = 0; i < sizeof TYPES / sizeof TYPES[0]; i++)
        if (!strcmp(TYPES[i].name, name))
            return TYPES[i].type;
    return 0;
}

/* Parses a decimal (or 0x) integer string, signed or unsigned, keeping the
 * low `bits` bits. Returns 0 or -1 if it is not a number of that width. */
static int parse_int(const char *s, unsigned bits, uint64_t *out)
{
    char *end;
    uint64_t v;
    int base = 10;
    if (!s || !*s)
        return -1;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
        base = 16;
    errno = 0;
    if (s[0] == '-') {
        int64_t sv = strtoll(s, &end, base);
        if (bits < 64 && sv < -((int64_t)1 << (bits - 1)))
            return -1;
        v = (uint64_t)sv;
    } else {
        v = strtoull(s, &end, base);
        if (bits < 64 && v >> bits)
            return -1;
    }
    if (errno || *end)
        return -1;
    if (bits < 64)
        v &= ((uint64_t)1 << bits) - 1;
    *out = v;
    return 0;
}

static bool is_nan_pattern(const char *s)
{
    return s && !strncmp(s, "nan:", 4);
}

/* Writes lane i of width `bytes` into v (little-endian). */
static void lane_put(uint8_t *v, unsigned bytes, unsigned i, uint64_t x)
{
    unsigned k;
    for (k = 0; k < bytes; k++)
        v[i * bytes + k] = (uint8_t)(x >> (8 * k));
}

static uint64_t lane_get(const uint8_t *v, unsigned bytes, unsigned i)
{
    uint64_t x = 0;
    unsigned k;
    for (k = 0; k < bytes; k++)
        x |= (uint64_t)v[i * bytes + k] << (8 * k);
    return x;
}

/* Parses a reference value string: "null" -> NULL, "N" -> host value N. */
static int parse_ref(uint8_t type, const char *s, void **out, char *why)
{
    uint64_t n;
    if (!s || !strcmp(s, "null")) {
        *out = NULL;
        return 0;
    }
    if (type != KILN_EXTERNREF || parse_int(s, 64, &n) < 0) {
        snprintf(why, SPEC_FMT_MAX, "cannot make a %s from \"%s\"", spec_valtype_name(type), s);
        return -1;
    }
    *out = spec_externref(n);
    return 0;
}

/* Parses an argument value into *out (see spec.h). */
int spec_val_parse(const json_t *j, struct kiln_val *out, char *why)
{
    uint8_t type = spec_val_type(j);
    const json_t *jv = json_object_get(j, "value");
    const char *s = json_string_value(jv);
    uint64_t x;
    memset(out, 0, sizeof *out);
    out->type = type;
    switch (type) {
    case KILN_I32:
    case KILN_F32:
        if (parse_int(s, 32, &x) < 0)
            goto bad;
        out->of.i32 = (int32_t)(uint32_t)x;
        return 0;
    case KILN_I64:
    case KILN_F64:
        if (parse_int(s, 64, &x) < 0)
            goto bad;
        out->of.i64 = (int64_t)x;
        return 0;
    case KILN_FUNCREF:
    case KILN_EXTERNREF:
        return parse_ref(type, s, &out->of.ref, why);
    case KILN_V128: {
        const struct lane_shape *ls =
            lane_shape(json_string_value(json_object_get(j, "lane_type")));
        size_t i, n = json_array_size(jv);
        if (!ls || n != 16 / ls->bytes) {
            snprintf(why, SPEC_FMT_MAX, "bad v128 lanes");
            return -1;
        }
        for (i = 0; i < n; i++) {
            s = json_string_value(json_array_get(jv, i));
            if (parse_int(s, ls->bytes * 8, &x) < 0)
                goto bad;
            lane_put(out->of.v128, ls->bytes, (unsigned)i, x);
        }
        return 0;
    }
    default:
        snprintf(why, SPEC_FMT_MAX, "unknown value type \"%s\"",
                 json_string_value(json_object_get(j, "type")) ?: "(none)");
        return -1;
    }
bad:
    snprintf(why, SPEC_FMT_MAX, "bad %s value \"%s\"", spec_valtype_name(type),
             s ? s : "(none)");
    return -1;
}

/* Matches float bits against an expectation string (a pattern or bits). */
static bool float_match(const char *s, uint64_t bits, unsigned width)
{
    uint64_t expo_quiet = width == 32 ? 0x7fc00000u : 0x7ff8000000000000u;
    uint64_t sign = width == 32 ? 0x80000000u : 0x8000000000000000u;
    uint64_t x;
    if (!s)
        return false;
    if (!strcmp(s, "nan:canonical"))
        return (bits & ~sign) == expo_quiet;
    if (!strcmp(s, "nan:arithmetic"))
        return (bits & expo_quiet) == expo_quiet;
    if (parse_int(s, width, &x) < 0)
        return false;
    return x == bits;
}

static bool match_one(const json_t *j, const struct kiln_val *got)
{
    uint8_t type = spec_val_type(j);
    const json_t *jv = json_object_get(j, "value");
    const char *s = json_string_value(jv);
    uint64_t x;
    if (type != got->type)
        return false;
    switch (type) {
    case KILN_I32:
        return parse_int(s, 32, &x) == 0 && (uint32_t)x == (uint32_t)got->of.i32;
    case KILN_I64:
        return parse_int(s, 64, &x) == 0 && x == (uint64_t)got->of.i64;
    case KILN_F32:
        return float_match(s, got->of.f32, 32);
    case KILN_F64:
        return float_match(s, got->of.f64, 64);
    case KILN_FUNCREF:
    case KILN_EXTERNREF:
        if (!s) /* "(ref.func)" / "(ref.extern)": any non-null reference */
            return got->of.ref != NULL;
        if (!strcmp(s, "null"))
            return got->of.ref == NULL;
        if (type == KILN_FUNCREF) /* a specific function cannot be named */
            return got->of.ref != NULL;
        return parse_int(s, 64, &x) == 0 && got->of.ref == spec_externref(x);
    case KILN_V128: {
        const struct lane_shape *ls =
            lane_shape(json_string_value(json_object_get(j, "lane_type")));
        size_t i, n = json_array_size(jv);
        if (!ls || n != 16 / ls->bytes)
            return false;
        for (i = 0; i < n; i++) {
            uint64_t lane = lane_get(got->of.v128, ls->bytes, (unsigned)i);
            s = json_string_value(json_array_get(jv, i));
            if (ls->is_float) {
                if (!float_match(s, lane, ls->bytes * 8))
                    return false;
            } else if (parse_int(s, ls->bytes * 8, &x) < 0 || x != lane) {
                return false;
            }
        }
        return true;
    }
    default:
        return false;
    }
}

/* Matches a result against an expectation (see spec.h). An "either"
 * expectation (newer wabt) matches if any alternative does. */
bool spec_val_match(const json_t *j, const struct kiln_val *got)
{
    const char *t = json_string_value(json_object_get(j, "type"));
    if (t && !strcmp(t, "either")) {
        const json_t *alts = json_object_get(j, "values");
        size_t i;
        for (i = 0; i < json_array_size(alts); i++)
            if (match_one(json_array_get(alts, i), got))
                return true;
        return false;
    }
    return match_one(j, got);
}

/* Appends printf output to buf (SPEC_FMT_MAX bytes total), truncating. */
static void append(char *buf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void append(char *buf, const char *fmt, ...)
{
    size_t len = strlen(buf);
    va_list ap;
    if (len + 1 >= SPEC_FMT_MAX)
        return;
    va_start(ap, fmt);
    vsnprintf(buf + len, SPEC_FMT_MAX - len, fmt, ap);
    va_end(ap);
}

/* Appends a float given by its bits: "1.5", "-0", "nan:0x7fc00000". */
static void append_float(char *buf, uint64_t bits, unsigned width)
{
    double d;
    bool nan;
    if (width == 32) {
        float f;
        uint32_t b = (uint32_t)bits;
        memcpy(&f, &b, 4);
        d = f;
        nan = f != f;
    } else {
        memcpy(&d, &bits, 8);
        nan = d != d;
    }
    if (nan)
        append(buf, "%snan:0x%" PRIx64, (bits >> (width - 1)) & 1 ? "-" : "",
               bits & (width == 32 ? 0x7fffffu : 0xfffffffffffffu));
    else
        append(buf, width == 32 ? "%.9g" : "%.17g", d);
}

static void append_float_string(char *buf, const char *s, unsigned width)
{
    uint64_t x;
    if (is_nan_pattern(s) || parse_int(s, width, &x) < 0)
        append(buf, "%s", s ? s : "?");
    else
        append_float(buf, x, width);
}

static void format_one_expected(const json_t *j, char *buf)
{
    uint8_t type = spec_val_type(j);
    const json_t *jv = json_object_get(j, "value");
    const char *s = json_string_value(jv);
    append(buf, "%s:", spec_valtype_name(type));
    switch (type) {
    case KILN_F32:
    case KILN_F64:
        append_float_string(buf, s, type == KILN_F32 ? 32 : 64);
        break;
    case KILN_V128: {
        const char *lt = json_string_value(json_object_get(j, "lane_type"));
        const struct lane_shape *ls = lane_shape(lt);
        size_t i;
        append(buf, "%sx%u", lt ? lt : "?", ls ? 16 / ls->bytes : 0);
        for (i = 0; i < json_array_size(jv); i++) {
            append(buf, " ");
            if (ls && ls->is_float)
                append_float_string(buf, json_string_value(json_array_get(jv, i)),
                                    ls->bytes * 8);
            else
                append(buf, "%s", json_string_value(json_array_get(jv, i)) ?: "?");
        }
        break;
    }
    case KILN_FUNCREF:
    case KILN_EXTERNREF:
        append(buf, "%s", s ? s : "non-null");
        break;
    default:
        append(buf, "%s", s ? s : "?");
    }
}

/* Formats an expectation (see spec.h). */
char *spec_val_format_expected(const json_t *j, char *buf)
{
    const char *t = json_string_value(json_object_get(j, "type"));
    buf[0] = 0;
    if (t && !strcmp(t, "either")) {
        const json_t *alts = json_object_get(j, "values");
        size_t i;
        append(buf, "either(");
        for (i = 0; i < json_array_size(alts); i++) {
            if (i)
                append(buf, " | ");
            format_one_expected(json_array_get(alts, i), buf);
        }
        append(buf, ")");
        return buf;
    }
    format_one_expected(j, buf);
    return buf;
}

/* Formats a value (see spec.h). */
char *spec_val_format(const struct kiln_val *v, const json_t *like, char *buf)
{
    buf[0] = 0;
    append(buf, "%s:", spec_valtype_name(v->type));
    switch (v->type) {
    case KILN_I32:
        append(buf, "%" PRIu32, (uint32_t)v->of.i32);
        break;
    case KILN_I64:
        append(buf, "%" PRIu64, (uint64_t)v->of.i64);
        break;
    case KILN_F32:
        append_float(buf, v->of.f32, 32);
        break;
    case KILN_F64:
        append_float(buf, v->of.f64, 64);
        break;
    case KILN_V128: {
        const char *lt = like ? json_string_value(json_object_get(like, "lane_type")) : NULL;
        const struct lane_shape *ls = lane_shape(lt);
        unsigned i, n;
        if (!ls)
            ls = lane_shape("i32");
        n = 16 / ls->bytes;
        append(buf, "%sx%u", ls->name, n);
        for (i = 0; i < n; i++) {
            uint64_t lane = lane_get(v->of.v128, ls->bytes, i);
            append(buf, " ");
            if (ls->is_float)
                append_float(buf, lane, ls->bytes * 8);
            else
                append(buf, "%" PRIu64, lane);
        }
        break;
    }
    case KILN_FUNCREF:
        if (v->of.ref)
            append(buf, "%p", v->of.ref);
        else
            append(buf, "null");
        break;
    case KILN_EXTERNREF:
        if (v->of.ref)
            append(buf, "%" PRIuPTR, (uintptr_t)v->of.ref - 1);
        else
            append(buf, "null");
        break;
    default:
        append(buf, "?");
    }
    return buf;
}
