/*
 * kiln/unit.h — signed units: keys, DSSE envelopes, in-toto manifests, the
 * trust store and the unit file reader/writer (normative description:
 * docs/formats.md).
 *
 * A unit file is
 *     [stub ELF][payload regions][DSSE envelope][fixed 256-byte footer]
 * and every byte of it is covered: the stub and payloads by SHA-256 subject
 * digests inside the signed in-toto statement, the envelope by being the
 * signed object itself (and by a canonical-form check), the footer by
 * structural checks plus an exact match against the signed layout.
 *
 * Verification (kiln_unit_verify*) reads the file ONCE into memory and checks,
 * in this order: footer sane -> envelope parses -> a signature by a trusted,
 * non-revoked key verifies over the DSSE PAE -> every region's SHA-256 equals
 * its subject digest and the footer's region table equals the signed layout
 * -> manifest versions supported. Only then does it hand out a struct
 * kiln_unit whose payload pointers point into that same memory, so nothing is
 * ever re-read after the check.
 *
 * Ownership: x_new/x_free pairs, x_free(NULL) is a no-op; out-parameters are
 * set only on success. Secret keys live in struct kiln_seckey; wipe them with
 * kiln_key_wipe(). No function here prints anything.
 */
#ifndef KILN_UNIT_H
#define KILN_UNIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kiln/error.h"

/* ---------------------------------------------------------------- keys --- */

#define KILN_KEYID_LEN 64     /* hex characters of a key id */
#define KILN_SPKI_DER_LEN 44  /* Ed25519 SubjectPublicKeyInfo DER */
#define KILN_PKCS8_DER_LEN 48 /* Ed25519 PKCS#8 v1 PrivateKeyInfo DER */
#define KILN_ED25519_SIG_LEN 64

/* An Ed25519 public key and its key id (lowercase hex SHA-256 of the SPKI DER). */
struct kiln_pubkey {
    uint8_t pk[32];
    char keyid[KILN_KEYID_LEN + 1];
};

/* An Ed25519 signing key: libsodium's 64-byte secret (seed || public key). */
struct kiln_seckey {
    uint8_t sk[64];
    struct kiln_pubkey pub;
};

/* Fills *out from a raw 32-byte public key (computes the key id). Cannot fail. */
void kiln_key_from_raw(struct kiln_pubkey *out, const uint8_t pk[32]);

/* Generates a fresh key pair. Returns 0, or negative (KILN_E_IO) if libsodium
 * could not be initialized. */
int kiln_key_generate(struct kiln_seckey *out, struct kiln_error *err);

/* Derives a key pair from a 32-byte seed (what PKCS#8 stores). Returns 0 or
 * negative when libsodium fails to initialize. */
int kiln_key_from_seed(struct kiln_seckey *out, const uint8_t seed[32], struct kiln_error *err);

/* Overwrites the secret with zeros. NULL is a no-op. */
void kiln_key_wipe(struct kiln_seckey *key);

/* SPKI DER of pk into out[KILN_SPKI_DER_LEN]. */
void kiln_key_spki_der(const uint8_t pk[32], uint8_t out[KILN_SPKI_DER_LEN]);

/* Parses an Ed25519 SPKI DER (exactly the fixed 44-byte form). Returns 0 and
 * fills pk, or KILN_E_MALFORMED naming the first differing byte. */
int kiln_key_spki_parse(const uint8_t *der, size_t len, uint8_t pk[32], struct kiln_error *err);

/* PKCS#8 v1 DER of the key's seed into out[KILN_PKCS8_DER_LEN]. The caller
 * must wipe out after use. */
void kiln_key_pkcs8_der(const struct kiln_seckey *key, uint8_t out[KILN_PKCS8_DER_LEN]);

/* Parses an Ed25519 PKCS#8 v1 DER (the fixed 48-byte form) into *out. */
int kiln_key_pkcs8_parse(const uint8_t *der, size_t len, struct kiln_seckey *out,
                         struct kiln_error *err);

/* PEM text ("-----BEGIN PUBLIC KEY-----" SPKI) of key. Returns 0 and a
 * malloc'd NUL-terminated string in *pem (caller frees), or KILN_E_NOMEM. */
int kiln_key_public_pem(const struct kiln_pubkey *key, char **pem, struct kiln_error *err);

/* PEM text ("-----BEGIN PRIVATE KEY-----" PKCS#8) of key. The caller must
 * sodium_memzero/wipe and free *pem. */
