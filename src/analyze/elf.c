/*
 * elf.c — a bounds-checked ELF reader for the analyzer.
 *
 * Every field comes from an untrusted image: each read goes through rd_*(),
 * which checks offset + width against the buffer without overflow; tables
 * (program headers, section headers, dynamic entries, symbols) are bounded
 * by both the buffer and fixed caps; strings must be NUL-terminated within
 * their table and the buffer. A structural problem in an optional part
 * (section headers, dynamic section) becomes a warning, not a failure, so a
 * stripped or odd binary is still classified; only a broken ELF header or
 * program header table is an error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kiln/image.h"

#define PT_LOAD 1
#define PT_DYNAMIC 2
#define PT_INTERP 3
#define PT_GNU_STACK 0x6474e551u
#define PF_X 1u
#define PF_W 2u
#define SHT_STRTAB 3
#define SHT_DYNSYM 11
#define DT_NULL 0
#define DT_NEEDED 1
#define DT_STRTAB 5
#define DT_STRSZ 10
#define DT_SONAME 14
#define DT_RPATH 15
#define DT_RUNPATH 29
#define DT_FLAGS_1 0x6ffffffb
#define DF_1_PIE 0x08000000u
#define EM_386 3
#define EM_X86_64 62
#define EM_AARCH64 183

#define MAX_PHNUM 4096
#define MAX_DYN 65536
#define MAX_SYMS (1u << 20)
#define MAX_IMPORTS 65536
#define MAX_STR 4096

struct rd {
    const uint8_t *d;
    size_t len;
    bool be;
    int cls; /* 32 or 64 */
};

static bool in(const struct rd *r, uint64_t off, uint64_t n)
{
    return off <= r->len && n <= r->len - off;
}

static bool rd_u8(const struct rd *r, uint64_t off, uint8_t *v)
{
    if (!in(r, off, 1)) return false;
    *v = r->d[off];
    return true;
}

static bool rd_u16(const struct rd *r, uint64_t off, uint16_t *v)
{
    if (!in(r, off, 2)) return false;
    const uint8_t *p = r->d + off;
    *v = r->be ? (uint16_t)(p[0] << 8 | p[1]) : (uint16_t)(p[1] << 8 | p[0]);
    return true;
}

static bool rd_u32(const struct rd *r, uint64_t off, uint32_t *v)
{
    if (!in(r, off, 4)) return false;
    const uint8_t *p = r->d + off;
    uint32_t x = 0;
    for (int i = 0; i < 4; i++)
        x |= (uint32_t)p[r->be ? 3 - i : i] << (8 * i);
    *v = x;
    return true;
}

static bool rd_u64(const struct rd *r, uint64_t off, uint64_t *v)
{
    if (!in(r, off, 8)) return false;
    const uint8_t *p = r->d + off;
    uint64_t x = 0;
    for (int i = 0; i < 8; i++)
        x |= (uint64_t)p[r->be ? 7 - i : i] << (8 * i);
    *v = x;
    return true;
}

/* A word of the file's class. */
static bool rd_word(const struct rd *r, uint64_t off, uint64_t *v)
{
    if (r->cls == 64) return rd_u64(r, off, v);
    uint32_t x;
    if (!rd_u32(r, off, &x)) return false;
    *v = x;
    return true;
}

/* A NUL-terminated string at off, within limit bytes. NULL if unterminated. */
static char *rd_str(const struct rd *r, uint64_t off, uint64_t limit)
{
    if (off >= r->len) return NULL;
    uint64_t max = r->len - off;
    if (limit < max) max = limit;
    if (max > MAX_STR) max = MAX_STR;
    const uint8_t *p = r->d + off;
    const uint8_t *z = memchr(p, 0, (size_t)max);
    if (!z) return NULL;
    return strndup((const char *)p, (size_t)(z - p));
}

struct phdr {
    uint32_t type, flags;
    uint64_t offset, vaddr, filesz;
};

