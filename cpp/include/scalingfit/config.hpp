// scalingfit/config.hpp -- the one host/device macro and the compile-time limits.
//
// Every header in this folder is compiled twice from the same source: by g++/clang for
// the CPU driver and by NVRTC (through CuPy) for the CUDA driver. Nothing here may throw,
// allocate, or include a header that NVRTC lacks.
#pragma once

#if defined(__CUDACC__) || defined(__CUDACC_RTC__)
#define SF_HD __host__ __device__
#define SF_DEVICE_COMPILE 1
#else
#define SF_HD
#include <cmath>
#include <cstdint>
#endif

namespace scalingfit {

// Largest parameter count of any built-in model; fixed-size arrays in the solver use it.
constexpr int kMaxParams = 8;
// Largest number of input columns (N, D, ...) of any built-in model.
constexpr int kMaxInputs = 4;

SF_HD inline double sf_min(double a, double b) { return a < b ? a : b; }
SF_HD inline double sf_max(double a, double b) { return a > b ? a : b; }
SF_HD inline double sf_abs(double a) { return a < 0 ? -a : a; }
SF_HD inline bool sf_isfinite(double a) { return a - a == 0.0; }  // false for NaN and +-inf

}  // namespace scalingfit
