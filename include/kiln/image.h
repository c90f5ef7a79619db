/*
 * kiln/image.h — container images in, root filesystems and analysis reports out.
 *
 * Two libraries share this header:
 *
 *   kiln_image (src/image/)   opens an image — an OCI image layout directory,
 *       an OCI layout in a tar (oci-archive), or a docker-archive (the legacy
 *       manifest.json form and the Docker 25+ form that embeds an OCI layout) —
 *       checks the digest and size of every blob it reads against its
 *       descriptor, parses the image config, and extracts the layers into a
 *       root filesystem with whiteouts and opaque directories applied.
 *
 *   kiln_analyze (src/analyze/) classifies every executable of a root
 *       filesystem (wasm module, ELF, script, other), builds the dependency
 *       graph (executables -> libraries / interpreters), and derives a draft
 *       policy in the format of docs/policy.md.
 *
 * Safety invariants of the extractor (docs/image.md has the details):
 *   - nothing is ever written outside the output directory: every path is
 *     resolved with openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS) relative
 *     to the output root's dirfd, one component at a time for creation; paths
 *     are never string-joined onto the output path;
 *   - unsafe entries are refused with an error naming the layer digest, the
 *     entry path and the reason (absolute path, `..`, device node, FIFO unless
 *     allowed, a hard link or symlink used to leave the root, duplicate entry,
 *     whiteout of `.`/`..`); setuid/setgid bits are stripped unless allowed;
 *   - bounds on bytes per layer, total bytes, entries and JSON sizes stop tar
 *     bombs;
 *   - a failed extraction leaves nothing behind: layers go into a temporary
 *     directory beside the target, which is renamed onto the target only when
 *     every layer extracted and every digest matched, and removed otherwise.
 *
 * Ownership: x_open/x_free pairs, x_free(NULL) is a no-op, out-parameters set
 * only on success. No function here prints anything; progress is reported
 * through an optional callback.
 */
#ifndef KILN_IMAGE_H
#define KILN_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kiln/error.h"

/* ------------------------------------------------------------- images --- */

/* Bounds against hostile images; 0 in any field means "use the default". */
struct kiln_image_limits {
    uint64_t max_layer_bytes; /* uncompressed bytes of one layer (default 8 GiB) */
    uint64_t max_total_bytes; /* uncompressed bytes of all layers (default 32 GiB) */
    uint64_t max_entries;     /* tar entries over all layers (default 1,000,000) */
    uint64_t max_json_bytes;  /* index, manifest, config (default 4 MiB) */
    uint32_t max_layers;      /* layers in one manifest (default 256) */
    uint32_t max_path_bytes;  /* length of an entry path (default 4096) */
};

/* Progress callback: `what` is "layer" or "blob"; `id` the digest; done and
 * total in bytes (total may be 0 when unknown). */
typedef void (*kiln_image_progress_fn)(void *ctx, const char *what, const char *id, uint64_t done,
                                       uint64_t total);

struct kiln_image_options {
    struct kiln_image_limits limits;
    const char *ref;                 /* which image of a multi-image layout: a ref name
                                        (org.opencontainers.image.ref.name or a docker
                                        RepoTag); NULL = the only one */
    const char *platform;            /* "os/arch[/variant]" for an index with several
                                        platforms; NULL = linux and the host's arch */
    bool allow_setuid;               /* keep setuid/setgid bits (default: stripped) */
    bool allow_devices;              /* skip device nodes instead of refusing them */
    bool allow_fifos;                /* create FIFOs instead of refusing them */
    bool keep_owner;                 /* chown entries to their uid/gid (root only) */
    bool sparse_data;                /* kiln_image_extract writes the bytes only of files that
                                        may be code (an execute bit, a .wasm name, or ELF, wasm
                                        or #! magic); other regular files become holes of their
                                        size. For analysis/conversion, never for a rootfs that
                                        runs. Digests are checked the same way. */
    kiln_image_progress_fn progress; /* may be NULL */
    void *progress_ctx;
};