static bool rd_phdr(const struct rd *r, uint64_t off, struct phdr *p)
{
    if (r->cls == 64)
        return rd_u32(r, off, &p->type) && rd_u32(r, off + 4, &p->flags) &&
               rd_u64(r, off + 8, &p->offset) && rd_u64(r, off + 16, &p->vaddr) &&
               rd_u64(r, off + 32, &p->filesz);
    uint32_t o, v, f;
    if (!(rd_u32(r, off, &p->type) && rd_u32(r, off + 4, &o) && rd_u32(r, off + 8, &v) &&
          rd_u32(r, off + 16, &f) && rd_u32(r, off + 24, &p->flags)))
        return false;
    p->offset = o;
    p->vaddr = v;
    p->filesz = f;
    return true;
}

struct shdr {
    uint32_t type, link;
    uint64_t offset, size, entsize;
};

static bool rd_shdr(const struct rd *r, uint64_t off, struct shdr *s)
{
    if (r->cls == 64)
        return rd_u32(r, off + 4, &s->type) && rd_u64(r, off + 24, &s->offset) &&
               rd_u64(r, off + 32, &s->size) && rd_u32(r, off + 40, &s->link) &&
               rd_u64(r, off + 56, &s->entsize);
    uint32_t o, z, e;
    if (!(rd_u32(r, off + 4, &s->type) && rd_u32(r, off + 16, &o) && rd_u32(r, off + 20, &z) &&
          rd_u32(r, off + 24, &s->link) && rd_u32(r, off + 36, &e)))
        return false;
    s->offset = o;
    s->size = z;
    s->entsize = e;
    return true;
}

static int push_str(char ***v, size_t *n, char *s)
{
    char **nv = realloc(*v, (*n + 2) * sizeof **v);
    if (!nv) {
        free(s);
        return -1;
    }
    *v = nv;
    nv[(*n)++] = s;
    nv[*n] = NULL;
    return 0;
}

static void warn(struct kiln_elf_info *o, const char *fmt, const char *a, uint64_t b)
{
    char buf[256];
    if (o->warning) return; /* keep the first */
    snprintf(buf, sizeof buf, fmt, a, (unsigned long long)b);
    o->warning = strdup(buf);
}

/* Known JIT entry points (imported symbol prefixes). */
static const char *const jit_symbols[] = {"pcre2_jit_compile",
                                          "pcre_study",
                                          "LLVMCreateMCJITCompilerForModule",
                                          "LLVMCreateExecutionEngineForModule",
                                          "LLVMOrcCreateLLJIT",
                                          "luaJIT_",
                                          "mono_jit_",
                                          "gcc_jit_",
                                          "_ZN2v88Isolate",
                                          "JNI_CreateJavaVM",
                                          "wasmtime_",
                                          "wasm_engine_new",
                                          "js_NewContext",
                                          "JS_NewContext",
                                          NULL};

const char *kiln_elf_machine_name(uint16_t m)
{
    static char buf[32];
    switch (m) {
    case EM_386:
        return "i386";
    case EM_X86_64:
        return "x86_64";
    case EM_AARCH64:
        return "aarch64";
    case 40:
        return "arm";
    case 8:
        return "mips";
    case 20:
        return "ppc";
    case 21:
        return "ppc64";
    case 22:
        return "s390";
    case 243:
        return "riscv";
    default:
        snprintf(buf, sizeof buf, "machine-%u", m);
        return buf;
    }
}

static bool vaddr_to_off(const struct phdr *ph, size_t nph, uint64_t va, uint64_t *off)
{
    for (size_t i = 0; i < nph; i++) {
        if (ph[i].type != PT_LOAD) continue;
        if (va >= ph[i].vaddr && va - ph[i].vaddr < ph[i].filesz) {
            *off = ph[i].offset + (va - ph[i].vaddr);
            return true;
        }
    }
    return false;
}

