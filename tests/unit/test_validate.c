/*
 * test_validate.c — unit tests of the function body validator (validate.c):
 * operand type stack, control frames, unreachable polymorphism, br_table
 * arity, multi-value blocks, index-space checks, and malformed bodies
 * (truncation, bad LEB128, over-large local counts, illegal opcodes).
 *
 * Each test builds a struct kiln_module by hand (no decoder involved) with a
 * fixed environment, copies one function body into mod->bytes and calls
 * kiln__func_validate(), which validates without compiling. The environment:
 *   types  0: [] -> []          1: [i32] -> [i32]
 *          2: [i32 i32] -> [i32 i64]                 3: [] -> [i32]
 *          4: [i64] -> []
 *   funcs  0: imported, type 1;  1: the body under test (type per test)
 *   tables 0: funcref            1: externref
 *   memory 0 (unless a test removes it)
 *   globals 0: immutable i32     1: mutable i64
 *   elems  0: funcref            1: externref
 *   datacount 1 (unless a test removes it)
 *   declared_funcs: function 0 only
 */
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kiln/error.h"
#include "kiln/wasm.h"
#include "wasm/module.h"
#include "wasm/opcodes.h"

#define BODY_OFF 16u

struct env {
    struct kiln_module mod;
    struct kiln__functype types[5];
    struct kiln__func funcs[2];
    struct kiln__table tables[2];
    struct kiln__memory mems[1];
    struct kiln__global globals[2];
    struct kiln__elem elems[2];
    uint8_t declared[1];
    uint8_t bytes[1 << 16];
};

static uint8_t ty_empty[] = {0};
static uint8_t ty_i32_i32[] = {KILN_I32, KILN_I32};
static uint8_t ty_multi[] = {KILN_I32, KILN_I32, KILN_I32, KILN_I64};
static uint8_t ty_i64[] = {KILN_I64};

static struct env *env_new(uint32_t functype)
{
    struct env *e = calloc(1, sizeof *e);
    struct kiln_module *m;
    assert_non_null(e);
    m = &e->mod;
    e->types[0] = (struct kiln__functype){0, 0, ty_empty, 0, 0};
    e->types[1] = (struct kiln__functype){1, 1, ty_i32_i32, 1, 1};
    e->types[2] = (struct kiln__functype){2, 2, ty_multi, 2, 2};
    e->types[3] = (struct kiln__functype){0, 1, ty_i32_i32, 0, 1};
    e->types[4] = (struct kiln__functype){1, 0, ty_i64, 1, 0};
    m->types = e->types;
    m->ntypes = 5;
    e->funcs[0] = (struct kiln__func){.type_idx = 1, .import_idx = 0};
    e->funcs[1] =
        (struct kiln__func){.type_idx = functype, .import_idx = UINT32_MAX, .body_off = BODY_OFF};
    m->funcs = e->funcs;
    m->nfuncs = 2;
    m->nfunc_imports = 1;
    e->tables[0] = (struct kiln__table){.reftype = KILN_FUNCREF, .import_idx = UINT32_MAX};
    e->tables[1] = (struct kiln__table){.reftype = KILN_EXTERNREF, .import_idx = UINT32_MAX};
    m->tables = e->tables;
    m->ntables = 2;
    m->mems = e->mems;
    m->nmems = 1;
    e->globals[0] = (struct kiln__global){.type = KILN_I32, .mutable_ = false};
    e->globals[1] = (struct kiln__global){.type = KILN_I64, .mutable_ = true};
    m->globals = e->globals;
    m->nglobals = 2;
    e->elems[0] = (struct kiln__elem){.mode = KILN__SEG_PASSIVE, .reftype = KILN_FUNCREF};
    e->elems[1] = (struct kiln__elem){.mode = KILN__SEG_PASSIVE, .reftype = KILN_EXTERNREF};
    m->elems = e->elems;
    m->nelems = 2;
    m->has_datacount = true;
    m->datacount = 1;
    m->ndatas = 0;
    e->declared[0] = 1; /* function 0 */
    m->declared_funcs = e->declared;
    m->bytes = e->bytes;
    m->cfg.simd = true;
    return e;
}

/* Places the body and validates it; the module's local_types are freed. */
static int env_run(struct env *e, const uint8_t *body, size_t len, struct kiln_error *err)
{
    int rc;
    assert_true(BODY_OFF + len <= sizeof e->bytes);
    memcpy(e->bytes + BODY_OFF, body, len);
    e->mod.nbytes = BODY_OFF + len;
    e->funcs[1].body_len = (uint32_t)len;
    memset(err, 0, sizeof *err);
    rc = kiln__func_validate(&e->mod, 1, err);
    return rc;
}

static void env_free(struct env *e)
{
    free(e->funcs[1].local_types);
    free(e);
}

/* Validates body against function type `ft`; expects success. */
static void expect_valid_(uint32_t ft, const uint8_t *body, size_t len, int line)
{
    struct env *e = env_new(ft);
    struct kiln_error err;
    int rc = env_run(e, body, len, &err);
    if (rc != 0) fail_msg("line %d: expected valid, got: %s", line, err.msg);
    env_free(e);
}

/* Expects rejection with error code `code` and `why` inside the message. */
static void expect_error_(uint32_t ft, const uint8_t *body, size_t len, int code, const char *why,
                          int line)
{
    struct env *e = env_new(ft);
    struct kiln_error err;
    int rc = env_run(e, body, len, &err);
    if (rc == 0) fail_msg("line %d: expected \"%s\", got a valid body", line, why);
    if (rc != -code || err.code != code || !strstr(err.msg, why))
        fail_msg("line %d: expected code %d \"%s\", got rc %d code %d: %s", line, code, why, rc,
                 err.code, err.msg);
    if (strncmp(err.msg, "code section, function 1 (body at 0x10), offset 0x", 50) != 0)
        fail_msg("line %d: bad message format: %s", line, err.msg);
    env_free(e);
}

