/*
 * Native per-block cycle accounting for mcusim, called by Unicorn at the entry of every
 * translated block (UC_HOOK_BLOCK). Python decodes each block once (capstone) and fills its
 * static cost; this hook only adds numbers, so the simulator keeps most of Unicorn's raw speed.
 *
 * On entry of block B coming from block A:
 *   cycles += cost[A]                        A ran to its end
 *   cycles += data stalls of A's loads        (see below)
 *   if B.addr != end[A]:                      A was left by a taken branch
 *       cycles += branch_penalty; taken[A]++  pipeline refill (1+P: the 1 is in cost[A])
 *       no I-cache modelled and B in flash: cycles += wait states
 *       shadow call stack: push end[A] if A ends with a call, pop if B is a return address
 *   I-cache modelled and B in flash: B's lines go through it (fetch_block)
 *   exec[B]++, instructions += ninsn[B], stop when the instruction budget is exceeded
 * `cycles` is therefore the cycle count before B's first instruction; the host adds the
 * cost of B's instructions before a given PC to read the counter mid-block (DWT, probes).
 *
 * Data loads from flash. Memory hooks are not used: Unicorn 2.1.4 mis-executes Thumb IT
 * blocks when one fires inside them (unicorn-engine/unicorn#2309). Instead the host gives
 * each block a load plan (mcusim/simulator/loadplan.py): for every load whose address could be in
 * flash, how to rebuild its effective address from the registers at the block's exit or
 * entry, from a memory word the block loaded, or statically (PC-relative literals), and under
 * which condition it executes (IT blocks). The exit registers of A are the registers at B's
 * entry, read straight from Unicorn's register file; a block's entry registers are copied
 * only when its plan needs them. On entry of B the loads of A are replayed in order through
 * the flash interface model (read units, data cache) and their wait states are added to
 * cycles and to A's `dstall`.
 */
#include <stdint.h>

#define CALLSTACK_MAX 256
#define FLAG_CALL 1u
#define FLAG_ALWAYS_TAKEN 2u   /* ends with an unconditional branch: taken even to the next address */
#define FLAG_KERNEL 4u         /* starts in the kernel library: time from entering it (call or
                                  tail call) until returning out of it counts as kernel time,
                                  callees such as libgcc helpers included */
#define FLAG_LOADS 8u          /* has a load plan: loads[first .. first + ((flags >> 8) & 0xFF)) */
#define FLAG_ENTRY_REGS 16u    /* the plan needs the registers in (flags >> 16) at the block's entry */
#define FLAG_ENTRY_FLAGS 32u   /* the plan needs the APSR flags at the block's entry */
#define FLAG_SIMPLE 64u        /* every planned load is unconditional, from exit registers only */
#define FLAG_MAY_RETURN 128u   /* ends with an indirect change of flow (BX, POP/LDM/LDR pc...):
                                  only such blocks can return to a recorded return address */
#define IHINT_MASK 1023u     /* I-cache slot hints (a lookup shortcut, not state) */
#define NREGS 15               /* r0-r12, sp, lr: what a load address can be built from */

#define SRC_NONE 0u      /* operand absent (0) */
#define SRC_ENTRY 1u     /* a register at the block's entry */
#define SRC_EXIT 2u      /* a register at the block's exit */
#define SRC_MEM 3u       /* the word at entry reg + k, read at the block's exit */
#define COND_ALWAYS 14u

typedef int (*uc_stop_fn)(void *uc);
typedef int32_t (*miss_fn)(uint32_t addr, uint32_t size);
typedef int (*uc_reg_read_fn)(void *uc, int regid, void *value);
typedef int (*uc_reg_read_batch_fn)(void *uc, int *regs, void **vals, int count);
typedef int (*uc_mem_read_fn)(void *uc, uint64_t address, void *bytes, uint64_t size);

/* One load of a block's plan: address = disp + base + (index << shift), each operand taken
 * from nothing, the entry or exit registers, or a memory word (SRC_*). 20 bytes. */