static uint64_t count_syscalls(const struct rd *r, uint16_t machine, const struct phdr *p)
{
    uint64_t n = 0, start = p->offset, end;
    if (start >= r->len) return 0;
    end = p->filesz > r->len - start ? r->len : start + p->filesz;
    const uint8_t *d = r->d;
    if (machine == EM_X86_64) {
        for (uint64_t i = start; i + 1 < end; i++)
            if (d[i] == 0x0f && d[i + 1] == 0x05) n++;
    } else if (machine == EM_386) {
        for (uint64_t i = start; i + 1 < end; i++)
            if ((d[i] == 0xcd && d[i + 1] == 0x80) || (d[i] == 0x0f && d[i + 1] == 0x34)) n++;
    } else if (machine == EM_AARCH64) {
        for (uint64_t i = (start + 3) & ~(uint64_t)3; i + 3 < end; i += 4) {
            uint32_t w;
            if (rd_u32(r, i, &w) && w == 0xd4000001u) n++;
        }
    }
    return n;
}

/* Contract in kiln/image.h. */
int kiln_elf_parse(const uint8_t *data, size_t len, struct kiln_elf_info *out,
                   struct kiln_error *err)
{
    struct kiln_elf_info o;
    struct rd r = {data, len, false, 0};
    struct phdr *ph = NULL;
    uint8_t cls, enc, ver;
    uint16_t type, machine, phentsize, phnum, shentsize, shnum;
    uint64_t phoff, shoff;
    bool has_interp = false, has_dynamic = false, pie = false;
    struct phdr dyn = {0};
    size_t i;
    int rc;

    memset(&o, 0, sizeof o);
    if (len < 16 || memcmp(data, "\177ELF", 4) != 0)
        return kiln_error_set(err, KILN_E_MALFORMED, "ELF: bad magic at offset 0");
    cls = data[4];
    enc = data[5];
    ver = data[6];
    if ((cls != 1 && cls != 2) || (enc != 1 && enc != 2) || ver != 1)
        return kiln_error_set(err, KILN_E_MALFORMED,
                              "ELF: e_ident: class %u / data %u / version %u unsupported", cls, enc,
                              ver);
    r.cls = cls == 2 ? 64 : 32;
    r.be = enc == 2;
    o.elf_class = r.cls;
    o.big_endian = r.be;
    if (!rd_u16(&r, 16, &type) || !rd_u16(&r, 18, &machine))
        return kiln_error_set(err, KILN_E_MALFORMED, "ELF: header truncated at offset 16");
    if (r.cls == 64) {
        if (!rd_u64(&r, 32, &phoff) || !rd_u64(&r, 40, &shoff) || !rd_u16(&r, 54, &phentsize) ||
            !rd_u16(&r, 56, &phnum) || !rd_u16(&r, 58, &shentsize) || !rd_u16(&r, 60, &shnum))
            return kiln_error_set(err, KILN_E_MALFORMED, "ELF: 64-bit header truncated (%zu bytes)",
                                  len);
    } else {
        uint32_t a, b;
        if (!rd_u32(&r, 28, &a) || !rd_u32(&r, 32, &b) || !rd_u16(&r, 42, &phentsize) ||
            !rd_u16(&r, 44, &phnum) || !rd_u16(&r, 46, &shentsize) || !rd_u16(&r, 48, &shnum))
            return kiln_error_set(err, KILN_E_MALFORMED, "ELF: 32-bit header truncated (%zu bytes)",
                                  len);
        phoff = a;
        shoff = b;
    }
    o.type = type;
    o.machine = machine;
    o.needed = calloc(1, sizeof *o.needed);
    o.imports = calloc(1, sizeof *o.imports);
    if (!o.needed || !o.imports) {
        rc = kiln_error_set(err, KILN_E_NOMEM, "out of memory");
        goto fail;
    }

