/*
 * main.c — kiln-oci: an OCI runtime with runc's command line, as
 * containerd's io.containerd.runc.v2 shim (BinaryName) calls it.
 *
 *   kiln-oci [--root DIR] [--log FILE] [--log-format text|json]
 *            [--systemd-cgroup] [--debug] COMMAND [OPTIONS] ID ...
 *   create --bundle B [--pid-file F] [--console-socket S] [--no-pivot]
 *          [--no-new-keyring] [--preserve-fds N] ID
 *   start ID | state ID | kill [--all|-a] ID [SIGNAL] | delete [--force|-f] ID
 *   ps [--format table|json] ID | exec --process FILE [--detach|-d]
 *          [--pid-file F] [--console-socket S] [--preserve-fds N] ID
 *   pause ID | resume ID
 *   features | --version | -v | list (ids under --root)
 *
 * Errors go to --log as runc writes them (--log-format json: one line
 * {"level":"error","msg":...,"time":...}; text otherwise) or, without
 * --log, to stderr; the exit status is 1. The shim reads the last error
 * line of its log.json and reports it.
 *
 * Trust: units are verified against the host's system trust store
 * (/etc/kiln/trust or what /etc/kiln/trust.conf names), loaded before the
 * container is set up. The test build (tests/oci) fixes other paths at
 * build time (KILN_OCI_TRUST_DIR, KILN_OCI_TRUST_CONFIG) with the same
 * ownership rules, like kiln-stub-test.
 *
 * kilnd: kiln-oci's config file (KILN_OCI_CONFIG, default /etc/kiln/oci.json,
 * format in kilnd.c) may name a kilnd; containers whose entry is a verified
 * unit then run in the daemon placement (registered at create, unregistered
 * at delete; docs/containerd.md "kilnd").
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <dirent.h>
#include <unistd.h>

#include "kiln/unit.h"
#include "oci/oci.h"

#ifdef KILN_OCI_TRUST_DIR
#include "trust/trust_internal.h"
#endif

#ifndef KILN_OCI_CONFIG
#define KILN_OCI_CONFIG "/etc/kiln/oci.json"
#endif

static const char *g_root = "/run/kiln-oci";
static const char *g_log;
static bool g_log_json;
static bool g_systemd;

/* Logs one line at level the way runc does. */
static void log_msg(const char *level, const char *msg)
{
    char tbuf[64], ts[96];
    struct timespec now;
    struct tm tm;
    FILE *f = NULL;
    clock_gettime(CLOCK_REALTIME, &now);
    gmtime_r(&now.tv_sec, &tm);
    strftime(tbuf, sizeof tbuf, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(ts, sizeof ts, "%s.%09ldZ", tbuf, now.tv_nsec);
    if (g_log) f = fopen(g_log, "ae");
    if (f && g_log_json) {
        json_t *j = json_pack("{s:s, s:s, s:s}", "level", level, "msg", msg, "time", ts);
        char *line = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
        if (line) fprintf(f, "%s\n", line);
        free(line);
        json_decref(j);
    } else if (f) {
        fprintf(f, "time=\"%s\" level=%s msg=\"%s\"\n", ts, level, msg);
    }
    if (f)
        fclose(f);
    else
        fprintf(stderr, "kiln-oci: %s%s\n", strcmp(level, "error") ? "warning: " : "", msg);
}

/* Logs one warning line; see oci.h. */
void oci_warn(const char *fmt, ...)
{
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    log_msg("warning", msg);
}

/* Logs one error line and returns 1 (the exit status). */
static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...)
{
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    log_msg("error", msg);
    return 1;
}

/* Runs the config's hooks of kind for st; a failure is a warning. */
static void hooks_warn(const struct oci_state *st, int kind, const char *status)
{
    struct oci_spec s;
    struct kiln_error e = {0};
    if (oci_spec_load(st->bundle, &s, NULL) < 0) return;
    if (oci_hooks_run(&s.hooks, kind, st->id, st->pid, status, st->bundle, st->annotations, &e) < 0)
        log_msg("warning", e.msg);
    oci_spec_free(&s);
}

