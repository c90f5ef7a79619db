/*
 * oci.h — kiln-oci internals: the parsed OCI runtime config, the container
 * state kept under --root, cgroups, and the create/exec machinery.
 *
 * kiln-oci speaks runc's command line (see main.c). Invariants:
 *  - a container's state lives in ROOT/ID/ (mode 0711): state.json (written
 *    atomically: temporary file + rename) and, until `start`, exec.fifo;
 *  - the init process of a created container blocks reading exec.fifo; it
 *    has already verified its entry program as a kiln unit (unless the
 *    config's annotation allows native entries) before `create` returns, and
 *    execs exactly the file descriptor it verified;
 *  - status is derived, never stored: the recorded pid is alive with the
 *    recorded start time (else "stopped"), exec.fifo exists ("created"),
 *    the freezer is frozen ("paused"), else "running".
 * Functions return 0 or negative and fill struct kiln_error; nothing here
 * prints except main.c.
 */
#ifndef KILN_OCI_H
#define KILN_OCI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "kiln/error.h"

#define KILN_OCI_VERSION "0.1.0"
#define KILN_OCI_SPEC_VERSION "1.0.2"
#define KILN_OCI_ANNOTATION_NATIVE "dev.kiln.allow-native"
#define KILN_OCI_ANNOTATION_KILND "dev.kiln.kilnd"

struct kiln_trust_store;

/* One entry of config.json's mounts. */
struct oci_mount {
    char *dest;          /* absolute path inside the container */
    char *type;          /* "proc", "tmpfs", "bind", ... (may be NULL: bind) */
    char *source;        /* host path (bind) or fs source name */
    unsigned long flags; /* MS_* from options */
    unsigned long prop;  /* MS_PRIVATE/MS_SLAVE/MS_SHARED (+MS_REC) or 0 */
    bool bind;           /* "bind"/"rbind" option or type "bind" */
    char *data;          /* remaining options joined by ',' (fs data) */
};

struct oci_rlimit {
    int resource; /* RLIMIT_* */
    uint64_t soft, hard;
};

/* A process: config.json's "process" or an `exec --process` file. */
struct oci_process {
    bool terminal;
    uid_t uid;
    gid_t gid;
    gid_t *gids; /* additionalGids */
    size_t ngids;
    bool has_umask;
    mode_t umask;
    char **args; /* NULL-terminated */
    char **env;  /* NULL-terminated */
    char *cwd;
    struct oci_rlimit *rlimits;
    size_t nrlimits;
    bool no_new_privs;
    bool has_oom_score_adj; /* process.oomScoreAdj present */
    int oom_score_adj;      /* -1000..1000 */
    bool has_caps; /* capabilities object present */
    uint64_t cap_bounding, cap_effective, cap_permitted, cap_inheritable, cap_ambient;
};

/* One namespace of linux.namespaces. */
struct oci_ns {
    int flag;   /* CLONE_NEW* */
    char *path; /* join this one instead of creating (may be NULL) */
};

/* A device cgroup rule. */
struct oci_devrule {
    bool allow;
    char type;            /* 'a', 'c', 'b' */
    int64_t major, minor; /* -1 = wildcard */
    char access[4];
};

struct oci_resources {
    int64_t mem_limit, mem_swap; /* bytes, -1 = unset */
    uint64_t cpu_shares;         /* 0 = unset */
    int64_t cpu_quota;           /* 0 = unset, -1 = max */
    uint64_t cpu_period;         /* 0 = unset */
    char *cpuset_cpus, *cpuset_mems;
    int64_t pids_limit; /* 0 = unset, -1 = max */
    struct oci_devrule *devices;
    size_t ndevices;
};

/* Lifecycle hooks (hooks.c). */
enum {
    OCI_HOOK_PRESTART,
    OCI_HOOK_CREATE_RUNTIME,
    OCI_HOOK_CREATE_CONTAINER,
    OCI_HOOK_START_CONTAINER,
    OCI_HOOK_POSTSTART,
    OCI_HOOK_POSTSTOP,
    OCI_HOOK_KINDS
};
struct oci_hook {
    char *path;
    char **args, **env; /* NULL-terminated */
    int timeout;        /* seconds, 0 = none */
};
struct oci_hooks {
    struct oci_hook *h[OCI_HOOK_KINDS];
    size_t n[OCI_HOOK_KINDS];
};