    /* program headers */
    if (phnum) {
        if (phentsize < (r.cls == 64 ? 56 : 32)) {
            rc = kiln_error_set(err, KILN_E_MALFORMED, "ELF: e_phentsize %u too small", phentsize);
            goto fail;
        }
        if (phnum > MAX_PHNUM || !in(&r, phoff, (uint64_t)phnum * phentsize)) {
            rc = kiln_error_set(err, KILN_E_MALFORMED,
                                "ELF: program header table (offset %llu, %u entries) outside the "
                                "file",
                                (unsigned long long)phoff, phnum);
            goto fail;
        }
        ph = calloc(phnum, sizeof *ph);
        if (!ph) {
            rc = kiln_error_set(err, KILN_E_NOMEM, "out of memory");
            goto fail;
        }
        for (i = 0; i < phnum; i++)
            rd_phdr(&r, phoff + i * phentsize, &ph[i]);
    }
    for (i = 0; i < phnum; i++) {
        struct phdr *p = &ph[i];
        if (p->type == PT_INTERP && !has_interp) {
            has_interp = true;
            if (!in(&r, p->offset, p->filesz) || !(o.interp = rd_str(&r, p->offset, p->filesz)))
                warn(&o, "PT_INTERP%s at offset %llu is outside the file or unterminated", "",
                     p->offset);
        } else if (p->type == PT_DYNAMIC && !has_dynamic) {
            has_dynamic = true;
            dyn = *p;
        } else if (p->type == PT_LOAD) {
            if ((p->flags & (PF_W | PF_X)) == (PF_W | PF_X)) o.jit |= KILN_JIT_WX_SEGMENT;
            if (p->flags & PF_X) o.syscall_sites += count_syscalls(&r, machine, p);
        } else if (p->type == PT_GNU_STACK) {
            if (p->flags & PF_X) o.jit |= KILN_JIT_EXEC_STACK;
        }
    }

    /* dynamic section */
    if (has_dynamic) {
        size_t esz = r.cls == 64 ? 16 : 8, n = 0;
        uint64_t strtab_va = 0, strsz = 0, strtab_off = 0;
        bool have_strtab = false;
        uint64_t needed_off[256];
        size_t nneeded = 0;
        uint64_t soname = UINT64_MAX, runpath = UINT64_MAX;
        if (!in(&r, dyn.offset, dyn.filesz)) {
            warn(&o, "PT_DYNAMIC%s at offset %llu is outside the file", "", dyn.offset);
        } else {
            for (uint64_t off = dyn.offset; off + esz <= dyn.offset + dyn.filesz && n < MAX_DYN;
                 off += esz, n++) {
                uint64_t tag, val;
                if (!rd_word(&r, off, &tag) || !rd_word(&r, off + esz / 2, &val)) break;
                if (r.cls == 32) tag = (uint64_t)(int64_t)(int32_t)tag;
                if (tag == DT_NULL) break;
                switch (tag) {
                case DT_NEEDED:
                    if (nneeded < 256) needed_off[nneeded++] = val;
                    break;
                case DT_STRTAB:
                    strtab_va = val;
                    have_strtab = true;
                    break;
                case DT_STRSZ:
                    strsz = val;
                    break;
                case DT_SONAME:
                    soname = val;
                    break;
                case DT_RPATH:
                    if (runpath == UINT64_MAX) runpath = val;
                    break;
                case DT_RUNPATH:
                    runpath = val;
                    break;
                case DT_FLAGS_1:
                    if (val & DF_1_PIE) pie = true;
                    break;
                }
            }
            if (have_strtab && vaddr_to_off(ph, phnum, strtab_va, &strtab_off) &&
                in(&r, strtab_off, strsz)) {
                for (i = 0; i < nneeded; i++) {
                    char *s = needed_off[i] < strsz
                                  ? rd_str(&r, strtab_off + needed_off[i], strsz - needed_off[i])
                                  : NULL;
                    if (!s) {
                        warn(&o, "DT_NEEDED%s string at %llu outside DT_STRTAB", "", needed_off[i]);
                        continue;
                    }
                    if (push_str(&o.needed, &o.nneeded, s) < 0) {
                        rc = kiln_error_set(err, KILN_E_NOMEM, "out of memory");
                        goto fail;
                    }
                }
                if (soname < strsz) o.soname = rd_str(&r, strtab_off + soname, strsz - soname);
                if (runpath < strsz) o.runpath = rd_str(&r, strtab_off + runpath, strsz - runpath);
            } else if (nneeded) {
                warn(&o, "DT_STRTAB%s (vaddr %#llx) not inside a loaded segment of the file", "",
                     strtab_va);
            }
        }
    }