/* Fills *opt with the defaults (every limit at its default value). */
void kiln_image_options_default(struct kiln_image_options *opt);

enum kiln_image_format {
    KILN_IMAGE_OCI_DIR = 1,       /* OCI image layout directory */
    KILN_IMAGE_OCI_ARCHIVE = 2,   /* OCI image layout in a tar (also Docker 25+ save) */
    KILN_IMAGE_DOCKER_ARCHIVE = 3 /* legacy docker save: manifest.json + layer tars */
};

/* "oci", "oci-archive", "docker-archive". */
const char *kiln_image_format_name(int format);

#define KILN_DIGEST_MAX 72 /* "sha256:" + 64 hex + NUL, rounded */

struct kiln_image_layer {
    char digest[KILN_DIGEST_MAX];  /* of the blob as stored */
    char diff_id[KILN_DIGEST_MAX]; /* of the uncompressed tar (config rootfs.diff_ids), or "" */
    char *media_type;              /* as in the manifest ("" for legacy docker) */
    uint64_t size;                 /* blob size from the descriptor (0 if unknown) */
    char *source_name;             /* where the blob is read: "blobs/sha256/HEX" or a
                                      docker-archive member name */
};

/* The parts of the image config (OCI config.config / docker container_config)
 * kiln uses. NULL-terminated string vectors; NULL when absent. */
struct kiln_image_config {
    char **entrypoint;
    char **cmd;
    char **env;           /* "NAME=value" */
    char *workdir;        /* NULL when absent */
    char *user;           /* NULL when absent */
    char **exposed_ports; /* "8080/tcp" */
    char **volumes;       /* "/data" */
    char *os, *architecture, *variant;
};

struct kiln_image {
    int format;                            /* enum kiln_image_format */
    char *path;                            /* as given to kiln_image_open */
    char manifest_digest[KILN_DIGEST_MAX]; /* "" for the legacy docker form */
    char *manifest_media_type;
    uint8_t *manifest_json; /* the manifest bytes as stored (NUL-terminated) */
    size_t manifest_len;
    char config_digest[KILN_DIGEST_MAX];
    char *config_media_type;
    uint8_t *config_json; /* the config bytes as stored (NUL-terminated) */
    size_t config_len;
    struct kiln_image_config config;
    size_t nlayers;
    struct kiln_image_layer *layers;
    struct kiln_image_options opt; /* limits resolved to their defaults */
    struct kiln_image_source *src; /* internal: where blobs come from */
};

/* Opens the image at path: a directory (OCI layout) or a tar file (an
 * oci-archive, or a docker-archive in either form, detected from its
 * contents; compressed outer archives are refused). Reads and checks
 * index.json / manifest.json, the selected manifest and the config (digest
 * and size of each blob against its descriptor; a docker-archive's config
 * against its file name when that is a digest). Layers are not read yet.
 * opt may be NULL (defaults; strings in it must outlive the call only).
 * Errors: KILN_E_IO, KILN_E_MALFORMED (JSON, tar), KILN_E_VERIFY (digest or
 * size mismatch), KILN_E_INVALID (missing blob, no or several matching
 * images), KILN_E_UNSUPPORTED (media type, digest algorithm),
 * KILN_E_NOMEM (a limit). *out is freed with kiln_image_free. */
int kiln_image_open(const char *path, const struct kiln_image_options *opt, struct kiln_image **out,
                    struct kiln_error *err);

void kiln_image_free(struct kiln_image *img);

/* What an extraction did. */
struct kiln_image_stats {
    uint64_t entries; /* tar entries read over all layers */
    uint64_t files, dirs, symlinks, hardlinks;
    uint64_t whiteouts;      /* .wh. entries applied (opaque markers included) */
    uint64_t bytes;          /* uncompressed layer bytes */
    uint64_t blob_bytes;     /* compressed blob bytes read */
    uint64_t stripped_setid; /* entries whose setuid/setgid bits were removed */
    uint64_t skipped;        /* devices (allow_devices), sockets, ... */
};