static int open_trust(struct kiln_trust_store **ts, struct kiln_error *err)
{
#ifdef KILN_OCI_TRUST_DIR
    return kiln__trust_store_open_system(KILN_OCI_TRUST_CONFIG, KILN_OCI_TRUST_DIR, ts, err);
#else
    return kiln_trust_store_open_default(ts, err);
#endif
}

static const struct {
    const char *name;
    int sig;
} signals[] = {
    {"HUP", SIGHUP},       {"INT", SIGINT},   {"QUIT", SIGQUIT},   {"ILL", SIGILL},
    {"TRAP", SIGTRAP},     {"ABRT", SIGABRT}, {"BUS", SIGBUS},     {"FPE", SIGFPE},
    {"KILL", SIGKILL},     {"USR1", SIGUSR1}, {"SEGV", SIGSEGV},   {"USR2", SIGUSR2},
    {"PIPE", SIGPIPE},     {"ALRM", SIGALRM}, {"TERM", SIGTERM},   {"CHLD", SIGCHLD},
    {"CONT", SIGCONT},     {"STOP", SIGSTOP}, {"TSTP", SIGTSTP},   {"TTIN", SIGTTIN},
    {"TTOU", SIGTTOU},     {"URG", SIGURG},   {"XCPU", SIGXCPU},   {"XFSZ", SIGXFSZ},
    {"VTALRM", SIGVTALRM}, {"PROF", SIGPROF}, {"WINCH", SIGWINCH}, {"IO", SIGIO},
    {"PWR", SIGPWR},       {"SYS", SIGSYS},
};

static int parse_signal(const char *s)
{
    char *end;
    long n = strtol(s, &end, 10);
    if (*s && !*end) return n > 0 && n < NSIG ? (int)n : -1;
    if (strncmp(s, "SIG", 3) == 0) s += 3;
    for (size_t i = 0; i < sizeof signals / sizeof signals[0]; i++)
        if (strcmp(s, signals[i].name) == 0) return signals[i].sig;
    return -1;
}

/* Loads ID's state or logs why not. */
static int load(const char *id, struct oci_state *st)
{
    struct kiln_error e = {0};
    if (!id) return fail("container id missing");
    if (oci_state_load(g_root, id, st, &e) < 0) return fail("%s", e.msg);
    return 0;
}

static int cmd_create(int argc, char **argv)
{
    static const struct option lo[] = {{"bundle", required_argument, 0, 'b'},
                                       {"pid-file", required_argument, 0, 'p'},
                                       {"console-socket", required_argument, 0, 'c'},
                                       {"no-pivot", no_argument, 0, 'n'},
                                       {"no-new-keyring", no_argument, 0, 'k'},
                                       {"preserve-fds", required_argument, 0, 'f'},
                                       {0, 0, 0, 0}};
    struct oci_create_opts o = {.root = g_root, .systemd_cgroup = g_systemd};
    static struct oci_config cfg;
    struct kiln_trust_store *ts = NULL;
    struct kiln_error e = {0}, te = {0};
    char bundle[PATH_MAX], pidfile[PATH_MAX];
    const char *b = ".";
    int c, rc;
    while ((c = getopt_long(argc, argv, "b:", lo, NULL)) != -1) {
        switch (c) {
        case 'b':
            b = optarg;
            break;
        case 'p':
            o.pid_file = optarg;
            break;
        case 'c':
            o.console_socket = optarg;
            break;
        case 'n':
        case 'k':
            break;
        case 'f':
            o.preserve_fds = atoi(optarg);
            break;
        default:
            return fail("create: unknown option");
        }
    }
    if (optind != argc - 1) return fail("create: exactly one container id expected");
    o.id = argv[optind];
    if (!oci_id_valid(o.id)) return fail("invalid container id '%s'", o.id);
    if (!realpath(b, bundle)) return fail("bundle %s: %s", b, strerror(errno));
    o.bundle = bundle;
    if (o.pid_file && o.pid_file[0] != '/') {
        /* relative to the caller's directory, as runc does */
        char cwd[PATH_MAX];
        if (!getcwd(cwd, sizeof cwd)) return fail("getcwd: %s", strerror(errno));
        snprintf(pidfile, sizeof pidfile, "%s/%s", cwd, o.pid_file);
        o.pid_file = pidfile;
    }
    if (chdir(bundle) < 0) return fail("chdir %s: %s", bundle, strerror(errno));
    if (oci_config_load(KILN_OCI_CONFIG, &cfg, &e) < 0) return fail("%s", e.msg);
    o.config = &cfg;
    if (open_trust(&ts, &te) < 0) o.ts_error = te.msg;
    rc = oci_create(&o, ts, &e);
    kiln_trust_store_free(ts);
    return rc < 0 ? fail("%s", e.msg) : 0;
}