    /* imported symbols from .dynsym (section headers; absent when stripped hard) */
    if (shnum && shoff) {
        size_t shsz = r.cls == 64 ? 64 : 40, symsz = r.cls == 64 ? 24 : 16;
        if (shentsize < shsz || !in(&r, shoff, (uint64_t)shnum * shentsize)) {
            warn(&o, "section header table%s (offset %llu) outside the file", "", shoff);
        } else {
            for (i = 0; i < shnum; i++) {
                struct shdr s, st;
                if (!rd_shdr(&r, shoff + i * shentsize, &s) || s.type != SHT_DYNSYM) continue;
                if (s.link >= shnum || !rd_shdr(&r, shoff + (uint64_t)s.link * shentsize, &st) ||
                    st.type != SHT_STRTAB || !in(&r, st.offset, st.size) || s.entsize < symsz ||
                    !in(&r, s.offset, s.size)) {
                    warn(&o, ".dynsym%s (section %llu) or its string table is malformed", "", i);
                    break;
                }
                uint64_t nsym = s.size / s.entsize;
                if (nsym > MAX_SYMS) nsym = MAX_SYMS;
                for (uint64_t k = 1; k < nsym && o.nimports < MAX_IMPORTS; k++) {
                    uint64_t so = s.offset + k * s.entsize;
                    uint32_t name;
                    uint16_t shndx;
                    uint8_t info;
                    if (!rd_u32(&r, so, &name)) break;
                    if (r.cls == 64) {
                        if (!rd_u8(&r, so + 4, &info) || !rd_u16(&r, so + 6, &shndx)) break;
                    } else {
                        if (!rd_u8(&r, so + 12, &info) || !rd_u16(&r, so + 14, &shndx)) break;
                    }
                    (void)info;
                    if (shndx != 0 || name == 0 || name >= st.size) continue;
                    char *sym = rd_str(&r, st.offset + name, st.size - name);
                    if (!sym) continue;
                    if (!*sym) {
                        free(sym);
                        continue;
                    }
                    for (int j = 0; jit_symbols[j]; j++)
                        if (strncmp(sym, jit_symbols[j], strlen(jit_symbols[j])) == 0)
                            o.jit |= KILN_JIT_SYMBOL;
                    if (push_str(&o.imports, &o.nimports, sym) < 0) {
                        rc = kiln_error_set(err, KILN_E_NOMEM, "out of memory");
                        goto fail;
                    }
                }
                break;
            }
        }
    }

    if (type == 2 /* ET_EXEC */)
        o.link = has_interp ? KILN_ELF_DYNAMIC : KILN_ELF_STATIC;
    else if (type == 3 /* ET_DYN */)
        o.link = has_interp ? KILN_ELF_DYNAMIC : pie ? KILN_ELF_STATIC_PIE : KILN_ELF_SHARED;
    else
        o.link = KILN_ELF_OTHER;
    free(ph);
    *out = o;
    return 0;
fail:
    free(ph);
    kiln_elf_info_clear(&o);
    return rc;
}

void kiln_elf_info_clear(struct kiln_elf_info *info)
{
    size_t i;
    if (!info) return;
    free(info->interp);
    free(info->soname);
    free(info->runpath);
    free(info->warning);
    if (info->needed)
        for (i = 0; i < info->nneeded; i++)
            free(info->needed[i]);
    if (info->imports)
        for (i = 0; i < info->nimports; i++)
            free(info->imports[i]);
    free(info->needed);
    free(info->imports);
    memset(info, 0, sizeof *info);
}
