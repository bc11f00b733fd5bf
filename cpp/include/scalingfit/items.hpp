// scalingfit/items.hpp -- one item of a batch, the same on the CPU and on the GPU.
//
// A batch is CSR-packed data of many problems plus items that refer to them: a fit item k
// solves problem `problem[k]` from start `p0[k]`; a bootstrap item k solves the resample
// `replicate[k]` of problem `problem[k]`, warm-started at that problem's point fit. The two
// functions here do everything for one item (look up its problem, regenerate its resample,
// solve, write its outputs), so the CPU driver (batch.hpp: a loop over a chunk of items on a
// pool thread) and the CUDA driver (device.cuh: one item per GPU thread) differ only in who
// calls them, never in the arithmetic an item sees.
#pragma once
#include "bootstrap.hpp"
#include "config.hpp"
#include "lm.hpp"

namespace scalingfit {

struct BatchData {
  const real* t;       // n_points x n_inputs model inputs (logs taken where needed)
  const real* y;       // n_points targets (log y for log residuals)
  const real* w;       // n_points weights, or null
  const i64* offsets;  // n_problems + 1
  const u8* valid;     // n_problems flags: 0 = data unusable (status kStatusBadInput)
  i64 n_problems;
  // The point that t, y, w (and a ResampleSpec's yhat, resid) start at: 0, except for a copy
  // of some problems' points (device.cuh stages them in the GPU's shared memory).
  i64 base = 0;
};

struct BatchItems {
  const i64* problem;  // n_items problem indices
  const double* p0;    // n_items x n_params starts
  i64 n_items;
};

struct BatchOutputs {
  double* x;      // n_items x n_params
  double* cov;    // n_items x n_params x n_params, or null
  double* cost;   // n_items
  i32* status;    // n_items
  i32* iterations;
};

// What a bootstrap batch needs besides the data (all arrays caller-owned).
struct ResampleSpec {
  int scheme;
  int wild;
  u64 seed;
  const i64* problem_id;  // n_problems stream ids (null: the problem's index)
  const i32* group;       // n_points group ids local to their problem, or null
  const i64* n_groups;    // n_problems group counts, or null
  const real* yhat;       // n_points fitted values (residual and wild schemes), or null
  const real* resid;      // n_points adjusted residuals (residual and wild), or null; both
                          // start at the point BatchData::base, as t and y do
  const double* center;   // n_problems x n_params: the point fits (warm starts)
};

struct ResampleItems {
  const i64* problem;    // n_items problem indices
  const i64* replicate;  // n_items replicate ids (-1: the original data)
  i64 n_items;
};

// The points of problem j.
template <class Model>
SF_HD inline ProblemView problem_view(const BatchData& data, i64 j) {
  const i64 o0 = data.offsets[j], s0 = o0 - data.base;
  return ProblemView{data.t + s0 * Model::kInputs, data.y + s0, data.w ? data.w + s0 : nullptr,
                     nullptr, static_cast<long long>(data.offsets[j + 1] - o0)};
}

// Writes the outcome of item k (x is written by the callers, in place or from a copy, before
// this): an item that could not be started (kStatusBadInput: unusable data or weights, a start
// outside the bounds) gets NaN parameters, not its start, so a failed fit never looks like one.
SF_HD inline void write_item(const BatchOutputs& out, i64 k, int n_params, const SolveResult& r) {
  if (r.status == kStatusBadInput) {
    for (int a = 0; a < n_params; ++a) out.x[k * n_params + a] = nan("");
  }
  out.cost[k] = r.cost;
  out.status[k] = r.status;
  out.iterations[k] = r.iterations;
}

// Where an item's covariance is solved into. With several GPU threads per item (a quad or a
// warp: SF_ITEM_THREADS = 4 or 32, config.hpp) each of them solves into its own copy (the
// solver reads what it wrote) and the item's first thread writes it out; with one thread per
// item the solver writes it in place.
template <int P>
struct ItemCov {
#if SF_ITEM_THREADS > 1
  double copy[P * P];
  SF_HD double* at(const BatchOutputs& out, i64) { return out.cov ? copy : nullptr; }
  SF_HD void write(const BatchOutputs& out, i64 k) const {
    if (out.cov) {
      for (int a = 0; a < P * P; ++a) out.cov[k * P * P + a] = copy[a];
    }
  }
#else
  SF_HD double* at(const BatchOutputs& out, i64 k) { return out.cov ? out.cov + k * P * P : nullptr; }
  SF_HD void write(const BatchOutputs&, i64) const {}
#endif
};

// Fit item k. The solver iterates on a copy of the parameters on the caller's stack (threads
// working on neighbouring items do not share cache lines while they run).
template <class Model, class Loss>
SF_HD void solve_item(const BatchData& data, const BatchItems& items, const BatchOutputs& out,
                      const Options& opt, const double* lo, const double* hi, i64 k) {
  constexpr int P = Model::kParams;
  double p[kMaxParams];
  for (int a = 0; a < P; ++a) p[a] = items.p0[k * P + a];
  ItemCov<P> item_cov;
  double* cov = item_cov.at(out, k);
  const i64 j = items.problem[k];
  SolveResult r{kStatusBadInput, 0, nan("")};
  if (j >= 0 && j < data.n_problems && data.valid[j]) {
    r = solve<Model, Loss>(problem_view<Model>(data, j), opt, lo, hi, p, cov);
  } else if (cov) {
    for (int a = 0; a < P * P; ++a) cov[a] = nan("");
  }
  if (sf_item_lane() != 0) return;  // the item's first thread writes
  item_cov.write(out, k);
  for (int a = 0; a < P; ++a) out.x[k * P + a] = p[a];
  write_item(out, k, P, r);
}

// Bootstrap item k, regenerating its resample into the caller's scratch (mult: the largest
// problem's point count of ints, gcount: the largest group count of ints, ys: the largest
// point count of reals; which are used depends on the scheme).
template <class Model, class Loss>
SF_HD void solve_resample_item(const BatchData& data, const ResampleSpec& spec,
                               const ResampleItems& items, const BatchOutputs& out,
                               const Options& opt, const double* lo, const double* hi, i64 k,
                               int* mult, int* gcount, real* ys) {
  constexpr int P = Model::kParams;
#if SF_ITEM_THREADS > 1
  double p[kMaxParams];
#else
  double* p = out.x + k * P;
#endif
  ItemCov<P> item_cov;
  double* cov = item_cov.at(out, k);
  const i64 j = items.problem[k];
  SolveResult r{kStatusBadInput, 0, nan("")};
  const bool ok = j >= 0 && j < data.n_problems && data.valid[j];
  for (int a = 0; a < P; ++a) p[a] = ok ? spec.center[j * P + a] : nan("");
  if (ok) {
    const i64 o0 = data.offsets[j], s0 = o0 - data.base;
    const long long pid = spec.problem_id ? spec.problem_id[j] : j;
    r = solve_resample<Model, Loss>(
        problem_view<Model>(data, j), spec.scheme, spec.wild, spec.seed, pid,
        items.replicate[k], spec.group ? spec.group + o0 : nullptr,
        spec.n_groups ? spec.n_groups[j] : 0, spec.yhat ? spec.yhat + s0 : nullptr,
        spec.resid ? spec.resid + s0 : nullptr, opt, lo, hi, p, cov, mult, gcount, ys);
  } else if (cov) {
    for (int a = 0; a < P * P; ++a) cov[a] = nan("");
  }
  if (sf_item_lane() != 0) return;  // the item's first thread writes
  item_cov.write(out, k);
#if SF_ITEM_THREADS > 1
  for (int a = 0; a < P; ++a) out.x[k * P + a] = p[a];
#endif
  write_item(out, k, P, r);
}

}  // namespace scalingfit