static int cmd_start(const char *id)
{
    struct oci_state st;
    char fifo[4096];
    const char *status;
    int fd;
    if (load(id, &st)) return 1;
    status = oci_state_status(g_root, &st);
    if (strcmp(status, "created") != 0) {
        oci_state_free(&st);
        return fail("cannot start a container that has %s",
                    strcmp(status, "stopped") == 0 ? "stopped" : "already been started");
    }
    snprintf(fifo, sizeof fifo, "%s/%s/exec.fifo", g_root, id);
    fd = open(fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        oci_state_free(&st);
        return fail("start %s: the container process is gone (%s)", id, strerror(errno));
    }
    if (write(fd, "S", 1) != 1) {
        close(fd);
        oci_state_free(&st);
        return fail("start %s: %s", id, strerror(errno));
    }
    close(fd);
    unlink(fifo);
    hooks_warn(&st, OCI_HOOK_POSTSTART, "running");
    oci_state_free(&st);
    return 0;
}

static int cmd_state(const char *id)
{
    struct oci_state st;
    char *s;
    if (load(id, &st)) return 1;
    s = oci_state_json(g_root, &st);
    oci_state_free(&st);
    if (!s) return fail("out of memory");
    printf("%s\n", s);
    free(s);
    return 0;
}

static int signal_all(const struct oci_state *st, int sig)
{
    struct kiln_error e = {0};
    pid_t *pids = NULL;
    size_t n = 0;
    bool frozen = oci_cgroup_frozen(st->cgroup) == 1;
    if (oci_cgroup_pids(st->cgroup, &pids, &n, &e) < 0) return fail("%s", e.msg);
    for (size_t i = 0; i < n; i++)
        kill(pids[i], sig);
    free(pids);
    /* a frozen task cannot act on SIGKILL until thawed */
    if (frozen && sig == SIGKILL) oci_cgroup_freeze(st->cgroup, false, NULL);
    return 0;
}

static int cmd_kill(int argc, char **argv)
{
    static const struct option lo[] = {{"all", no_argument, 0, 'a'}, {0, 0, 0, 0}};
    struct oci_state st;
    bool all = false;
    int c, sig = SIGTERM, rc = 0;
    const char *status;
    while ((c = getopt_long(argc, argv, "a", lo, NULL)) != -1) {
        if (c == 'a')
            all = true;
        else
            return fail("kill: unknown option");
    }
    if (optind >= argc) return fail("kill: container id missing");
    if (optind + 1 < argc && (sig = parse_signal(argv[optind + 1])) < 0)
        return fail("kill: invalid signal '%s'", argv[optind + 1]);
    if (load(argv[optind], &st)) return 1;
    status = oci_state_status(g_root, &st);
    if (strcmp(status, "stopped") == 0 && !all) {
        rc = fail("container not running");
    } else if (all) {
        rc = signal_all(&st, sig);
    } else if (kill(st.pid, sig) < 0) {
        rc = fail("kill %d: %s", (int)st.pid, strerror(errno));
    } else if (sig == SIGKILL && strcmp(status, "paused") == 0) {
        oci_cgroup_freeze(st.cgroup, false, NULL);
    }
    oci_state_free(&st);
    return rc;
}

