/*
 * interrupt_slot.c — kiln_interrupt_slot_enter/leave: a fire of a
 * kiln_interrupt_slot done by hand, so a signal path can use the embedder's
 * state that lives as long as the published store (kiln exec's vkernel)
 * under the same guarantee the store has (kiln/wasm.h).
 *
 * Invariant (shared with kiln_interrupt_slot_set/fire/clear in store.c): a
 * user counts itself in users_ before it reads store_, and clear withdraws
 * store_ before it waits for users_ to drain, all sequentially consistent —
 * a user either reads NULL or is waited for.
 */
#include "kiln/wasm.h"

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
