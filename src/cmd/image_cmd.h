/*
 * image_cmd.h — option handling shared by the commands that open images
 * (unpack, analyze, convert, run); implemented in unpack.c.
 */
#ifndef KILN_CMD_IMAGE_CMD_H
#define KILN_CMD_IMAGE_CMD_H

#include "kiln/image.h"

/* getopt_long entries for the image options (codes 1001..1009). */
#define KILN_IMAGE_LONGOPTS                                                                        \
    {"ref", required_argument, NULL, 1001}, {"platform", required_argument, NULL, 1002},           \
        {"allow-setuid", no_argument, NULL, 1003}, {"allow-devices", no_argument, NULL, 1004},     \
        {"allow-fifos", no_argument, NULL, 1005}, {"keep-owner", no_argument, NULL, 1006},         \
        {"max-layer-bytes", required_argument, NULL, 1007},                                        \
        {"max-total-bytes", required_argument, NULL, 1008},                                        \
    {                                                                                              \
        "max-entries", required_argument, NULL, 1009                                               \
    }

#define KILN_IMAGE_OPTIONS_HELP                                                                    \
    "  --ref REF            which image of a multi-image layout (tag / ref name)\n"                \
    "  --platform OS/ARCH   which platform of a multi-platform index\n"                            \
    "  --allow-setuid       keep setuid/setgid bits (stripped by default)\n"                       \
    "  --allow-devices      skip device nodes instead of refusing the image\n"                     \
    "  --allow-fifos        create FIFOs instead of refusing the image\n"                          \
    "  --keep-owner         chown entries to their uid/gid (root only; default when root)\n"       \
    "  --max-layer-bytes N, --max-total-bytes N, --max-entries N   bounds against tar bombs\n"

/* Handles one image option: 1 if it was one, 0 if not, -1 on a bad value. */
int kiln_cmd_image_option(int c, const char *arg, struct kiln_image_options *opt);

/* "PATH:REF" -> malloc'd PATH and *ref = REF, when PATH exists and the whole
 * argument does not; otherwise a copy of arg. NULL on ENOMEM. */
char *kiln_cmd_split_image_ref(const char *arg, const char **ref);

/* Progress on stderr when it is a terminal (ctx: a struct kiln_cmd_progress). */
struct kiln_cmd_progress {
    int tty;
};
void kiln_cmd_progress(void *ctx, const char *what, const char *id, uint64_t done, uint64_t total);

#endif
