/* pwd.h — WASI has no user database; wasi-libc ships no <pwd.h>. The sqlite3
 * shell looks up the home directory with getpwuid() (for ~/.sqliterc and its
 * history) and falls back to $HOME when it finds nobody, which is what this
 * stand-in answers. Only on the include path of programs that need it. */
#ifndef KILN_SHIM_PWD_H
#define KILN_SHIM_PWD_H
#include <sys/types.h>
struct passwd {
    char *pw_name;
    char *pw_passwd;
    uid_t pw_uid;
    gid_t pw_gid;
    char *pw_gecos;
    char *pw_dir;
    char *pw_shell;
};
static inline struct passwd *getpwuid(uid_t uid)
{
    (void)uid;
    return 0;
}
#endif
