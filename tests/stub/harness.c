/*
 * harness.c — a stub-like native test helper: it makes the same hardening
 * call as kiln-stub (kiln_platform_harden(KILN_HARDEN_ALL)) and then tries,
 * the way a JIT or an exploit would, to get executable memory or run another
 * program. Every attempt must fail (EPERM from the seccomp filter; EACCES
 * from MDWE alone in the mdwe_only case), and ordinary memory use must keep
 * working.
 *
 *   stub_harness CASE      one case per process (CTest runs each separately)
 *
 * Exit: 0 pass, 1 fail (a line "FAIL: ..." on stderr), 2 usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <signal.h>
#include <sys/ipc.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/shm.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "platform/linux/harden.h"

#ifndef MFD_NOEXEC_SEAL
#define MFD_NOEXEC_SEAL 0x0008U
#endif
#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif
#ifndef PR_GET_MDWE
#define PR_GET_MDWE 66
#endif

static int failures;

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "FAIL: %s:%d: ", __FILE__, __LINE__);                                  \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

/* Expects a raw syscall result r (with errno) to be -1/want. */
#define DENIED(r, want, what)                                                                      \
    CHECK((long)(r) == -1 && errno == (want), "%s: expected %s, got %ld (%s)", what,               \
          strerrorname_np(want), (long)(r), (long)(r) == -1 ? strerror(errno) : "success")

static void harden(unsigned flags)
{
    struct kiln_harden_result hr;
    int rc = kiln_platform_harden(flags, &hr);
    if (rc < 0) {
        fprintf(stderr, "FAIL: harden: %s: %s\n", hr.failed ? hr.failed : "?", strerror(-rc));
        exit(1);
    }
    if ((hr.applied & flags & KILN_HARDEN_ALL) != (flags & KILN_HARDEN_ALL)) {
        fprintf(stderr, "FAIL: harden: applied %#x of %#x\n", hr.applied, flags);
        exit(1);
    }
}

static void *raw_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    return (void *)syscall(SYS_mmap, addr, len, prot, flags, fd, off);
}

/* 1 when p is a failed mmap with errno want. */
#define MMAP_DENIED(p, want, what)                                                                 \
    CHECK((p) == MAP_FAILED && errno == (want), "%s: expected %s, got %s", what,                   \
          strerrorname_np(want), (p) == MAP_FAILED ? strerror(errno) : "a mapping")

/* /proc/self/status shows the filter and no_new_privs; MDWE via prctl. */
static void case_status(void)
{
    struct kiln_harden_status st;
    char buf[8192];
    ssize_t n;
    int fd;
    harden(KILN_HARDEN_ALL);
    CHECK(kiln_platform_harden_status(&st) == 0, "harden_status");
    CHECK(st.seccomp_mode == 2, "seccomp mode %d", st.seccomp_mode);
    CHECK(st.no_new_privs == 1, "no_new_privs %d", st.no_new_privs);
    CHECK(st.mdwe == 1, "PR_GET_MDWE %d", st.mdwe);
    CHECK(prctl(PR_GET_MDWE, 0, 0, 0, 0) == 1, "PR_GET_MDWE");
    fd = open("/proc/self/status", O_RDONLY);
    n = read(fd, buf, sizeof buf - 1);
    close(fd);
    buf[n > 0 ? n : 0] = 0;
    CHECK(strstr(buf, "\nSeccomp:\t2\n") != NULL, "/proc/self/status lacks Seccomp:\\t2");
    CHECK(strstr(buf, "\nNoNewPrivs:\t1\n") != NULL, "/proc/self/status lacks NoNewPrivs:\\t1");
}

/* Anonymous RWX and fresh RX mappings. */
static void case_anon_exec(void)
{
    void *p;
    harden(KILN_HARDEN_ALL);
    p = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    MMAP_DENIED(p, EPERM, "anon RWX mmap");
    p = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    MMAP_DENIED(p, EPERM, "anon RX mmap");
    p = mmap(NULL, 4096, PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    MMAP_DENIED(p, EPERM, "anon X mmap");
    p = raw_mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1,
                 0);
    MMAP_DENIED(p, EPERM, "anon RWX mmap (raw syscall)");
    /* upper bits of the prot register do not hide PROT_EXEC */
    errno = 0;
    p = (void *)syscall(SYS_mmap, NULL, 4096L, (long)(0xffff00000000ull | PROT_READ | PROT_EXEC),
                        (long)(MAP_PRIVATE | MAP_ANONYMOUS), -1L, 0L);
    CHECK(p == MAP_FAILED, "anon RX mmap with high prot bits succeeded");
}