#define BODY(...) ((const uint8_t[]){__VA_ARGS__}), sizeof((const uint8_t[]){__VA_ARGS__})
#define VALID(ft, ...) expect_valid_(ft, BODY(__VA_ARGS__), __LINE__)
#define INVALID(ft, why, ...) expect_error_(ft, BODY(__VA_ARGS__), KILN_E_INVALID, why, __LINE__)
#define MALFORMED(ft, why, ...)                                                                    \
    expect_error_(ft, BODY(__VA_ARGS__), KILN_E_MALFORMED, why, __LINE__)

/* opcodes used below */
enum {
    UNREACHABLE = 0x00,
    BLOCK = 0x02,
    LOOP = 0x03,
    IF = 0x04,
    ELSE = 0x05,
    END = 0x0b,
    BR = 0x0c,
    BR_IF = 0x0d,
    BR_TABLE = 0x0e,
    RETURN = 0x0f,
    CALL = 0x10,
    CALL_INDIRECT = 0x11,
    DROP = 0x1a,
    SELECT = 0x1b,
    SELECT_T = 0x1c,
    LOCAL_GET = 0x20,
    LOCAL_SET = 0x21,
    LOCAL_TEE = 0x22,
    GLOBAL_GET = 0x23,
    GLOBAL_SET = 0x24,
    TABLE_GET = 0x25,
    TABLE_SET = 0x26,
    I32_LOAD = 0x28,
    I64_STORE = 0x37,
    MEMORY_SIZE = 0x3f,
    MEMORY_GROW = 0x40,
    I32_CONST = 0x41,
    I64_CONST = 0x42,
    F32_CONST = 0x43,
    I32_ADD = 0x6a,
    I64_ADD = 0x7c,
    REF_NULL = 0xd0,
    REF_IS_NULL = 0xd1,
    REF_FUNC = 0xd2,
    FC = 0xfc,
    FD = 0xfd,
    EMPTY = 0x40,
    I32 = 0x7f,
    I64 = 0x7e,
    F32 = 0x7d,
    V128 = 0x7b,
    FUNCREF = 0x70,
    EXTERNREF = 0x6f
};

/* ---- operand stack ---------------------------------------------------------- */

static void test_basic(void **state)
{
    (void)state;
    VALID(0, 0, END);
    VALID(3, 0, I32_CONST, 1, I32_CONST, 2, I32_ADD, END);
    VALID(1, 0, LOCAL_GET, 0, END);
    VALID(0, 0, I32_CONST, 1, DROP, END);
    INVALID(3, "type mismatch", 0, I64_CONST, 1, END);          /* wrong result type */
    INVALID(3, "type mismatch", 0, END);                        /* missing result */
    INVALID(0, "type mismatch", 0, I32_CONST, 0, END);          /* extra value */
    INVALID(3, "type mismatch", 0, I32_CONST, 1, I32_ADD, END); /* underflow */
    INVALID(3, "type mismatch", 0, I64_CONST, 1, I32_CONST, 1, I32_ADD, END);
    INVALID(0, "type mismatch", 0, DROP, END);
    /* f32.const takes 4 bytes */
    VALID(0, 0, F32_CONST, 0, 0, 0x80, 0x3f, DROP, END);
}

static void test_unreachable_polymorphism(void **state)
{
    (void)state;
    VALID(3, 0, UNREACHABLE, END);
    VALID(3, 0, UNREACHABLE, I32_ADD, END);
    VALID(0, 0, UNREACHABLE, DROP, DROP, END);
    VALID(3, 0, UNREACHABLE, SELECT, END);
    VALID(2, 0, UNREACHABLE, END);                                  /* [i32 i64] from nothing */
    VALID(2, 0, UNREACHABLE, I64_CONST, 0, END);                    /* [unknown i64] */
    INVALID(2, "type mismatch", 0, UNREACHABLE, I32_CONST, 0, END); /* i32 where i64 is due */
    INVALID(3, "type mismatch", 0, UNREACHABLE, I64_CONST, 0, I32_ADD, END);
    /* values pushed after unreachable are still checked at the end */
    INVALID(0, "type mismatch", 0, UNREACHABLE, I32_CONST, 0, END);
    /* polymorphism ends with the block */
    INVALID(0, "type mismatch", 0, BLOCK, EMPTY, UNREACHABLE, END, DROP, END);
    VALID(0, 0, BLOCK, I32, UNREACHABLE, END, DROP, END);
    /* br, return and br_table make the rest unreachable too */
    VALID(3, 0, BLOCK, EMPTY, BR, 0, I32_ADD, DROP, END, I32_CONST, 0, END);
    VALID(3, 0, I32_CONST, 1, RETURN, I64_CONST, 0, DROP, END);
    INVALID(3, "type mismatch", 0, RETURN, END); /* return needs its i32 */
    VALID(3, 0, UNREACHABLE, RETURN, END);
    INVALID(3, "type mismatch", 0, I64_CONST, 1, RETURN, END);
    /* a block opened in unreachable code starts a normal, reachable frame
     * (wabt 1.0.32 accepts these; the spec does not) */
    INVALID(0, "type mismatch", 0, UNREACHABLE, BLOCK, EMPTY, I32_ADD, DROP, END, END);
    VALID(0, 0, UNREACHABLE, BLOCK, EMPTY, UNREACHABLE, I32_ADD, DROP, END, END);
    /* select's result type is known once its operands are */
    INVALID(3, "type mismatch", 0, UNREACHABLE, SELECT_T, 1, I32, SELECT_T, 1, V128, END);
    INVALID(3, "type mismatch", 0, UNREACHABLE, SELECT_T, 1, EXTERNREF, END);
    VALID(3, 0, UNREACHABLE, SELECT_T, 1, I32, END);
    /* ref.is_null on the polymorphic stack */
    VALID(3, 0, UNREACHABLE, REF_IS_NULL, END);
}

