// scalingfit/bootstrap.hpp -- resamples as pure functions of (seed, problem, replicate).
//
// Nothing is stored per replicate. A bootstrap item is (problem, replicate); the thread (or
// GPU lane) that solves it regenerates its resample from the Philox stream keyed by the seed
// and named by (replicate, problem, purpose) into a scratch buffer of its own, then runs the
// ordinary LM solve on it (on the CPU, on a copy of the points it drew, made in that scratch:
// compact_resample below; on the GPU, on the shared points with the multiplicities). The
// same numbers give the same resample, and the same sums, on any thread count and either
// backend. Replicate -1 is the original data.
//
// Schemes, and what the solve sees:
//   points     multinomial counts: n draws of a point, uniform with replacement; the count
//              of point i is its integer multiplicity (ProblemView::mult).
//   groups     cluster bootstrap: G draws of a group (a run); every point of a group drawn k
//              times has multiplicity k.
//   residual   y*_i = yhat_i + u_{J_i} / sqrt(w_i), J_i uniform on the n points, with
//              u_j = sqrt(w_j) e_j / sqrt(1 - h_j) centred (Davison & Hinkley's modified
//              residuals, alg. 6.3): real-valued targets, multiplicities all one.
//   wild       y*_i = yhat_i + v_i e_i / sqrt(1 - h_i), v_i iid with mean 0 and variance 1
//              (Rademacher, Webb's six-point, or Mammen's two-point); point i always uses
//              the same words of its stream, so a lane can seek to it.
//   jackknife  leave-one-out (points or groups) for the BCa acceleration: replicate r
//              deletes point (group) r.
// e_i = y_i - yhat_i are the residuals of the point fit in the space the solver works in
// (log space for log residuals), h_i the leverages w_i J_i^T (J^T W J)^-1 J_i there. For the
// residual and wild schemes the per-point arrays yhat and u (or e / sqrt(1 - h)) are computed
// once per problem from the point fit (prepare_residuals): O(n) numbers like the data
// themselves, shared by all replicates; the perturbed targets are regenerated per item into
// the lane's scratch. Studentized intervals need each replicate's standard errors: for the
// multiplicity schemes the Gauss-Newton covariance of an item is rescaled to n - P degrees of
// freedom (n = sum of multiplicities), as if the resample were a data set of n points.
#pragma once
#include "config.hpp"
#include "lm.hpp"
#include "rng.hpp"