/* Extracts every layer, in order, into the directory `outdir`, which must
 * not exist yet (its parent must). Works in a temporary directory beside
 * outdir and renames it at the end; on any failure the temporary directory
 * is removed and outdir is not created. Every layer blob's digest and size
 * are checked against its descriptor and its uncompressed digest against the
 * config's diff_id. Errors name the layer digest, the entry path and the
 * reason: KILN_E_DENIED (unsafe entry), KILN_E_VERIFY (digest),
 * KILN_E_MALFORMED (bad tar / compression), KILN_E_NOMEM (bound exceeded),
 * KILN_E_IO. stats may be NULL. */
int kiln_image_extract(struct kiln_image *img, const char *outdir, struct kiln_image_stats *stats,
                       struct kiln_error *err);

/* Reads a whole blob of img by digest ("sha256:HEX"), checking its digest
 * (and its size when expected_size is not UINT64_MAX), at most max bytes.
 * Returns 0 and a malloc'd NUL-terminated buffer in *out / *len. */
int kiln_image_read_blob(struct kiln_image *img, const char *digest, uint64_t expected_size,
                         uint64_t max, uint8_t **out, size_t *len, struct kiln_error *err);

/* Finds, in img's index.json, an OCI 1.1 referrer of img's manifest (an
 * artifact manifest whose subject.digest is img->manifest_digest) with the
 * given artifactType, and reads its first layer blob (digest and size
 * checked, at most max bytes). Returns 0 and a malloc'd NUL-terminated
 * buffer, or KILN_E_INVALID when there is none. Only OCI layouts have
 * referrers. */
int kiln_image_read_referrer(struct kiln_image *img, const char *artifact_type, uint64_t max,
                             uint8_t **out, size_t *len, struct kiln_error *err);

/* The value of a manifest annotation, copied into buf (n bytes); returns 0,
 * or -1 when absent. */
int kiln_image_annotation(const struct kiln_image *img, const char *key, char *buf, size_t n);

/* Parses an OCI/docker image config JSON into *out (zeroed first).
 * Exposed for the fuzzer and the writer. */
int kiln_image_config_parse(const uint8_t *json, size_t len, struct kiln_image_config *out,
                            struct kiln_error *err);
void kiln_image_config_clear(struct kiln_image_config *cfg);

/* Removes dirfd/name recursively without following symlinks (name may be a
 * file, symlink or directory). Returns 0 or -errno. */
int kiln_image_remove_tree_at(int dirfd, const char *name);

/* -------------------------------------------------------------- writer --- */

/* A file or directory of the new top layer. */
struct kiln_image_entry {
    const char *path; /* absolute guest path, normalized ("/app/x") */
    unsigned mode;    /* permission bits, plus S_IFDIR for a directory */
    const uint8_t *data;
    size_t len;
    unsigned uid, gid; /* owner recorded in the layer */
};

/* An OCI 1.1 referrer: an artifact manifest whose subject is the new image
 * manifest, holding one blob (e.g. a DSSE envelope). */
struct kiln_image_referrer {
    const char *artifact_type; /* "application/vnd.in-toto+json" */
    const char *media_type;    /* of the blob: "application/vnd.dsse.envelope.v1+json" */
    const uint8_t *data;
    size_t len;
    const char *const *annotations; /* key, value, ..., NULL; may be NULL */
};

struct kiln_image_write_spec {
    const struct kiln_image_entry *entries; /* the new top layer, in this order */
    size_t nentries;
    const char *ref;                            /* index.json ref name (default "latest") */
    const char *const *annotations;             /* manifest annotations: key, value, ..., NULL */
    const char *created_by;                     /* history entry of the new layer */
    const struct kiln_image_referrer *referrer; /* optional */
    int format; /* KILN_IMAGE_OCI_DIR (default) or KILN_IMAGE_OCI_ARCHIVE */
};