int kiln_key_private_pem(const struct kiln_seckey *key, char **pem, struct kiln_error *err);

/* Parse PEM text (len bytes, need not be NUL-terminated) holding exactly one
 * key of the right type. Errors: KILN_E_MALFORMED (no/incomplete PEM block,
 * bad base64, not Ed25519), KILN_E_INVALID (private key where a public one was
 * expected or the reverse). */
int kiln_key_parse_public_pem(const char *text, size_t len, struct kiln_pubkey *out,
                              struct kiln_error *err);
int kiln_key_parse_private_pem(const char *text, size_t len, struct kiln_seckey *out,
                               struct kiln_error *err);

/* Read and parse a PEM file. Errors as above plus KILN_E_IO; the message
 * names the path. */
int kiln_key_load_public(const char *path, struct kiln_pubkey *out, struct kiln_error *err);
int kiln_key_load_private(const char *path, struct kiln_seckey *out, struct kiln_error *err);

/* Writes PREFIX.pem (private, mode 0600) and PREFIX.pub.pem (0644), each via a
 * temporary file in the same directory and rename(2). Refuses to overwrite an
 * existing private key file (KILN_E_ARG). */
int kiln_key_save(const char *prefix, const struct kiln_seckey *key, struct kiln_error *err);

/* ---------------------------------------------------------------- DSSE --- */

#define KILN_DSSE_PAYLOAD_TYPE "application/vnd.in-toto+json"

struct kiln_dsse_sig {
    char *keyid;  /* NUL-terminated, may be "" (other signers) */
    uint8_t *sig; /* raw signature bytes */
    size_t sig_len;
};

/* A DSSE envelope (https://github.com/secure-systems-lab/dsse). */
struct kiln_dsse {
    char *payload_type;
    uint8_t *payload;
    size_t payload_len;
    struct kiln_dsse_sig *sigs;
    size_t nsigs;
};

/* PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body, with
 * LEN as ASCII decimal without leading zeros. Returns 0 and a malloc'd buffer
 * in *out and *out_len (caller frees), or KILN_E_NOMEM. */
int kiln_dsse_pae(const char *type, const uint8_t *body, size_t body_len, uint8_t **out,
                  size_t *out_len, struct kiln_error *err);

/* A new envelope holding copies of type and payload, no signatures. */
int kiln_dsse_new(const char *type, const uint8_t *payload, size_t payload_len,
                  struct kiln_dsse **out, struct kiln_error *err);

/* Appends an Ed25519 signature by key over PAE(type, payload), keyid = key id. */
int kiln_dsse_sign(struct kiln_dsse *env, const struct kiln_seckey *key, struct kiln_error *err);

/* Appends a raw signature entry (tests use it to forge bad ones). */
int kiln_dsse_add_sig(struct kiln_dsse *env, const char *keyid, const uint8_t *sig, size_t sig_len,
                      struct kiln_error *err);

/* Returns 1 if signature i is a valid Ed25519 signature by key over the PAE,
 * 0 if not (any length other than 64 is invalid), negative on NOMEM. */
int kiln_dsse_verify_sig(const struct kiln_dsse *env, size_t i, const struct kiln_pubkey *key,
                         struct kiln_error *err);

/* Canonical JSON (sorted keys, no whitespace, standard padded base64):
 * {"payload":"..","payloadType":"..","signatures":[{"keyid":"..","sig":".."}]}
 * Returns 0 and a malloc'd NUL-terminated string (*json; *len excludes the NUL). */
int kiln_dsse_encode(const struct kiln_dsse *env, char **json, size_t *len, struct kiln_error *err);

/* Strict parse: exactly the fields above (no duplicates, no unknown top-level
 * fields; signature entries need keyid and sig), canonical base64, at least
 * one signature, and the text must equal its own canonical re-encoding.
 * Returns 0 and a new envelope, or KILN_E_MALFORMED naming the field. */
int kiln_dsse_parse(const char *json, size_t len, struct kiln_dsse **out, struct kiln_error *err);

void kiln_dsse_free(struct kiln_dsse *env);

/* ------------------------------------------------------------ manifest --- */

#define KILN_STATEMENT_TYPE "https://in-toto.io/Statement/v1"
#define KILN_PREDICATE_TYPE "https://kiln.dev/unit/v1"
#define KILN_FORMAT_VERSION 1 /* unit footer version == manifest formatVersion */
#define KILN_ENGINE_VERSION 1 /* engine interface version this build runs */

