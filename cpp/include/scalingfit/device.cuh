// scalingfit/device.cuh -- the CUDA driver: the core's items on the GPU, one per thread.
//
// Compiled at run time by NVRTC (through CuPy, python/scalingfit/_cuda.py) from the same
// headers as the CPU build: the kernels below only map GPU threads to items and call the
// per-item functions of items.hpp, which the CPU driver (batch.hpp) calls too. A block walks
// tiles of blockDim.x / SF_ITEM_THREADS consecutive items (tile = block, block + gridDim.x,
// ...; thread i of the block takes item i / SF_ITEM_THREADS of the tile), so a launch of a
// fixed number of threads covers any number of items and the bootstrap's scratch (one
// resample of the largest problem per thread) has a fixed size. Data sit in device memory in
// the CPU's CSR layout.
//
// Threads per item: 1, or with -DSF_ITEM_THREADS=4 a quad of threads per item, each summing a
// quarter of the points (config.hpp, lm.hpp): a quarter of the per-point sums in each thread's
// registers and four times the threads on a problem's points; or with -DSF_ITEM_THREADS=32 a
// warp per item, evaluating 32 points at a time, for batches of few problems of many points.
//
// Shared-memory staging: items of one problem are adjacent (a problem's starts, or its
// resamples), so a tile's items mostly read the points of one or a few problems, over and
// over (every solver iteration sums over them). Before a tile runs, its block copies the
// points of the problems its items refer to (t, y, w, and the bootstrap's yhat, resid) into
// shared memory, as many whole problems as `stage_cap` points hold, and the items of those
// problems solve on the copy (BatchData::base); items of other problems (a problem larger than
// the capacity, unsorted items) read device memory. The copy holds the same values, so
// results do not depend on what was staged (stage_cap = 0: nothing is).
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

// The part of the data a tile stages: points [r0, r0 + n) of the CSR arrays, which are the
// points of problems [ja, jc]. n = 0: nothing staged.
struct Stage {
  i64 ja, jc, r0, n;
};

// The problems to stage for the items [base, end) of a tile: from the first item's problem
// up to the last item's, as many whole problems as `cap` points hold (a binary search over
// the offsets). The same in every thread of the block (same reads), so a branch on it is
// uniform. Items need not be sorted: with a last problem before the first, nothing is staged.
SF_HD inline Stage plan_stage(const BatchData& d, const i64* problem, i64 base, i64 end,
                              i64 cap) {
  Stage st{0, -1, 0, 0};
  if (cap <= 0 || end <= base) return st;
  const i64 ja = problem[base], jb = problem[end - 1];
  if (ja < 0 || jb >= d.n_problems || jb < ja) return st;
  const i64 r0 = d.offsets[ja];
  i64 lo = ja - 1, hi = jb;  // the last problem that fits is in (lo, hi], or none: lo
  while (lo < hi) {
    const i64 mid = lo + (hi - lo + 1) / 2;
    if (d.offsets[mid + 1] - r0 <= cap) {
      lo = mid;
    } else {
      hi = mid - 1;
    }
  }
  if (lo < ja) return st;
  return Stage{ja, lo, r0, d.offsets[lo + 1] - r0};
}

// Thread `tid` of `nthreads` copies its share of n values of src into dst.
template <class T>
SF_HD inline void copy_strided(T* dst, const T* src, i64 n, i64 tid, i64 nthreads) {
  for (i64 i = tid; i < n; i += nthreads) dst[i] = src[i];
}

}  // namespace scalingfit

#ifdef SF_DEVICE_COMPILE

// The block's dynamic shared memory (its size is the launch's shared_mem argument).
#ifdef SF_CUDA_EMULATION
#define SF_SHARED_REALS(name) \
  scalingfit::real* name = static_cast<scalingfit::real*>(sf_emu_shared())
#else
#define SF_SHARED_REALS(name)                                   \
  extern __shared__ __align__(16) unsigned char sf_shared_bytes[]; \
  scalingfit::real* name = reinterpret_cast<scalingfit::real*>(sf_shared_bytes)
#endif