/* The parts of config.json kiln-oci applies. */
struct oci_spec {
    char *root; /* absolute rootfs path */
    bool root_ro;
    char *hostname;
    struct oci_process proc;
    struct oci_mount *mounts;
    size_t nmounts;
    struct oci_ns *ns;
    size_t nns;
    char **masked, **readonly; /* NULL-terminated (may be empty) */
    char *cgroups_path;        /* may be NULL */
    unsigned long rootfs_prop; /* default MS_SLAVE|MS_REC */
    struct oci_resources res;
    void *seccomp; /* compiled linux.seccomp (libseccomp filter) or NULL */
    struct oci_hooks hooks;
    bool allow_native; /* annotation dev.kiln.allow-native == "true", or a CRI
                          sandbox (io.kubernetes.cri.container-type ==
                          "sandbox", CRI-O's ContainerType likewise) */
    char *annotations; /* JSON text of the annotations object (or "{}") */
    bool no_kilnd;     /* annotation dev.kiln.kilnd == "false" */
};

/* Parses bundle/config.json into *out (bundle: absolute). root.path is made
 * absolute against the bundle. Errors name the JSON field. */
int oci_spec_load(const char *bundle, struct oci_spec *out, struct kiln_error *err);
void oci_spec_free(struct oci_spec *s);

/* Compiles a linux.seccomp object (jansson json_t) into a libseccomp filter
 * in *out (NULL when sc is not an object). Errors name the field. */
struct json_t;
int oci_seccomp_build(struct json_t *sc, void **out, struct kiln_error *err);
/* Loads the filter into this thread (and its future children); 0 or -errno.
 * NULL is a no-op. */
int oci_seccomp_load(void *filter);
void oci_seccomp_free(void *filter);

/* Parses config.json's "hooks" (createContainer/startContainer refused). */
int oci_hooks_parse(struct json_t *hooks, struct oci_hooks *out, struct kiln_error *err);
void oci_hooks_free(struct oci_hooks *h);
/* Runs every hook of kind with the state {ociVersion, id, status, pid,
 * bundle, annotations} on stdin, in order; stops at the first failure
 * (negative, err names the hook). */
int oci_hooks_run(const struct oci_hooks *h, int kind, const char *id, pid_t pid,
                  const char *status, const char *bundle, const char *annotations,
                  struct kiln_error *err);

/* Parses a process object from a file (`exec --process`). */
int oci_process_load(const char *path, struct oci_process *out, struct kiln_error *err);
void oci_process_free(struct oci_process *p);

/* ------------------------------------------------------------- state --- */

struct oci_state {
    char *id;
    pid_t pid;
    uint64_t start_time; /* /proc/PID/stat field 22 */
    char *bundle;
    char *rootfs;
    char *created;     /* RFC 3339 with nanoseconds, UTC */
    char *cgroup;      /* cgroup path relative to each hierarchy's root */
    char *annotations; /* JSON text */
    bool allow_native;
    char *kilnd_id;     /* the container's id in kilnd ("" = not attached) */
    char *kilnd_config; /* kilnd's registration directory ("" = not attached) */
};

/* Reads ROOT/ID/state.json. KILN_E_ARG with "container does not exist" when
 * there is no such container. */
int oci_state_load(const char *root, const char *id, struct oci_state *out, struct kiln_error *err);
/* Writes ROOT/ID/state.json atomically. */
int oci_state_save(const char *root, const struct oci_state *st, struct kiln_error *err);
void oci_state_free(struct oci_state *st);

/* "created", "running", "paused" or "stopped" for st (see the header). */
const char *oci_state_status(const char *root, const struct oci_state *st);
/* The start time of pid from /proc (0 when it is gone or a zombie). */
uint64_t oci_pid_start_time(pid_t pid);
/* Prints runc's state JSON for st into a malloc'd string. */
char *oci_state_json(const char *root, const struct oci_state *st);

/* Validates a container id (runc's rule: [\w+-\.]+, not "." / ".."). */
bool oci_id_valid(const char *id);

/* Writes data to path atomically (temporary + rename), mode 0644. */
int oci_write_atomic(const char *path, const char *data, struct kiln_error *err);

/* -------------------------------------------------------------- kilnd --- */