/* Region kinds in the footer, in the order they must appear in the file. */
enum kiln_region_kind {
    KILN_REGION_STUB = 1,   /* the loader stub ELF, always first, at offset 0 */
    KILN_REGION_WASM = 2,   /* the WebAssembly module, exactly one */
    KILN_REGION_AOT = 3,    /* optional AOT object compiled from the module */
    KILN_REGION_POLICY = 4, /* optional policy JSON */
};

/* Subject name of a region kind ("stub", "module.wasm", "module.aot",
 * "policy.json"), or NULL for an unknown kind. */
const char *kiln_region_name(uint32_t kind);

/* The kiln manifest: the predicate of the signed statement. Strings are
 * owned by the struct (kiln_manifest_clear frees them). Digests are
 * lowercase hex SHA-256. */
struct kiln_manifest {
    int format_version;     /* KILN_FORMAT_VERSION */
    int engine_version;     /* engine interface the unit needs */
    char *tool_version;     /* e.g. "kiln 0.1.0" */
    char *guest_abi;        /* wasi_snapshot_preview1 | kiln-linux-wasm32 | kiln-linux-x86_64 */
    char *source_path;      /* path of the original program in the image */
    char *source_kind;      /* wasm | elf-static | elf-dynamic | script | ... */
    char source_sha256[65]; /* digest of the original program */
    bool has_policy;
    char policy_sha256[65]; /* set iff has_policy; equals the policy region digest */
    bool has_aot;
    char *aot_target;   /* set iff has_aot: e.g. "x86_64-linux-gnu" */
    char *aot_compiler; /* set iff has_aot: compiler identification */
};

/* Frees the strings and zeroes *m. NULL is a no-op. */
void kiln_manifest_clear(struct kiln_manifest *m);

/* Guest ABI names this build accepts. */
bool kiln_manifest_abi_supported(const char *abi);

/* One region of a unit as the statement records it. */
struct kiln_unit_region {
    uint32_t kind;   /* enum kiln_region_kind */
    uint64_t offset; /* from the start of the file */
    uint64_t length;
};

/* The parsed statement: subjects (one per region, in file order), the layout
 * (regions' offset/length), and the manifest. */
struct kiln_statement {
    size_t nregions;
    struct kiln_unit_region regions[8];
    char sha256[8][65];   /* subject digest per region */
    char *statement_type; /* "_type" */
    char *predicate_type;
    bool has_manifest; /* predicate parsed (predicateType is ours) */
    struct kiln_manifest manifest;
};

/* Canonical JSON bytes of the in-toto Statement v1 for these regions (and
 * their digests) and manifest. Returns 0 and malloc'd *json and *len. */
int kiln_statement_encode(const struct kiln_statement *st, char **json, size_t *len,
                          struct kiln_error *err);

/* Parses a statement. Structural errors -> KILN_E_MALFORMED. With a
 * predicateType other than KILN_PREDICATE_TYPE only the subjects are parsed
 * (has_manifest = false, regions[].kind from the subject names, offsets 0);
 * the unit verifier then refuses it as an unsupported version, and inspect
 * can still show it. Unknown predicate fields are ignored (see version
 * rules in docs/formats.md). */
int kiln_statement_parse(const uint8_t *json, size_t len, struct kiln_statement *out,
                         struct kiln_error *err);

/* Frees the statement's strings. */
void kiln_statement_clear(struct kiln_statement *st);

/* --------------------------------------------------------- trust store --- */

struct kiln_trust_store;

/* Build-time trust store directory (CMake KILN_TRUST_DIR) and the root-owned
 * config file that may override it (CMake KILN_TRUST_CONFIG). */
const char *kiln_trust_default_dir(void);
const char *kiln_trust_config_path(void);

/* An empty store (trusts nothing). */
int kiln_trust_store_new(struct kiln_trust_store **out, struct kiln_error *err);

/* Trust key; label (may be NULL) is shown in messages, e.g. the file name. */
int kiln_trust_store_add(struct kiln_trust_store *ts, const struct kiln_pubkey *key,
                         const char *label, struct kiln_error *err);

/* Revoke a key id (64 lowercase hex). A revoked key never verifies anything,
 * even if it is also trusted. */
int kiln_trust_store_revoke(struct kiln_trust_store *ts, const char *keyid, struct kiln_error *err);

