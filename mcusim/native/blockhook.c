/*
 * Native per-block cycle accounting for mcusim, called by Unicorn at the entry of every
 * translated block (UC_HOOK_BLOCK). Python decodes each block once (capstone) and fills its
 * static cost; this hook only adds numbers, so the simulator keeps most of Unicorn's raw speed.
 *
 * On entry of block B coming from block A:
 *   cycles += cost[A]                        A ran to its end
 *   if B.addr != end[A]:                      A was left by a taken branch
 *       cycles += branch_penalty; taken[A]++  pipeline refill (1+P: the 1 is in cost[A])
 *       if B is in flash and its line misses the flash accelerator: cycles += wait states
 *       shadow call stack: push end[A] if A ends with a call, pop if B is a return address
 *   exec[B]++, instructions += ninsn[B], stop when the instruction budget is exceeded
 * `cycles` is therefore the cycle count before B's first instruction; the host adds the
 * cost of B's instructions before a given PC to read the counter mid-block (DWT, probes).
 */
#include <stdint.h>

#define CALLSTACK_MAX 256
#define FLAG_CALL 1u
#define FLAG_ALWAYS_TAKEN 2u   /* ends with an unconditional branch: taken even to the next address */
#define FLAG_KERNEL 4u         /* starts in the kernel library: time from entering it (call or
                                  tail call) until returning out of it counts as kernel time,
                                  callees such as libgcc helpers included */

typedef int (*uc_stop_fn)(void *uc);
typedef int32_t (*miss_fn)(uint32_t addr, uint32_t size);

/* One translated block. `next_key`/`next_idx` remember the block that followed last time,
 * so the common case (a loop, a straight call) needs no hash lookup. 64 bytes. */
typedef struct {
    uint32_t cost;      /* static cycles of the whole block */
    uint32_t ninsn;
    uint32_t end;       /* fall-through address */
    uint32_t flags;
    uint64_t next_key;
    int32_t next_idx;
    uint32_t pad;
    uint64_t exec;      /* times entered */
    uint64_t taken;     /* times left by a taken branch */
    uint64_t stall;     /* flash wait-state cycles charged on entry */
    uint64_t pad2;
} mcusim_block;

typedef struct {
    /* configuration, written by the host */
    void *uc;
    uc_stop_fn emu_stop;
    miss_fn on_miss;
    uint64_t max_instructions;
    uint32_t branch_penalty;
    uint32_t flash_lo, flash_hi;
    uint32_t flash_wait_states;
    uint32_t flash_mode;        /* 0: no wait states; 1: every taken branch into flash pays
                                   them; 2: unless its line hits the accelerator cache */
    uint32_t icache_mask;       /* cache lines - 1 (lines a power of two) */
    uint32_t icache_line_shift;
    uint32_t *icache_tags;
    /* per-block table, owned (and grown) by the host */
    mcusim_block *blk;
    /* address+size -> block index, open addressing, owned by the host */
    uint64_t *ht_keys;
    int32_t *ht_vals;
    uint32_t ht_mask;
    uint32_t ht_used;
    /* running state */
    uint64_t cycles;
    uint64_t instructions;
    int32_t cur;
    uint32_t stop_reason;       /* 0 running, 1 instruction budget, 2 block decode failed */
    uint32_t cs_depth;
    uint32_t cs_ret[CALLSTACK_MAX];
    /* inclusive kernel time */
    uint32_t in_kernel;         /* 0, or the call depth at which the kernel was entered */
    uint32_t pad;
    uint64_t kernel_start;      /* cycles when it was entered */
    uint64_t kernel_cycles;     /* completed kernel time */
} mcusim_state;

static inline uint32_t slot_of(uint64_t key, uint32_t mask)
{
    uint64_t h = key * 0x9E3779B97F4A7C15ull;
    return (uint32_t)(h >> 40) & mask;
}

int32_t mcusim_lookup(mcusim_state *s, uint64_t key)
{
    uint32_t i = slot_of(key, s->ht_mask);
    for (;;) {
        if (s->ht_vals[i] < 0)
            return -1;
        if (s->ht_keys[i] == key)
            return s->ht_vals[i];
        i = (i + 1) & s->ht_mask;
    }
}