/* RW then RX (the classic JIT pattern), RWX, and pkey_mprotect. */
static void case_mprotect(void)
{
    unsigned char *p;
    harden(KILN_HARDEN_ALL);
    p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(p != MAP_FAILED, "anon RW mmap: %s", strerror(errno));
    if (p == MAP_FAILED) return;
    p[0] = 0xc3; /* ret */
    DENIED(mprotect(p, 4096, PROT_READ | PROT_EXEC), EPERM, "mprotect RW->RX");
    DENIED(mprotect(p, 4096, PROT_READ | PROT_WRITE | PROT_EXEC), EPERM, "mprotect RW->RWX");
    DENIED(mprotect(p, 4096, PROT_EXEC), EPERM, "mprotect RW->X");
    DENIED(syscall(SYS_pkey_mprotect, p, 4096, PROT_READ | PROT_EXEC, -1), EPERM,
           "pkey_mprotect RW->RX");
    /* still allowed: dropping write */
    CHECK(mprotect(p, 4096, PROT_READ) == 0, "mprotect RW->R: %s", strerror(errno));
    munmap(p, 4096);
}

/* memfd_create without MFD_NOEXEC_SEAL (or with MFD_EXEC) is refused. */
static void case_memfd_create(void)
{
    harden(KILN_HARDEN_ALL);
    DENIED(syscall(SYS_memfd_create, "x", 0), EPERM, "memfd_create(0)");
    DENIED(syscall(SYS_memfd_create, "x", MFD_CLOEXEC), EPERM, "memfd_create(MFD_CLOEXEC)");
    DENIED(syscall(SYS_memfd_create, "x", MFD_CLOEXEC | MFD_ALLOW_SEALING), EPERM,
           "memfd_create(MFD_ALLOW_SEALING)");
    DENIED(syscall(SYS_memfd_create, "x", MFD_EXEC), EPERM, "memfd_create(MFD_EXEC)");
}

/* A sealed memfd mapped RW, then RX (a second view of the same pages). */
static void case_memfd_dual(void)
{
    static const unsigned char code[16] = {0xb8, 42, 0, 0, 0, 0xc3}; /* mov eax,42; ret */
    unsigned char *rw, *rx;
    int fd;
    harden(KILN_HARDEN_ALL);
    fd = (int)syscall(SYS_memfd_create, "jit", MFD_CLOEXEC | MFD_NOEXEC_SEAL);
    CHECK(fd >= 0, "memfd_create(MFD_NOEXEC_SEAL): %s", strerror(errno));
    if (fd < 0) return;
    CHECK(ftruncate(fd, 4096) == 0, "ftruncate: %s", strerror(errno));
    rw = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    CHECK(rw != MAP_FAILED, "memfd RW shared mapping: %s", strerror(errno));
    if (rw != MAP_FAILED) memcpy(rw, code, sizeof code);
    rx = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_SHARED, fd, 0);
    MMAP_DENIED(rx, EPERM, "memfd RX shared mapping (dual map)");
    rx = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0);
    MMAP_DENIED(rx, EPERM, "memfd RX private mapping");
    rx = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
    CHECK(rx != MAP_FAILED, "memfd R mapping: %s", strerror(errno));
    if (rx != MAP_FAILED) {
        DENIED(mprotect(rx, 4096, PROT_READ | PROT_EXEC), EPERM, "memfd view R->RX");
        CHECK(rx[0] == 0xb8, "the two views do not share pages");
    }
    close(fd);
}

/* Executable file mappings (what dlopen does). */
static void case_file_exec(void)
{
    void *p;
    int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
    CHECK(fd >= 0, "open /proc/self/exe");
    harden(KILN_HARDEN_ALL);
    p = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0);
    MMAP_DENIED(p, EPERM, "file RX mmap");
    p = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0);
    CHECK(p != MAP_FAILED, "file R mmap: %s", strerror(errno));
    close(fd);
}