/* Adds every "*.pem" public key in dir and the key ids listed in dir/revoked
 * (one per line; blank lines and '#' comments allowed). Fails closed: an
 * unreadable or malformed key or revocation line is an error. */
int kiln_trust_store_load_dir(struct kiln_trust_store *ts, const char *dir, struct kiln_error *err);

/* Opens the system store: the directory named by the config file if it
 * exists (it must be a regular file owned by root and not writable by group
 * or others; it holds one line "trust_dir = /abs/path"), else
 * kiln_trust_default_dir(). Never consults the environment. */
int kiln_trust_store_open_default(struct kiln_trust_store **out, struct kiln_error *err);

enum kiln_trust_status { KILN_TRUST_UNKNOWN = 0, KILN_TRUST_TRUSTED = 1, KILN_TRUST_REVOKED = 2 };

/* Looks a key id up. On KILN_TRUST_TRUSTED, *key and *label (if non-NULL) point
 * into the store and live until kiln_trust_store_free. */
enum kiln_trust_status kiln_trust_store_lookup(const struct kiln_trust_store *ts, const char *keyid,
                                               const struct kiln_pubkey **key, const char **label);

size_t kiln_trust_store_count(const struct kiln_trust_store *ts);

void kiln_trust_store_free(struct kiln_trust_store *ts);

/* ---------------------------------------------------------------- unit --- */

#define KILN_UNIT_FOOTER_SIZE 256
#define KILN_UNIT_MAX_REGIONS 8
#define KILN_UNIT_MAX_SIZE ((uint64_t)1 << 32)     /* 4 GiB */
#define KILN_UNIT_MAX_ENVELOPE ((uint64_t)1 << 20) /* 1 MiB */
#define KILN_UNIT_MAGIC "KILNUNIT"
#define KILN_UNIT_END_MAGIC "KILNEND1"

/* The decoded footer. */
struct kiln_unit_footer {
    uint32_t version;
    uint32_t flags; /* no flags are defined in v1: must be 0 */
    uint32_t region_count;
    uint64_t envelope_offset;
    uint64_t envelope_length;
    struct kiln_unit_region regions[KILN_UNIT_MAX_REGIONS];
};

/* Serializes f into out (little-endian, see docs/formats.md). */
void kiln_unit_footer_encode(const struct kiln_unit_footer *f, uint8_t out[KILN_UNIT_FOOTER_SIZE]);

/* True when the file on fd ends with a unit footer's end magic: it claims to
 * be a kiln unit (whether it verifies is kiln_unit_verify_fd's question), so
 * a runtime must verify it rather than treat it as a plain program or module.
 * Reads 8 bytes with pread; does not move or close fd. */
bool kiln_unit_fd_claims_unit(int fd);

/* Decodes and sanity-checks the footer at the end of a file of file_size
 * bytes (footer = the last KILN_UNIT_FOOTER_SIZE bytes of data): magics,
 * version, flags, zero padding, region count and kinds, every region inside
 * the file, contiguous from offset 0 in kind order, envelope right after the
 * last region and right before the footer, no overflow. Returns 0 or
 * KILN_E_MALFORMED / KILN_E_UNSUPPORTED with the field named. */
int kiln_unit_footer_parse(const uint8_t *data, uint64_t file_size, struct kiln_unit_footer *out,
                           struct kiln_error *err);

/* Why a unit was refused (the stub prints kiln_refusal_name()). */
enum kiln_refusal {
    KILN_REFUSAL_NONE = 0,
    KILN_REFUSAL_IO,              /* could not read the unit */
    KILN_REFUSAL_BAD_FOOTER,      /* footer missing or insane */
    KILN_REFUSAL_BAD_ENVELOPE,    /* envelope does not parse / not canonical */
    KILN_REFUSAL_UNKNOWN_KEY,     /* no signature by a trusted key */
    KILN_REFUSAL_REVOKED_KEY,     /* the only trusted-looking signer is revoked */
    KILN_REFUSAL_BAD_SIGNATURE,   /* a trusted key's signature does not verify */
    KILN_REFUSAL_BAD_MANIFEST,    /* signed statement does not parse */
    KILN_REFUSAL_DIGEST_MISMATCH, /* a region's bytes or layout differ from the statement */
    KILN_REFUSAL_UNSUPPORTED,     /* format / manifest / engine version or ABI unsupported */
};

