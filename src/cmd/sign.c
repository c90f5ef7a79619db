/*
 * sign.c — `kiln sign`: lays out and signs a unit
 * ([stub][module][aot?][policy?][DSSE envelope][footer], docs/formats.md)
 * and writes it via a temporary file and rename. The module must decode and
 * validate with the engine (only code kiln can run gets signed), and the new
 * unit is verified against the signing keys before it is written.
 */
#include <getopt.h>
#include <jansson.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/command.h"
#include "kiln/unit.h"
#include "kiln/wasm.h"

#define MAX_KEYS 8
#define INPUT_MAX ((uint64_t)1 << 31)
#define TOOL_VERSION "kiln 0.1.0"

static void usage(FILE *f)
{
    fprintf(
        f, "usage: kiln sign --key KEY.pem [--key KEY2.pem ...] [--stub STUB] --abi ABI\n"
           "                 [--source-path P] [--source-kind K] [--source-digest HEX]\n"
           "                 [--policy POLICY.json] [--aot OBJ --aot-target T --aot-compiler C]\n"
           "                 MODULE.wasm -o UNIT\n\n"
           "Builds a signed unit: the loader stub, the module (and optional AOT object and\n"
           "policy), a DSSE envelope holding an in-toto statement, and the footer.\n\n"
           "  --key KEY.pem        Ed25519 private key (PKCS#8 PEM); repeat to sign with several\n"
           "  --stub FILE          loader stub ELF (default: kiln-stub next to this kiln)\n"
           "  --abi ABI            wasi_snapshot_preview1 | kiln-linux-wasm32 | kiln-linux-x86_64\n"
           "  --source-path P      path of the original program in the image (default: MODULE)\n"
           "  --source-kind K      wasm | elf-static | elf-dynamic | script (default: wasm)\n"
           "  --source-digest HEX  sha256 of the original program (default: the module's)\n"
           "  --policy FILE        policy JSON to embed and sign\n"
           "  --aot FILE           AOT object compiled from the module\n"
           "  --aot-target T, --aot-compiler C   describe the AOT object\n"
           "  -o, --output UNIT    where to write the unit (mode 0755)\n"
           "  -h, --help           this text\n");
}