void mcusim_insert(mcusim_state *s, uint64_t key, int32_t idx)
{
    uint32_t i = slot_of(key, s->ht_mask);
    while (s->ht_vals[i] >= 0 && s->ht_keys[i] != key)
        i = (i + 1) & s->ht_mask;
    if (s->ht_vals[i] < 0)
        s->ht_used++;
    s->ht_keys[i] = key;
    s->ht_vals[i] = idx;
}

static inline void taken_transition(mcusim_state *s, int32_t from, uint32_t to, int32_t idx)
{
    mcusim_block *f = &s->blk[from];
    s->cycles += s->branch_penalty;
    f->taken++;
    if (s->flash_mode && to >= s->flash_lo && to < s->flash_hi) {
        int miss = 1;
        if (s->flash_mode == 2) {
            uint32_t line = to >> s->icache_line_shift;
            uint32_t *tag = &s->icache_tags[line & s->icache_mask];
            miss = *tag != line;
            *tag = line;
        }
        if (miss) {
            s->cycles += s->flash_wait_states;
            s->blk[idx].stall += s->flash_wait_states;
        }
    }
    if (f->flags & FLAG_CALL) {
        if (s->cs_depth < CALLSTACK_MAX)
            s->cs_ret[s->cs_depth] = f->end;
        s->cs_depth++;
        if (!s->in_kernel && (s->blk[idx].flags & FLAG_KERNEL)) {
            s->in_kernel = s->cs_depth;
            s->kernel_start = s->cycles;
        }
        return;
    }
    if (!s->in_kernel && (s->blk[idx].flags & FLAG_KERNEL) && s->cs_depth > 0) {
        s->in_kernel = s->cs_depth;  /* entered by a tail call: leaves when this frame returns */
        s->kernel_start = s->cycles;
    }
    if (s->cs_depth > 0) {
        /* A return lands on a recorded return address; look a few frames deep so tail
         * calls and longjmp-like unwinds resynchronise the shadow stack. */
        uint32_t top = s->cs_depth < CALLSTACK_MAX ? s->cs_depth : CALLSTACK_MAX;
        for (uint32_t k = 0; k < 4 && k < top; k++) {
            if (s->cs_ret[top - 1 - k] == to) {
                s->cs_depth = top - 1 - k;
                if (s->in_kernel && s->cs_depth < s->in_kernel) {
                    s->kernel_cycles += s->cycles - s->kernel_start;
                    s->in_kernel = 0;
                }
                break;
            }
        }
    }
}

static int32_t find(mcusim_state *s, void *uc, uint64_t key, uint32_t addr, uint32_t size)
{
    int32_t idx = mcusim_lookup(s, key);
    if (idx < 0) {
        idx = s->on_miss(addr, size);   /* host decodes, fills the table, inserts the key */
        if (idx < 0) {
            s->stop_reason = 2;
            s->emu_stop(uc);
        }
    }
    return idx;
}

void mcusim_block_hook(void *uc, uint64_t address, uint32_t size, void *user_data)
{
    mcusim_state *s = (mcusim_state *)user_data;
    uint32_t addr = (uint32_t)address;
    uint64_t key = address | ((uint64_t)size << 32);
    int32_t prev = s->cur, idx;
    if (prev >= 0) {
        mcusim_block *p = &s->blk[prev];
        if (p->next_key == key) {
            idx = p->next_idx;
        } else {
            idx = find(s, uc, key, addr, size);
            if (idx < 0)
                return;
            p = &s->blk[prev];          /* the host may have grown the table */
            p->next_key = key;
            p->next_idx = idx;
        }
        s->cycles += p->cost;
        if (addr != p->end || (p->flags & FLAG_ALWAYS_TAKEN))
            taken_transition(s, prev, addr, idx);
    } else {
        idx = find(s, uc, key, addr, size);
        if (idx < 0)
            return;
    }
    mcusim_block *b = &s->blk[idx];
    s->cur = idx;
    b->exec++;
    s->instructions += b->ninsn;
    if (s->instructions > s->max_instructions && s->stop_reason == 0) {
        s->stop_reason = 1;
        s->emu_stop(uc);
    }
}

/* For benchmarks: the cheapest possible native block hook (counts blocks, nothing else). */
void mcusim_count_hook(void *uc, uint64_t address, uint32_t size, void *user_data)
{
    (void)uc; (void)address; (void)size;
    (*(uint64_t *)user_data)++;
}
