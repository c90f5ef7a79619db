/*
 * kiln_proc.h — the "kiln_proc" guest import module (kiln_proc.c,
 * docs/guest-proc.md): spawn, wait, kill, pipe and getpid for wasm guests,
 * over the vkernel's process calls. Not a public header: the WASI adapter
 * (wasi_p1.c) links these imports next to wasi_snapshot_preview1.
 */
#ifndef KILN_VKERNEL_ABI_KILN_PROC_H
#define KILN_VKERNEL_ABI_KILN_PROC_H

#include "kiln/error.h"
#include "kiln/vkernel.h"
#include "kiln/wasm.h"

#define KILN_PROC_MODULE "kiln_proc"

/* Creates the host function for import d (d->module is "kiln_proc") in
 * store, over vk, into *out. Errors (-KILN_E_LINK, err names the import):
 * the vkernel cannot spawn (embedded placement, or the container policy
 * allows no exec: the module is absent then), an unknown name, a wrong
 * type; -KILN_E_NOMEM. */
int kiln__proc_link(struct kiln_vk *vk, struct kiln_store *store, const struct kiln_importdesc *d,
                    struct kiln_extern *out, struct kiln_error *err);

#endif
