/*
 * kilnd_main.c — the kilnd executable.
 *
 *   kilnd serve --socket PATH --config DIR --state DIR [--key NODE.pem] [--trust DIR]
 *               [--runner KILN]
 *   kilnd register --config DIR --id ID --root DIR --uid UID [--pid PID]
 *                  [--policy FILE] [--require-signed] [--max-processes N] [--pidns-of PID]
 *
 * serve runs the daemon until SIGTERM/SIGINT (log lines on stderr);
 * register writes DIR/ID.json (atomically), which kilnd reads at the start of
 * every run of that container (its first unit connecting).
 */
#include <getopt.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vkernel/daemon/server.h"

static volatile sig_atomic_t g_stop;

static void on_stop(int sig)
{
    (void)sig;
    g_stop = 1;
}

static void log_line(const char *line)
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    fprintf(stderr, "kilnd %02d:%02d:%02d.%03ld %s\n", tm.tm_hour, tm.tm_min, tm.tm_sec,
            ts.tv_nsec / 1000000, line);
}

static void usage(FILE *f)
{
    fprintf(f, "usage: kilnd serve --socket PATH --config DIR --state DIR [--key NODE.pem]\n"
               "                   [--trust DIR] [--runner KILN]\n"
               "       kilnd register --config DIR --id ID --root DIR --uid UID [--pid PID]\n"
               "                   [--policy FILE] [--require-signed] [--max-processes N]\n"
               "                   [--pidns-of PID]  (peers must share PID's pid namespace)\n\n"
               "The shared vkernel daemon (docs/kilnd-protocol.md).\n");
}

static int cmd_serve(int argc, char **argv)
{
    static const struct option opts[] = {
        {"socket", required_argument, NULL, 's'}, {"config", required_argument, NULL, 'c'},
        {"state", required_argument, NULL, 'd'},  {"key", required_argument, NULL, 'k'},
        {"trust", required_argument, NULL, 't'},  {"runner", required_argument, NULL, 'r'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0}};
    struct kiln_kilnd_config cfg;
    struct kiln_error err;
    struct sigaction sa;
    int o;
    memset(&cfg, 0, sizeof cfg);
    memset(&err, 0, sizeof err);
    cfg.log = log_line;
    while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (o) {
        case 's':
            cfg.socket_path = optarg;
            break;
        case 'c':
            cfg.config_dir = optarg;
            break;
        case 'd':
            cfg.state_dir = optarg;
            break;
        case 'k':
            cfg.key_path = optarg;
            break;
        case 't':
            cfg.trust_dir = optarg;
            break;
        case 'r':
            cfg.runner = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (cfg.socket_path == NULL || cfg.config_dir == NULL || cfg.state_dir == NULL) {
        usage(stderr);
        return 2;
    }
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    setvbuf(stderr, NULL, _IOLBF, 0);
    if (kiln__kilnd_serve(&cfg, &g_stop, &err) < 0) {
        fprintf(stderr, "kilnd: %s\n", err.msg);
        return 1;
    }
    return 0;
}

static int cmd_register(int argc, char **argv)
{
    static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                         {"id", required_argument, NULL, 'i'},
                                         {"root", required_argument, NULL, 'r'},
                                         {"uid", required_argument, NULL, 'u'},
                                         {"pid", required_argument, NULL, 'p'},
                                         {"policy", required_argument, NULL, 'P'},
                                         {"require-signed", no_argument, NULL, 'S'},
                                         {"max-processes", required_argument, NULL, 'm'},
                                         {"pidns-of", required_argument, NULL, 'n'},
                                         {NULL, 0, NULL, 0}};
    const char *dir = NULL, *id = NULL, *root = NULL, *policy = NULL;
    char path[4096], tmp[4200], rroot[4096], rpol[4096];
    long uid = -2, pid = -1, maxp = 0, nsof = 0;
    int o, signed_only = 0;
    json_t *j;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case 'c':
            dir = optarg;
            break;
        case 'i':
            id = optarg;
            break;
        case 'r':
            root = optarg;
            break;
        case 'u':
            uid = strtol(optarg, NULL, 10);
            break;
        case 'p':
            pid = strtol(optarg, NULL, 10);
            break;
        case 'P':
            policy = optarg;
            break;
        case 'S':
            signed_only = 1;
            break;
        case 'm':
            maxp = strtol(optarg, NULL, 10);
            break;
        case 'n':
            nsof = strtol(optarg, NULL, 10);
            break;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (dir == NULL || id == NULL || root == NULL || uid < -1 || strchr(id, '/') != NULL) {
        usage(stderr);
        return 2;
    }
    if (realpath(root, rroot) == NULL || (policy != NULL && realpath(policy, rpol) == NULL)) {
        perror("kilnd register");
        return 1;
    }
    j = json_pack("{s:s,s:I}", "root", rroot, "uid", (json_int_t)uid);
    if (pid >= 0) json_object_set_new(j, "pid", json_integer(pid));
    if (policy != NULL) json_object_set_new(j, "policy", json_string(rpol));
    if (signed_only) json_object_set_new(j, "requireSigned", json_true());
    if (maxp > 0) json_object_set_new(j, "maxProcesses", json_integer(maxp));
    if (nsof > 0) json_object_set_new(j, "pidnsOf", json_integer(nsof));
    snprintf(path, sizeof path, "%s/%s.json", dir, id);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    if (json_dump_file(j, tmp, JSON_INDENT(2) | JSON_SORT_KEYS) < 0 || rename(tmp, path) < 0) {
        perror("kilnd register");
        json_decref(j);
        return 1;
    }
    json_decref(j);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "serve") == 0) return cmd_serve(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "register") == 0) return cmd_register(argc - 1, argv + 1);
    if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        usage(stdout);
        return 0;
    }
    usage(stderr);
    return 2;
}
