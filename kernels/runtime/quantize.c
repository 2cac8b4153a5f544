/*
 * quantize.c - exact integer replacement for the double arithmetic of TFLM's prepare
 * functions (mcu_rt_quant.h explains the method). Checked against mcusim/frontend/quant.py on random
 * scales by tests/test_tinyml.py (host-compiled copy of this file).
 */
#include "mcu_rt_quant.h"

static int32_t bit_length(uint64_t x)
{
    const uint32_t hi = (uint32_t)(x >> 32), lo = (uint32_t)x;
    if (hi)
        return 64 - __builtin_clz(hi);
    return lo ? 32 - __builtin_clz(lo) : 0;
}

/* log2 of the power of two just above |x| (x = 0: very negative) */
static int32_t len_plus_e(mcu_real x)
{
    return x.m ? bit_length(x.m) + x.e : -100000;
}

mcu_real mcu_real_from_f32(uint32_t bits)
{
    const uint32_t exponent = (bits >> 23) & 0xFFu, fraction = bits & 0x7FFFFFu;
    mcu_real r;
    r.neg = (int32_t)(bits >> 31);
    if (exponent == 0) { /* zero or subnormal */
        r.m = fraction;
        r.e = -149;
    } else {
        r.m = fraction | 0x800000u;
        r.e = (int32_t)exponent - 150;
    }
    return r;
}

mcu_real mcu_real_mul(mcu_real a, mcu_real b)
{
    mcu_real r = {(uint64_t)(uint32_t)a.m * (uint32_t)b.m, a.e + b.e, a.neg ^ b.neg};
    return r;
}

/* Drop bits below `bits` significant ones, rounding to nearest, ties to even. `sticky`: some
 * non-zero bits were already dropped below the ones in x.m. */
static mcu_real round_nearest_even(mcu_real x, int32_t bits, int sticky)
{
    const int32_t drop = bit_length(x.m) - bits;
    if (drop <= 0)
        return x;
    const uint64_t half = 1ull << (drop - 1);
    const uint64_t rest = x.m & ((half << 1) - 1);
    x.m >>= drop;
    x.e += drop;
    if (rest > half || (rest == half && (sticky || (x.m & 1))))
        x.m += 1;
    if (x.m >> bits) { /* carried into a new bit: 2^bits, exact after one more shift */
        x.m >>= 1;
        x.e += 1;
    }
    return x;
}

mcu_real mcu_real_round(mcu_real x, int32_t bits)
{
    return round_nearest_even(x, bits, 0);
}

mcu_real mcu_real_div(mcu_real a, mcu_real b, int32_t bits)
{
    mcu_real q = {0, 0, a.neg ^ b.neg};
    const uint32_t d = (uint32_t)b.m;
    if (a.m == 0 || d == 0 || (b.m >> 24))
        return q; /* the divisor is a float32 (or a small integer) */
    /* Long division in base 256: one 32-bit division per 8 quotient bits (the remainder stays
     * below d < 2^24, so (r << 8) | byte fits 32 bits). The bytes of a.m are taken from the
     * top, then zero bytes, until the quotient has bits + 2 bits (two guard bits); what is
     * left (remainder, unread low bits of a.m) only decides the sticky bit. */
    int32_t pos = (bit_length(a.m) + 7) & ~7; /* unread low bits of a.m */
    int32_t e = a.e - b.e;
    uint32_t r = 0;
    const uint64_t enough = 1ull << (bits + 1);
    while (q.m < enough) {
        uint32_t byte = 0;
        if (pos > 0) {
            pos -= 8;
            byte = (uint32_t)(a.m >> pos) & 0xFFu;
        } else {
            e -= 8;
        }
        const uint32_t cur = (r << 8) | byte;
        q.m = (q.m << 8) | (cur / d);
        r = cur % d;
    }
    q.e = e + pos;
    return round_nearest_even(q, bits, r != 0 || (a.m & ((1ull << pos) - 1)) != 0);
}

int mcu_real_at_least(mcu_real x, uint32_t v)
{
    if (len_plus_e(x) > 32) /* x >= 2^32 */
        return 1;
    if (x.e >= 0)
        return (x.m << x.e) >= v; /* below 2^32: no overflow */
    /* m * 2^e >= v  <=>  floor(m / 2^-e) >= v, v being an integer */
    return -x.e < 64 ? (x.m >> -x.e) >= v : v == 0;
}

int32_t mcu_real_to_int(mcu_real x)
{
    int64_t v;
    const int32_t len = bit_length(x.m);
    if (x.m == 0 || len + x.e < 0) /* below 1/2 */
        v = 0;
    else if (len + x.e > 30)
        v = 1 << 30;
    else if (x.e >= 0)
        v = (int64_t)(x.m << x.e);
    else
        v = (int64_t)((x.m + (1ull << (-x.e - 1))) >> -x.e); /* -e <= 63 here: len <= 64 */
    return (int32_t)(x.neg ? -v : v);
}

void mcu_quantize_multiplier(mcu_real x, int32_t *multiplier, int32_t *shift)
{
    *multiplier = 0;
    *shift = 0;
    if (x.m == 0)
        return;
    /* frexp: x = (m / 2^len) * 2^(e + len), the fraction in [0.5, 1). */
    const int32_t len = bit_length(x.m);
    int32_t exponent = x.e + len;
    uint64_t q; /* round(fraction * 2^31), half away from zero (on the magnitude: half up) */
    if (len <= 31)
        q = x.m << (31 - len);
    else
        q = (x.m + (1ull << (len - 32))) >> (len - 31);
    if (q == (1ull << 31) && !x.neg) {
        q >>= 1;
        exponent += 1;
    }
    if (exponent < -31)
        return;
    *multiplier = (int32_t)(x.neg ? -(int64_t)q : (int64_t)q);
    *shift = exponent;
}