namespace scalingfit {

// Where a tile's staged points sit in the block's shared memory: stage_cap points of t, then
// y, w, yhat, resid (absent arrays take no room).
struct StagedPoints {
  const real *t, *y, *w, *yhat, *resid;
};

// Copies the tile's points into smem; every thread of the block must call it (it synchronises
// the block before and after the copy).
template <int K>
__device__ inline StagedPoints stage_points(const BatchData& d, const Stage& st, i64 cap,
                                            real* smem, const real* yhat, const real* resid) {
  __syncthreads();  // the previous tile's items are done with smem
  real* t = smem;
  real* y = t + cap * K;
  real* w = y + cap;
  real* f = w + (d.w ? cap : 0);
  real* e = f + (yhat ? cap : 0);
  const i64 tid = threadIdx.x, nt = blockDim.x;
  if (st.n > 0) {
    copy_strided(t, d.t + st.r0 * K, st.n * K, tid, nt);
    copy_strided(y, d.y + st.r0, st.n, tid, nt);
    if (d.w) copy_strided(w, d.w + st.r0, st.n, tid, nt);
    if (yhat) copy_strided(f, yhat + st.r0, st.n, tid, nt);
    if (resid) copy_strided(e, resid + st.r0, st.n, tid, nt);
  }
  __syncthreads();
  return StagedPoints{t, y, d.w ? w : nullptr, yhat ? f : nullptr, resid ? e : nullptr};
}

// The tiles of n_items items, blockDim.x / SF_ITEM_THREADS items each; block b takes tiles
// b, b + gridDim.x, ... Tile i holds items [base, end); this thread works on `item` (when below
// end), with the other SF_ITEM_THREADS - 1 threads of its quad or warp.
struct Tile {
  long long base, end, item;
};

__device__ inline long long tile_count(long long n_items) {
  const long long per_tile = blockDim.x / SF_ITEM_THREADS;
  return (n_items + per_tile - 1) / per_tile;
}

__device__ inline Tile tile_at(long long i, long long n_items) {
  const long long per_tile = blockDim.x / SF_ITEM_THREADS;
  const long long base = i * per_tile;
  return Tile{base, n_items < base + per_tile ? n_items : base + per_tile,
              base + threadIdx.x / SF_ITEM_THREADS};
}

// The data an item of problem j reads: the staged copy when its problem was staged, else
// device memory. Chosen pointer by pointer (a choice between two whole structs would put
// both in the thread's local memory).
SF_HD inline bool is_staged(const Stage& st, i64 j) { return st.n > 0 && j >= st.ja && j <= st.jc; }

SF_HD inline BatchData item_data(const BatchData& d, const Stage& st, const StagedPoints& s,
                                 bool in) {
  return BatchData{in ? s.t : d.t, in ? s.y : d.y, in ? s.w : d.w, d.offsets, d.valid,
                   d.n_problems, in ? st.r0 : 0};
}

}  // namespace scalingfit

// Fit items [0, n_items): item k solves problem[k] from p0[k] (items.hpp, solve_item).
template <class Model, class Loss>
__global__ void sf_fit(const scalingfit::real* t, const scalingfit::real* y,
                       const scalingfit::real* w,
                       const long long* offsets, const unsigned char* valid,
                       long long n_problems, const long long* problem, const double* p0,
                       long long n_items, const double* lo, const double* hi, double ftol,
                       double xtol, double gtol, int max_iter, double f_scale,
                       int log_residuals, double* x, double* cov, double* cost, int* status,
                       int* iterations, long long stage_cap, int flags) {
  using namespace scalingfit;
  SF_SHARED_REALS(smem);
  const BatchData data{t, y, (flags & kHasWeights) ? w : nullptr, offsets, valid, n_problems};
  const BatchItems items{problem, p0, n_items};
  const BatchOutputs out{x, (flags & kHasCov) ? cov : nullptr, cost, status, iterations};
  const Options opt = device_options(ftol, xtol, gtol, max_iter, f_scale, log_residuals);
  const long long n_tiles = tile_count(n_items);
  for (long long i = blockIdx.x; i < n_tiles; i += gridDim.x) {
    const Tile tile = tile_at(i, n_items);
    const Stage st = plan_stage(data, problem, tile.base, tile.end, stage_cap);
    const StagedPoints sp =
        stage_points<Model::kInputs>(data, st, stage_cap, smem, nullptr, nullptr);
    const long long k = tile.item;
    if (k < tile.end) {
      const bool in = is_staged(st, problem[k]);
      solve_item<Model, Loss>(item_data(data, st, sp, in), items, out, opt, lo, hi, k);
    }
  }
}

// Bootstrap items [0, n_items): item k solves resample replicate[k] of problem[k], warm-
// started at center[problem[k]] (items.hpp, solve_resample_item). The SF_ITEM_THREADS threads
// i * SF_ITEM_THREADS, ... of the launch regenerate each of their resamples into
// mult/gcount/ys + i * max_points (max_groups): one scratch per item's threads.
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
                            scalingfit::real* ys, long long max_points, long long max_groups,
                            long long stage_cap, int flags) {
  using namespace scalingfit;
  SF_SHARED_REALS(smem);
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
  const long long slot = (static_cast<long long>(blockIdx.x) * blockDim.x + threadIdx.x) / SF_ITEM_THREADS;
  int* my_mult = mult + slot * max_points;
  int* my_gcount = gcount + slot * max_groups;
  real* my_ys = ys + slot * max_points;
  const long long n_tiles = tile_count(n_items);
  for (long long i = blockIdx.x; i < n_tiles; i += gridDim.x) {
    const Tile tile = tile_at(i, n_items);
    const Stage st = plan_stage(data, problem, tile.base, tile.end, stage_cap);
    const StagedPoints sp =
        stage_points<Model::kInputs>(data, st, stage_cap, smem, spec.yhat, spec.resid);
    const long long k = tile.item;
    if (k < tile.end) {
      const bool in = is_staged(st, problem[k]);
      ResampleSpec s = spec;
      s.yhat = in ? sp.yhat : spec.yhat;
      s.resid = in ? sp.resid : spec.resid;
      solve_resample_item<Model, Loss>(item_data(data, st, sp, in), s, items, out, opt, lo, hi,
                                       k, my_mult, my_gcount, my_ys);
    }
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