typedef struct {
    int32_t disp;
    uint16_t offset;    /* of the instruction from the block start */
    uint16_t bytes;     /* bytes transferred */
    uint8_t bsrc, breg, isrc, ireg;
    uint8_t shift;
    uint8_t cond;       /* ARM condition code; COND_ALWAYS outside IT blocks */
    uint8_t cond_exit;  /* the condition is evaluated on the exit flags (else the entry flags) */
    uint8_t pad;
    int16_t bk, ik;     /* offsets from the entry register (SRC_MEM) */
} mcusim_load;

/* One translated block. `next_key`/`next_idx` remember the block that followed last time,
 * so the common case (a loop, a straight call) needs no hash lookup. 64 bytes. */
typedef struct {
    uint32_t cost;      /* static cycles of the whole block */
    uint32_t ninsn;
    uint32_t end;       /* fall-through address */
    uint32_t flags;     /* FLAG_* in bits 0-7, planned loads in bits 8-15, the registers the
                           plan needs at entry (bit per register) in bits 16-31 */
    uint64_t next_key;
    int32_t next_idx;
    uint32_t loads_first;
    uint64_t exec;      /* times entered */
    uint64_t taken;     /* times left by a taken branch */
    uint64_t stall;     /* flash wait-state cycles charged on entry (instruction fetch) */
    uint64_t dstall;    /* flash wait-state cycles of its data loads */
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
    uint32_t *iepoch;           /* per block: ievictions when all its lines were last present */
    uint32_t ievictions;        /* I-cache lines replaced so far */
    uint32_t fetch_shift;       /* log2 of the flash read width (instruction side) */
    uint32_t iways;             /* I-cache lines per set (1: direct-mapped); LRU within a set */
    uint32_t prefetch;          /* sequential flash reads overlap execution (PRFTEN) */
    uint32_t *ivalid;           /* per I-cache line: read units present (bit per unit) */
    uint32_t *istamp;           /* per I-cache line: last use, for LRU */
    uint32_t *ihint;            /* [line & IHINT_MASK]: the line's slot when last found */
    uint32_t iclock;
    /* data side */
    uint32_t data_mode;         /* 0: data loads never stall; 1: every flash read unit a load
                                   touches pays the wait states; 2: unless the data cache has it */
    uint32_t data_wait_states;
    uint32_t unit_shift;        /* log2 of the flash read width */
    uint32_t dline_shift;       /* log2 of the data-cache line */
    uint32_t dset_mask;         /* sets - 1 */
    uint32_t dways;
    uint32_t *dtags;            /* [set * ways + way]: line number, or 0xFFFFFFFF */
    uint32_t *dvalid;           /* read units of that line present (bit per unit) */
    uint32_t *dstamp;           /* last use, for LRU */
    uint32_t dclock;
    uint32_t xpsr_id;
    mcusim_load *loads;         /* plans, owned (and grown) by the host */
    const uint32_t *regs;       /* Unicorn's live r0-r15 */
    uc_reg_read_fn reg_read;    /* for the APSR flags (rare: conditional loads) */
    uc_reg_read_batch_fn reg_read_batch;  /* only when the register file was not found */
    uc_mem_read_fn mem_read;    /* SRC_MEM operands */
    uint32_t regs_by_api;
    uint32_t entry_xpsr;
    uint32_t entry_regs[16];
    uint32_t api_regs[16];
    int32_t api_ids[NREGS];
    uint32_t pad0;
    void *api_ptrs[NREGS];
    uint64_t data_flash_units;  /* flash read units touched by data loads */
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

static inline int cond_holds(uint32_t cond, uint32_t psr)
{
    uint32_t n = (psr >> 31) & 1, z = (psr >> 30) & 1, c = (psr >> 29) & 1, v = (psr >> 28) & 1;
    int r;
    switch (cond >> 1) {
    case 0: r = z; break;                 /* EQ / NE */
    case 1: r = c; break;                 /* CS / CC */
    case 2: r = n; break;                 /* MI / PL */
    case 3: r = v; break;                 /* VS / VC */
    case 4: r = c && !z; break;           /* HI / LS */
    case 5: r = n == v; break;            /* GE / LT */
    case 6: r = !z && n == v; break;      /* GT / LE */
    default: return 1;                    /* AL */
    }
    return (cond & 1) ? !r : r;
}

static inline uint32_t read_xpsr(mcusim_state *s, void *uc)
{
    uint32_t v = 0;
    s->reg_read(uc, (int)s->xpsr_id, &v);
    return v;
}

static inline const uint32_t *live_regs(mcusim_state *s, void *uc)
{
    if (s->regs_by_api)
        s->reg_read_batch(uc, s->api_ids, s->api_ptrs, NREGS);
    return s->regs;
}

/* Wait states of one flash read unit through the data cache (LRU within a set). */
static inline uint32_t unit_access(mcusim_state *s, uint32_t unit)
{
    if (s->data_mode == 1)
        return s->data_wait_states;
    uint32_t line = unit >> (s->dline_shift - s->unit_shift);
    uint32_t bit = 1u << (unit & ((1u << (s->dline_shift - s->unit_shift)) - 1));
    uint32_t base = (line & s->dset_mask) * s->dways;
    uint32_t victim = base, oldest = 0xFFFFFFFFu;
    s->dclock++;
    for (uint32_t w = base; w < base + s->dways; w++) {
        if (s->dtags[w] == line) {
            s->dstamp[w] = s->dclock;
            if (s->dvalid[w] & bit)
                return 0;
            s->dvalid[w] |= bit;
            return s->data_wait_states;
        }
        if (s->dstamp[w] < oldest) {
            oldest = s->dstamp[w];
            victim = w;
        }
    }
    s->dtags[victim] = line;
    s->dvalid[victim] = bit;
    s->dstamp[victim] = s->dclock;
    return s->data_wait_states;
}

/* Wait states of a data access of `bytes` at flash address `ea`. */
static uint32_t flash_access(mcusim_state *s, uint32_t ea, uint32_t bytes)
{
    uint32_t total = 0, first = ea >> s->unit_shift, last = (ea + bytes - 1) >> s->unit_shift;
    for (uint32_t u = first; u <= last; u++) {
        total += unit_access(s, u);
        s->data_flash_units++;
    }
    return total;
}

/* Replay the planned loads of block `b` that lie before `limit` (an offset from its start),
 * with `exit` the registers after them; returns the wait states and books them on b. */
static uint32_t operand(mcusim_state *s, void *uc, uint32_t src, uint32_t reg, int32_t k, const uint32_t *exit)
{
    uint32_t v = 0;
    switch (src) {
    case SRC_ENTRY: return s->entry_regs[reg];
    case SRC_EXIT: return exit[reg];
    case SRC_MEM: s->mem_read(uc, (uint64_t)(uint32_t)(s->entry_regs[reg] + (uint32_t)k), &v, 4); return v;
    default: return 0;
    }
}

static inline __attribute__((always_inline)) uint32_t
replay_loads(mcusim_state *s, void *uc, mcusim_block *b, const uint32_t *exit, uint32_t n)
{
    const uint32_t flash_lo = s->flash_lo, flash_span = s->flash_hi - s->flash_lo;
    uint32_t total = 0, exit_psr = 0;
    int have_exit_psr = 0;
    const mcusim_load *l = &s->loads[b->loads_first];
    const mcusim_load *end = l + n;
    for (; l < end; l++) {
        if (__builtin_expect(l->cond != COND_ALWAYS, 0)) {
            uint32_t psr = s->entry_xpsr;
            if (l->cond_exit) {
                if (!have_exit_psr) {
                    exit_psr = read_xpsr(s, uc);
                    have_exit_psr = 1;
                }
                psr = exit_psr;
            }
            if (!cond_holds(l->cond, psr))
                continue;
        }
        uint32_t ea = (uint32_t)l->disp;
        if (__builtin_expect(l->bsrc == SRC_EXIT, 1))
            ea += exit[l->breg];
        else
            ea += operand(s, uc, l->bsrc, l->breg, l->bk, exit);
        if (l->isrc)
            ea += operand(s, uc, l->isrc, l->ireg, l->ik, exit) << l->shift;
        if (__builtin_expect(ea - flash_lo < flash_span, 0))
            total += flash_access(s, ea, l->bytes);
    }
    if (total)
        b->dstall += total;
    return total;
}



static inline void enter_block(mcusim_state *s, void *uc, const mcusim_block *b)
{
    if (b->flags & FLAG_ENTRY_REGS) {
        const uint32_t *r = live_regs(s, uc);
        for (uint32_t m = b->flags >> 16; m; m &= m - 1) {
            int i = __builtin_ctz(m);
            s->entry_regs[i] = r[i];
        }
    }
    if (b->flags & FLAG_ENTRY_FLAGS)
        s->entry_xpsr = read_xpsr(s, uc);
}

/* End of run: replay the current block's loads before `limit` (the stop address minus the
 * block start), the registers now being those after them. */
uint64_t mcusim_finish(mcusim_state *s, uint32_t limit)
{
    if (s->cur < 0)
        return 0;
    mcusim_block *b = &s->blk[s->cur];
    if (!(b->flags & FLAG_LOADS) || !s->data_mode)
        return 0;
    const mcusim_load *l = &s->loads[b->loads_first];
    uint32_t n = 0, total = (b->flags >> 8) & 0xFF;
    while (n < total && l[n].offset < limit)
        n++;
    uint32_t t = replay_loads(s, s->uc, b, live_regs(s, s->uc), n);
    s->cycles += t;
    return t;
}

static inline void taken_transition(mcusim_state *s, int32_t from, uint32_t to, int32_t idx)
{
    mcusim_block *f = &s->blk[from];
    s->cycles += s->branch_penalty;
    f->taken++;
    if (s->flash_mode == 1 && to - s->flash_lo < s->flash_hi - s->flash_lo) {
        s->cycles += s->flash_wait_states;     /* no cache: every taken branch refetches */
        s->blk[idx].stall += s->flash_wait_states;
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
    if (s->cs_depth > 0 && (f->flags & FLAG_MAY_RETURN)) {
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

/* The I-cache slot holding `line`, or -1. */
static inline int32_t icache_find(mcusim_state *s, uint32_t line)
{
    uint32_t base = (line & s->icache_mask) * s->iways;
    if (s->iways == 1)
        return s->icache_tags[base] == line ? (int32_t)base : -1;
    uint32_t h = s->ihint[line & IHINT_MASK];
    if (h - base < s->iways && s->icache_tags[h] == line)
        return (int32_t)h;
    for (uint32_t w = base; w < base + s->iways; w++) {
        if (s->icache_tags[w] == line) {
            s->ihint[line & IHINT_MASK] = w;
            return (int32_t)w;
        }
    }
    return -1;
}

/* Allocate a slot for `line`: the least recently used of its set, emptied. */
static inline uint32_t icache_fill(mcusim_state *s, uint32_t line)
{
    uint32_t base = (line & s->icache_mask) * s->iways, victim = base;
    for (uint32_t w = base + 1, oldest = s->istamp[base]; w < base + s->iways; w++) {
        if (s->istamp[w] < oldest) {
            oldest = s->istamp[w];
            victim = w;
        }
    }
    s->icache_tags[victim] = line;
    s->ivalid[victim] = 0;
    s->ievictions++;
    if (s->iways > 1)
        s->ihint[line & IHINT_MASK] = victim;
    return victim;
}

/* Instruction side with a cache (flash_mode 2), on entry of block b = [addr, addr + size).
 * Each line of b is looked up in the I-cache (sets of `iways` lines, LRU); a line holds the
 * flash read units (fetch bytes) read into it, a miss allocates the line and each missing
 * unit is read and copied in ("the line read is copied into the instruction cache").
 * Entered by a taken branch, a missing entry unit costs the wait states (the fetch
 * restarts). With prefetch the other missing units stream in, one read per (wait states + 1)
 * cycles overlapped with b's execution: b stalls for max(0, reads x (WS + 1) - cost(b));
 * without prefetch each is read on demand and costs the wait states.
 * Direct-mapped: when no line was replaced since b last found all its units present, they
 * still are (with LRU the recency of every access matters, so no shortcut). */
static inline void fetch_block(mcusim_state *s, int32_t idx, uint32_t addr, uint32_t size, int taken)
{
    if ((s->iepoch[idx] == s->ievictions && s->iways == 1) || addr - s->flash_lo >= s->flash_hi - s->flash_lo)
        return;
    mcusim_block *b = &s->blk[idx];
    const uint32_t ushift = s->fetch_shift, lshift = s->icache_line_shift;
    const uint32_t umask = (1u << (lshift - ushift)) - 1, entry_unit = addr >> ushift;
    uint32_t end = addr + size, stall = 0, reads = 0;
    uint32_t first = addr >> lshift, last = (end - 1) >> lshift;
    for (uint32_t line = first; line <= last; line++) {
        int32_t slot = icache_find(s, line);
        if (slot < 0)
            slot = (int32_t)icache_fill(s, line);
        if (s->iways > 1)
            s->istamp[slot] = ++s->iclock;
        uint32_t lo = line << lshift, hi = lo + (1u << lshift);
        if (lo < addr)
            lo = addr;
        if (hi > end)
            hi = end;
        uint32_t *valid = &s->ivalid[slot];
        for (uint32_t u = lo >> ushift; u <= (hi - 1) >> ushift; u++) {
            uint32_t bit = 1u << (u & umask);
            if (*valid & bit)
                continue;
            *valid |= bit;
            if (u == entry_unit && taken)
                stall += s->flash_wait_states;
            else
                reads++;
        }
    }
    if (s->prefetch) {
        uint32_t stream = reads * (s->flash_wait_states + 1);
        if (stream > b->cost)
            stall += stream - b->cost;
    } else {
        stall += reads * s->flash_wait_states;
    }
    if (stall) {
        s->cycles += stall;
        b->stall += stall;
    }
    s->iepoch[idx] = s->ievictions;
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
        if (p->flags & FLAG_SIMPLE) {
            const uint32_t *r = live_regs(s, uc);
            const mcusim_load *l = &s->loads[p->loads_first], *end = l + ((p->flags >> 8) & 0xFF);
            uint32_t total = 0;
            for (; l < end; l++) {
                uint32_t ea = r[l->breg] + (uint32_t)l->disp;
                if (l->isrc)
                    ea += r[l->ireg] << l->shift;
                if (__builtin_expect(ea - s->flash_lo < s->flash_hi - s->flash_lo, 0))
                    total += flash_access(s, ea, l->bytes);
            }
            if (total) {
                p->dstall += total;
                s->cycles += total;
            }
        } else if (p->flags & FLAG_LOADS) {     /* set only when the data side is modelled */
            s->cycles += replay_loads(s, uc, p, live_regs(s, uc), (p->flags >> 8) & 0xFF);
        }
        int taken = addr != p->end || (p->flags & FLAG_ALWAYS_TAKEN);
        if (taken)
            taken_transition(s, prev, addr, idx);
        if (s->flash_mode == 2)
            fetch_block(s, idx, addr, size, taken);
    } else {
        idx = find(s, uc, key, addr, size);
        if (idx < 0)
            return;
        if (s->flash_mode == 2)
            fetch_block(s, idx, addr, size, 1);
    }
    mcusim_block *b = &s->blk[idx];
    s->cur = idx;
    b->exec++;
    if (b->flags & (FLAG_ENTRY_REGS | FLAG_ENTRY_FLAGS))
        enter_block(s, uc, b);
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