static int cmd_delete(int argc, char **argv)
{
    static const struct option lo[] = {{"force", no_argument, 0, 'f'}, {0, 0, 0, 0}};
    struct oci_state st;
    struct kiln_error e = {0};
    char dir[4096], p[4200];
    bool force = false;
    int c, rc = 0;
    const char *status;
    while ((c = getopt_long(argc, argv, "f", lo, NULL)) != -1) {
        if (c == 'f')
            force = true;
        else
            return fail("delete: unknown option");
    }
    if (optind >= argc) return fail("delete: container id missing");
    if (oci_state_load(g_root, argv[optind], &st, &e) < 0) {
        /* runc: deleting a container that is already gone is fine with --force */
        if (force && strcmp(e.msg, "container does not exist") == 0) return 0;
        return fail("%s", e.msg);
    }
    status = oci_state_status(g_root, &st);
    if (strcmp(status, "stopped") != 0) {
        if (!force && strcmp(status, "created") != 0) {
            rc = fail("cannot delete container %s that is not stopped: %s", st.id, status);
            goto out;
        }
        if (st.cgroup[0]) signal_all(&st, SIGKILL);
        kill(st.pid, SIGKILL);
        for (int i = 0; i < 1000 && oci_pid_start_time(st.pid) == st.start_time; i++) {
            struct timespec ts = {0, 10000000};
            nanosleep(&ts, NULL);
        }
    }
    /* processes left in the cgroup (no pid namespace, detached execs):
     * runc kills them too, or the cgroup could not go */
    if (st.cgroup[0]) {
        pid_t *pids = NULL;
        size_t n = 0;
        if (oci_cgroup_pids(st.cgroup, &pids, &n, NULL) == 0 && n > 0) signal_all(&st, SIGKILL);
        free(pids);
    }
    if (st.cgroup[0] && oci_cgroup_remove(st.cgroup, &e) < 0) {
        rc = fail("%s", e.msg);
        goto out;
    }
    snprintf(dir, sizeof dir, "%s/%s", g_root, st.id);
    snprintf(p, sizeof p, "%s/exec.fifo", dir);
    unlink(p);
    snprintf(p, sizeof p, "%s/policy.json", dir);
    unlink(p);
    /* kilnd forgets the container; it attested the run when its last unit
     * disconnected */
    oci_kilnd_unregister(st.kilnd_config, st.kilnd_id);
    snprintf(p, sizeof p, "%s/state.json", dir);
    unlink(p);
    if (rmdir(dir) < 0 && errno != ENOENT) rc = fail("rmdir %s: %s", dir, strerror(errno));
    if (rc == 0) hooks_warn(&st, OCI_HOOK_POSTSTOP, "stopped");
out:
    oci_state_free(&st);
    return rc;
}

static int cmd_ps(int argc, char **argv)
{
    static const struct option lo[] = {{"format", required_argument, 0, 'f'}, {0, 0, 0, 0}};
    struct oci_state st;
    struct kiln_error e = {0};
    const char *format = "table";
    pid_t *pids = NULL;
    size_t n = 0;
    int c;
    while ((c = getopt_long(argc, argv, "f:", lo, NULL)) != -1) {
        if (c == 'f')
            format = optarg;
        else
            return fail("ps: unknown option");
    }
    if (optind >= argc) return fail("ps: container id missing");
    if (load(argv[optind], &st)) return 1;
    if (oci_cgroup_pids(st.cgroup, &pids, &n, &e) < 0) {
        oci_state_free(&st);
        return fail("%s", e.msg);
    }
    oci_state_free(&st);
    if (strcmp(format, "json") == 0) {
        printf("[");
        for (size_t i = 0; i < n; i++)
            printf("%s%d", i ? "," : "", (int)pids[i]);
        printf("]\n");
    } else {
        printf("PID\n");
        for (size_t i = 0; i < n; i++)
            printf("%d\n", (int)pids[i]);
    }
    free(pids);
    return 0;
}