struct kiln_image_written {
    char manifest_digest[KILN_DIGEST_MAX];
    uint64_t manifest_size;
    char layer_digest[KILN_DIGEST_MAX]; /* the new top layer (gzip) */
    char layer_diff_id[KILN_DIGEST_MAX];
    uint64_t layer_size;
    char referrer_digest[KILN_DIGEST_MAX]; /* "" without a referrer */
    uint64_t bytes_copied;                 /* original layer bytes copied (and re-hashed) */
};

/* Writes a new OCI image layout at out (a directory, or a tar file for
 * KILN_IMAGE_OCI_ARCHIVE; must not exist): img's layers copied unchanged
 * (each re-hashed on the way and checked against its digest; legacy docker
 * layers stored as OCI tar layers under their diff_id), plus one new gzip top
 * layer with spec->entries; the config is img's with the new diff_id and a
 * history entry appended (entrypoint, cmd, env, workdir and everything else
 * unchanged); an OCI manifest with spec->annotations; index.json naming it
 * by spec->ref; and, when spec->referrer is set, an artifact manifest whose
 * subject is the new manifest (listed in index.json too). Written into a
 * temporary path beside out and renamed at the end; nothing is left on
 * failure. res may be NULL. */
int kiln_image_write(struct kiln_image *img, const struct kiln_image_write_spec *spec,
                     const char *out, struct kiln_image_written *res, struct kiln_error *err);

/* ----------------------------------------------------------- analysis --- */

enum kiln_exec_kind {
    KILN_KIND_OTHER = 0,
    KILN_KIND_WASM = 1,
    KILN_KIND_ELF = 2,
    KILN_KIND_SCRIPT = 3
};

enum kiln_elf_link {
    KILN_ELF_STATIC = 1,     /* ET_EXEC without PT_INTERP */
    KILN_ELF_DYNAMIC = 2,    /* has PT_INTERP */
    KILN_ELF_STATIC_PIE = 3, /* ET_DYN, no PT_INTERP, DF_1_PIE */
    KILN_ELF_SHARED = 4,     /* ET_DYN shared library */
    KILN_ELF_OTHER = 5       /* ET_REL, ET_CORE, ... */
};

/* JIT indicator bits. */
#define KILN_JIT_WX_SEGMENT 0x01u /* a PT_LOAD with PF_W|PF_X */
#define KILN_JIT_EXEC_STACK 0x02u /* PT_GNU_STACK with PF_X */
#define KILN_JIT_LIBRARY 0x04u    /* is or needs a known JIT library */
#define KILN_JIT_SYMBOL 0x08u     /* imports a known JIT entry point */
#define KILN_JIT_DEPENDENCY 0x10u /* a library it depends on has an indicator */

/* The result of parsing one ELF file (bounds-checked; nothing in the file is
 * trusted). Strings are owned by the struct. */
struct kiln_elf_info {
    int elf_class; /* 32 or 64 */
    bool big_endian;
    uint16_t type; /* e_type */
    uint16_t machine;
    int link;      /* enum kiln_elf_link */
    char *interp;  /* PT_INTERP, or NULL */
    char *soname;  /* DT_SONAME, or NULL */
    char *runpath; /* DT_RUNPATH (or DT_RPATH), or NULL */
    char **needed; /* DT_NEEDED, NULL-terminated (never NULL itself) */
    size_t nneeded;
    char **imports; /* undefined dynamic symbols, NULL-terminated */
    size_t nimports;
    uint64_t
        syscall_sites; /* `syscall` (x86-64 0F 05) / `svc #0` (aarch64) in executable segments */
    unsigned jit;      /* KILN_JIT_* bits found in this file alone */
    char *warning;     /* a non-fatal parse problem (truncated table, ...), or NULL */
};

/* Parses an ELF image of len bytes. Returns 0 and fills *out, or
 * KILN_E_MALFORMED naming the field and offset. Free with kiln_elf_info_clear. */
int kiln_elf_parse(const uint8_t *data, size_t len, struct kiln_elf_info *out,
                   struct kiln_error *err);