namespace scalingfit {

// Fixed values: the Python layer (scalingfit/bootstrap.py) mirrors them.
enum Scheme : int {
  kSchemePoints = 0,
  kSchemeGroups = 1,
  kSchemeResidual = 2,
  kSchemeWild = 3,
  kSchemeJackknifePoints = 4,
  kSchemeJackknifeGroups = 5,
};
enum WildWeights : int { kWildRademacher = 0, kWildWebb = 1, kWildMammen = 2 };

// Purpose tags (low byte of stream word s3): the streams of different schemes never overlap.
constexpr u32 kTagPoints = 1u, kTagGroups = 2u, kTagResidual = 3u, kTagWild = 4u;

SF_HD inline bool scheme_uses_targets(int scheme) {
  return scheme == kSchemeResidual || scheme == kSchemeWild;
}
SF_HD inline bool scheme_uses_groups(int scheme) {
  return scheme == kSchemeGroups || scheme == kSchemeJackknifeGroups;
}
SF_HD inline bool scheme_is_known(int scheme) {
  return scheme >= kSchemePoints && scheme <= kSchemeJackknifeGroups;
}

// The stream of one resample: key = seed; (s1, s2, s3) = (replicate, problem low word,
// tag | problem bits 32..55 << 8). Problem ids are taken modulo 2^56, replicates modulo 2^32.
SF_HD inline void open_resample_stream(PhiloxStream& s, u64 seed, long long problem,
                                       long long replicate, u32 tag) {
  const u64 pid = static_cast<u64>(problem);
  const u32 high = static_cast<u32>((pid >> 32) & 0xFFFFFFu);
  s.init(seed, static_cast<u32>(replicate), static_cast<u32>(pid), tag | (high << 8));
}

// Integer multiplicities of one resample (points, groups and jackknife schemes): fills
// mult[0..n). group: each point's group id in [0, n_groups) (group schemes), gcount: scratch
// of n_groups ints. Replicate < 0: all ones. Returns false for an unusable request.
SF_HD inline bool resample_multiplicities(int scheme, u64 seed, long long problem,
                                          long long replicate, long long n, const int* group,
                                          long long n_groups, int* gcount, int* mult) {
  if (n < 0 || n > 0xFFFFFFFFll) return false;
  if (replicate < 0) {
    for (long long i = 0; i < n; ++i) mult[i] = 1;
    return true;
  }
  PhiloxStream s;
  switch (scheme) {
    case kSchemePoints: {
      for (long long i = 0; i < n; ++i) mult[i] = 0;
      if (n == 0) return true;
      open_resample_stream(s, seed, problem, replicate, kTagPoints);
      const u32 un = static_cast<u32>(n);
      for (long long k = 0; k < n; ++k) mult[s.below(un)] += 1;
      return true;
    }
    case kSchemeGroups: {
      if (!group || n_groups < 1 || n_groups > 0xFFFFFFFFll) return false;
      for (long long g = 0; g < n_groups; ++g) gcount[g] = 0;
      open_resample_stream(s, seed, problem, replicate, kTagGroups);
      const u32 ug = static_cast<u32>(n_groups);
      for (long long k = 0; k < n_groups; ++k) gcount[s.below(ug)] += 1;
      for (long long i = 0; i < n; ++i) {
        const int g = group[i];
        if (g < 0 || g >= n_groups) return false;
        mult[i] = gcount[g];
      }
      return true;
    }
    case kSchemeJackknifePoints:
      for (long long i = 0; i < n; ++i) mult[i] = (i == replicate) ? 0 : 1;
      return true;
    case kSchemeJackknifeGroups:
      if (!group) return false;
      for (long long i = 0; i < n; ++i) mult[i] = (group[i] == replicate) ? 0 : 1;
      return true;
    default:
      return false;
  }
}

// One wild multiplier with mean 0 and variance 1; uses exactly one word (Rademacher) or
// two words (Webb, Mammen: a 53-bit uniform, bias below 1e-15) of the stream.
SF_HD inline double wild_weight(PhiloxStream& s, int dist) {
  if (dist == kWildRademacher) return (s.next_u32() >> 31) ? 1.0 : -1.0;
  const double u = s.next_double();
  if (dist == kWildWebb) {
    // +-sqrt(1/2), +-1, +-sqrt(3/2), each with probability 1/6 (Webb 2014).
    const int k = static_cast<int>(u * 6.0);
    const double mag = k == 0 || k == 5 ? sqrt(1.5) : (k == 1 || k == 4 ? 1.0 : sqrt(0.5));
    return k < 3 ? -mag : mag;
  }
  // Mammen (1993): -(sqrt5 - 1)/2 with probability (sqrt5 + 1)/(2 sqrt5), else (sqrt5 + 1)/2.
  const double r5 = sqrt(5.0);
  return u < (r5 + 1.0) / (2.0 * r5) ? -(r5 - 1.0) / 2.0 : (r5 + 1.0) / 2.0;
}

// Real-valued targets of one resample (residual and wild schemes), in the solver's space.
// y: the original targets; yhat, resid: from prepare_residuals; w: weights or null; donors:
// scratch of n ints (used by the residual scheme with weights). Replicate < 0: y_out = y.
// Returns false for an unknown scheme or distribution, or (residual scheme) when no point has a
// positive weight.
SF_HD inline bool resample_targets(int scheme, int wild, u64 seed, long long problem,
                                   long long replicate, long long n, const real* y,
                                   const real* yhat, const real* resid, const real* w,
                                   real* y_out, int* donors) {
  if (n < 0 || n > 0x7FFFFFFFll) return false;
  if (replicate < 0) {
    for (long long i = 0; i < n; ++i) y_out[i] = y[i];
    return true;
  }
  PhiloxStream s;
  if (scheme == kSchemeResidual) {
    // Donors are the points of positive weight (a point of weight 0 has no residual: drawing
    // its 0 would shrink the spread by sqrt(n_positive / n)), drawn as below(n_positive) and
    // looked up in their table: with every weight positive the table is the identity and the
    // stream is used as without weights.
    long long n_pos = n;
    if (w) {
      n_pos = 0;
      for (long long i = 0; i < n; ++i) {
        if (w[i] > real(0)) donors[n_pos++] = static_cast<int>(i);
      }
      if (n_pos == 0) return false;
    }
    open_resample_stream(s, seed, problem, replicate, kTagResidual);
    const u32 un = static_cast<u32>(n_pos);
    for (long long i = 0; i < n; ++i) {
      const u32 d = s.below(un);
      const long long j = w ? donors[d] : static_cast<long long>(d);
      const real scale = w ? (w[i] > real(0) ? real(1) / sf_sqrt(w[i]) : real(0)) : real(1);
      y_out[i] = yhat[i] + resid[j] * scale;
    }
    return true;
  }
  if (scheme == kSchemeWild) {
    if (wild < kWildRademacher || wild > kWildMammen) return false;
    open_resample_stream(s, seed, problem, replicate, kTagWild);
    for (long long i = 0; i < n; ++i) {
      y_out[i] = yhat[i] + static_cast<real>(wild_weight(s, wild)) * resid[i];
    }
    return true;
  }
  return false;
}

// Per-point fitted values and adjusted residuals of the point fit p (one problem), in the
// solver's space. Fills yhat[i] and resid[i]: for kSchemeResidual the centred, leverage-
// adjusted, weight-standardised residuals u_i; for kSchemeWild e_i / sqrt(1 - h_i).
// Leverages come from the Gauss-Newton matrix J^T W J of the free parameters (lo/hi, may be
// null: a parameter with equal bounds is fixed, as in solve, and has no column in J); if that
// is singular every h_i is replaced by its mean n_free / n. Returns false if the model is not
// finite (or not positive under log residuals) at some point. Double builds only: the float32
// builds solve on the double preparation's yhat and resid, rounded to float by their callers.
#ifndef SF_FLOAT32_DATA
template <class Model>
SF_HD bool prepare_residuals(const ProblemView& d, const double* p, bool log_residuals,
                             int scheme, double* yhat, double* resid,
                             const double* lo = nullptr, const double* hi = nullptr) {
  constexpr int P = Model::kParams;
  double H[kMaxParams * kMaxParams], L[kMaxParams * kMaxParams], J[kMaxParams];
  double keep[kMaxParams];  // 1 for a free parameter, 0 for a fixed one
  int n_free = 0;
  for (int a = 0; a < P; ++a) {
    keep[a] = lo && hi && lo[a] == hi[a] ? 0.0 : 1.0;
    n_free += keep[a] != 0.0 ? 1 : 0;
  }
  for (int a = 0; a < P * kMaxParams; ++a) H[a] = 0.0;
  double n_pos = 0.0;
  for (long long i = 0; i < d.n; ++i) {
    const double w = d.w ? d.w[i] : 1.0;
    double f = Model::eval(p, d.t + i * Model::kInputs, J);
    if (log_residuals) {
      if (!(f > 0.0)) return false;
      for (int a = 0; a < P; ++a) J[a] /= f;
      f = log(f);
    }
    if (!sf_isfinite(f)) return false;
    for (int a = 0; a < P; ++a) J[a] *= keep[a];
    yhat[i] = f;
    resid[i] = d.y[i] - f;
    if (w > 0.0) n_pos += 1.0;
    for (int a = 0; a < P; ++a) {
      for (int b = a; b < P; ++b) H[a * kMaxParams + b] += w * J[a] * J[b];
    }
  }
  double dinv[kMaxParams];
  bool ok = true;
  for (int a = 0; a < P; ++a) {
    const double haa = H[a * kMaxParams + a];
    ok = ok && (keep[a] == 0.0 || (haa > 0.0 && sf_isfinite(haa)));
    dinv[a] = keep[a] != 0.0 && haa > 0.0 ? 1.0 / sqrt(haa) : 0.0;
  }
  for (int a = 0; a < P; ++a) {
    for (int b = a; b < P; ++b) {
      // A fixed parameter's row and column: the identity's (its z entry below is 0).
      const double v = keep[a] == 0.0 || keep[b] == 0.0 ? (a == b ? 1.0 : 0.0)
                                                         : H[a * kMaxParams + b] * dinv[a] * dinv[b];
      H[a * kMaxParams + b] = v;
      H[b * kMaxParams + a] = v;
    }
  }
  ok = ok && cholesky(H, P, L, 1e-13);
  const double h_mean = n_pos > 0.0 ? n_free / n_pos : 0.0;
  double sum_u = 0.0;
  for (long long i = 0; i < d.n; ++i) {
    const double w = d.w ? d.w[i] : 1.0;
    double h = h_mean;
    if (ok) {
      Model::eval(p, d.t + i * Model::kInputs, J);
      const double scale = log_residuals ? exp(-yhat[i]) : 1.0;  // 1 / f
      double z[kMaxParams];
      for (int a = 0; a < P; ++a) z[a] = J[a] * scale * dinv[a] * keep[a];
      double q[kMaxParams];
      cholesky_solve(L, P, z, q);
      double s = 0.0;
      for (int a = 0; a < P; ++a) s += z[a] * q[a];
      h = w * s;
    }
    if (!(w > 0.0)) h = 0.0;
    const double adj = 1.0 / sqrt(sf_max(1.0 - h, 1e-6));
    double r = resid[i] * adj;
    if (scheme == kSchemeResidual) {
      r = w > 0.0 ? sqrt(w) * r : 0.0;
      sum_u += r;
    }
    resid[i] = r;
  }
  if (scheme == kSchemeResidual && n_pos > 0.0) {
    const double mean = sum_u / n_pos;
    for (long long i = 0; i < d.n; ++i) {
      const double w = d.w ? d.w[i] : 1.0;
      if (w > 0.0) resid[i] -= mean;
    }
  }
  return true;
}
#endif  // SF_FLOAT32_DATA

// Reals (config.hpp) of the scratch `ys` of solve_resample on the CPU for a problem of n points: the
// perturbed targets (residual and wild schemes) or the compacted resample (the others:
// inputs, target and weight of every point drawn). The GPU needs n (no compaction there).
template <class Model>
SF_HD constexpr long long resample_work_size(long long n) {
  return n * (Model::kInputs + 2);
}

// The points of d with a positive weight w_i * mult_i, in order, copied into work
// (resample_work_size reals): inputs, then targets, then weights. A resample leaves out
// ~37% of the points; on the CPU, solving on the points it draws, compacted once, instead
// of the blocked accumulator skipping the others on every evaluation took P4 of bench/
// (1,000 resamples of 200 points) from 8.8 to 6.4 us per resample. The weights are the
// products the accumulator forms, and both accumulators number the points of positive
// weight over the whole problem (lm.hpp), so the sums are the same, bit for bit, as those
// of the uncompacted view. The GPU (and the CPU's "plain" build, its stand-in in the tests)
// solves the uncompacted view: there every lane would stream its own copy of the points
// from memory, where the original points are shared by all the lanes of a problem.
template <class Model>
SF_HD inline ProblemView compact_resample(const ProblemView& d, const int* mult, real* work) {
  constexpr int K = Model::kInputs;
  real* t = work;
  real* y = work + d.n * K;
  real* w = y + d.n;
  ProblemView drawn = d;
  drawn.mult = mult;
  long long n = 0;
  for (long long i = 0; i < d.n; ++i) {
    const real wi = point_weight(drawn, i);
    if (!(wi > real(0))) continue;
    for (int c = 0; c < K; ++c) t[n * K + c] = d.t[i * K + c];
    y[n] = d.y[i];
    w[n] = wi;
    ++n;
  }
  return ProblemView{t, y, w, nullptr, n, true};
}

// Solves one bootstrap item: the resample `replicate` of one problem, started at p (in/out).
// Scratch: mult (n ints), gcount (n_groups ints), ys (resample_work_size reals); which are
// used depends on the scheme. For the multiplicity schemes cov is rescaled to n - P degrees
// of freedom (P the free parameters).
template <class Model, class Loss>
SF_HD SolveResult solve_resample(const ProblemView& d, int scheme, int wild, u64 seed,
                                 long long problem_id, long long replicate, const int* group,
                                 long long n_groups, const real* yhat, const real* resid,
                                 const Options& o, const double* lo, const double* hi,
                                 double* p, double* cov, int* mult, int* gcount, real* ys) {
  constexpr int P = Model::kParams;
  ProblemView v = d;
  SolveResult bad{kStatusBadInput, 0, nan("")};
  const bool targets = scheme_uses_targets(scheme);
  // With several GPU threads per item (config.hpp) the item's threads share one scratch: its
  // first thread regenerates the resample there, once the others are done with the previous
  // one, and they all read it after the second barrier.
  sf_item_sync();
  bool drawn = true;
  if (sf_item_lane() == 0) {
    drawn = targets ? resample_targets(scheme, wild, seed, problem_id, replicate, d.n, d.y, yhat,
                                       resid, d.w, ys, mult)  // mult: the donor table here
                    : resample_multiplicities(scheme, seed, problem_id, replicate, d.n, group,
                                              n_groups, gcount, mult);
  }
  sf_item_sync();
  if (!sf_item_first_says(drawn)) return bad;
  if (targets) {
    v.y = ys;
    return solve<Model, Loss>(v, o, lo, hi, p, cov);
  }
#ifdef SF_LANES_ACCUMULATOR
  SolveResult r = solve<Model, Loss>(compact_resample<Model>(d, mult, ys), o, lo, hi, p, cov);
#else
  v.mult = mult;
  SolveResult r = solve<Model, Loss>(v, o, lo, hi, p, cov);
#endif
  if (cov) {
    double n_distinct = 0.0, n_total = 0.0;
    for (long long i = 0; i < d.n; ++i) {
      const bool positive = d.w ? d.w[i] > real(0) : true;
      if (positive && mult[i] > 0) {
        n_distinct += 1.0;
        n_total += mult[i];
      }
    }
    // The degrees of freedom are those of the free parameters (equal bounds fix one), as
    // in solve's covariance: n_distinct - P_free of the resample's n_total - P_free.
    const int P_free = free_count<P>(lo, hi);
    const double f = n_total > P_free ? (n_distinct - P_free) / (n_total - P_free) : nan("");
    for (int a = 0; a < P * P; ++a) cov[a] *= f;
  }
  return r;
}

}  // namespace scalingfit