static int cmd_exec(int argc, char **argv)
{
    static const struct option lo[] = {{"process", required_argument, 0, 'p'},
                                       {"detach", no_argument, 0, 'd'},
                                       {"pid-file", required_argument, 0, 'i'},
                                       {"console-socket", required_argument, 0, 'c'},
                                       {"tty", no_argument, 0, 't'},
                                       {"preserve-fds", required_argument, 0, 'f'},
                                       {0, 0, 0, 0}};
    struct oci_exec_opts o = {.root = g_root};
    struct kiln_trust_store *ts = NULL;
    struct kiln_error e = {0}, te = {0};
    int c, rc;
    while ((c = getopt_long(argc, argv, "dtp:", lo, NULL)) != -1) {
        switch (c) {
        case 'p':
            o.process = optarg;
            break;
        case 'd':
            o.detach = true;
            break;
        case 'i':
            o.pid_file = optarg;
            break;
        case 'c':
            o.console_socket = optarg;
            break;
        case 't':
            break;
        case 'f':
            o.preserve_fds = atoi(optarg);
            break;
        default:
            return fail("exec: unknown option");
        }
    }
    if (optind >= argc) return fail("exec: container id missing");
    if (!o.process)
        return fail("exec: only --process FILE is supported (a process.json as runc takes)");
    o.id = argv[optind];
    if (open_trust(&ts, &te) < 0) o.ts_error = te.msg;
    rc = oci_exec(&o, ts, &e);
    kiln_trust_store_free(ts);
    if (rc < 0) return fail("%s", e.msg);
    return rc;
}

static int cmd_freeze(const char *id, bool freeze)
{
    struct oci_state st;
    struct kiln_error e = {0};
    const char *status;
    int rc = 0;
    if (load(id, &st)) return 1;
    status = oci_state_status(g_root, &st);
    if (strcmp(status, freeze ? "running" : "paused") != 0)
        rc = fail("container not %s", freeze ? "running" : "paused");
    else if (oci_cgroup_freeze(st.cgroup, freeze, &e) < 0)
        rc = fail("%s", e.msg);
    oci_state_free(&st);
    return rc;
}

static int cmd_list(void)
{
    DIR *d = opendir(g_root);
    struct dirent *de;
    printf("ID\tPID\tSTATUS\tBUNDLE\n");
    if (!d) return 0;
    while ((de = readdir(d))) {
        struct oci_state st;
        if (de->d_name[0] == '.' || oci_state_load(g_root, de->d_name, &st, NULL) < 0) continue;
        printf("%s\t%d\t%s\t%s\n", st.id, (int)st.pid, oci_state_status(g_root, &st), st.bundle);
        oci_state_free(&st);
    }
    closedir(d);
    return 0;
}

static int cmd_features(void)
{
    long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, 1 /* VERSION */);
    printf("{\n"
           "  \"ociVersionMin\": \"1.0.0\",\n"
           "  \"ociVersionMax\": \"" KILN_OCI_SPEC_VERSION "\",\n"
           "  \"hooks\": [],\n"
           "  \"mountOptions\": [\"async\", \"atime\", \"bind\", \"dev\", \"diratime\", "
           "\"dirsync\", \"exec\", \"mand\", \"noatime\", \"nodev\", \"nodiratime\", \"noexec\", "
           "\"nomand\", \"norelatime\", \"nostrictatime\", \"nosuid\", \"private\", \"rbind\", "
           "\"relatime\", \"remount\", \"ro\", \"rprivate\", \"rshared\", \"rslave\", "
           "\"runbindable\", \"rw\", \"shared\", \"slave\", \"strictatime\", \"suid\", "
           "\"sync\", \"unbindable\"],\n"
           "  \"linux\": {\n"
           "    \"namespaces\": [\"cgroup\", \"ipc\", \"mount\", \"network\", \"pid\", \"uts\"],\n"
           "    \"capabilities\": [\"CAP_CHOWN\", \"CAP_DAC_OVERRIDE\", \"CAP_KILL\", "
           "\"CAP_NET_BIND_SERVICE\", \"CAP_SETGID\", \"CAP_SETUID\", \"...all of Linux's\"],\n"
           "    \"cgroup\": {\"v1\": true, \"v2\": true, \"systemd\": false, "
           "\"systemdUser\": false},\n"
           "    \"seccomp\": {\"enabled\": false},\n"
           "    \"apparmor\": {\"enabled\": false},\n"
           "    \"selinux\": {\"enabled\": false}\n"
           "  },\n"
           "  \"annotations\": {\n"
           "    \"dev.kiln.oci.version\": \"" KILN_OCI_VERSION "\",\n"
           "    \"dev.kiln.oci.cgroup-mode\": \"%s\",\n"
           "    \"dev.kiln.oci.native-annotation\": \"" KILN_OCI_ANNOTATION_NATIVE "\",\n"
           "    \"dev.kiln.oci.landlock-abi\": \"%ld\"\n"
           "  }\n"
           "}\n",
           oci_cgroup_mode(), abi < 0 ? 0L : abi);
    return 0;
}

