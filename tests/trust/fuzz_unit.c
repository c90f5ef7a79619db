/*
 * fuzz_unit.c — libFuzzer target for the unit footer, DSSE envelope and
 * in-toto statement parsers and the whole verifier (KILN_FUZZ=ON only).
 *
 * Each input is (1) parsed as an envelope and as a statement directly, then
 * (2) verified as a whole unit against a store trusting the fixed fuzz key
 * (seed FUZZ_KEY_SEED, the same key `test_trust --seed DIR` signs its seed
 * corpus with, so mutations reach the digest and version checks), and
 * (3) inspected. Invariants asserted: a refusal always names a reason, and an
 * accepted unit's payload pointers lie inside its buffer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kiln/unit.h"

#define FUZZ_KEY_SEED 0x4b

static struct kiln_trust_store *store;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    struct kiln_seckey key;
    uint8_t seed[32];
    (void)argc;
    (void)argv;
    memset(seed, FUZZ_KEY_SEED, sizeof seed);
    if (kiln_key_from_seed(&key, seed, NULL) < 0 || kiln_trust_store_new(&store, NULL) < 0 ||
        kiln_trust_store_add(store, &key.pub, "fuzz", NULL) < 0)
        abort();
    kiln_key_wipe(&key);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct kiln_dsse *env = NULL;
    struct kiln_statement st;
    struct kiln_unit *u = NULL;
    struct kiln_unit_info *info = NULL;
    struct kiln_error err;
    enum kiln_refusal why = KILN_REFUSAL_NONE;
    uint8_t *copy;

    if (kiln_dsse_parse((const char *)data, size, &env, &err) == 0) kiln_dsse_free(env);
    if (kiln_statement_parse(data, size, &st, &err) == 0) kiln_statement_clear(&st);

    copy = malloc(size ? size : 1);
    if (!copy) return 0;
    memcpy(copy, data, size);
    if (kiln_unit_verify(copy, size, store, &u, &why, &err) == 0) {
        if (why != KILN_REFUSAL_NONE || !u->wasm || u->wasm < u->data ||
            u->wasm + u->wasm_len > u->data + u->size)
            abort();
        kiln_unit_free(u);
    } else if (why == KILN_REFUSAL_NONE ||
               strncmp(err.msg, kiln_refusal_name(why), strlen(kiln_refusal_name(why))) != 0) {
        abort();
    }
    if (kiln_unit_inspect(data, size, &info, &err) == 0) kiln_unit_info_free(info);
    return 0;
}
