/*
 * run.c — `kiln run IMAGE [-- ARGS]`: verify a converted image's signed
 * attestation, unpack it into a private rootfs cached by manifest digest,
 * and run the entrypoint unit on the embedded engine + vkernel under the
 * image's policy (docs/image.md "Run").
 *
 * This file holds the command line, the order of the steps and the --json
 * summary; the steps live in run_verify.c (every check, nothing of the guest
 * exists before all pass), run_index.c (the verified-cache index that lets a
 * warm run stat units instead of hashing them) and run_guest.c (vkernel,
 * module, the run). Exit status: the guest's; 126 when a check refuses the
 * image; 1 when the guest could not be started; 2 on usage errors.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/command.h"
#include "cmd/image_cmd.h"
#include "cmd/run_internal.h"
#include "kiln/image.h"
#include "kiln/wasm.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: kiln run [options] IMAGE[:REF] [-- ARGS...]\n\n"
            "Verifies a converted image's signed attestation, unpacks it into a private rootfs\n"
            "cached by manifest digest, and runs its entrypoint unit on the embedded vkernel\n"
            "under the image's policy. ARGS replace the image's Cmd.\n\n"
            "  --trust DIR          trust the *.pem public keys in DIR (default: system store)\n"
            "  --cache DIR          rootfs cache (default: $XDG_CACHE_HOME/kiln or ~/.cache/kiln)\n"
            "  --rehash             hash every signed file of the cached rootfs again (ignore\n"
            "                       the verified-cache index)\n"
            "  --policy FILE        override the image's policy\n"
            "  --audit FILE         append audit events (docs/audit.md)\n"
            "  --env K=V            add / override an environment variable\n"
            "  --volume HOST:GUEST[:ro]  expose a host directory\n"
            "  --listen tcp:ADDR:PORT    preopen a listening socket (checked by the policy)\n"
            "  --json[=FILE]        at exit, one JSON summary line on stderr (or in FILE):\n"
            "                       exit code, unit digest, times, audit counts\n"
            "  --verbose            say what was verified\n" KILN_IMAGE_OPTIONS_HELP);
}

#ifdef KILN_HAVE_WASI

/* Parses the command line into c->o; returns -1 to go on, else an exit code. */
static int parse_args(struct run_ctx *c, int argc, char **argv)
{
    enum {
        O_TRUST = 300,
        O_CACHE,
        O_POLICY,
        O_AUDIT,
        O_ENV,
        O_VOLUME,
        O_VERBOSE,
        O_LISTEN,
        O_JSON,
        O_REHASH
    };
    static const struct option opts[] = {KILN_IMAGE_LONGOPTS,
                                         {"trust", required_argument, NULL, O_TRUST},
                                         {"cache", required_argument, NULL, O_CACHE},
                                         {"policy", required_argument, NULL, O_POLICY},
                                         {"audit", required_argument, NULL, O_AUDIT},
                                         {"env", required_argument, NULL, O_ENV},
                                         {"volume", required_argument, NULL, O_VOLUME},
                                         {"verbose", no_argument, NULL, O_VERBOSE},
                                         {"listen", required_argument, NULL, O_LISTEN},
                                         {"json", optional_argument, NULL, O_JSON},
                                         {"rehash", no_argument, NULL, O_REHASH},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    struct run_opts *o = &c->o;
    int ch;
    kiln_image_options_default(&o->image);
    optind = 0;
    /* stop at the first non-option: what follows IMAGE belongs to the guest */
    while ((ch = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
        int r = kiln_cmd_image_option(ch, optarg, &o->image);
        if (r < 0) {
            fprintf(stderr, "kiln run: bad number: %s\n", optarg);
            return 2;
        }
        if (r) continue;
        switch (ch) {
        case O_TRUST:
            o->trust_dir = optarg;
            break;
        case O_CACHE:
            o->cache = optarg;
            break;
        case O_POLICY:
            o->policy_path = optarg;
            break;
        case O_AUDIT:
            o->audit = optarg;
            break;
        case O_JSON:
            o->json_path = optarg ? optarg : "";
            break;
        case O_REHASH:
            o->rehash = true;
            break;
        case O_ENV:
            if (!strchr(optarg, '=') || o->nenv == KILN_RUN_MAX_OPTS) {
                fprintf(stderr, "kiln run: --env %s: expected K=V\n", optarg);
                return 2;
            }
            o->envs[o->nenv++] = optarg;
            break;
        case O_VOLUME:
            if (o->nvol == KILN_RUN_MAX_OPTS) return 2;
            o->vols[o->nvol++] = optarg;
            break;
        case O_VERBOSE:
            o->verbose = true;
            break;
        case O_LISTEN:
            if (o->nlisten == KILN_RUN_MAX_OPTS) return 2;
            o->listens[o->nlisten++] = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind >= argc) {
        usage(stderr);
        return 2;
    }
    o->image_arg = argv[optind++];
    if (optind < argc && !strcmp(argv[optind], "--")) optind++;
    o->args = argv + optind;
    o->nargs = argc - optind;
    return -1;
}

static double ms(uint64_t ns)
{
    return (double)ns / 1e6;
}

/* The --json summary: one line on stderr or in the --json FILE. */
static void write_summary(struct run_ctx *c, FILE *out, int code, const char *outcome,
                          const struct kiln_error *err)
{
    uint64_t end = kiln__run_now();
    json_t *times = json_object(), *j;
    json_object_set_new(times, "totalMs", json_real(ms(end - c->t0)));
    if (c->t_verified) {
        json_object_set_new(times, "verifyMs",
                            json_real(ms(c->t_verified - c->t0 - c->t_unpack_ns)));
        json_object_set_new(times, "unpackMs", json_real(ms(c->t_unpack_ns)));
    }
    if (c->t_loaded)
        json_object_set_new(times, "loadMs", json_real(ms(c->t_loaded - c->t_verified)));
    if (c->t_ran) json_object_set_new(times, "runMs", json_real(ms(c->t_ran - c->t_loaded)));
    j = json_pack("{s:s,s:i,s:s,s:s?,s:s?,s:o}", "command", "run", "exitCode", code, "outcome",
                  outcome, "error", err && err->msg[0] ? err->msg : NULL, "image", c->o.image_arg,
                  "timesMs", times);
    if (!j) return;
    if (c->img && c->img->manifest_digest[0])
        json_object_set_new(j, "manifest", json_string(c->img->manifest_digest));
    if (c->unit) {
        char d[80];
        snprintf(d, sizeof d, "sha256:%s", c->entry_sha256);
        json_object_set_new(j, "unit",
                            json_pack("{s:s,s:s,s:s,s:s?,s:s?}", "path", c->entry_guest, "sha256",
                                      d, "signer", c->unit->signer_keyid, "signerLabel",
                                      c->unit->signer_label, "abi",
                                      c->unit->statement.manifest.guest_abi));
    }
    if (c->rootfd >= 0)
        json_object_set_new(j, "cache",
                            json_pack("{s:s,s:s,s:i,s:i,s:i}", "rootfs", c->rootreal, "state",
                                      c->unpacked ? "unpacked" : "hit", "subjects",
                                      (int)c->nsubjects, "hashed", (int)c->nhashed, "unchanged",
                                      (int)c->nindexed));
    json_t *audit = kiln__run_audit_summary(c);
    if (audit) json_object_set_new(j, "audit", audit);
    char *line = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(4));
    json_decref(j);
    if (!line) return;
    fprintf(out, "%s\n", line);
    fflush(out);
    free(line);
}

static void ctx_clear(struct run_ctx *c)
{
    kiln_unit_free(c->unit);
    json_decref(c->statement);
    kiln_dsse_free(c->env);
    free(c->att);
    kiln_image_free(c->img);
    kiln_trust_store_free(c->ts);
    kiln__run_index_clear(&c->index);
    if (c->rootfd >= 0) close(c->rootfd);
    if (c->efd >= 0) close(c->efd);
    if (c->audit_fd >= 0) close(c->audit_fd);
    if (c->tmpdir[0]) {
        int fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        (void)kiln_image_remove_tree_at(fd, c->tmpdir + 1);
        close(fd);
    }
    free(c->path);
}

static int cmd_run(int argc, char **argv)
{
    struct run_ctx c;
    struct kiln_error err = {0};
    struct kiln_cmd_progress prog = {0};
    const char *outcome;
    FILE *json = NULL;
    int code;

    memset(&c, 0, sizeof c);
    c.rootfd = c.efd = c.audit_fd = -1;
    c.t0 = kiln__run_now();
    code = parse_args(&c, argc, argv);
    if (code >= 0) return code;
    /* opened now: Landlock may confine this process before the summary is written */
    if (c.o.json_path) {
        json = c.o.json_path[0] ? fopen(c.o.json_path, "we") : stderr;
        if (!json) {
            fprintf(stderr, "kiln run: --json=%s: %s\n", c.o.json_path, strerror(errno));
            return 2;
        }
    }
    if (kiln__run_verify(&c, &prog, &err) < 0) {
        if (prog.tty) fputc('\n', stderr);
        fprintf(stderr, "kiln run: refused: %s\n", err.msg[0] ? err.msg : "failed");
        code = 126;
        outcome = "refused";
    } else {
        c.t_verified = kiln__run_now();
        code = kiln__run_guest(&c, &err);
        if (code < 0) {
            fprintf(stderr, "kiln run: %s\n", err.msg[0] ? err.msg : "failed");
            code = 1;
            outcome = "failed";
        } else {
            outcome = c.trap_kind != 0 && c.trap_kind != KILN_TRAP_EXIT ? "trap" : "exited";
            memset(&err, 0, sizeof err);
        }
    }
    if (json) write_summary(&c, json, code, outcome, &err);
    if (json && json != stderr) fclose(json);
    ctx_clear(&c);
    return code;
}

#else

static int cmd_run(int argc, char **argv)
{
    if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "kiln run: this build has no WebAssembly engine\n");
    return 1;
}

#endif

KILN_COMMAND(run, "run", "verify a converted image and run its entrypoint on the vkernel", cmd_run);
