/*
 * interrupt_slot.c — struct kiln_interrupt_slot (kiln/wasm.h): where other
 * threads and signal handlers find the store a thread is running, to
 * interrupt it (fire) or to use the embedder's state that lives as long as
 * the published store (enter/leave: kiln exec's vkernel) without racing
 * its end.
 *
 * Invariant: a user (fire, enter) counts itself in users_ before it reads
 * store_, and clear withdraws store_ before it waits for users_ to drain,
 * all sequentially consistent — a user either reads NULL or is waited for.
 */
#include <sched.h>

#include "kiln/wasm.h"

/* See kiln/wasm.h. */
void kiln_interrupt_slot_set(struct kiln_interrupt_slot *slot, struct kiln_store *store)
{
    __atomic_store_n(&slot->store_, store, __ATOMIC_SEQ_CST);
}

/* See kiln/wasm.h. */
struct kiln_store *kiln_interrupt_slot_enter(struct kiln_interrupt_slot *slot)
{
    __atomic_add_fetch(&slot->users_, 1, __ATOMIC_SEQ_CST);
    return __atomic_load_n(&slot->store_, __ATOMIC_SEQ_CST);
}

/* See kiln/wasm.h. */
void kiln_interrupt_slot_leave(struct kiln_interrupt_slot *slot)
{
    __atomic_sub_fetch(&slot->users_, 1, __ATOMIC_SEQ_CST);
}

/* See kiln/wasm.h: a user that interrupts the published store, if any. */
void kiln_interrupt_slot_fire(struct kiln_interrupt_slot *slot)
{
    struct kiln_store *s = kiln_interrupt_slot_enter(slot);
    if (s != NULL) kiln_store_interrupt(s);
    kiln_interrupt_slot_leave(slot);
}

/* See kiln/wasm.h. */
void kiln_interrupt_slot_clear(struct kiln_interrupt_slot *slot)
{
    __atomic_store_n(&slot->store_, NULL, __ATOMIC_SEQ_CST);
    while (__atomic_load_n(&slot->users_, __ATOMIC_SEQ_CST) != 0) sched_yield();
}
