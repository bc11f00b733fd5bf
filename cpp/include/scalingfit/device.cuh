// scalingfit/device.cuh -- the CUDA driver: the core's items on the GPU, one per thread.
//
// Compiled at run time by NVRTC (through CuPy, python/scalingfit/_cuda.py) from the same
// headers as the CPU build: the kernels below only map GPU threads to items and call the
// per-item functions of items.hpp, which the CPU driver (batch.hpp) calls too. Each thread
// walks the items k = thread, thread + stride, ... (a grid-stride loop), so a launch of a
// fixed number of threads covers any number of items and the bootstrap's scratch (one
// resample of the largest problem per thread) has a fixed size. Data sit in device memory in
// the CPU's CSR layout; items of one problem are adjacent, so the threads of a warp mostly
// read the same points (broadcast loads).
//
// The arithmetic of an item is that of the CPU's "plain" build (SCALINGFIT_SIMD=plain): the
// same solver, models, losses, exp/log (config.hpp) and Philox streams (rng.hpp), with the
// per-point sums in one plain loop (lm.hpp). Results therefore match the CPU to rounding
// (the compilers may contract a*b+c into fused multiply-adds in different places), and the
// resamples (integer multiplicities, perturbed targets) are identical.
//
// Compiled with -DSF_FLOAT32_DATA=1 (precision="float32"), the data arrays (t, y, w, yhat,
// resid and the scratch ys) are float and so is the per-point arithmetic (config.hpp): the
// arithmetic of the CPU's "float32" build.
//
// Kernel arguments are plain pointers and numbers (CuPy passes each as its NumPy type);
// an absent optional array is passed as any array and switched off by a bit of `flags`.
#pragma once
#include "items.hpp"
#include "losses.hpp"
#include "models.hpp"

namespace scalingfit {

// Bits of the kernels' `flags` argument.
enum DeviceFlags : int {
  kHasWeights = 1,
  kHasCov = 2,
  kHasProblemId = 4,
  kHasGroups = 8,
  kHasTargets = 16,
};

SF_HD inline Options device_options(double ftol, double xtol, double gtol, int max_iter,
                                    double f_scale, int log_residuals) {
  Options o;
  o.ftol = ftol;
  o.xtol = xtol;
  o.gtol = gtol;
  o.max_iter = max_iter;
  o.f_scale = f_scale;
  o.log_residuals = log_residuals != 0;
  return o;
}

}  // namespace scalingfit

#ifdef SF_DEVICE_COMPILE

// Fit items [0, n_items): item k solves problem[k] from p0[k] (items.hpp, solve_item).
template <class Model, class Loss>
__global__ void sf_fit(const scalingfit::real* t, const scalingfit::real* y,
                       const scalingfit::real* w,
                       const long long* offsets, const unsigned char* valid,
                       long long n_problems, const long long* problem, const double* p0,
                       long long n_items, const double* lo, const double* hi, double ftol,
                       double xtol, double gtol, int max_iter, double f_scale,
                       int log_residuals, double* x, double* cov, double* cost, int* status,
                       int* iterations, int flags) {
  using namespace scalingfit;
  const BatchData data{t, y, (flags & kHasWeights) ? w : nullptr, offsets, valid, n_problems};
  const BatchItems items{problem, p0, n_items};
  const BatchOutputs out{x, (flags & kHasCov) ? cov : nullptr, cost, status, iterations};
  const Options opt = device_options(ftol, xtol, gtol, max_iter, f_scale, log_residuals);
  const long long stride = static_cast<long long>(gridDim.x) * blockDim.x;
  for (long long k = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x; k < n_items;
       k += stride) {
    solve_item<Model, Loss>(data, items, out, opt, lo, hi, k);
  }
}

// Bootstrap items [0, n_items): item k solves resample replicate[k] of problem[k], warm-
// started at center[problem[k]] (items.hpp, solve_resample_item). Thread i of the launch
// regenerates each of its resamples into mult/gcount/ys + i * max_points (max_groups).
template <class Model, class Loss>
__global__ void sf_resample(const scalingfit::real* t, const scalingfit::real* y,
                            const scalingfit::real* w,
                            const long long* offsets, const unsigned char* valid,
                            long long n_problems, int scheme, int wild,
                            unsigned long long seed, const long long* problem_id,
                            const int* group, const long long* n_groups,
                            const scalingfit::real* yhat, const scalingfit::real* resid,
                            const double* center,
                            const long long* problem, const long long* replicate,
                            long long n_items, const double* lo, const double* hi, double ftol,
                            double xtol, double gtol, int max_iter, double f_scale,
                            int log_residuals, double* x, double* cov, double* cost,
                            int* status, int* iterations, int* mult, int* gcount,
                            scalingfit::real* ys,
                            long long max_points, long long max_groups, int flags) {
  using namespace scalingfit;
  const BatchData data{t, y, (flags & kHasWeights) ? w : nullptr, offsets, valid, n_problems};
  const bool targets = (flags & kHasTargets) != 0;
  const bool groups = (flags & kHasGroups) != 0;
  const ResampleSpec spec{scheme,
                          wild,
                          seed,
                          (flags & kHasProblemId) ? problem_id : nullptr,
                          groups ? group : nullptr,
                          groups ? n_groups : nullptr,
                          targets ? yhat : nullptr,
                          targets ? resid : nullptr,
                          center};
  const ResampleItems items{problem, replicate, n_items};
  const BatchOutputs out{x, (flags & kHasCov) ? cov : nullptr, cost, status, iterations};
  const Options opt = device_options(ftol, xtol, gtol, max_iter, f_scale, log_residuals);
  const long long tid = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x;
  const long long stride = static_cast<long long>(gridDim.x) * blockDim.x;
  int* my_mult = mult + tid * max_points;
  int* my_gcount = gcount + tid * max_groups;
  real* my_ys = ys + tid * max_points;
  for (long long k = tid; k < n_items; k += stride) {
    solve_resample_item<Model, Loss>(data, spec, items, out, opt, lo, hi, k, my_mult, my_gcount,
                                     my_ys);
  }
}

// The multiplicities of bootstrap items (the points, groups and jackknife schemes): row k of
// out (max_points ints) is the resample of item k, as solve_resample_item regenerates it. For
// tests: the GPU's resamples against the CPU's (_core.resample_multiplicities).
extern "C" __global__ void sf_multiplicities(const long long* offsets, int scheme,
                                  unsigned long long seed, const long long* problem_id,
                                  const int* group, const long long* n_groups,
                                  const long long* problem, const long long* replicate,
                                  long long n_items, int* out, int* gcount, long long max_points,
                                  long long max_groups, int flags) {
  using namespace scalingfit;
  const long long tid = static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x;
  const long long stride = static_cast<long long>(gridDim.x) * blockDim.x;
  const bool groups = (flags & kHasGroups) != 0;
  for (long long k = tid; k < n_items; k += stride) {
    const long long j = problem[k];
    const long long o0 = offsets[j];
    const long long pid = (flags & kHasProblemId) ? problem_id[j] : j;
    int* row = out + k * max_points;
    for (long long i = 0; i < max_points; ++i) row[i] = -1;
    resample_multiplicities(scheme, seed, pid, replicate[k], offsets[j + 1] - o0,
                            groups ? group + o0 : nullptr, groups ? n_groups[j] : 0,
                            gcount + tid * max_groups, row);
  }
}

#endif  // SF_DEVICE_COMPILE
