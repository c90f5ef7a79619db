/* pwd.h — no users in WASI: getpwuid() finds nobody (sqlite3 shell, ~/.sqliterc). */
#ifndef KILN_COMPAT_PWD_H
#define KILN_COMPAT_PWD_H
#include <sys/types.h>
struct passwd { char *pw_name; char *pw_dir; uid_t pw_uid; gid_t pw_gid; };
static inline struct passwd *getpwuid(uid_t u) { (void)u; return 0; }
#endif