static void test_select(void **state)
{
    (void)state;
    VALID(3, 0, I32_CONST, 1, I32_CONST, 2, I32_CONST, 0, SELECT, END);
    INVALID(3, "type mismatch", 0, I32_CONST, 1, I64_CONST, 2, I32_CONST, 0, SELECT, END);
    INVALID(3, "type mismatch", 0, I32_CONST, 1, I32_CONST, 2, I64_CONST, 0, SELECT, END);
    /* untyped select rejects references; the typed one accepts them */
    INVALID(0, "type mismatch", 0, REF_NULL, FUNCREF, REF_NULL, FUNCREF, I32_CONST, 1, SELECT, DROP,
            END);
    INVALID(0, "type mismatch", 0, UNREACHABLE, REF_NULL, FUNCREF, I32_CONST, 1, SELECT, DROP, END);
    VALID(0, 0, REF_NULL, FUNCREF, REF_NULL, FUNCREF, I32_CONST, 1, SELECT_T, 1, FUNCREF, DROP,
          END);
    INVALID(0, "type mismatch", 0, REF_NULL, FUNCREF, REF_NULL, EXTERNREF, I32_CONST, 1, SELECT_T,
            1, FUNCREF, DROP, END);
    INVALID(0, "invalid result arity", 0, I32_CONST, 1, I32_CONST, 1, I32_CONST, 1, SELECT_T, 2,
            I32, I32, DROP, END);
    INVALID(0, "invalid result arity", 0, UNREACHABLE, SELECT_T, 0, END);
}

/* ---- control frames -------------------------------------------------------------------- */

static void test_blocks(void **state)
{
    (void)state;
    VALID(3, 0, BLOCK, I32, I32_CONST, 1, END, END);
    VALID(3, 0, LOOP, I32, I32_CONST, 1, END, END);
    INVALID(3, "type mismatch", 0, BLOCK, I32, END, END);
    INVALID(0, "type mismatch", 0, I32_CONST, 1, BLOCK, EMPTY, DROP, END, END); /* no params */
    /* if / else */
    VALID(3, 0, I32_CONST, 1, IF, I32, I32_CONST, 5, ELSE, I32_CONST, 6, END, END);
    INVALID(3, "type mismatch", 0, I32_CONST, 1, IF, I32, I32_CONST, 5, ELSE, I64_CONST, 6, END,
            END);
    INVALID(3, "type mismatch", 0, I32_CONST, 1, IF, I32, I32_CONST, 5, END, END); /* no else */
    INVALID(0, "type mismatch", 0, I64_CONST, 1, IF, EMPTY, END, END); /* i64 condition */
    VALID(0, 0, I32_CONST, 1, IF, EMPTY, END, END);
    MALFORMED(0, "END opcode expected", 0, ELSE, END);
    MALFORMED(0, "END opcode expected", 0, BLOCK, EMPTY, ELSE, END, END);
    MALFORMED(0, "END opcode expected", 0, I32_CONST, 1, IF, EMPTY, ELSE, ELSE, END, END);
    /* value types in block types */
    INVALID(0, "unknown type", 0, BLOCK, 0x09, END, END);
    MALFORMED(0, "malformed value type", 0, BLOCK, 0x60, END, END);
    /* a two-byte type index (64) is an s33, not a value type */
    INVALID(0, "unknown type 64", 0, BLOCK, 0xc0, 0x00, END, END);
    /* deep nesting: beyond the inline frame buffer */
    {
        uint8_t body[1 + 2 * 300 + 300 + 1];
        size_t n = 0;
        struct env *e = env_new(0);
        struct kiln_error err;
        int i;
        body[n++] = 0;
        for (i = 0; i < 300; i++) {
            body[n++] = BLOCK;
            body[n++] = EMPTY;
        }
        for (i = 0; i < 300; i++)
            body[n++] = END;
        body[n++] = END;
        assert_int_equal(env_run(e, body, n, &err), 0);
        env_free(e);
    }
}

static void test_multi_value(void **state)
{
    (void)state;
    /* block type 2: [i32 i32] -> [i32 i64] */
    VALID(2, 0, LOCAL_GET, 0, LOCAL_GET, 1, BLOCK, 2, I32_ADD, I64_CONST, 7, END, END);
    INVALID(2, "type mismatch", 0, LOCAL_GET, 0, BLOCK, 2, I32_ADD, I64_CONST, 7, END, END);
    INVALID(2, "type mismatch", 0, LOCAL_GET, 0, LOCAL_GET, 1, BLOCK, 2, I32_ADD, END, END);
    /* params are not visible below the block's own start */
    INVALID(2, "type mismatch", 0, LOCAL_GET, 0, LOCAL_GET, 1, LOCAL_GET, 0, BLOCK, 2, I32_ADD,
            I32_ADD, I64_CONST, 7, END, DROP, DROP, END);
    /* a branch to a loop carries the loop's params */
    VALID(2, 0, LOCAL_GET, 0, LOCAL_GET, 1, LOOP, 2, BR, 0, END, END);
    INVALID(2, "type mismatch", 0, LOCAL_GET, 0, LOCAL_GET, 1, LOOP, 2, DROP, BR, 0, END, END);
    /* a branch to a block carries its results */
    VALID(2, 0, LOCAL_GET, 0, LOCAL_GET, 1, BLOCK, 2, DROP, DROP, I32_CONST, 1, I64_CONST, 2, BR, 0,
          END, END);
    /* if with a type index: params pass through a missing else only if [t*] = [t*] */
    VALID(1, 0, LOCAL_GET, 0, LOCAL_GET, 0, IF, 1, END, END);
    INVALID(3, "type mismatch", 0, I32_CONST, 1, IF, 3, I32_CONST, 5, END, END);
    /* multi-value call results */
    {
        /* calls function 0: [i32] -> [i32] */
        VALID(3, 0, I32_CONST, 1, CALL, 0, END);
        INVALID(3, "type mismatch", 0, I64_CONST, 1, CALL, 0, END);
        INVALID(3, "unknown function 9", 0, I32_CONST, 1, CALL, 9, END);
    }
}