/* kiln-stub in the directory of the running kiln executable. */
static int default_stub(char *out, size_t n)
{
    char self[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    if (len <= 0) return -1;
    self[len] = 0;
    if (snprintf(out, n, "%s/kiln-stub", dirname(self)) >= (int)n) return -1;
    return access(out, R_OK) == 0 ? 0 : -1;
}

static int cmd_sign(int argc, char **argv)
{
    enum {
        O_KEY = 256,
        O_STUB,
        O_ABI,
        O_SPATH,
        O_SKIND,
        O_SDIGEST,
        O_POLICY,
        O_AOT,
        O_AOTT,
        O_AOTC
    };
    static const struct option opts[] = {{"key", required_argument, NULL, O_KEY},
                                         {"stub", required_argument, NULL, O_STUB},
                                         {"abi", required_argument, NULL, O_ABI},
                                         {"source-path", required_argument, NULL, O_SPATH},
                                         {"source-kind", required_argument, NULL, O_SKIND},
                                         {"source-digest", required_argument, NULL, O_SDIGEST},
                                         {"policy", required_argument, NULL, O_POLICY},
                                         {"aot", required_argument, NULL, O_AOT},
                                         {"aot-target", required_argument, NULL, O_AOTT},
                                         {"aot-compiler", required_argument, NULL, O_AOTC},
                                         {"output", required_argument, NULL, 'o'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *keyfiles[MAX_KEYS], *stub_path = NULL, *abi = NULL, *spath = NULL, *skind = "wasm",
                                    *sdigest = NULL, *policy_path = NULL, *aot_path = NULL,
                                    *aot_target = NULL, *aot_compiler = NULL, *output = NULL,
                                    *module_path;
    char stub_default[PATH_MAX];
    struct kiln_seckey keys[MAX_KEYS];
    const struct kiln_seckey *keyp[MAX_KEYS];
    struct kiln_manifest m;
    struct kiln_unit_input in;
    struct kiln_trust_store *ts = NULL;
    struct kiln_unit *unit = NULL;
    struct kiln_error err = {0};
    uint8_t *stub = NULL, *wasm = NULL, *policy = NULL, *aot = NULL, *out = NULL;
    size_t nkeys = 0, stub_len = 0, wasm_len = 0, policy_len = 0, aot_len = 0, out_len = 0, i;
    int c, rc = 1;

    memset(&m, 0, sizeof m);
    memset(&in, 0, sizeof in);
    optind = 0;
    while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        switch (c) {
        case O_KEY:
            if (nkeys == MAX_KEYS) {
                fprintf(stderr, "kiln sign: at most %d keys\n", MAX_KEYS);
                return 2;
            }
            keyfiles[nkeys++] = optarg;
            break;
        case O_STUB:
            stub_path = optarg;
            break;
        case O_ABI:
            abi = optarg;
            break;
        case O_SPATH:
            spath = optarg;
            break;
        case O_SKIND:
            skind = optarg;
            break;
        case O_SDIGEST:
            sdigest = optarg;
            break;
        case O_POLICY:
            policy_path = optarg;
            break;
        case O_AOT:
            aot_path = optarg;
            break;
        case O_AOTT:
            aot_target = optarg;
            break;
        case O_AOTC:
            aot_compiler = optarg;
            break;
        case 'o':
            output = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (nkeys == 0 || !abi || !output || optind != argc - 1) {
        usage(stderr);
        return 2;
    }
    module_path = argv[optind];
    if (!kiln_manifest_abi_supported(abi)) {
        fprintf(stderr, "kiln sign: unknown guest ABI '%s'\n", abi);
        return 2;
    }
    if (sdigest && (strlen(sdigest) != 64 || strspn(sdigest, "0123456789abcdef") != 64)) {
        fprintf(stderr, "kiln sign: --source-digest needs 64 lowercase hex digits\n");
        return 2;
    }
    if (!stub_path) {
        if (default_stub(stub_default, sizeof stub_default) != 0) {
            fprintf(stderr, "kiln sign: no --stub given and no kiln-stub next to kiln\n");
            return 2;
        }
        stub_path = stub_default;
    }
    for (i = 0; i < nkeys; i++) {
        if (kiln_key_load_private(keyfiles[i], &keys[i], &err) < 0) {
            nkeys = i;
            goto fail;
        }
        keyp[i] = &keys[i];
    }
    if (kiln_trust_read_file(stub_path, INPUT_MAX, &stub, &stub_len, &err) < 0 ||
        kiln_trust_read_file(module_path, INPUT_MAX, &wasm, &wasm_len, &err) < 0 ||
        (policy_path &&
         kiln_trust_read_file(policy_path, INPUT_MAX, &policy, &policy_len, &err) < 0) ||
        (aot_path && kiln_trust_read_file(aot_path, INPUT_MAX, &aot, &aot_len, &err) < 0))
        goto fail;
    {
        struct kiln_module *mod = NULL;
        if (kiln_module_new(wasm, wasm_len, NULL, &mod, &err) < 0) {
            kiln_error_prefix(&err, "%s: not a valid WebAssembly module", module_path);
            goto fail;
        }
        kiln_module_free(mod);
    }
    if (policy) {
        json_error_t jerr;
        json_t *j = json_loadb((const char *)policy, policy_len, JSON_REJECT_DUPLICATES, &jerr);
        bool ok = json_is_object(j);
        json_decref(j);
        if (!ok) {
            snprintf(err.msg, sizeof err.msg, "%s: not a JSON object (%s at line %d)", policy_path,
                     j ? "top level" : jerr.text, jerr.line);
            goto fail;
        }
    }
    m.engine_version = KILN_ENGINE_VERSION;
    m.tool_version = (char *)TOOL_VERSION;
    m.guest_abi = (char *)abi;
    m.source_path = (char *)(spath ? spath : module_path);
    m.source_kind = (char *)skind;
    if (sdigest)
        memcpy(m.source_sha256, sdigest, 65);
    else
        kiln_sha256_hex(wasm, wasm_len, m.source_sha256);
    m.aot_target = (char *)(aot_target ? aot_target : "unknown");
    m.aot_compiler = (char *)(aot_compiler ? aot_compiler : "unknown");
    in.stub = stub, in.stub_len = stub_len;
    in.wasm = wasm, in.wasm_len = wasm_len;
    in.policy = policy, in.policy_len = policy_len;
    in.aot = aot, in.aot_len = aot_len;
    in.manifest = &m;
    in.keys = keyp;
    in.nkeys = nkeys;
    if (kiln_unit_build(&in, &out, &out_len, &err) < 0) goto fail;
    /* Check what we are about to write with the signing keys as the trust store. */
    if (kiln_trust_store_new(&ts, &err) < 0) goto fail;
    for (i = 0; i < nkeys; i++)
        if (kiln_trust_store_add(ts, &keys[i].pub, keyfiles[i], &err) < 0) goto fail;
    {
        uint8_t *copy = malloc(out_len);
        if (!copy) {
            snprintf(err.msg, sizeof err.msg, "out of memory");
            goto fail;
        }
        memcpy(copy, out, out_len);
        if (kiln_unit_verify(copy, out_len, ts, &unit, NULL, &err) < 0) {
            kiln_error_prefix(&err, "self-check of the new unit failed");
            goto fail;
        }
    }
    if (kiln_trust_write_file(output, out, out_len, 0755, &err) < 0) goto fail;
    printf("wrote %s (%zu bytes): stub %zu, module %zu%s%s, signed by", output, out_len, stub_len,
           wasm_len, aot ? ", aot" : "", policy ? ", policy" : "");
    for (i = 0; i < nkeys; i++)
        printf(" %s", keys[i].pub.keyid);
    printf("\n");
    rc = 0;
fail:
    if (rc != 0) fprintf(stderr, "kiln sign: %s\n", err.msg);
    for (i = 0; i < nkeys; i++)
        kiln_key_wipe(&keys[i]);
    kiln_unit_free(unit);
    kiln_trust_store_free(ts);
    free(stub);
    free(wasm);
    free(policy);
    free(aot);
    free(out);
    return rc;
}

KILN_COMMAND(sign, "sign", "sign a WebAssembly module into a unit", cmd_sign);