/* execve, execveat, fexecve of a memfd. */
static void case_execve(void)
{
    char *const argv[] = {"true", NULL}, *const envp[] = {NULL};
    int fd, dir;
    harden(KILN_HARDEN_ALL);
    DENIED(execve("/bin/true", argv, envp), EPERM, "execve /bin/true");
    DENIED(execve("/proc/self/exe", argv, envp), EPERM, "execve self");
    dir = open("/bin", O_PATH | O_DIRECTORY);
    DENIED(syscall(SYS_execveat, dir, "true", argv, envp, 0), EPERM, "execveat");
    fd = open("/bin/true", O_RDONLY | O_CLOEXEC);
    DENIED(fexecve(fd, argv, envp), EPERM, "fexecve /bin/true");
    close(fd);
    close(dir);
}

/* READ_IMPLIES_EXEC would add PROT_EXEC behind the filter's back. */
static void case_personality(void)
{
    char buf[32] = "";
    FILE *f;
    harden(KILN_HARDEN_ALL);
    DENIED(personality(READ_IMPLIES_EXEC), EPERM, "personality(READ_IMPLIES_EXEC)");
    /* (the query form 0xffffffff has the bit set too, so it is refused as
     * well; read the persona from /proc instead) */
    f = fopen("/proc/self/personality", "r");
    CHECK(f != NULL && fgets(buf, sizeof buf, f) != NULL, "/proc/self/personality");
    if (f != NULL) fclose(f);
    CHECK((strtoul(buf, NULL, 16) & READ_IMPLIES_EXEC) == 0, "READ_IMPLIES_EXEC got set");
    CHECK(personality(PER_LINUX) != -1, "personality(PER_LINUX): %s", strerror(errno));
}

/* The other doors of the rule table: executable SysV shared memory,
 * remap_file_pages, writing other processes, io_uring. */
static void case_misc(void)
{
    struct iovec local = {NULL, 0}, remote = {NULL, 0};
    void *p;
    int id;
    harden(KILN_HARDEN_ALL);
    id = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
    CHECK(id >= 0, "shmget: %s", strerror(errno));
    if (id >= 0) {
        p = shmat(id, NULL, SHM_EXEC);
        CHECK(p == (void *)-1 && errno == EPERM, "shmat(SHM_EXEC): %s",
              p == (void *)-1 ? strerror(errno) : "attached");
        p = shmat(id, NULL, 0);
        CHECK(p != (void *)-1, "shmat(0): %s", strerror(errno));
        if (p != (void *)-1) shmdt(p);
        shmctl(id, IPC_RMID, NULL);
    }
    p = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    DENIED(syscall(SYS_remap_file_pages, p, 4096, 0, 1, 0), EPERM, "remap_file_pages");
    DENIED(ptrace(PTRACE_TRACEME, 0, NULL, NULL), EPERM, "ptrace(PTRACE_TRACEME)");
    DENIED(process_vm_writev(getppid(), &local, 1, &remote, 1, 0), EPERM, "process_vm_writev");
    DENIED(syscall(SYS_io_uring_setup, 4, calloc(1, 256)), EPERM, "io_uring_setup");
}

/* A call through another syscall ABI (int 0x80, x32) kills the process:
 * the filter only speaks x86-64. */
static int child_status(void (*fn)(void))
{
    int status = 0;
    pid_t pid = fork();
    if (pid == 0) {
        fn();
        _exit(0);
    }
    waitpid(pid, &status, 0);
    return status;
}
static void int80_getpid(void)
{
#if defined(__x86_64__)
    long r = 20; /* i386 getpid */
    __asm__ volatile("int $0x80" : "+a"(r) : : "memory");
#endif
}
static void x32_getpid(void)
{
#if defined(__x86_64__)
    syscall(0x40000000 | SYS_getpid);
#endif
}

static void case_other_abi(void)
{
    int st;
    harden(KILN_HARDEN_ALL);
#if defined(__x86_64__)
    st = child_status(int80_getpid);
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS, "int 0x80: status %#x", st);
    st = child_status(x32_getpid);
    CHECK(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS, "x32 syscall: status %#x", st);
#else
    (void)st;
    printf("note: not x86-64, nothing to check\n");
#endif
}

/* The filter is inherited by children and synchronized to threads that
 * existed before it was loaded. */
static void *thread_try(void *arg)
{
    volatile int *go = arg;
    void *p;
    while (!*go)
        usleep(1000);
    p = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return (void *)(long)(p == MAP_FAILED && errno == EPERM);
}