static void test_branches(void **state)
{
    (void)state;
    INVALID(0, "unknown label", 0, BR, 1, END);
    VALID(0, 0, BR, 0, END); /* depth 0 = the function: a return */
    VALID(3, 0, I32_CONST, 1, BR, 0, END);
    INVALID(3, "type mismatch", 0, I64_CONST, 1, BR, 0, END);
    /* br_if keeps the label's values on the stack */
    VALID(3, 0, BLOCK, I32, I32_CONST, 1, I32_CONST, 0, BR_IF, 0, END, END);
    INVALID(3, "type mismatch", 0, BLOCK, I32, I32_CONST, 1, BR_IF, 0, END, END);
    INVALID(0, "unknown label", 0, I32_CONST, 0, BR_IF, 2, END);
}

static void test_br_table(void **state)
{
    (void)state;
    /* both targets take one i32 */
    VALID(0, 0, BLOCK, I32, BLOCK, I32, I32_CONST, 5, I32_CONST, 0, BR_TABLE, 1, 0, 1, END, END,
          DROP, END);
    /* arity 0 vs arity 1 */
    INVALID(0, "type mismatch", 0, BLOCK, I32, BLOCK, EMPTY, I32_CONST, 5, I32_CONST, 0, BR_TABLE,
            1, 0, 1, END, I32_CONST, 0, END, DROP, END);
    /* same arity, different types: fine when nothing is on the stack
     * (unreachable), an error when a real value must suit both */
    VALID(0, 0, BLOCK, I32, BLOCK, I64, UNREACHABLE, BR_TABLE, 1, 0, 1, END, DROP, I32_CONST, 0,
          END, DROP, END);
    INVALID(0, "type mismatch", 0, BLOCK, I32, BLOCK, I64, UNREACHABLE, I64_CONST, 0, I32_CONST, 0,
            BR_TABLE, 1, 0, 1, END, DROP, I32_CONST, 0, END, DROP, END);
    /* index must be i32 */
    INVALID(0, "type mismatch", 0, BLOCK, EMPTY, I64_CONST, 0, BR_TABLE, 0, 0, END, END);
    INVALID(0, "unknown label 3", 0, I32_CONST, 0, BR_TABLE, 1, 3, 0, END);
    INVALID(0, "unknown label 3", 0, I32_CONST, 0, BR_TABLE, 1, 0, 3, END);
    VALID(0, 0, I32_CONST, 0, BR_TABLE, 0, 0, END);
    /* the count cannot exceed the bytes left */
    MALFORMED(0, "unexpected end", 0, I32_CONST, 0, BR_TABLE, 0xff, 0xff, 0xff, 0xff, 0x0f, END);
}

/* ---- locals, globals, calls, references ------------------------------------------- */

static void test_locals(void **state)
{
    struct env *e;
    struct kiln_error err;
    static const uint8_t body[] = {2, 2, I64, 1, F32, LOCAL_GET, 3, DROP, LOCAL_GET, 0, END};
    (void)state;
    e = env_new(1); /* [i32] -> [i32] */
    assert_int_equal(env_run(e, body, sizeof body, &err), 0);
    assert_int_equal(e->funcs[1].nlocals, 3);
    assert_non_null(e->funcs[1].local_types);
    assert_int_equal(e->funcs[1].local_types[0], KILN_I32); /* param */
    assert_int_equal(e->funcs[1].local_types[1], KILN_I64);
    assert_int_equal(e->funcs[1].local_types[2], KILN_I64);
    assert_int_equal(e->funcs[1].local_types[3], KILN_F32);
    assert_int_equal(e->funcs[1].code_off, BODY_OFF + 5);
    env_free(e);

    VALID(0, 1, 2, I64, LOCAL_GET, 1, I64_CONST, 1, I64_ADD, LOCAL_SET, 0, END);
    INVALID(0, "unknown local 2", 1, 2, I64, LOCAL_GET, 2, DROP, END);
    INVALID(1, "unknown local 1", 0, LOCAL_GET, 1, END);
    INVALID(1, "type mismatch", 0, I64_CONST, 0, LOCAL_SET, 0, LOCAL_GET, 0, END);
    VALID(1, 0, I32_CONST, 3, LOCAL_TEE, 0, END);
    INVALID(1, "type mismatch", 1, 1, I64, I64_CONST, 3, LOCAL_TEE, 1, END);
    /* zero-count declarations are allowed */
    VALID(0, 2, 0, I32, 0, I64, END);
    MALFORMED(0, "malformed value type", 1, 1, 0x40, END);
}

static void test_globals(void **state)
{
    (void)state;
    VALID(3, 0, GLOBAL_GET, 0, END);
    VALID(0, 0, I64_CONST, 1, GLOBAL_SET, 1, END);
    INVALID(0, "global is immutable", 0, I32_CONST, 1, GLOBAL_SET, 0, END);
    INVALID(0, "type mismatch", 0, I32_CONST, 1, GLOBAL_SET, 1, END);
    INVALID(3, "unknown global 2", 0, GLOBAL_GET, 2, END);
    INVALID(0, "unknown global 7", 0, I32_CONST, 1, GLOBAL_SET, 7, END);
}