#define OCI_KILND_ID_MAX 64
#define OCI_POLICY_MAX 60000 /* a unit policy kiln-oci passes on to kilnd */

/* kiln-oci's config file (kilnd.c has the format). */
struct oci_config {
    char kilnd_socket[4096]; /* kilnd's socket on the host, "" = no kilnd */
    char kilnd_config[4096]; /* kilnd's registration directory */
    char kilnd_state[4096];  /* kilnd's state directory, "" = not given */
};

/* Loads the config at path into *out; a missing file is all defaults (no
 * kilnd). Errors: KILN_E_DENIED (not a root-owned regular file only root may
 * write), KILN_E_MALFORMED (naming the JSON field), KILN_E_IO. */
int oci_config_load(const char *path, struct oci_config *out, struct kiln_error *err);

/* The container's id in kilnd for (--root, id); see kilnd.c. */
void oci_kilnd_id(const char *root, const char *id, char out[OCI_KILND_ID_MAX + 1]);

/* Registers the container with kilnd: writes STATEDIR/policy.json (policy,
 * when non-NULL: the unit's signed policy) and CONFIG/KID.json atomically.
 * init_pid > 0: only processes in that process's pid namespace may attach
 * ("pidnsOf"). Errors name the file. */
int oci_kilnd_register(const struct oci_config *c, const char *kid, const char *rootfs, uid_t uid,
                       pid_t init_pid, const char *policy, size_t policy_len,
                       const char *statedir, struct kiln_error *err);

/* Removes CONFIG/KID.json (no error if it is gone). */
void oci_kilnd_unregister(const char *config_dir, const char *kid);

/* ------------------------------------------------------------ cgroups --- */

/* The cgroup path for a config's cgroupsPath (NULL: default "/kiln-oci/ID");
 * systemd "slice:prefix:name" becomes "slice/prefix-name.scope". */
char *oci_cgroup_path(const char *cgroups_path, const char *id, bool systemd);
/* Creates the cgroup in every hierarchy kiln-oci uses, applies res and
 * moves pid into it. */
int oci_cgroup_setup(const char *path, const struct oci_resources *res, pid_t pid,
                     struct kiln_error *err);
/* Moves pid into an existing cgroup (exec). */
int oci_cgroup_join(const char *path, pid_t pid, struct kiln_error *err);
/* Pids in the cgroup: malloc'd array in *out, count in *n. */
int oci_cgroup_pids(const char *path, pid_t **out, size_t *n, struct kiln_error *err);
/* Freezes (true) or thaws the cgroup and waits until it is so. */
int oci_cgroup_freeze(const char *path, bool freeze, struct kiln_error *err);
/* 1 if frozen, 0 if not, negative if there is no freezer. */
int oci_cgroup_frozen(const char *path);
/* Removes the cgroup's leaf directories (retries while tasks leave). */
int oci_cgroup_remove(const char *path, struct kiln_error *err);
/* Which hierarchy layout this host has: "v1", "hybrid" or "v2". */
const char *oci_cgroup_mode(void);

/* ---------------------------------------------------------- container --- */

struct oci_create_opts {
    const char *root; /* --root */
    const char *id;
    const char *bundle; /* absolute */
    const char *pid_file;
    const char *console_socket;
    int preserve_fds; /* fds 3..3+N-1 pass into the container */
    bool systemd_cgroup;
    const char *ts_error;            /* why the trust store did not open (ts NULL) */
    const struct oci_config *config; /* kiln-oci's config (kilnd), may be NULL */
};

/* Logs a warning line to the --log file (runc's format), or stderr without
 * one. Defined by the command-line front end (main.c). */
void oci_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* `create`: sets up the container whose init waits for `start`. */
int oci_create(const struct oci_create_opts *o, struct kiln_trust_store *ts,
               struct kiln_error *err);

struct oci_exec_opts {
    const char *root;
    const char *id;
    const char *process; /* --process file */
    const char *pid_file;
    const char *console_socket;
    int preserve_fds;
    bool detach;
    const char *ts_error; /* why the trust store did not open (ts NULL) */
};

/* `exec`: runs another process in a running container. Returns the
 * process's exit status (>= 0) without --detach, 0 with it. */
int oci_exec(const struct oci_exec_opts *o, struct kiln_trust_store *ts, struct kiln_error *err);

#endif
