/*
 * fuzz_manifest.c — libFuzzer target for the image JSON parsers.
 *
 * The input is used three ways: as an image config (kiln_image_config_parse);
 * as index.json of an OCI layout whose blobs directory holds one valid
 * manifest and config (so descriptors in the input that name them are
 * followed into the manifest/config code); and as manifest.json of a
 * docker-archive-shaped directory. Built only with KILN_FUZZ=ON.
 */
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kiln/image.h"

static char dir_oci[64], dir_docker[64];

static void put(const char *dir, const char *name, const void *data, size_t len)
{
    char p[256];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) abort();
    if (write(fd, data, len) != (ssize_t)len) abort();
    close(fd);
}

static void put_blob(const char *dir, const char *data)
{
    unsigned char h[32];
    char hex[65], name[128];
    crypto_hash_sha256(h, (const unsigned char *)data, strlen(data));
    sodium_bin2hex(hex, sizeof hex, h, sizeof h);
    snprintf(name, sizeof name, "blobs/sha256/%s", hex);
    put(dir, name, data, strlen(data));
}

static void setup(void)
{
    static const char cfg[] = "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Cmd\":"
                              "[\"/x\"]},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}";
    char man[1024], p[128];
    unsigned char h[32];
    char hex[65];
    if (sodium_init() < 0) abort();
    snprintf(dir_oci, sizeof dir_oci, "/tmp/kiln-fuzz-oci-%d", (int)getpid());
    snprintf(dir_docker, sizeof dir_docker, "/tmp/kiln-fuzz-docker-%d", (int)getpid());
    mkdir(dir_oci, 0755);
    mkdir(dir_docker, 0755);
    snprintf(p, sizeof p, "%s/blobs", dir_oci);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/blobs/sha256", dir_oci);
    mkdir(p, 0755);
    crypto_hash_sha256(h, (const unsigned char *)cfg, strlen(cfg));
    sodium_bin2hex(hex, sizeof hex, h, sizeof h);
    snprintf(man, sizeof man,
             "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+"
             "json\",\"digest\":\"sha256:%s\",\"size\":%zu},\"layers\":[]}",
             hex, strlen(cfg));
    put_blob(dir_oci, cfg);
    put_blob(dir_oci, man);
    put(dir_docker, "c.json", cfg, strlen(cfg));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    struct kiln_image_config cfg;
    struct kiln_image *img;
    if (!ready) {
        setup();
        ready = 1;
    }
    if (kiln_image_config_parse(data, size, &cfg, NULL) == 0) kiln_image_config_clear(&cfg);
    put(dir_oci, "index.json", data, size);
    if (kiln_image_open(dir_oci, NULL, &img, NULL) == 0) kiln_image_free(img);
    put(dir_docker, "manifest.json", data, size);
    if (kiln_image_open(dir_docker, NULL, &img, NULL) == 0) kiln_image_free(img);
    return 0;
}