static void test_call_indirect_and_refs(void **state)
{
    (void)state;
    VALID(3, 0, I32_CONST, 1, I32_CONST, 0, CALL_INDIRECT, 1, 0, END);
    INVALID(3, "type mismatch", 0, I32_CONST, 1, I32_CONST, 0, CALL_INDIRECT, 1, 1, END);
    INVALID(3, "unknown table 5", 0, I32_CONST, 1, I32_CONST, 0, CALL_INDIRECT, 1, 5, END);
    INVALID(3, "unknown type 9", 0, I32_CONST, 1, I32_CONST, 0, CALL_INDIRECT, 9, 0, END);
    INVALID(3, "type mismatch", 0, I32_CONST, 1, CALL_INDIRECT, 1, 0, END); /* no index */
    /* ref.func only for declared functions */
    VALID(0, 0, REF_FUNC, 0, DROP, END);
    INVALID(0, "undeclared function reference", 0, REF_FUNC, 1, DROP, END);
    INVALID(0, "unknown function 2", 0, REF_FUNC, 2, DROP, END);
    MALFORMED(0, "malformed reference type", 0, REF_NULL, I32, DROP, END);
    VALID(3, 0, REF_NULL, EXTERNREF, REF_IS_NULL, END);
    INVALID(3, "type mismatch", 0, I32_CONST, 0, REF_IS_NULL, END);
    /* table.get / table.set / table.size / table.grow / table.fill */
    VALID(0, 0, I32_CONST, 0, TABLE_GET, 0, DROP, END);
    VALID(0, 0, I32_CONST, 0, REF_NULL, EXTERNREF, TABLE_SET, 1, END);
    INVALID(0, "type mismatch", 0, I32_CONST, 0, REF_NULL, FUNCREF, TABLE_SET, 1, END);
    INVALID(0, "unknown table 2", 0, I32_CONST, 0, TABLE_GET, 2, DROP, END);
    VALID(3, 0, FC, 16, 1, END);
    VALID(3, 0, REF_NULL, FUNCREF, I32_CONST, 1, FC, 15, 0, END);
    INVALID(3, "type mismatch", 0, REF_NULL, FUNCREF, I32_CONST, 1, FC, 15, 1, END);
    VALID(0, 0, I32_CONST, 0, REF_NULL, EXTERNREF, I32_CONST, 1, FC, 17, 1, END);
    /* table.init elem table; elem.drop; table.copy dst src */
    VALID(0, 0, I32_CONST, 0, I32_CONST, 0, I32_CONST, 0, FC, 12, 0, 0, END);
    INVALID(0, "type mismatch", 0, I32_CONST, 0, I32_CONST, 0, I32_CONST, 0, FC, 12, 1, 0, END);
    INVALID(0, "unknown elem segment 2", 0, I32_CONST, 0, I32_CONST, 0, I32_CONST, 0, FC, 12, 2, 0,
            END);
    VALID(0, 0, FC, 13, 1, END);
    INVALID(0, "unknown elem segment 2", 0, FC, 13, 2, END);
    VALID(0, 0, I32_CONST, 0, I32_CONST, 0, I32_CONST, 0, FC, 14, 1, 1, END);
    INVALID(0, "type mismatch", 0, I32_CONST, 0, I32_CONST, 0, I32_CONST, 0, FC, 14, 0, 1, END);
}

/* ---- memory, bulk memory, SIMD ------------------------------------------------------ */

static void test_memory(void **state)
{
    struct env *e;
    struct kiln_error err;
    static const uint8_t load[] = {0, I32_CONST, 0, I32_LOAD, 2, 0, END};
    static const uint8_t init[] = {0, I32_CONST, 0, I32_CONST, 0, I32_CONST, 0, FC, 8, 0, 0, END};
    static const uint8_t drop[] = {0, FC, 9, 0, END};
    (void)state;
    VALID(3, 0, I32_CONST, 0, I32_LOAD, 2, 0, END);
    VALID(3, 0, I32_CONST, 0, I32_LOAD, 0, 0xff, 0xff, 0xff, 0xff, 0x0f, END);
    INVALID(3, "alignment must not be larger than natural", 0, I32_CONST, 0, I32_LOAD, 3, 0, END);
    VALID(0, 0, I32_CONST, 0, I64_CONST, 0, I64_STORE, 3, 8, END);
    INVALID(0, "type mismatch", 0, I32_CONST, 0, I32_CONST, 0, I64_STORE, 3, 8, END);
    VALID(3, 0, MEMORY_SIZE, 0, END);
    VALID(3, 0, I32_CONST, 1, MEMORY_GROW, 0, END);
    MALFORMED(3, "zero byte expected", 0, MEMORY_SIZE, 1, END);
    MALFORMED(3, "zero byte expected", 0, I32_CONST, 1, MEMORY_GROW, 0x80, 0x00, END);
    VALID(0, 0, I32_CONST, 0, I32_CONST, 0, I32_CONST, 0, FC, 10, 0, 0, END); /* memory.copy */
    MALFORMED(0, "zero byte expected", 0, I32_CONST, 0, I32_CONST, 0, I32_CONST, 0, FC, 10, 0, 1,
              END);
    VALID(0, 0, I32_CONST, 0, I32_CONST, 0, I32_CONST, 0, FC, 11, 0, END); /* memory.fill */
    /* memory.init / data.drop */
    VALID(0, 0, I32_CONST, 0, I32_CONST, 0, I32_CONST, 0, FC, 8, 0, 0, END);
    INVALID(0, "unknown data segment 1", 0, I32_CONST, 0, I32_CONST, 0, I32_CONST, 0, FC, 8, 1, 0,
            END);
    VALID(0, 0, FC, 9, 0, END);
    INVALID(0, "unknown data segment 3", 0, FC, 9, 3, END);

    /* no memory at all */
    e = env_new(3);
    e->mod.nmems = 0;
    assert_int_equal(env_run(e, load, sizeof load, &err), -KILN_E_INVALID);
    assert_non_null(strstr(err.msg, "unknown memory 0"));
    env_free(e);
    /* no DataCount section */
    e = env_new(0);
    e->mod.has_datacount = false;
    assert_int_equal(env_run(e, init, sizeof init, &err), -KILN_E_MALFORMED);
    assert_non_null(strstr(err.msg, "data count section required"));
    assert_int_equal(env_run(e, drop, sizeof drop, &err), -KILN_E_MALFORMED);
    assert_non_null(strstr(err.msg, "data count section required"));
    env_free(e);
}

