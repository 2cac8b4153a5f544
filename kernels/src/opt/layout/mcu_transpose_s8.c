/*
 * mcu_transpose_s8 - optimized flavour.
 * When the input's innermost axis (c) moves, the output is written in 4 x 4 byte tiles: four
 * word loads along the input's c (four consecutive output rows of that axis), a byte
 * transpose in registers (AND/ORR with shifted operands, then PKHBT/PKHTB: 12 data
 * instructions), four word stores along the output's innermost axis; 8 memory accesses per 16
 * bytes instead of 32. Edges that are not whole tiles, and the case where c stays innermost
 * (rows, memcpy), are the reference code's. Cores without the DSP extension (no PKHBT) compile
 * the reference kernel.
 */
#if !defined(__ARM_FEATURE_DSP)
#include "../../ref/layout/mcu_transpose_s8.c"
#else
#include <string.h>

#include "mcu_nn.h"
#include "../../common/mcu_nn_checks.h"

static inline uint32_t mcu_load32(const int8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4); /* one LDR: unaligned word access is allowed on ARMv7E-M */
    return v;
}

static inline void mcu_store32(int8_t *p, uint32_t v)
{
    memcpy(p, &v, 4);
}

mcu_status mcu_transpose_s8(const mcu_context *ctx, const mcu_transpose_params *params,
                            const mcu_dims *input_dims, const int8_t *input,
                            const mcu_dims *output_dims, int8_t *output)
{
    (void)ctx;
    if (!params || !input || !output || !mcu_dims_valid(input_dims) || !mcu_dims_valid(output_dims))
        return MCU_ERR_ARG;
    const int32_t in[4] = {input_dims->n, input_dims->h, input_dims->w, input_dims->c};
    const int32_t out[4] = {output_dims->n, output_dims->h, output_dims->w, output_dims->c};
    const int32_t stride[4] = {in[1] * in[2] * in[3], in[2] * in[3], in[3], 1};
    const int32_t os[4] = {out[1] * out[2] * out[3], out[2] * out[3], out[3], 1};
    int32_t seen = 0, s[4], q = 3;
    for (int32_t a = 0; a < 4; ++a) {
        const int32_t p = params->perm[a];
        if (p < 0 || p > 3 || (seen & (1 << p)) || out[a] != in[p])
            return MCU_ERR_ARG;
        seen |= 1 << p;
        s[a] = stride[p];
        if (p == 3)
            q = a; /* the output axis that is the input's c (input stride 1) */
    }
    if (q == 3) { /* c stays innermost: whole rows */
        for (int32_t i0 = 0; i0 < out[0]; ++i0)
            for (int32_t i1 = 0; i1 < out[1]; ++i1)
                for (int32_t i2 = 0; i2 < out[2]; ++i2) {
                    memcpy(output, input + i0 * s[0] + i1 * s[1] + i2 * s[2], (size_t)out[3]);
                    output += out[3];
                }
        return MCU_OK;
    }
    const int32_t a0 = q == 0 ? 1 : 0, a1 = q == 2 ? 1 : 2; /* the two other outer axes */
    const int32_t nq = out[q], osq = os[q], n3 = out[3], s3 = s[3];
    for (int32_t i = 0; i < out[a0]; ++i)
        for (int32_t j = 0; j < out[a1]; ++j) {
            const int8_t *in_base = input + i * s[a0] + j * s[a1];
            int8_t *out_base = output + i * os[a0] + j * os[a1];
            int32_t iq = 0;
            for (; iq + 4 <= nq; iq += 4) {
                const int8_t *src = in_base + iq;
                int8_t *dst = out_base + iq * osq;
                int32_t k = 0;
                for (; k + 4 <= n3; k += 4, src += 4 * s3) {
                    const uint32_t a = mcu_load32(src), b = mcu_load32(src + s3);
                    const uint32_t c = mcu_load32(src + 2 * s3), d = mcu_load32(src + 3 * s3);
                    /* bytes low first: ab02 = a0 b0 a2 b2, ab13 = a1 b1 a3 b3 (cd likewise) */
                    const uint32_t ab02 = (a & 0x00FF00FFu) | ((b & 0x00FF00FFu) << 8);
                    const uint32_t ab13 = ((a >> 8) & 0x00FF00FFu) | (b & 0xFF00FF00u);
                    const uint32_t cd02 = (c & 0x00FF00FFu) | ((d & 0x00FF00FFu) << 8);
                    const uint32_t cd13 = ((c >> 8) & 0x00FF00FFu) | (d & 0xFF00FF00u);
                    mcu_store32(dst + k, (ab02 & 0xFFFFu) | (cd02 << 16));                  /* PKHBT */
                    mcu_store32(dst + osq + k, (ab13 & 0xFFFFu) | (cd13 << 16));
                    mcu_store32(dst + 2 * osq + k, (ab02 >> 16) | (cd02 & 0xFFFF0000u));    /* PKHTB */
                    mcu_store32(dst + 3 * osq + k, (ab13 >> 16) | (cd13 & 0xFFFF0000u));
                }
                for (; k < n3; ++k, src += s3) /* columns past the last whole tile */
                    for (int32_t r = 0; r < 4; ++r)
                        dst[r * osq + k] = src[r];
            }
            for (; iq < nq; ++iq) /* rows past the last whole tile */
                for (int32_t k = 0; k < n3; ++k)
                    out_base[iq * osq + k] = in_base[iq + k * s3];
        }
    return MCU_OK;
}
#endif