static void usage(FILE *f)
{
    fprintf(
        f,
        "usage: kiln-oci [--root DIR] [--log FILE] [--log-format text|json] "
        "[--systemd-cgroup] COMMAND ...\n"
        "commands: create start state kill delete ps exec pause resume features list\n"
        "Only verified kiln units run, unless the config's annotation " KILN_OCI_ANNOTATION_NATIVE
        "=true allows native programs.\n");
}

int main(int argc, char **argv)
{
    static const struct option lo[] = {{"root", required_argument, 0, 'r'},
                                       {"log", required_argument, 0, 'l'},
                                       {"log-format", required_argument, 0, 'f'},
                                       {"systemd-cgroup", no_argument, 0, 's'},
                                       {"debug", no_argument, 0, 'd'},
                                       {"version", no_argument, 0, 'v'},
                                       {"help", no_argument, 0, 'h'},
                                       {"criu", required_argument, 0, 'c'},
                                       {"rootless", required_argument, 0, 'R'},
                                       {0, 0, 0, 0}};
    const char *cmd;
    int c;
    /* global options stop at the command */
    while ((c = getopt_long(argc, argv, "+vh", lo, NULL)) != -1) {
        switch (c) {
        case 'r':
            g_root = optarg;
            break;
        case 'l':
            g_log = optarg;
            break;
        case 'f':
            g_log_json = strcmp(optarg, "json") == 0;
            break;
        case 's':
            g_systemd = true;
            break;
        case 'd':
        case 'c':
        case 'R':
            break;
        case 'v':
            printf("kiln-oci version " KILN_OCI_VERSION "\nspec: " KILN_OCI_SPEC_VERSION "\n");
            return 0;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 1;
        }
    }
    if (optind >= argc) {
        usage(stderr);
        return 1;
    }
    cmd = argv[optind];
    argc -= optind;
    argv += optind;
    optind = 0; /* reinitialize getopt for the command's options */
    if (strcmp(cmd, "create") == 0) return cmd_create(argc, argv);
    if (strcmp(cmd, "start") == 0) return cmd_start(argv[1]);
    if (strcmp(cmd, "state") == 0) return cmd_state(argv[1]);
    if (strcmp(cmd, "kill") == 0) return cmd_kill(argc, argv);
    if (strcmp(cmd, "delete") == 0) return cmd_delete(argc, argv);
    if (strcmp(cmd, "ps") == 0) return cmd_ps(argc, argv);
    if (strcmp(cmd, "exec") == 0) return cmd_exec(argc, argv);
    if (strcmp(cmd, "pause") == 0) return cmd_freeze(argv[1], true);
    if (strcmp(cmd, "resume") == 0) return cmd_freeze(argv[1], false);
    if (strcmp(cmd, "features") == 0) return cmd_features();
    if (strcmp(cmd, "list") == 0) return cmd_list();
    if (strcmp(cmd, "version") == 0) {
        printf("kiln-oci version " KILN_OCI_VERSION "\nspec: " KILN_OCI_SPEC_VERSION "\n");
        return 0;
    }
    return fail("unknown command '%s'", cmd);
}