static void case_inherit(void)
{
    static volatile int go;
    pthread_t t;
    void *ok = NULL;
    pid_t pid;
    int status = 0;
    CHECK(pthread_create(&t, NULL, thread_try, (void *)&go) == 0, "pthread_create");
    harden(KILN_HARDEN_ALL);
    go = 1;
    pthread_join(t, &ok);
    CHECK(ok == (void *)1L, "a thread started before hardening got RWX memory");
    pid = fork();
    if (pid == 0) {
        void *p = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        char *const argv[] = {"true", NULL};
        if (p != MAP_FAILED || errno != EPERM) _exit(10);
        execv("/bin/true", argv);
        _exit(errno == EPERM ? 0 : 11);
    }
    CHECK(pid > 0 && waitpid(pid, &status, 0) == pid, "fork/wait");
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child: status %#x", status);
}

/* MDWE alone (no seccomp): exec gain is refused (EACCES) even without the
 * filter; a fresh RX mapping is not (the documented gap seccomp closes). */
static void case_mdwe_only(void)
{
    unsigned char *p;
    void *q;
    harden(KILN_HARDEN_NO_NEW_PRIVS | KILN_HARDEN_MDWE);
    CHECK(prctl(PR_GET_MDWE, 0, 0, 0, 0) == 1, "PR_GET_MDWE");
    p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(p != MAP_FAILED, "anon RW mmap");
    DENIED(mprotect(p, 4096, PROT_READ | PROT_EXEC), EACCES, "MDWE: mprotect RW->RX");
    q = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    MMAP_DENIED(q, EACCES, "MDWE: anon RWX mmap");
    q = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (q != MAP_FAILED)
        printf("note: MDWE alone allows a fresh anon RX mapping (seccomp closes it)\n");
}

/* Ordinary memory work still succeeds after hardening. */
static void case_allowed(void)
{
    unsigned char *p;
    char *big;
    int fd;
    harden(KILN_HARDEN_ALL);
    p = mmap(NULL, 1 << 20, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    CHECK(p != MAP_FAILED, "PROT_NONE reservation: %s", strerror(errno));
    CHECK(mprotect(p, 65536, PROT_READ | PROT_WRITE) == 0, "commit RW: %s", strerror(errno));
    p[100] = 1;
    big = malloc(64 << 20); /* mmap'd by malloc */
    CHECK(big != NULL, "malloc 64 MiB");
    if (big != NULL) big[(64 << 20) - 1] = 1;
    free(big);
    fd = (int)syscall(SYS_memfd_create, "ok", MFD_CLOEXEC | MFD_NOEXEC_SEAL);
    CHECK(fd >= 0, "sealed memfd: %s", strerror(errno));
    close(fd);
    CHECK(getpid() > 0, "getpid");
}

/* Every rule names a syscall libseccomp knows, and loading twice works
 * (filters stack). */
static void case_rules(void)
{
    int n = 0, i;
    const struct kiln_seccomp_rule *r = kiln_platform_seccomp_rules(&n);
    CHECK(n >= 8, "only %d rules", n);
    for (i = 0; i < n; i++)
        CHECK(r[i].syscall != NULL && r[i].why != NULL && r[i].arg < 6, "rule %d", i);
    harden(KILN_HARDEN_ALL);
    CHECK(kiln_platform_seccomp_nojit() == 0, "second filter load");
}

static const struct {
    const char *name;
    void (*fn)(void);
} cases[] = {
    {"status", case_status},
    {"anon_exec", case_anon_exec},
    {"mprotect", case_mprotect},
    {"memfd_create", case_memfd_create},
    {"memfd_dual", case_memfd_dual},
    {"file_exec", case_file_exec},
    {"execve", case_execve},
    {"personality", case_personality},
    {"misc", case_misc},
    {"other_abi", case_other_abi},
    {"inherit", case_inherit},
    {"mdwe_only", case_mdwe_only},
    {"allowed", case_allowed},
    {"rules", case_rules},
};

int main(int argc, char **argv)
{
    size_t i;
    if (argc == 2 && strcmp(argv[1], "--list") == 0) {
        for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
            printf("%s\n", cases[i].name);
        return 0;
    }
    for (i = 0; argc == 2 && i < sizeof cases / sizeof cases[0]; i++) {
        if (strcmp(argv[1], cases[i].name) == 0) {
            cases[i].fn();
            if (failures == 0) printf("%s: ok\n", cases[i].name);
            return failures ? 1 : 0;
        }
    }
    fprintf(stderr, "usage: %s CASE|--list\n", argv[0]);
    return 2;
}
