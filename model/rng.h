/* Counter-based random numbers: a value is a pure function of (key, index),
 * so the backward pass regenerates exactly the rotations and dropout masks of
 * the forward pass, and the CPU and CUDA backends draw identical numbers.
 * Usable from C and from CUDA device code. */
#ifndef RF_RNG_H
#define RF_RNG_H

#include <math.h>
#include <stdint.h>

#ifdef __CUDACC__
#define RF_HD __host__ __device__ __forceinline__
#else
#define RF_HD static inline
#endif

/* What a key is drawn for; keeps streams of one (seed, step, layer) apart. */
enum { RF_RNG_ROTATIONS = 1, RF_RNG_DROP_ATTN = 2, RF_RNG_DROP_FF_HIDDEN = 3,
       RF_RNG_DROP_FF_OUT = 4, RF_RNG_DROP_EMB = 5, RF_RNG_INIT = 6, RF_RNG_DATA = 7,
       RF_RNG_MASK = 8 };

RF_HD uint64_t rf_mix64(uint64_t z)
{
	z += 0x9e3779b97f4a7c15ULL;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Key for one stream: layer < 0 for streams outside the layers. */
RF_HD uint64_t rf_rng_key(uint64_t seed, uint64_t step, int layer, int what)
{
	uint64_t k = rf_mix64(seed);
	k = rf_mix64(k ^ (step * 0xd1b54a32d192ed03ULL));
	k = rf_mix64(k ^ ((uint64_t)(uint32_t)(layer + 1) << 8) ^ (uint64_t)what);
	return k;
}

RF_HD uint64_t rf_rng_u64(uint64_t key, uint64_t index)
{
	return rf_mix64(key ^ rf_mix64(index));
}

/* Uniform in [0, 1) with 24 random bits, exactly representable in float. */
RF_HD float rf_rng_uniform(uint64_t key, uint64_t index)
{
	return (float)(rf_rng_u64(key, index) >> 40) * (1.0f / 16777216.0f);
}

/* Standard normal by Box-Muller on two 32-bit halves of one draw. Computed in
 * double so that host and device agree to the last bit after rounding. */
RF_HD float rf_rng_normal(uint64_t key, uint64_t index)
{
	uint64_t r = rf_rng_u64(key, index);
	double u1 = ((double)(r >> 32) + 0.5) * (1.0 / 4294967296.0);
	double u2 = ((double)(r & 0xffffffffULL) + 0.5) * (1.0 / 4294967296.0);
	return (float)(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
}

#endif