static void test_simd(void **state)
{
    struct env *e;
    struct kiln_error err;
    static const uint8_t splat[] = {0, I32_CONST, 0, FD, 0x0f, DROP, END};
    (void)state;
    /* i32.const 0; i8x16.splat; i8x16.extract_lane_s 15 */
    VALID(3, 0, I32_CONST, 0, FD, 0x0f, FD, 0x15, 15, END);
    INVALID(3, "invalid lane index", 0, I32_CONST, 0, FD, 0x0f, FD, 0x15, 16, END);
    /* i64x2.extract_lane: 2 lanes */
    INVALID(0, "invalid lane index", 0, I64_CONST, 0, FD, 0x12, FD, 0x1d, 2, DROP, END);
    INVALID(0, "type mismatch", 0, I64_CONST, 0, FD, 0x12, FD, 0x1b, 0, DROP, DROP, END);
    /* shuffle lanes < 32 */
    VALID(0, 1, 1, V128, LOCAL_GET, 0, LOCAL_GET, 0, FD, 0x0d, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,
          12, 13, 14, 31, DROP, END);
    INVALID(0, "invalid lane index", 1, 1, V128, LOCAL_GET, 0, LOCAL_GET, 0, FD, 0x0d, 0, 1, 2, 3,
            4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 32, DROP, END);
    /* v128.load8_lane: memarg (align <= 0) + lane < 16; v128.load64_lane lane < 2 */
    VALID(0, 1, 1, V128, I32_CONST, 0, LOCAL_GET, 0, FD, 0x54, 0, 0, 15, DROP, END);
    INVALID(0, "invalid lane index", 1, 1, V128, I32_CONST, 0, LOCAL_GET, 0, FD, 0x54, 0, 0, 16,
            DROP, END);
    INVALID(0, "alignment must not be larger than natural", 1, 1, V128, I32_CONST, 0, LOCAL_GET, 0,
            FD, 0x54, 1, 0, 0, DROP, END);
    INVALID(0, "invalid lane index", 1, 1, V128, I32_CONST, 0, LOCAL_GET, 0, FD, 0x57, 3, 0, 2,
            DROP, END);
    /* v128.const takes 16 bytes; a two-byte opcode (i16x8.abs = 0x80 0x01) */
    VALID(0, 0, FD, 0x0c, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, FD, 0x80, 0x01,
          DROP, END);
    /* v128.load align <= 4 */
    VALID(0, 0, I32_CONST, 0, FD, 0x00, 4, 0, DROP, END);
    INVALID(0, "alignment must not be larger than natural", 0, I32_CONST, 0, FD, 0x00, 5, 0, DROP,
            END);
    /* unassigned SIMD opcodes */
    MALFORMED(0, "illegal opcode", 0, FD, 0x9a, 0x01, END);
    MALFORMED(0, "illegal opcode", 0, FD, 0x80, 0x02, END);
    /* bitselect takes three v128 */
    INVALID(0, "type mismatch", 1, 1, V128, LOCAL_GET, 0, LOCAL_GET, 0, I32_CONST, 0, FD, 0x52,
            DROP, END);

    /* SIMD disabled in the configuration */
    e = env_new(0);
    e->mod.cfg.simd = false;
    assert_int_equal(env_run(e, splat, sizeof splat, &err), -KILN_E_MALFORMED);
    assert_non_null(strstr(err.msg, "illegal opcode"));
    env_free(e);
}

/* ---- every opcode of ops.def ------------------------------------------------------ */

struct opdef {
    uint8_t pfx;
    uint32_t code;
    const char *name;
    uint8_t imm, sig, arg;
};

static const struct opdef all_ops[] = {
#define OP(id, pfx, code, name, imm, sig, arg) {pfx, code, name, KILN__##imm, KILN__##sig, arg},
#include "wasm/ops.def"
};

struct sigdef {
    uint8_t np, p[3], nr, r;
};

static const struct sigdef all_sigs[] = {
#define SIG(sig, np, p0, p1, p2, nr, r0) {np, {p0, p1, p2}, nr, r0},
#include "wasm/ops.def"
};

static size_t put_uleb(uint8_t *b, uint32_t v)
{
    size_t n = 0;
    do {
        uint8_t byte = v & 0x7f;
        v >>= 7;
        b[n++] = byte | (v ? 0x80 : 0);
    } while (v);
    return n;
}

/* Appends an instruction producing a zero of type t. */
static size_t put_const(uint8_t *b, uint8_t t)
{
    size_t n = 0;
    switch (t) {
    case KILN_I32:
        b[n++] = I32_CONST;
        b[n++] = 0;
        break;
    case KILN_I64:
        b[n++] = I64_CONST;
        b[n++] = 0;
        break;
    case KILN_F32:
        b[n++] = F32_CONST;
        memset(b + n, 0, 4);
        n += 4;
        break;
    case KILN_F64:
        b[n++] = 0x44;
        memset(b + n, 0, 8);
        n += 8;
        break;
    case KILN_V128:
        b[n++] = FD;
        b[n++] = 0x0c;
        memset(b + n, 0, 16);
        n += 16;
        break;
    default:
        fail_msg("no constant for type 0x%x", t);
    }
    return n;
}