/* "bad footer", "unknown key", ... ("ok" for NONE). */
const char *kiln_refusal_name(enum kiln_refusal r);

/* The signature rule of docs/formats.md §6 step 3, usable for any DSSE
 * envelope (units, image attestations): returns the index of the first
 * signature whose keyid names a trusted, non-revoked key in ts and which
 * verifies over the PAE; one such signature suffices. Otherwise returns
 * negative (KILN_E_VERIFY) with *why = KILN_REFUSAL_BAD_SIGNATURE (a trusted
 * key's signature does not verify), _REVOKED_KEY or _UNKNOWN_KEY, in that
 * priority. *label (if non-NULL) gets the signer's store label (may be NULL),
 * valid while ts lives. The payload itself is not interpreted. */
int kiln_dsse_verify_trusted(const struct kiln_dsse *env, const struct kiln_trust_store *ts,
                             const char **label, enum kiln_refusal *why, struct kiln_error *err);

/* What kiln_unit_build signs and lays out. */
struct kiln_unit_input {
    const uint8_t *stub; /* any ELF file for now; later build/bin/kiln-stub */
    size_t stub_len;
    const uint8_t *wasm;
    size_t wasm_len;
    const uint8_t *aot; /* optional (NULL) */
    size_t aot_len;
    const uint8_t *policy; /* optional (NULL) */
    size_t policy_len;
    const struct kiln_manifest *manifest;  /* policy_sha256/has_policy are filled in by build */
    const struct kiln_seckey *const *keys; /* one signature per key, in order */
    size_t nkeys;
};

/* Lays out, signs and serializes a unit. Returns 0 and a malloc'd buffer in
 * *out and *out_len (caller frees), or negative (KILN_E_ARG for missing parts,
 * KILN_E_NOMEM). */
int kiln_unit_build(const struct kiln_unit_input *in, uint8_t **out, size_t *out_len,
                    struct kiln_error *err);

/* A verified unit. All pointers point into `data`, which the unit owns and
 * which is the only copy of the file the verifier ever read. */
struct kiln_unit {
    uint8_t *data;
    size_t size;
    struct kiln_unit_footer footer;
    struct kiln_statement statement;           /* .manifest is the verified manifest */
    const uint8_t *stub, *wasm, *aot, *policy; /* aot/policy NULL when absent */
    size_t stub_len, wasm_len, aot_len, policy_len;
    char signer_keyid[KILN_KEYID_LEN + 1]; /* the trusted key whose signature verified */
    char *signer_label;                    /* its store label (file name), or NULL */
    size_t nsigs;                          /* signatures in the envelope */
    struct {               /* where verification spent its time (CLOCK_MONOTONIC, ns) */
        uint64_t read_ns;  /* reading the file (kiln_unit_verify_fd/_file only) */
        uint64_t parse_ns; /* footer + envelope */
        uint64_t sig_ns;   /* choosing and checking the signature (Ed25519) */
        uint64_t hash_ns;  /* statement, SHA-256 of every region, version checks */
    } timing;
};

/* Verifies a unit held in memory. Takes ownership of data (malloc'd), which
 * is freed on failure and owned by *out on success. On refusal returns
 * negative, sets *refusal (if non-NULL) and err->msg starts with
 * kiln_refusal_name() followed by ": " and the detail. */
int kiln_unit_verify(uint8_t *data, size_t size, const struct kiln_trust_store *ts,
                     struct kiln_unit **out, enum kiln_refusal *refusal, struct kiln_error *err);

/* Reads the whole of fd (with pread from offset 0, exactly once; the fd's
 * position is not used) and verifies it. Suitable for an fd of
 * /proc/self/exe in the loader stub. Does not close fd. */
int kiln_unit_verify_fd(int fd, const struct kiln_trust_store *ts, struct kiln_unit **out,
                        enum kiln_refusal *refusal, struct kiln_error *err);

/* Opens path (O_RDONLY|O_CLOEXEC) and calls kiln_unit_verify_fd. */
int kiln_unit_verify_file(const char *path, const struct kiln_trust_store *ts,
                          struct kiln_unit **out, enum kiln_refusal *refusal,
                          struct kiln_error *err);

void kiln_unit_free(struct kiln_unit *u);