void kiln_elf_info_clear(struct kiln_elf_info *info);

/* "x86_64", "aarch64", ... or "machine-N" (static buffer for unknown ones). */
const char *kiln_elf_machine_name(uint16_t machine);

struct kiln_analysis;

struct kiln_analyze_options {
    const struct kiln_image_config *config; /* entrypoint, env PATH, ports; may be NULL */
    uint64_t max_file_bytes;                /* files larger are classified by their head only
                                               (default 512 MiB) */
    uint32_t max_files;                     /* default 200,000 */
    const char *label;                      /* name shown in the report and summary instead
                                               of the rootfs path (e.g. the image); may be NULL */
};

/* Walks the root filesystem at rootfs (never following symlinks out of it),
 * classifies every regular executable, every wasm module, every library and
 * interpreter reached from them, and builds the dependency graph. Errors:
 * KILN_E_IO (rootfs unreadable), KILN_E_NOMEM (a limit). Unparseable files
 * are reported in the analysis, not as errors. opt may be NULL. */
int kiln_analyze_rootfs(const char *rootfs, const struct kiln_analyze_options *opt,
                        struct kiln_analysis **out, struct kiln_error *err);

void kiln_analysis_free(struct kiln_analysis *an);

/* JSON report (UTF-8, pretty-printed, malloc'd NUL-terminated, caller frees):
 * {"files":[...], "graph":[{"from","to","kind","missing"}], "summary":{...},
 *  "policy": <draft policy>}. Returns 0 or KILN_E_NOMEM. */
int kiln_analysis_report_json(const struct kiln_analysis *an, char **out, struct kiln_error *err);

/* The draft policy alone (docs/policy.md format), malloc'd JSON text. */
int kiln_analysis_policy_json(const struct kiln_analysis *an, char **out, struct kiln_error *err);

/* A readable multi-line summary (malloc'd text). */
int kiln_analysis_summary(const struct kiln_analysis *an, char **out, struct kiln_error *err);

/* Counts for callers that decide on the result (convert: entrypoint kind). */
struct kiln_analysis_counts {
    size_t files, wasm, elf, scripts, other, jit_flagged, missing_deps;
};
void kiln_analysis_counts(const struct kiln_analysis *an, struct kiln_analysis_counts *out);

/* One analyzed file, as callers (convert) see it. Strings are owned by the
 * analysis. */
struct kiln_analysis_file {
    const char *path;   /* resolved guest path */
    int kind;           /* enum kiln_exec_kind */
    const char *abi;    /* wasm: "wasi_snapshot_preview1" or "" */
    const char *sha256; /* hex of the content ("" if unreadable) */
    const char *error;  /* why it could not be read / parsed, or NULL */
    const char *interp; /* script: the #! interpreter, or NULL */
    int elf_link;       /* ELF: enum kiln_elf_link, else 0 */
    uint16_t elf_machine;
    unsigned jit;  /* KILN_JIT_* */
    unsigned mode; /* permission bits */
    bool executable, entrypoint, library, interpreter;
};
size_t kiln_analysis_file_count(const struct kiln_analysis *an);
void kiln_analysis_file(const struct kiln_analysis *an, size_t i, struct kiln_analysis_file *out);

/* The resolved entrypoint path (config Entrypoint[0], else Cmd[0], looked up
 * on the config's PATH), or NULL when there is none or it is not in the rootfs. */
const char *kiln_analysis_entrypoint(const struct kiln_analysis *an);

/* Kind of the file at the rootfs path `path` (absolute guest path; symlinks
 * resolved inside the rootfs), or -1 if it was not analyzed. When the kind is
 * WASM, *abi (if non-NULL) gets "wasi_snapshot_preview1" or "" (string owned
 * by the analysis) and *real_path the resolved guest path. */
int kiln_analysis_kind_of(const struct kiln_analysis *an, const char *path, const char **abi,
                          const char **real_path);

#endif