/* Appends the opcode and well-formed immediates (align = natural + extra). */
static size_t put_op(uint8_t *b, const struct opdef *o, uint32_t extra_align)
{
    size_t n = 0;
    if (o->pfx) {
        b[n++] = o->pfx;
        n += put_uleb(b + n, o->code);
    } else {
        b[n++] = (uint8_t)o->code;
    }
    switch (o->imm) {
    case KILN__IMM_NONE:
        break;
    case KILN__IMM_MEMARG:
        b[n++] = o->arg + extra_align;
        b[n++] = 0;
        break;
    case KILN__IMM_MEMARG_LANE:
        b[n++] = o->arg + extra_align;
        b[n++] = 0;
        b[n++] = 0;
        break;
    case KILN__IMM_LANE:
        b[n++] = 0;
        break;
    case KILN__IMM_SHUFFLE:
        memset(b + n, 0, 16);
        n += 16;
        break;
    case KILN__IMM_I32:
    case KILN__IMM_I64:
        b[n++] = 0;
        break;
    case KILN__IMM_F32:
        memset(b + n, 0, 4);
        n += 4;
        break;
    case KILN__IMM_F64:
        memset(b + n, 0, 8);
        n += 8;
        break;
    case KILN__IMM_V128:
        memset(b + n, 0, 16);
        n += 16;
        break;
    case KILN__IMM_MEMIDX:
    case KILN__IMM_DATA:
    case KILN__IMM_ELEM:
    case KILN__IMM_TABLE:
        b[n++] = 0;
        break;
    case KILN__IMM_MEMORY_INIT:
    case KILN__IMM_MEMORY_COPY:
    case KILN__IMM_TABLE_INIT:
    case KILN__IMM_TABLE_COPY:
        b[n++] = 0;
        b[n++] = 0;
        break;
    default:
        fail_msg("%s: unexpected immediate kind %d", o->name, o->imm);
    }
    return n;
}

/* Builds "params; op; drop result; end" with param `bad` (if < np) of the
 * wrong type, and validates it. */
static int run_op(const struct opdef *o, unsigned bad, uint32_t extra_align, struct kiln_error *err)
{
    const struct sigdef *sg = &all_sigs[o->sig];
    uint8_t body[128];
    size_t n = 0;
    unsigned i;
    struct env *e = env_new(0);
    int rc;
    body[n++] = 0;
    for (i = 0; i < sg->np; i++) {
        uint8_t t = sg->p[i];
        if (i == bad) t = t == KILN_I32 ? KILN_I64 : KILN_I32;
        n += put_const(body + n, t);
    }
    n += put_op(body + n, o, extra_align);
    if (sg->nr) body[n++] = DROP;
    body[n++] = END;
    rc = env_run(e, body, n, err);
    env_free(e);
    return rc;
}

/* Every non-special opcode validates with exactly its signature class, and
 * a wrong operand type or an over-aligned memarg is rejected. */
static void test_every_opcode(void **state)
{
    size_t i;
    unsigned checked = 0;
    struct kiln_error err;
    (void)state;
    for (i = 0; i < sizeof all_ops / sizeof all_ops[0]; i++) {
        const struct opdef *o = &all_ops[i];
        unsigned bad;
        if (o->sig == KILN__SIG_SPECIAL) continue;
        if (run_op(o, 99, 0, &err) != 0) fail_msg("%s: expected valid, got %s", o->name, err.msg);
        for (bad = 0; bad < all_sigs[o->sig].np; bad++)
            if (run_op(o, bad, 0, &err) != -KILN_E_INVALID || !strstr(err.msg, "type mismatch"))
                fail_msg("%s: operand %u of the wrong type: got %s", o->name, bad, err.msg);
        if ((o->imm == KILN__IMM_MEMARG || o->imm == KILN__IMM_MEMARG_LANE) &&
            (run_op(o, 99, 1, &err) != -KILN_E_INVALID ||
             !strstr(err.msg, "alignment must not be larger than natural")))
            fail_msg("%s: over-aligned memarg: got %s", o->name, err.msg);
        checked++;
    }
    assert_true(checked > 350);
}

/* Every byte (and 0xFC/0xFD code) missing from ops.def is an illegal opcode. */
static void test_unassigned_opcodes(void **state)
{
    static bool known[3][256];
    unsigned pfx, c;
    size_t i;
    struct kiln_error err;
    (void)state;
    for (i = 0; i < sizeof all_ops / sizeof all_ops[0]; i++)
        known[all_ops[i].pfx == 0 ? 0 : all_ops[i].pfx == 0xfc ? 1 : 2][all_ops[i].code] = true;
    known[0][0xfc] = known[0][0xfd] = true;
    for (pfx = 0; pfx < 3; pfx++)
        for (c = 0; c < 256; c++) {
            uint8_t body[8];
            size_t n = 0;
            struct env *e;
            int rc;
            if (known[pfx][c]) continue;
            body[n++] = 0;
            if (pfx) body[n++] = pfx == 1 ? FC : FD;
            n += pfx ? put_uleb(body + n, c) : (body[n] = (uint8_t)c, 1);
            body[n++] = END;
            e = env_new(0);
            rc = env_run(e, body, n, &err);
            env_free(e);
            if (rc != -KILN_E_MALFORMED || !strstr(err.msg, "illegal opcode"))
                fail_msg("prefix %u code 0x%x: expected illegal opcode, got %s", pfx, c, err.msg);
        }
}

/* ---- malformed bodies ------------------------------------------------------------------ */