/* Units inside a signed image (kiln run): the image attestation, a DSSE
 * envelope the caller has verified with kiln_dsse_verify_trusted against the
 * same store ts, names the unit file with the SHA-256 of ALL its bytes. Once
 * the file's bytes are bound to that signed digest, hashing every region
 * again proves nothing more, so kiln_unit_verify_attested checks, in order:
 * the whole-file SHA-256 equals whole_sha256 (hashed here, once) -> footer
 * sane -> envelope parses -> a trusted, non-revoked signature verifies ->
 * the footer's layout equals the signed layout (and the policy subject its
 * manifest digest) -> versions supported. Only the per-region hashing of
 * kiln_unit_verify is left out; the unit's own signature is still checked.
 * Flags:
 *   KILN_UNIT_ATTESTED_KNOWN   the caller vouches that data are the bytes
 *       whose SHA-256 it already checked against whole_sha256 (kiln run's
 *       verified-cache index, docs/image.md "Run"): no hashing at all;
 *   KILN_UNIT_ATTESTED_NO_STUB (only with _KNOWN; the _fd variant) the stub
 *       region is not read: u->stub is NULL and its bytes in u->data are 0.
 * Ownership and refusals as kiln_unit_verify (whole-file mismatch:
 * KILN_REFUSAL_DIGEST_MISMATCH); bad flags or whole_sha256 NULL: KILN_E_ARG. */
#define KILN_UNIT_ATTESTED_KNOWN 0x1u
#define KILN_UNIT_ATTESTED_NO_STUB 0x2u
int kiln_unit_verify_attested(uint8_t *data, size_t size, const struct kiln_trust_store *ts,
                              const char whole_sha256[65], unsigned flags, struct kiln_unit **out,
                              enum kiln_refusal *refusal, struct kiln_error *err);

/* Reads the unit on fd (pread, once; without its stub region when flags has
 * KILN_UNIT_ATTESTED_NO_STUB) and calls kiln_unit_verify_attested. A file
 * that changes between the footer read and the rest is refused. Does not
 * close fd. */
int kiln_unit_verify_fd_attested(int fd, const struct kiln_trust_store *ts,
                                 const char whole_sha256[65], unsigned flags,
                                 struct kiln_unit **out, enum kiln_refusal *refusal,
                                 struct kiln_error *err);


/* An unverified view for `kiln inspect`: the footer and, when they parse, the
 * envelope and statement. Nothing here is trusted. */
struct kiln_unit_info {
    struct kiln_unit_footer footer;
    struct kiln_dsse *envelope; /* NULL if it did not parse */
    bool has_statement;
    struct kiln_statement statement;        /* valid iff has_statement */
    char sha256[KILN_UNIT_MAX_REGIONS][65]; /* actual digest of each region's bytes */
    char envelope_error[512];               /* why envelope/statement did not parse, or "" */
};

/* Parses footer, envelope and statement without any trust decision. Returns
 * negative only if the footer itself is unusable. */
int kiln_unit_inspect(const uint8_t *data, size_t size, struct kiln_unit_info **out,
                      struct kiln_error *err);

void kiln_unit_info_free(struct kiln_unit_info *info);

/* ----------------------------------------------------------- file I/O --- */

/* Reads a whole regular file of at most max bytes. Returns 0 and a malloc'd
 * buffer (with one extra NUL byte after *len, not counted). */
int kiln_trust_read_file(const char *path, uint64_t max, uint8_t **out, size_t *len,
                         struct kiln_error *err);

/* Writes data to path atomically: a temporary file in the same directory,
 * created with mode, written, fsync'd, then rename(2)d over path. */
int kiln_trust_write_file(const char *path, const void *data, size_t len, unsigned mode,
                          struct kiln_error *err);

/* Lowercase hex SHA-256 of data into hex[65]. */
void kiln_sha256_hex(const uint8_t *data, size_t len, char hex[65]);

/* Incremental SHA-256, same implementation (SHA extensions when the CPU has
 * them, else libsodium). init, any number of updates, then final (which
 * wipes the state; init again to reuse). No allocation, cannot fail. */
struct kiln_sha256 {
    union {
        uint64_t align;
        unsigned char opaque[112];
    } u;
    int ni; /* the SHA-extensions path */
};
void kiln_sha256_init(struct kiln_sha256 *s);
void kiln_sha256_update(struct kiln_sha256 *s, const void *data, size_t len);
void kiln_sha256_final(struct kiln_sha256 *s, uint8_t out[32]);
void kiln_sha256_final_hex(struct kiln_sha256 *s, char hex[65]);

#endif
