/*
 * selfexe.c — a stub-like test harness: opens /proc/self/exe, verifies the
 * unit it is the stub of with kiln_unit_verify_fd (one read into memory),
 * and reports. This is the verification half of the future kiln-stub (which
 * will use the system trust store, harden the process and run the module);
 * here the trust directory comes from argv[1] for testing only.
 *
 * Exit: 0 verified, 126 refused (one line naming the reason), 2 usage.
 */
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "kiln/unit.h"

int main(int argc, char **argv)
{
    struct kiln_trust_store *ts = NULL;
    struct kiln_unit *u = NULL;
    struct kiln_error err = {0};
    enum kiln_refusal why;
    int fd;
    if (argc != 2) {
        fprintf(stderr, "usage: %s TRUSTDIR (run as the stub of a unit)\n", argv[0]);
        return 2;
    }
    fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        perror("kiln-stub: /proc/self/exe");
        return 126;
    }
    if (kiln_trust_store_new(&ts, &err) < 0 || kiln_trust_store_load_dir(ts, argv[1], &err) < 0) {
        fprintf(stderr, "kiln-stub: refused: trust store: %s\n", err.msg);
        return 126;
    }
    if (kiln_unit_verify_fd(fd, ts, &u, &why, &err) < 0) {
        fprintf(stderr, "kiln-stub: refused: %s\n", err.msg);
        kiln_trust_store_free(ts);
        close(fd);
        return 126;
    }
    close(fd);
    printf("verified: module %zu bytes, abi %s, signed by %s\n", u->wasm_len,
           u->statement.manifest.guest_abi, u->signer_keyid);
    kiln_unit_free(u);
    kiln_trust_store_free(ts);
    return 0;
}
