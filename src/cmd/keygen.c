/*
 * keygen.c — `kiln keygen -o PREFIX`: a new Ed25519 signing key, written as
 * PREFIX.pem (PKCS#8, mode 0600) and PREFIX.pub.pem (SPKI), both via a
 * temporary file and rename. Prints the key id.
 */
#include <getopt.h>
#include <stdio.h>

#include "cmd/command.h"
#include "kiln/unit.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: kiln keygen -o PREFIX\n\n"
               "Generates an Ed25519 key pair: PREFIX.pem (private, PKCS#8 PEM, mode 0600)\n"
               "and PREFIX.pub.pem (public, SPKI PEM). Both are readable by openssl.\n"
               "Prints the key id (SHA-256 of the public key's SPKI DER, hex).\n\n"
               "  -o, --output PREFIX  path prefix of the two files (required)\n"
               "  -h, --help           this text\n");
}

static int cmd_keygen(int argc, char **argv)
{
    static const struct option opts[] = {{"output", required_argument, NULL, 'o'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *prefix = NULL;
    struct kiln_seckey key;
    struct kiln_error err = {0};
    int c;
    optind = 0;
    while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        switch (c) {
        case 'o':
            prefix = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (!prefix || optind != argc) {
        usage(stderr);
        return 2;
    }
    if (kiln_key_generate(&key, &err) < 0 || kiln_key_save(prefix, &key, &err) < 0) {
        kiln_key_wipe(&key);
        fprintf(stderr, "kiln keygen: %s\n", err.msg);
        return 1;
    }
    printf("wrote %s.pem (private, 0600) and %s.pub.pem\nkey id %s\n", prefix, prefix,
           key.pub.keyid);
    kiln_key_wipe(&key);
    return 0;
}

KILN_COMMAND(keygen, "keygen", "generate an Ed25519 signing key pair", cmd_keygen);