static void test_malformed(void **state)
{
    (void)state;
    /* missing final end / truncated mid-instruction */
    MALFORMED(0, "unexpected end of section or function", 0);
    MALFORMED(0, "unexpected end of section or function", 0, BLOCK, EMPTY, END);
    MALFORMED(0, "unexpected end", 0, I32_CONST);
    MALFORMED(0, "unexpected end", 0, I32_CONST, 0x80);
    MALFORMED(0, "unexpected end", 0, F32_CONST, 0, 0);
    MALFORMED(0, "unexpected end", 0, BLOCK);
    MALFORMED(0, "unexpected end"); /* no local count at all */
    /* bytes after the final end */
    MALFORMED(0, "section size mismatch", 0, END, 0x01);
    /* bad LEB128 */
    MALFORMED(3, "integer representation too long", 0, I32_CONST, 0x80, 0x80, 0x80, 0x80, 0x80,
              0x00, END);
    MALFORMED(3, "integer too large", 0, I32_CONST, 0x80, 0x80, 0x80, 0x80, 0x70, END);
    MALFORMED(3, "integer too large", 0, GLOBAL_GET, 0x80, 0x80, 0x80, 0x80, 0x10, END);
    MALFORMED(0, "integer representation too long", 0, BR, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00, END);
    VALID(3, 0, I32_CONST, 0x80, 0x80, 0x80, 0x80, 0x78, END); /* INT32_MIN, 5 bytes */
    VALID(3, 0, I32_CONST, 0xff, 0xff, 0xff, 0xff, 0x07, END); /* INT32_MAX */
    /* over-large local counts */
    MALFORMED(0, "too many locals", 2, 0xff, 0xff, 0xff, 0xff, 0x0f, I32, 0x02, I64, END);
    MALFORMED(0, "too many locals", 4, 0x80, 0x80, 0x80, 0x80, 0x04, I32, 0x80, 0x80, 0x80, 0x80,
              0x04, I64, 0x80, 0x80, 0x80, 0x80, 0x04, F32, 0x80, 0x80, 0x80, 0x80, 0x04, 0x7c,
              END);
    MALFORMED(0, "too many locals", 1, 0xd1, 0x86, 0x03, I32, END);    /* 50001 */
    MALFORMED(0, "unexpected end", 0xff, 0xff, 0xff, 0xff, 0x0f, END); /* declaration count */
    MALFORMED(0, "unexpected end", 1, 5);
    MALFORMED(0, "integer representation too long", 1, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00, I32, END,
              END);
    /* illegal opcodes */
    MALFORMED(0, "illegal opcode", 0, 0x06, END);
    MALFORMED(0, "illegal opcode", 0, 0xc5, END);
    MALFORMED(0, "illegal opcode", 0, 0xff, END);
    MALFORMED(0, "illegal opcode", 0, FC, 18, END);
    MALFORMED(0, "illegal opcode", 0, 0x27, END);
}

/* A body that runs out between instructions while more module bytes follow
 * (the next function, another section) lacks its END opcode. */
static void test_missing_end_mid_module(void **state)
{
    static const uint8_t body[] = {0, I32_CONST, 1, DROP};
    struct env *e = env_new(0);
    struct kiln_error err;
    (void)state;
    memcpy(e->bytes + BODY_OFF, body, sizeof body);
    e->bytes[BODY_OFF + sizeof body] = 0x05; /* the next function's bytes */
    e->mod.nbytes = BODY_OFF + sizeof body + 1;
    e->funcs[1].body_len = sizeof body;
    assert_int_equal(kiln__func_validate(&e->mod, 1, &err), -KILN_E_MALFORMED);
    assert_non_null(strstr(err.msg, "END opcode expected"));
    assert_non_null(strstr(err.msg, "offset 0x14:"));
    env_free(e);
}

static void test_limits(void **state)
{
    /* 50000 locals (params + declared) is the limit: exactly at it is fine */
    static const uint8_t at_limit[] = {1, 0xd0, 0x86, 0x03, I32, END}; /* 50000 */
    /* a long operand stack beyond the inline buffer, then unwound */
    uint8_t *body = malloc(1 + 4000 * 2 + 4000 + 1);
    struct env *e = env_new(0);
    struct kiln_error err;
    size_t n = 0;
    int i;
    (void)state;
    assert_int_equal(env_run(e, at_limit, sizeof at_limit, &err), 0);
    assert_int_equal(e->funcs[1].nlocals, 50000);
    env_free(e);

    assert_non_null(body);
    body[n++] = 0;
    for (i = 0; i < 4000; i++) {
        body[n++] = I32_CONST;
        body[n++] = 1;
    }
    for (i = 0; i < 4000; i++)
        body[n++] = DROP;
    body[n++] = END;
    e = env_new(0);
    assert_int_equal(env_run(e, body, n, &err), 0);
    env_free(e);
    free(body);
}

/* The combined entry point must report validation failures itself, before
 * any compilation is attempted. */
static void test_validate_compile_rejects(void **state)
{
    static const uint8_t bad[] = {0, I64_CONST, 1, END};
    struct env *e = env_new(3);
    struct kiln_error err;
    (void)state;
    memcpy(e->bytes + BODY_OFF, bad, sizeof bad);
    e->mod.nbytes = BODY_OFF + sizeof bad;
    e->funcs[1].body_len = sizeof bad;
    assert_int_equal(kiln__func_validate_compile(&e->mod, 1, &err), -KILN_E_INVALID);
    assert_non_null(strstr(err.msg, "type mismatch"));
    assert_null(e->funcs[1].code);
    env_free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic),        cmocka_unit_test(test_unreachable_polymorphism),
        cmocka_unit_test(test_select),       cmocka_unit_test(test_blocks),
        cmocka_unit_test(test_multi_value),  cmocka_unit_test(test_branches),
        cmocka_unit_test(test_br_table),     cmocka_unit_test(test_locals),
        cmocka_unit_test(test_globals),      cmocka_unit_test(test_call_indirect_and_refs),
        cmocka_unit_test(test_memory),       cmocka_unit_test(test_simd),
        cmocka_unit_test(test_every_opcode), cmocka_unit_test(test_unassigned_opcodes),
        cmocka_unit_test(test_malformed),    cmocka_unit_test(test_missing_end_mid_module),
        cmocka_unit_test(test_limits),       cmocka_unit_test(test_validate_compile_rejects),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
