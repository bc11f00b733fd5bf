// scalingfit/config.hpp -- the one host/device macro, the compile-time limits, and the
// elementary functions of the solver.
//
// Every header in this folder is compiled twice from the same source: by g++/clang for
// the CPU driver and by NVRTC (through CuPy) for the CUDA driver. Nothing here may throw,
// allocate, or include a header that NVRTC lacks.
#pragma once

#if defined(__CUDACC__) || defined(__CUDACC_RTC__)
#define SF_HD __host__ __device__
#define SF_DEVICE_COMPILE 1
#define SF_CUDA_COMPILER 1  // NVRTC or nvcc: no <cstring>, CUDA's bit-cast intrinsics
#elif defined(SF_CUDA_EMULATION)
// The device code compiled by the host compiler, for the test suite's CUDA emulator
// (tests/cudaemu: its prelude defines threadIdx, __syncthreads and the shuffles).
#define SF_HD
#define SF_DEVICE_COMPILE 1
#include <cmath>
#include <cstring>
#else
#define SF_HD
#include <cmath>
#include <cstdint>
#include <cstring>
#endif

namespace scalingfit {

// Fixed-width integers under one spelling on both compilers (NVRTC has no <cstdint>). The
// batch layouts (items.hpp) use them, so a pointer into a NumPy int64 array is an i64* on
// either side.
#ifdef SF_DEVICE_COMPILE
typedef unsigned int u32;
typedef unsigned long long u64;
typedef int i32;
typedef long long i64;
typedef unsigned char u8;
#else
typedef std::uint32_t u32;
typedef std::uint64_t u64;
typedef std::int32_t i32;
typedef std::int64_t i64;
typedef std::uint8_t u8;
#endif

// Largest parameter count of any built-in model; fixed-size arrays in the solver use it.
constexpr int kMaxParams = 8;
// Largest number of input columns (N, D, ...) of any built-in model.
constexpr int kMaxInputs = 4;

// The precision of the data and of the per-point arithmetic (model values, Jacobian rows,
// losses and their sums over the points): double, or float in the float32 builds
// (SF_FLOAT32_DATA: the CUDA backend's precision="float32", and its stand-in on the CPU, the
// "float32" build of cpp/src/kernels.cpp). The solver's own state (parameters, J^T J and J^T r
// once summed, the damped step, the tolerance tests, the covariance) is always double: a float
// sum is rounded once into a double, and everything after it is the double solver's.
#ifdef SF_FLOAT32_DATA
typedef float real;
#else
typedef double real;
#endif

SF_HD inline double sf_min(double a, double b) { return a < b ? a : b; }
SF_HD inline double sf_max(double a, double b) { return a > b ? a : b; }
SF_HD inline double sf_abs(double a) { return a < 0 ? -a : a; }
SF_HD inline bool sf_isfinite(double a) { return a - a == 0.0; }  // false for NaN and +-inf
SF_HD inline float sf_min(float a, float b) { return a < b ? a : b; }
SF_HD inline float sf_max(float a, float b) { return a > b ? a : b; }
SF_HD inline float sf_abs(float a) { return a < 0 ? -a : a; }
SF_HD inline bool sf_isfinite(float a) { return a - a == 0.0f; }
// sqrt and atan in either precision (an unqualified sqrt(float) could call the double one).
SF_HD inline double sf_sqrt(double a) { return sqrt(a); }
SF_HD inline float sf_sqrt(float a) { return sqrtf(a); }
SF_HD inline double sf_atan(double a) { return atan(a); }
SF_HD inline float sf_atan(float a) { return atanf(a); }

// ---------------------------------------------------------------------------------------
// exp and log without branches or tables: straight-line code of multiplies, adds, 64-bit
// integer adds and shifts, and selects, so that g++ vectorises the per-point loops that call
// them (SSE2 and up; the build adds -fno-trapping-math -fno-math-errno, which change no
// value, so that the selects and sqrt need no branch), and NVRTC compiles the same source.
// libm's scalar exp is as fast as this one on 2-wide SSE2; the gain comes with 4- and 8-wide
// vectors (the AVX2 and AVX-512 builds of the solver, see cpp/src/kernels.cpp). Both are
// within about 1 ulp of the correctly rounded result over the whole double range (measured
// against long-double references in tests/test_elementary.py: exp < 1.03 ulp, log < 0.81 ulp),
// including overflow to inf, underflow through subnormals to 0, and inf / NaN / 0 / negative
// arguments.

#ifdef SF_CUDA_COMPILER
SF_HD inline unsigned long long sf_bits(double x) {
  return static_cast<unsigned long long>(__double_as_longlong(x));
}
SF_HD inline double sf_from_bits(unsigned long long b) {
  return __longlong_as_double(static_cast<long long>(b));
}
#else
inline unsigned long long sf_bits(double x) {
  unsigned long long b;
  std::memcpy(&b, &x, sizeof b);
  return b;
}
inline double sf_from_bits(unsigned long long b) {
  double x;
  std::memcpy(&x, &b, sizeof x);
  return x;
}
#endif

// exp(x): x = k ln2 + r, |r| <= ln2/2 (k by the round-to-nearest shifter 1.5 * 2^52, r by
// Cody and Waite's two-part ln2), exp(r) = 1 + r + r^2 q(r) with q a degree-9 polynomial
// (Chebyshev-economised Taylor series, relative error < 2e-17), then the result is scaled by
// 2^k as 2^k1 * 2^k2 (k1 + k2 = k, each a normal power of two), so results in the subnormal
// range come out right and overflow gives inf without a branch.
// sf_exp_clamped is that body, for x in [-746, 746] or NaN; sf_exp clamps x first, and
// sf_exp_nonpos clamps from below only, for an x known to be <= 0 or NaN.
SF_HD inline double sf_exp_clamped(double x) {
  const double shifter = 0x1.8p52;
  const double kd0 = x * 0x1.71547652b82fep0 + shifter;  // x / ln2, rounded
  const unsigned long long kbits = sf_bits(kd0);
  const double kd = kd0 - shifter;
  const double r = (x - kd * 0x1.62e42fee00000p-1) - kd * 0x1.a39ef35793c76p-33;
  double q = 0x1.af4f414ac1593p-26;
  q = q * r + 0x1.2892838508ae4p-22;
  q = q * r + 0x1.71de018bda12cp-19;
  q = q * r + 0x1.a019b836bf64fp-16;
  q = q * r + 0x1.a01a01ac1c6d4p-13;
  q = q * r + 0x1.6c16c178c33c3p-10;
  q = q * r + 0x1.111111111007bp-7;
  q = q * r + 0x1.5555555553cd4p-5;
  q = q * r + 0x1.5555555555557p-3;
  q = q * r + 0x1.0000000000001p-1;
  const double er = 1.0 + (r + r * r * q);
  // k = kbits - bits(shifter), in [-1076, 1076]; kb = k + 1076 >= 0 keeps the shifts logical.
  const unsigned long long kb = kbits - 0x4338000000000000ull + 1076ull;
  const unsigned long long k1 = kb >> 1;                       // k1 - 538 = floor(k / 2)
  const double s1 = sf_from_bits((k1 + 485ull) << 52);         // 2^(k1 - 538), normal
  const double s2 = sf_from_bits((kb - k1 + 485ull) << 52);    // 2^(k - k1 + 538), normal
  return er * s1 * s2;
}

SF_HD inline double sf_exp(double x) {
  // |x| > 746 (inf included) becomes +-746: exp(746) overflows to inf in the scaling and
  // exp(-746) rounds to 0. Two selects between the argument and a constant (a NaN kept),
  // which vectorise as min and max: the same bits as the select on the bits they replace,
  // 11% faster on the Epoch grid.
  x = x < -746.0 ? -746.0 : x;
  x = x > 746.0 ? 746.0 : x;
  return sf_exp_clamped(x);
}

// sf_exp of an x <= 0 or NaN (the log-sum-exp's terms), the same bits without the upper clamp.
SF_HD inline double sf_exp_nonpos(double x) { return sf_exp_clamped(x < -746.0 ? -746.0 : x); }

// The body of sf_log: log(xs) - e_sub ln2 for a finite normal xs > 0 (e_sub = 54 for a
// subnormal argument pre-scaled by 2^54, else 0).
SF_HD inline double sf_log_scaled(double xs, double e_sub) {
  const unsigned long long ix = sf_bits(xs);
  // Biased exponent of xs rounded at sqrt(2): m's exponent field becomes 0x3ff.
  const unsigned long long eb = (ix + 0x00095f619980c433ull) >> 52;
  const double m = sf_from_bits(ix - ((eb - 1023ull) << 52));
  const double e = (sf_from_bits(0x4330000000000000ull + eb) - (0x1p52 + 1023.0)) - e_sub;
  const double f = m - 1.0;
  const double s = f / (2.0 + f);
  const double z = s * s;
  const double w = z * z;
  const double t1 = w * (3.999999999940941908e-01 +
                         w * (2.222219843214978396e-01 + w * 1.531383769920937332e-01));
  const double t2 = z * (6.666666666666735130e-01 +
                         w * (2.857142874366239149e-01 +
                              w * (1.818357216161805012e-01 + w * 1.479819860511658591e-01)));
  const double R = t1 + t2;
  const double hfsq = 0.5 * f * f;
  return e * 6.93147180369123816490e-01 -
         ((hfsq - (s * (hfsq + R) + e * 1.90821492927058770002e-10)) - f);
}

// log(x): x = 2^e m with m in [sqrt(2)/2, sqrt(2)) found by integer arithmetic on the bits
// (subnormals pre-scaled by 2^54), then fdlibm's log(m) = f - (f^2/2 - s (f^2/2 + R(s^2))),
// f = m - 1, s = f / (2 + f), and e ln2 added in two parts. Special values by selects.
SF_HD inline double sf_log(double x) {
  // Written so that every select picks between the argument and constants, never between
  // computed values (g++ keeps those as branches under its default -ftrapping-math, and a
  // loop with branches does not vectorise). Special arguments are replaced by 1 (log 1 = 0
  // exactly) and their result added at the end: +-0 -> -inf, +inf -> inf, x < 0 or NaN -> NaN.
  const double inf = sf_from_bits(0x7ff0000000000000ull);
  const bool normal = x > 0.0 && x < inf;
  const double special = x == 0.0 ? -inf : (x == inf ? inf : sf_from_bits(0x7ff8000000000000ull));
  const double add = normal ? 0.0 : special;
  const bool sub = x < 0x1p-1022;  // subnormal: scaled by 2^54 first
  const double xs = (normal ? x : 1.0) * (sub ? 0x1p54 : 1.0);
  return sf_log_scaled(xs, sub ? 54.0 : 0.0) + add;
}

// sf_log of a finite normal x > 0, the same bits without the special values' selects (the
// log-sum-exp's sum of exps, in [1, 3]).
SF_HD inline double sf_log_normal(double x) { return sf_log_scaled(x, 0.0); }

// log(1 + x) from sf_log, for x >= -1: Goldberg's correction log(u) * x / (u - 1) with
// u = 1 + x rounded (exact when u - 1 = x, and it cancels the rounding of u otherwise), and x
// itself where u rounds to 1. Within a few ulps; the same bits on the CPU and the GPU (libm's
// and CUDA's log1p may differ in the last bit).
SF_HD inline double sf_log1p(double x) {
  const double inf = sf_from_bits(0x7ff0000000000000ull);
  const double u = 1.0 + x;
  const double v = u == 1.0 ? x : sf_log(u) * (x / (u - 1.0));
  return x == inf ? inf : v;
}

// ---------------------------------------------------------------------------------------
// The float versions (the float32 builds), written as the double ones above: branch-free,
// no tables, so that NVRTC and g++ compile the same arithmetic. Measured against float64
// references in tests/test_float32.py (exp and log < 1 ulp of float, log1p < 3).

#ifdef SF_CUDA_COMPILER
SF_HD inline unsigned int sf_bits(float x) { return static_cast<unsigned int>(__float_as_int(x)); }
SF_HD inline float sf_from_bits32(unsigned int b) { return __int_as_float(static_cast<int>(b)); }
#else
inline unsigned int sf_bits(float x) {
  unsigned int b;
  std::memcpy(&b, &x, sizeof b);
  return b;
}
inline float sf_from_bits32(unsigned int b) {
  float x;
  std::memcpy(&x, &b, sizeof x);
  return x;
}
#endif

// exp(x) = 2^k exp(r), |r| <= ln2/2 (k by the shifter 1.5 * 2^23, r by a two-part ln2 whose
// high part has 16 bits, so k * hi is exact for |k| <= 150), exp(r) from its Taylor series to
// degree 7 (truncation < 6e-9 relative), scaled by 2^k as 2^k1 * 2^k2 (each normal) so that
// subnormal results round once and overflow gives inf. |x| > 104 is clamped to +-104 (exp(104)
// overflows, exp(-104) rounds to 0).
SF_HD inline float sf_exp(float x) {
  const unsigned int ix = sf_bits(x);
  const bool big = sf_from_bits32(ix & 0x7fffffffu) > 104.0f;
  x = sf_from_bits32(big ? (ix & 0x80000000u) | 0x42d00000u : ix);
  const float shifter = 0x1.8p23f;
  const float kd0 = x * 0x1.715476p0f + shifter;  // x / ln2, rounded
  const unsigned int kbits = sf_bits(kd0);
  const float kd = kd0 - shifter;
  const float r = (x - kd * 0x1.62e4p-1f) - kd * 0x1.7f7d1cp-20f;
  float q = 0x1.a01a02p-16f;
  q = q * r + 0x1.a01a02p-13f;
  q = q * r + 0x1.6c16c2p-10f;
  q = q * r + 0x1.111112p-7f;
  q = q * r + 0x1.555556p-5f;
  q = q * r + 0x1.555556p-3f;
  q = q * r + 0x1p-1f;
  const float er = 1.0f + (r + r * r * q);
  // k = kbits - bits(shifter), in [-150, 150]; kb = k + 150 >= 0 keeps the shifts logical.
  const unsigned int kb = kbits - 0x4b400000u + 150u;
  const unsigned int k1 = kb >> 1;                       // k1 - 75 = floor(k / 2)
  const float s1 = sf_from_bits32((k1 + 52u) << 23);     // 2^(k1 - 75), normal
  const float s2 = sf_from_bits32((kb - k1 + 52u) << 23);  // 2^(k - k1 + 75), normal
  return er * s1 * s2;
}

// log(x) as sf_log (double): x = 2^e m, m in [sqrt(2)/2, sqrt(2)), fdlibm's float polynomial
// (e_logf.c) for log(m), e ln2 in two parts; special values by selects.
SF_HD inline float sf_log(float x) {
  const float inf = sf_from_bits32(0x7f800000u);
  const bool normal = x > 0.0f && x < inf;
  const float special = x == 0.0f ? -inf : (x == inf ? inf : sf_from_bits32(0x7fc00000u));
  const float add = normal ? 0.0f : special;
  const bool sub = x < 0x1p-126f;  // subnormal: scaled by 2^25 first
  const float xs = (normal ? x : 1.0f) * (sub ? 0x1p25f : 1.0f);
  const unsigned int ix = sf_bits(xs);
  const unsigned int eb = (ix + 0x004afb0du) >> 23;  // biased exponent rounded at sqrt(2)
  const float m = sf_from_bits32(ix - ((eb - 127u) << 23));
  const float e = (sf_from_bits32(0x4b000000u + eb) - (0x1p23f + 127.0f)) - (sub ? 25.0f : 0.0f);
  const float f = m - 1.0f;
  const float s = f / (2.0f + f);
  const float z = s * s;
  const float w = z * z;
  const float t1 = w * (0x1.99999ap-2f + w * (0x1.c71c52p-3f + w * 0x1.39a09ep-3f));
  const float t2 = z * (0x1.555556p-1f +
                        w * (0x1.24924ap-2f + w * (0x1.74664ap-3f + w * 0x1.2f112ep-3f)));
  const float R = t1 + t2;
  const float hfsq = 0.5f * f * f;
  const float v = e * 0x1.62e3p-1f - ((hfsq - (s * (hfsq + R) + e * 0x1.2fefa2p-17f)) - f);
  return v + add;
}

// The log-sum-exp's special cases (double: sf_exp_nonpos, sf_log_normal), in float the
// general functions.
SF_HD inline float sf_exp_nonpos(float x) { return sf_exp(x); }
SF_HD inline float sf_log_normal(float x) { return sf_log(x); }

// log(1 + x) as sf_log1p (double).
SF_HD inline float sf_log1p(float x) {
  const float inf = sf_from_bits32(0x7f800000u);
  const float u = 1.0f + x;
  const float v = u == 1.0f ? x : sf_log(u) * (x / (u - 1.0f));
  return x == inf ? inf : v;
}

// ---------------------------------------------------------------------------------------
// Threads per item (the CUDA kernels compiled with -DSF_ITEM_THREADS=4 or 32; 1 everywhere
// else). With 4, the four threads of an aligned quad solve one item together: thread q sums
// the points the accumulator's partial sum q takes (lm.hpp), and the quad combines the four
// partial sums with two shuffles in the accumulator's order, so that every thread of the quad
// holds the same sums, runs the same solver steps, and gets the CPU's bits. With 32, a warp
// solves one item: its threads evaluate 32 points at a time and pass each point's terms by
// shuffles to the threads of its partial sum (lm.hpp), which add them in the CPU's order.
#ifndef SF_ITEM_THREADS
#define SF_ITEM_THREADS 1
#endif
#if SF_ITEM_THREADS != 1 && SF_ITEM_THREADS != 4 && SF_ITEM_THREADS != 32
#error "SF_ITEM_THREADS must be 1, 4 or 32"
#endif
#if SF_ITEM_THREADS > 1
#ifndef SF_DEVICE_COMPILE
#error "SF_ITEM_THREADS > 1 is for the CUDA kernels"
#endif
// This thread's place among its item's threads, the mask of those threads in the warp, and v
// of the item's thread (place ^ m), or of its thread `src`.
SF_HD inline int sf_item_lane() { return static_cast<int>(threadIdx.x & (SF_ITEM_THREADS - 1u)); }
SF_HD inline unsigned sf_item_mask() {
  return SF_ITEM_THREADS == 32 ? 0xFFFFFFFFu : 0xFu << (threadIdx.x & 28u);
}
template <class T>
SF_HD inline T sf_item_xor(T v, int m) { return __shfl_xor_sync(sf_item_mask(), v, m, SF_ITEM_THREADS); }
template <class T>
SF_HD inline T sf_item_shfl(T v, int src) { return __shfl_sync(sf_item_mask(), v, src, SF_ITEM_THREADS); }
// Waits for the item's threads (and makes their memory writes visible to each other); what
// the item's first thread says of v.
SF_HD inline void sf_item_sync() { __syncwarp(sf_item_mask()); }
SF_HD inline bool sf_item_first_says(bool v) { return sf_item_shfl(static_cast<int>(v), 0) != 0; }
// Bit l: pred of the item's thread l (SF_ITEM_THREADS = 32).
SF_HD inline unsigned sf_item_ballot(bool pred) { return __ballot_sync(sf_item_mask(), pred); }
// The place of the n-th set bit (from 0) of m, which has more than n set bits.
SF_HD inline int sf_nth_bit(unsigned m, int n) {
  int at = 0;
  for (int half = 16; half > 0; half >>= 1) {
    const int below = __popc(m & ((1u << half) - 1u));
    if (n >= below) n -= below, m >>= half, at += half;
  }
  return at;
}
#else
SF_HD inline int sf_item_lane() { return 0; }
SF_HD inline void sf_item_sync() {}
SF_HD inline bool sf_item_first_says(bool v) { return v; }
#endif

#ifndef SF_DEVICE_COMPILE
// Calls fn(At<index>::type{}) for index in [0, N) (the registries of models.hpp and
// losses.hpp); false for an index outside.
template <template <int> class At, int N, int I = 0, class Fn>
bool dispatch_index(int index, Fn&& fn) {
  if constexpr (I == N) {
    return false;
  } else {
    if (index == I) {
      fn(typename At<I>::type{});
      return true;
    }
    return dispatch_index<At, N, I + 1>(index, static_cast<Fn&&>(fn));
  }
}
#endif

}  // namespace scalingfit
