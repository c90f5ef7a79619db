/*
 * analyze_internal.h — the analysis data shared by analyze.c (walk,
 * classification, graph) and report.c (JSON report, summary, draft policy).
 */
#ifndef KILN_ANALYZE_INTERNAL_H
#define KILN_ANALYZE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kiln/image.h"

#define WASI_P1 "wasi_snapshot_preview1"

struct afile {
    char *path; /* guest path, resolved (no symlinks) */
    int kind;   /* enum kiln_exec_kind */
    uint64_t size;
    unsigned mode;
    char sha256[65];
    bool executable, entrypoint, library, interpreter, analyzed;
    char *error; /* could not be read / parsed */
    /* wasm */
    const char *abi; /* WASI_P1 or "" */
    char **wimports, **wexports;
    size_t nwimports, nwexports;
    /* elf */
    bool has_elf;
    struct kiln_elf_info elf;
    /* script */
    char *interp, *interp_arg;
    unsigned jit; /* own + dependencies (KILN_JIT_DEPENDENCY) */
};

struct edge {
    size_t from;
    size_t to;        /* SIZE_MAX when missing */
    char *name;       /* what was asked for (soname, interpreter path) */
    const char *kind; /* "interpreter", "library", "script" */
};

struct kiln_analysis {
    char *rootfs;
    int rootfd;
    struct afile *files;
    size_t nfiles, cap;
    size_t *slot; /* hash: path -> index+1 */
    size_t nslot;
    struct edge *edges;
    size_t nedges, capedges;
    struct kiln_analyze_options opt;
    char **path_dirs; /* PATH from the config env */
    char **ports;     /* exposed ports */
    char **volumes;
    char *entrypoint; /* resolved guest path, or NULL */
    char *entrypoint_raw;
    char **notes;
    size_t nnotes;
};

#endif
