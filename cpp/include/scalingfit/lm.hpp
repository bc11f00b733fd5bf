// scalingfit/lm.hpp -- one problem's Levenberg-Marquardt solve; a pure function of its inputs.
//
// Objective (scipy.optimize.least_squares contract, weights as multiplicities):
//   cost(p) = 1/2 sum_i w_i f^2 rho(r_i(p)^2 / f^2),
//   r_i = model(p, x_i) - y_i            (plain residuals), or
//   r_i = log model(p, x_i) - log y_i    (log residuals; the driver passes log y_i).
// A weight of k counts a point k times in the cost (so bootstrap multiplicities are weights);
// the covariance's residual degrees of freedom count the points with w > 0.
//
// Step: (H + mu diag(DS)) h = -g with g = sum w rho' r J (the exact gradient) and
// H = sum w rho' J J^T (but see "Curvature switch"). For rho'' <= 0 (every robust loss
// here) this is the iteratively reweighted Gauss-Newton matrix that Ceres' Corrector uses.
// D is Marquardt's Jacobi scaling: the running maximum of diag(H) (as in MINPACK), so results
// do not depend on the units of the parameters; DS is D with a relative floor for vanishing
// columns (below).
//
// Curvature switch (robust losses). The reweighted matrix overstates the curvature of a
// robust loss (it majorizes it), so near a solution the steps are too short and the
// iteration converges only linearly: on Epoch's grid (Huber, delta 1e-3, log residuals) the
// gain ratio settles near 1.87 and the error shrinks by ~0.87 per step, for 60 of the ~120
// trial steps of a typical start. The exact Gauss-Newton curvature of the loss,
// k = rho' + 2 z rho'' (scipy's, floored at kCurvatureFloor * rho' as it can be <= 0), gives
// Newton-like steps there but from the start leads many starts of the grid elsewhere (15 of
// 150 sampled starts reached the best objective, against 133). So the solver starts with the
// reweighted matrix and switches to the exact one for the trial points after kSwitchSteps
// accepted steps in a row with a gain ratio above kSwitchRatio (the signature of the
// overstated curvature) once a step lowers the cost by less than kSwitchDecrease of it; any
// rejected step switches back. The reweighted matrix is recomputed at the solution for the
// identifiability test and the covariance, so those mean what they meant without the switch.
// Measured on Epoch's whole grid: trial steps per start 145 -> 68 (the grid 1.46 s -> 0.69 s
// on one thread); 4,130 -> 4,119 starts converge; 3,903 -> 3,524 at the best objective. The
// 379 starts moved off the best stop at stationary points where a term of the law has died
// (e -> -70; no coordinate move lowers the cost, tests/test_chinchilla.py), which the slow
// crawl used to drift out of after ~285 trial steps. A later switch trades speed for them
// (kSwitchDecrease 1e-6: 85 steps, 266 moved; 1e-8: 106, 128; 1e-10: 127, 49), and
// extrapolating the reweighted steps along their direction instead (the minimum of the
// parabola through two costs and the slope) saved less (94 steps) and moved as many (327).
// soft_l1 and cauchy on the same data and starts (a NumPy replica, every 30th start): 116 ->
// 85 and 302 -> 172 trial steps. The linear loss has no switch: its fits are unchanged.
//
// Damping scale DS. Jacobi scaling alone fails when a column of J vanishes: e.g.
// chinchilla_lse from (a, b, e, alpha, beta) = (5, 5, 1, 2, 1.5), where A/N^alpha and
// B/D^beta are ~1e-15 of E. Then D_a ~ J_a^2 is tiny, mu D_a puts no penalty on a, and the
// step in a is ~ r / J_a ~ 1e14: every trial is rejected, mu grows until the step in the live
// directions is negligible, and the xtol test (in the same norm) or the mu >= 1e300 test
// reported convergence at the start (on Epoch's 4,500-start grid, 956 of 2,284 "converged"
// starts had not moved). A floor relative to max diag(H) alone would break models in natural
// units (kaplan_nd: N_c ~ 1e13, whose H_kk is legitimately ~1e-26 of the others'), so the
// floor compares columns per *relative* change of each parameter, D_a M_a^2 with M_a ~ |p_a|
// (the curvature of a change of p_a by its own magnitude; invariant under p_a -> c p_a):
//   DS_a = max(D_a, tau * min(dmax, R / M_a^2)),  R = max_b D_b M_b^2,  dmax = max_b D_b,
// tau = kDampingFloor = 1e-8: a parameter whose relative column norm is below 1e-4 of the
// largest is damped as if it were 1e-4 of it. DS is used in the damped equations and in the
// xtol norms; where no column is that small (every problem of bench/ P1, P2, P4) DS = D and
// the results are bit for bit those without the floor. The details, each for a reason:
//   - M_a is the current |p_a|, not a running maximum: a parameter that shrinks by decades
//     (kaplan_nd's N_c falling to 1e-13 once its term has died) must be measured at its
//     present size, or its floor is far too weak there;
//   - a parameter that started at exactly 0 has M_a = max(|p_a|, 1): 0 carries no magnitude
//     (MINPACK's initial step bound falls back to 1 alike; here units matter, for such
//     parameters only; bounds tighter than [-1, 1] give the unit instead, zero_start_unit).
//     Without it a stiff parameter at 0 (e = 0 in Hoffmann's grid, with every other term
//     vanishing) drops out of R and the floor with it;
//   - the floor is capped at tau * dmax (the min), so a parameter passing near 0
//     (M_a -> 0) is never frozen by it;
//   - R uses the running maximum D, the scale the stiff parameters are actually damped with:
//     with the current diag(H) instead, a D_b kept from an earlier point 1e14 above the
//     current H_bb made the floor 1e14 too weak next to it, and the stall came back.
// On Epoch's grid (tau 1e-8, before the curvature switch): no converged start left unmoved
// (was 956), 4,130 starts converge (was 2,284), 3,900 reach the best objective (was 1,222).
// tau 1e-12 and 1e-10 also leave none unmoved but converge fewer (2,973, 3,493); 1e-6
// converges more (4,402) but also changes ordinary fits of isoflop_parabola, learning_curve
// and lr_annealing.
//
// The damping mu follows Nielsen's rule, with the factor for a very
// good step (gain ratio near 1) floored at 1/10 instead of 1/3: near the solution the damping
// then falls off faster and the last steps are nearly Gauss-Newton (about 9% fewer trial
// steps on the well-posed fits of bench/, 7% more on Epoch's robust-loss grid). Box bounds
// are handled by an active set (a parameter at a bound whose gradient points outward is frozen
// for the step) and projection of the step.
//
// Evaluation: cost, g and H come from one pass over the points (J is never stored). On the
// CPU the pass runs in blocks of points: the per-point terms of a block first (a branch-free
// loop that the compiler vectorises, with the solver's own exp/log from config.hpp), then the
// sums with four independent partial sums per entry (the l-th point of positive weight goes
// to partial sum l % 4), combined in a fixed order; on the GPU the same order of operations
// one point at a time (so that the two give the same bits where neither contracts a*b+c into
// a fused multiply-add). Models may provide eval_log (log of the value and its gradient) for
// log residuals. Either way the result depends on the data only, never on the thread count.
//
// Stopping (all scale-free):
//   gtol  max_k |g_k| / sqrt(H_kk * 2 cost) <= gtol over the free parameters
//         (the cosine between the residual vector and each Jacobian column, as MINPACK);
//   ftol  actual and predicted reduction both <= ftol * cost, tested on every trial step as
//         MINPACK does (a step rejected only because rounding noise made the cost go up by
//         less than ftol * cost ends the solve at the best point found);
//   xtol  ||h||_DS / (1 - q) <= xtol * (||p||_DS + xtol), q = ||h||_DS / ||h_prev||_DS the
//         observed contraction of the steps (capped at 0.999): for a linearly converging
//         iteration (robust losses, large residuals) the remaining distance is the step
//         times 1 / (1 - q), not the step, so a slow crawl does not pass for convergence.
#pragma once
#include "config.hpp"
#include "linalg.hpp"

#ifndef SF_DEVICE_COMPILE
#include <cstring>
#include <utility>
#endif

namespace scalingfit {

// Per-item outcome codes. Fixed values, scipy's sign rule: > 0 converged, 0 iteration
// limit, < 0 failure. The Python message table in scalingfit/_status.py mirrors this.
enum Status : int {
  kStatusBadInput = -3,   // data non-finite, too few points, or start outside the bounds
  kStatusSingular = -2,   // converged, but J^T J is singular: parameters not identifiable
  kStatusNonFinite = -1,  // the model or the cost is not finite at the start
  kStatusMaxIter = 0,     // max_iter trial steps without meeting a tolerance
  kStatusGtol = 1,
  kStatusFtol = 2,
  kStatusXtol = 3,
  kStatusFtolXtol = 4,
};

struct Options {
  double ftol = 1e-12;
  double xtol = 1e-10;
  double gtol = 1e-10;
  int max_iter = 500;           // trial steps (function evaluations after the first)
  double f_scale = 1.0;         // robust-loss scale (residual units)
  bool log_residuals = false;   // r = log model - log y
  double initial_damping = 1e-3;
  // Pivot threshold of the scaled J^T J for kStatusSingular. The float32 builds sum J^T J in
  // float (relative rounding ~1e-7 per term), so a rank-deficient J leaves pivots far above
  // 1e-13 there; theirs is 1e-5 (see tests/test_float32.py).
  double singular_rtol = sizeof(real) < sizeof(double) ? 1e-5 : 1e-13;
};

// One problem's points. t: n x kInputs model inputs (logs already taken when the model
// asks for them); y: targets (already log y for log residuals); w: weights or null;
// mult: integer multiplicities (bootstrap) or null. A point's weight is w * mult.
// positive: every point's weight is > 0 (a compacted bootstrap resample, bootstrap.hpp), so
// the accumulator need not look for points of weight 0.
struct ProblemView {
  const real* t;
  const real* y;
  const real* w;
  const int* mult;
  long long n;
  bool positive = false;
};

// Detects an optional `eval_log(p, t, J)` of a model: log of the value at one point, with
// J = d log(value) / d p. Used for log residuals when present (it saves the exp/log round
// trip of, e.g., the log-sum-exp Chinchilla law).
template <class Model>
struct HasEvalLog {
  template <class M>
  SF_HD static auto test(int) -> decltype(M::eval_log((const real*)0, (const real*)0,
                                                      (real*)0),
                                           char());
  template <class M>
  SF_HD static long test(...);
  static constexpr bool value = sizeof(test<Model>(0)) == 1;
};

// The weight of point i: w_i * mult_i (either may be absent).
SF_HD inline real point_weight(const ProblemView& d, long long i) {
  real w = d.w ? d.w[i] : real(1);
  if (d.mult) w *= static_cast<real>(d.mult[i]);
  return w;
}

// The relative floor of the exact curvature weight: max(rho' + 2 z rho'', tau rho').
constexpr double kCurvatureFloor = 1e-8;

// One point's terms, shared by the CPU and GPU accumulators: from the inputs t and target y
// of a point of weight w, J (the Jacobian row of the residual), r (the residual),
// wr = w rho'(z) and c = w rho(z), z = r^2 / f_scale^2. Straight-line code (for a
// branch-free model and loss), so that a loop over points vectorises. The accumulators form
// H from wr J J^T and g from wr r J. kExact (the curvature switch, see the top): wr is
// instead w k with the exact curvature weight k = max(rho' + 2 z rho'', tau rho'), and r is
// scaled by rho' / k, so that the same sums give the exact-curvature H and the same g.
template <class Model, class Loss, bool kLog, bool kExact = false>
SF_HD inline void point_terms(const real* p, const real* t, real y, real w, real inv_fs2,
                              real* J, real* wr, real* r, real* c) {
  constexpr int P = Model::kParams;
  real ri;
  if constexpr (!kLog) {
    ri = Model::eval(p, t, J) - y;
  } else if constexpr (HasEvalLog<Model>::value) {
    ri = Model::eval_log(p, t, J) - y;
  } else {
    const real f = Model::eval(p, t, J);
    const real inv_f = real(1) / f;  // f <= 0 gives a non-finite residual: caught by the caller
    for (int a = 0; a < P; ++a) J[a] *= inv_f;
    ri = sf_log(f) - y;
  }
  real rho[3];
  if constexpr (kExact) {
    const real z = ri * ri * inv_fs2;
    Loss::eval(z, rho);
    const real k = sf_max(rho[1] + real(2) * z * rho[2], real(kCurvatureFloor) * rho[1]);
    *r = k > real(0) ? ri * (rho[1] / k) : real(0);
    *wr = w * k;
  } else {
    Loss::eval(ri * ri * inv_fs2, rho);
    *r = ri;
    *wr = w * rho[1];
  }
  *c = w * rho[0];
}

// SF_PLAIN_ACCUMULATOR (defined by the "plain" build of cpp/src/kernels.cpp) gives the CPU
// the GPU's plain loop, so that the GPU's order of additions can be run and tested here.
#if !defined(SF_DEVICE_COMPILE) && !defined(SF_PLAIN_ACCUMULATOR) && !defined(SF_FLOAT32_DATA) && \
    defined(__GNUC__)
#define SF_LANES_ACCUMULATOR 1
namespace detail {
// The CPU accumulator works on blocks of kBlock points (of positive weight, when some
// weights are 0): first the terms of every point of the block into structure-of-arrays
// scratch (a loop without reductions or branches, which g++ vectorises when the model and
// the loss are branch-free), then the sums over the block with kLanes independent partial
// sums per entry of H, g and the cost (GCC vector extensions: one 4-wide operation on AVX2,
// two 2-wide ones on SSE2). The partial sums are combined in one fixed order at the end, so
// the result does not depend on the thread count, only on the data (and on whether the
// instruction set has FMA).
constexpr int kLanes = 4;
constexpr int kBlock = 64;
typedef double Lanes __attribute__((vector_size(kLanes * sizeof(double))));
// The helpers below are always inlined: the accumulators must stay in registers, and a call
// would take their address (g++ stopped inlining reduce_lanes once the curvature switch
// doubled its callers, and the P1 fits of bench/ got 5% slower).
#define SF_ALWAYS_INLINE inline __attribute__((always_inline))

// Entry k of the row-major upper triangle of a P x P matrix: its row and column.
constexpr int tri_row(int P, int k) {
  int a = 0;
  while (k >= P - a) k -= P - a++;
  return a;
}
constexpr int tri_col(int P, int k) {
  int a = 0;
  while (k >= P - a) k -= P - a++;
  return a + k;
}

// The rank-one update of the lanes of H (upper triangle, NH entries), g and the cost by
// four points, written as folds over compile-time indices: every accumulator is a named
// register-sized value from the first pass of the compiler on (an array indexed in a loop
// would live in memory).
template <int P, std::size_t... A, std::size_t... K>
SF_ALWAYS_INLINE void rank_one(Lanes* acc, const double (*Jb)[kBlock + kLanes],
                               const double* WR, const double* R, const double* C, int l,
                               std::index_sequence<A...>, std::index_sequence<K...>) {
  constexpr int NH = P * (P + 1) / 2;
  Lanes j[P], wj[P], wr, r, c;
  ((std::memcpy(&j[A], &Jb[A][l], sizeof(Lanes))), ...);
  std::memcpy(&wr, WR + l, sizeof(Lanes));
  std::memcpy(&r, R + l, sizeof(Lanes));
  std::memcpy(&c, C + l, sizeof(Lanes));
  ((wj[A] = wr * j[A]), ...);
  ((acc[K] += wj[tri_row(P, K)] * j[tri_col(P, K)]), ...);
  ((acc[NH + A] += wj[A] * r), ...);
  acc[NH + P] += c;
}

// out[0..4) = the lane sums (x0 + x1) + (x2 + x3) of a, b, c, d: the same additions as one
// accumulator at a time, done as two transposing shuffles and three vector additions.
SF_ALWAYS_INLINE void lane_sums4(const Lanes& a, const Lanes& b, const Lanes& c,
                                 const Lanes& d, double* out) {
  typedef long long Mask __attribute__((vector_size(kLanes * sizeof(long long))));
#if defined(__clang__)
#define SF_SHUFFLE(x, y, i0, i1, i2, i3) __builtin_shufflevector(x, y, i0, i1, i2, i3)
#else
#define SF_SHUFFLE(x, y, i0, i1, i2, i3) __builtin_shuffle(x, y, Mask{i0, i1, i2, i3})
#endif
  const Lanes ab = SF_SHUFFLE(a, b, 0, 4, 2, 6) + SF_SHUFFLE(a, b, 1, 5, 3, 7);  // a01 b01 a23 b23
  const Lanes cd = SF_SHUFFLE(c, d, 0, 4, 2, 6) + SF_SHUFFLE(c, d, 1, 5, 3, 7);  // c01 d01 c23 d23
  const Lanes s = SF_SHUFFLE(ab, cd, 0, 1, 4, 5) + SF_SHUFFLE(ab, cd, 2, 3, 6, 7);
#undef SF_SHUFFLE
  std::memcpy(out, &s, sizeof s);
}

template <std::size_t... G, std::size_t... T>
SF_ALWAYS_INLINE void reduce_lanes(const Lanes* acc, double* out, std::index_sequence<G...>,
                                   std::index_sequence<T...>) {
  (lane_sums4(acc[4 * G], acc[4 * G + 1], acc[4 * G + 2], acc[4 * G + 3], out + 4 * G), ...);
  constexpr std::size_t t0 = 4 * sizeof...(G);
  ((out[t0 + T] = (acc[t0 + T][0] + acc[t0 + T][1]) + (acc[t0 + T][2] + acc[t0 + T][3])), ...);
}
#undef SF_ALWAYS_INLINE
}  // namespace detail
#endif

#ifndef SF_LANES_ACCUMULATOR
// One point's rank-one update of a partial sum s (H's upper triangle, g, cost), for the plain
// accumulator below.
template <int P>
SF_HD inline void add_point(real* s, const real* wj, const real* J, real r, real ci) {
  constexpr int NH = P * (P + 1) / 2;
  for (int a = 0, k = 0; a < P; ++a) {
    for (int b = a; b < P; ++b) s[k++] += wj[a] * J[b];
  }
  for (int a = 0; a < P; ++a) s[NH + a] += wj[a] * r;
  s[NH + P] += ci;
}
#endif

// Evaluates the cost, the gradient g and the upper triangle of H (mirrored into the lower
// one), kLog: log residuals. Returns false when anything is not finite.
template <class Model, class Loss, bool kLog, bool kExact>
SF_HD bool accumulate(const ProblemView& d, const Options& o, const double* p, double* cost,
                      double* H, double* g) {
  constexpr int P = Model::kParams;
  constexpr int K = Model::kInputs;
  const double fs2 = o.f_scale * o.f_scale;
  const real inv_fs2 = static_cast<real>(1.0 / fs2);
  double c = 0.0;
#ifdef SF_FLOAT32_DATA
  real pr[kMaxParams];  // the point terms' precision (the solver's p stays double)
  for (int a = 0; a < P; ++a) pr[a] = static_cast<real>(p[a]);
#else
  const real* pr = p;
#endif
#ifdef SF_LANES_ACCUMULATOR
  using detail::kBlock;
  using detail::kLanes;
  constexpr int NH = P * (P + 1) / 2;
  constexpr int NA = NH + P + 1;  // H's upper triangle, g, cost
  alignas(32) double Jb[P][kBlock + kLanes];
  alignas(32) double W[kBlock], WR[kBlock + kLanes], R[kBlock + kLanes], C[kBlock + kLanes];
  double Tb[kBlock * K], Yb[kBlock];  // a block's points of positive weight
  detail::Lanes acc[NA] = {};
  // Points of weight 0 are skipped (a model may be undefined at a point its user switched
  // off, and a bootstrap resample leaves out ~37% of the points): a block is then the next
  // kBlock points of positive weight, copied in order with their inputs into Tb, Yb, W.
  // Branch-free: every point is written at slot n, which advances only past a positive
  // weight. So the positive points are numbered 0, 1, ... over the whole problem, and point l
  // goes to lane l % kLanes, whatever the blocks (the order of the GPU's accumulator below).
  const bool skip_zeros = (d.w || d.mult) && !d.positive;
  long long i = 0;  // the problem's next point
  while (i < d.n) {
    const double* t;
    const double* y;
    int nb;
    if (skip_zeros) {
      int n = 0;
      for (; n < kBlock && i < d.n; ++i) {
        const double wi = point_weight(d, i);
        for (int c = 0; c < K; ++c) Tb[n * K + c] = d.t[i * K + c];
        Yb[n] = d.y[i];
        W[n] = wi;
        n += wi > 0.0 ? 1 : 0;
      }
      if (n == 0) break;
      t = Tb;
      y = Yb;
      nb = n;
    } else {  // every point counts: the next kBlock points, read in place
      nb = d.n - i < kBlock ? static_cast<int>(d.n - i) : kBlock;
      t = d.t + i * K;
      y = d.y + i;
      for (int l = 0; l < nb; ++l) W[l] = point_weight(d, i + l);
      i += nb;
    }
    for (int l = 0; l < nb; ++l) {
      double J[kMaxParams];
      point_terms<Model, Loss, kLog, kExact>(pr, t + l * K, y[l], W[l], inv_fs2, J, WR + l,
                                             R + l, C + l);
      for (int a = 0; a < P; ++a) Jb[a][l] = J[a];
    }
    // Zeros after the last point up to the next multiple of kLanes (a fixed count of
    // stores, kept clear of a memset call; the arrays have kLanes entries of slack).
    for (int u = 0; u < kLanes; ++u) {
      for (int a = 0; a < P; ++a) Jb[a][nb + u] = 0.0;
      WR[nb + u] = R[nb + u] = C[nb + u] = 0.0;
    }
    for (int l = 0; l < nb; l += kLanes) {
      detail::rank_one<P>(acc, Jb, WR, R, C, l, std::make_index_sequence<P>(),
                          std::make_index_sequence<NH>());
    }
  }
  double sums[NA];
  detail::reduce_lanes(acc, sums, std::make_index_sequence<NA / 4>(),
                       std::make_index_sequence<NA % 4>());
  c = sums[NA - 1];
  for (int a = 0, k = 0; a < P; ++a) {
    g[a] = sums[NH + a];
    for (int b = a; b < P; ++b) H[a * kMaxParams + b] = sums[k++];
  }
#else
  // The GPU's accumulator (and the CPU's "plain" build): the blocked accumulator's order of
  // operations, one point at a time, so that both give the same bits where the arithmetic is
  // the same (no fused multiply-adds on either side: the CPU's baseline build and NVRTC with
  // --fmad=false). The points of positive weight (all points when there are no weights) are
  // numbered l = 0, 1, ... over the whole problem and point l goes to partial sum l % 4; the
  // four partial sums of an entry are combined as (s0 + s1) + (s2 + s3).
  constexpr int NH = P * (P + 1) / 2;
  constexpr int NA = NH + P + 1;  // H's upper triangle, g, cost
  real sums[NA];
#if SF_ITEM_THREADS == 4
  // A quad of GPU threads per item (config.hpp): this thread is partial sum q = its place in
  // the quad, and takes the points of positive weight numbered q, q + 4, ...; the quad then
  // forms (s0 + s1) + (s2 + s3) with two shuffles (thread 1 adds s1 + s0, and so on: the same
  // bits, addition commutes), so every thread of the quad holds the sums.
  const int q = sf_item_lane();
  real acc[NA];
  for (int k = 0; k < NA; ++k) acc[k] = real(0);
  const bool weighted = d.w || d.mult;
  long long i = weighted ? 0 : q;  // the next point to look at
  int l = 0;                        // points of positive weight seen so far
  for (;;) {
    real w = real(1);  // without weights every point's (point_weight)
    if (weighted) {    // on to this thread's next point of positive weight
      for (; i < d.n; ++i) {
        w = point_weight(d, i);
        if (w > real(0) && (l++ & 3) == q) break;
      }
    }
    if (i >= d.n) break;
    real J[kMaxParams], wr, r, ci;
    point_terms<Model, Loss, kLog, kExact>(pr, d.t + i * K, d.y[i], w, inv_fs2, J, &wr, &r, &ci);
    real wj[kMaxParams];
    for (int a = 0; a < P; ++a) wj[a] = wr * J[a];
    add_point<P>(acc, wj, J, r, ci);
    i += weighted ? 1 : 4;
  }
  for (int k = 0; k < NA; ++k) {
    const real s01 = acc[k] + sf_item_xor(acc[k], 1);
    sums[k] = s01 + sf_item_xor(s01, 2);
  }
#elif SF_ITEM_THREADS == 32
  // A warp per item (config.hpp), for problems of many points: the warp takes the points 32
  // at a time (a round); a ballot finds those of positive weight, and the round's r-th such
  // point is evaluated by thread r. Every thread of place q (mod 4) keeps partial sum q: the
  // points numbered q, q + 4, ... over the whole problem, which in this round are its points
  // numbered first, first + 4, ... (first = (q - seen) mod 4, seen: points of positive weight
  // in earlier rounds); it takes their terms from their threads with shuffles and adds them in
  // that order, as the CPU does. The quad's two shuffles then combine the partial sums.
  const int lane = sf_item_lane();
  real acc[NA];
  for (int k = 0; k < NA; ++k) acc[k] = real(0);
  const bool weighted = d.w || d.mult;
  long long seen = 0;
  for (long long i0 = 0; i0 < d.n; i0 += 32) {
    const long long i = i0 + lane;
    const real w = i < d.n ? point_weight(d, i) : real(0);
    const unsigned mask = sf_item_ballot(i < d.n && (!weighted || w > real(0)));
    const int np = __popc(mask);
    const int at = lane < np ? sf_nth_bit(mask, lane) : lane;  // this thread's point: i0 + at
    const real wa = sf_item_shfl(w, at);
    real J[kMaxParams] = {}, wr = real(0), r = real(0), ci = real(0);
    if (lane < np) {
      point_terms<Model, Loss, kLog, kExact>(pr, d.t + (i0 + at) * K, d.y[i0 + at], wa, inv_fs2,
                                             J, &wr, &r, &ci);
    }
    const int first = (lane - static_cast<int>(seen & 3)) & 3;
    for (int s = 0; 4 * s < np; ++s) {  // the same count in every thread of the warp
      const int src = first + 4 * s;
      real Js[kMaxParams], wj[kMaxParams];
      for (int a = 0; a < P; ++a) Js[a] = sf_item_shfl(J[a], src);
      const real wrs = sf_item_shfl(wr, src), rs = sf_item_shfl(r, src);
      const real cs = sf_item_shfl(ci, src);
      if (src < np) {
        for (int a = 0; a < P; ++a) wj[a] = wrs * Js[a];
        add_point<P>(acc, wj, Js, rs, cs);
      }
    }
    seen += np;
  }
  for (int k = 0; k < NA; ++k) {
    const real s01 = acc[k] + sf_item_xor(acc[k], 1);
    sums[k] = s01 + sf_item_xor(s01, 2);
  }
#else
  // Four named partial sums, each updated under a constant index (a switch on the lane): an
  // array indexed by the lane at run time would live in the GPU thread's local memory.
  real acc0[NA], acc1[NA], acc2[NA], acc3[NA];
  for (int k = 0; k < NA; ++k) acc0[k] = acc1[k] = acc2[k] = acc3[k] = real(0);
  const bool weighted = d.w || d.mult;
  int lane = 0;
  for (long long i = 0; i < d.n; ++i) {
    const real w = point_weight(d, i);
    if (weighted && !(w > real(0))) continue;
    real J[kMaxParams], wr, r, ci;
    point_terms<Model, Loss, kLog, kExact>(pr, d.t + i * K, d.y[i], w, inv_fs2, J, &wr, &r, &ci);
    real wj[kMaxParams];
    for (int a = 0; a < P; ++a) wj[a] = wr * J[a];
    switch (lane) {
      case 0: add_point<P>(acc0, wj, J, r, ci); break;
      case 1: add_point<P>(acc1, wj, J, r, ci); break;
      case 2: add_point<P>(acc2, wj, J, r, ci); break;
      default: add_point<P>(acc3, wj, J, r, ci); break;
    }
    lane = (lane + 1) & 3;
  }
  for (int k = 0; k < NA; ++k) sums[k] = (acc0[k] + acc1[k]) + (acc2[k] + acc3[k]);
#endif
  // the float sums rounded into the double state, said so (clang's -Wdouble-promotion flags an
  // implicit float -> double assignment; GCC's only arithmetic)
  c = static_cast<double>(sums[NA - 1]);
  for (int a = 0, k = 0; a < P; ++a) {
    g[a] = static_cast<double>(sums[NH + a]);
    for (int b = a; b < P; ++b) H[a * kMaxParams + b] = static_cast<double>(sums[k++]);
  }
#endif
  c *= 0.5 * fs2;
  *cost = c;
  if (!sf_isfinite(c)) return false;
  for (int a = 0; a < P; ++a) {
    if (!sf_isfinite(g[a])) return false;
    for (int b = a; b < P; ++b) {
      if (!sf_isfinite(H[a * kMaxParams + b])) return false;
      H[b * kMaxParams + a] = H[a * kMaxParams + b];
    }
  }
  return true;
}

// exact: the exact-curvature H (robust losses only; see the curvature switch at the top).
template <class Model, class Loss>
SF_HD bool accumulate(const ProblemView& d, const Options& o, const double* p, double* cost,
                      double* H, double* g, bool exact = false) {
  if constexpr (Loss::kRobust) {
    if (exact) {
      return o.log_residuals ? accumulate<Model, Loss, true, true>(d, o, p, cost, H, g)
                             : accumulate<Model, Loss, false, true>(d, o, p, cost, H, g);
    }
  }
  return o.log_residuals ? accumulate<Model, Loss, true, false>(d, o, p, cost, H, g)
                         : accumulate<Model, Loss, false, false>(d, o, p, cost, H, g);
}

// The curvature switch (see the top): after kSwitchSteps accepted steps in a row whose gain
// ratio exceeds kSwitchRatio, and a relative decrease of the cost below kSwitchDecrease.
constexpr double kSwitchRatio = 1.5;
constexpr int kSwitchSteps = 2;
constexpr double kSwitchDecrease = 1e-4;

// tau, the relative floor of the damping scale ("Damping scale DS" at the top of this file).
constexpr double kDampingFloor = 1e-8;
// The floor of D relative to the largest diagonal entry of J'J (see solve): positivity only.
constexpr double kDiagFloor = 1e-250;

// The magnitude a parameter that started at exactly 0 is given: 1, or the largest finite
// bound's magnitude where that is smaller (a parameter boxed in [-1e-9, 1e-9] measured on a
// unit scale had its column's relative curvature overstated 1e18-fold, and the floor froze
// the other parameters: a custom model "converged" with them at their starts).
SF_HD inline double zero_start_unit(double lo, double hi) {
  const double box = sf_max(sf_isfinite(lo) ? sf_abs(lo) : 0.0, sf_isfinite(hi) ? sf_abs(hi) : 0.0);
  return box > 0.0 && box < 1.0 ? box : 1.0;
}

// The damping scale DS from D (the running maximum of diag H) and the current point p: DS_a = max(D_a, kDampingFloor * min(dmax, R / M_a^2)) with
// R = max_b D_b M_b^2, M_a = |p_a| (max(|p_a|, zero_start_unit) for a parameter that started
// at exactly 0), dmax = max_b D_b, and R / 0 read as +inf. Pure function of its inputs.
template <int P>
SF_HD inline void damping_scale(const double* D, const double* p, const bool* zero_start,
                                const double* lo, const double* hi, double* DS) {
  double R = 0.0, dmax = 0.0, M2[kMaxParams];
  for (int a = 0; a < P; ++a) {
    const double m = zero_start[a] ? sf_max(sf_abs(p[a]), zero_start_unit(lo[a], hi[a]))
                                   : sf_abs(p[a]);
    M2[a] = m * m;
    R = sf_max(R, D[a] * M2[a]);
    dmax = sf_max(dmax, D[a]);
  }
  for (int a = 0; a < P; ++a) {
    // min(dmax, R / M_a^2) without dividing by 0 (false also when a product is NaN).
    const double ref = M2[a] * dmax > R ? R / M2[a] : dmax;
    DS[a] = sf_max(D[a], kDampingFloor * ref);
  }
}

// The float32 builds' floor of the ftol tests (see solve): ftol * cost, but at least
// kFloatCostNoise * cost and kFloatNoiseScale |y| sqrt(2 cost) (|y| = sqrt(sum w y^2), 2 cost =
// |r|^2 for the linear loss; kFloatNoiseScale = 4 float unit roundoffs; ynorm = 0 drops this
// term). The double builds: ftol * cost.
constexpr double kFloatCostNoise = 1e-6;
constexpr double kFloatNoiseScale = 4.0 * 0x1p-24;

SF_HD inline double noise_floor(double ftol, double cost, double ynorm) {
  if (sizeof(real) == sizeof(double)) return ftol * cost;
  return sf_max(sf_max(ftol, kFloatCostNoise) * cost, kFloatNoiseScale * ynorm * sqrt(2.0 * cost));
}

// Parameters the solver fits: those whose bounds differ (equal bounds fix one, see solve).
template <int P>
SF_HD inline int free_count(const double* lo, const double* hi) {
  int n = 0;
  for (int a = 0; a < P; ++a) n += lo[a] == hi[a] ? 0 : 1;
  return n;
}

struct SolveResult {
  int status;
  int iterations;
  double cost;
};

// Solves one item in place: p holds the start on entry and the solution on exit.
// lo/hi: bounds (may be +-inf); a parameter whose two bounds are equal is fixed (held at
// that value: never stepped, left out of the identifiability test, its row and column of
// cov 0, not counted in the degrees of freedom), so the free parameters get the solution,
// covariance and status of the reduced model. cov (P x P, row-major, may be null) receives
// the Gauss-Newton covariance inv(H) * 2 cost / (n_eff - n_free), NaN where it is undefined.
template <class Model, class Loss>
SF_HD SolveResult solve(const ProblemView& d, const Options& o, const double* lo,
                        const double* hi, double* p, double* cov) {
  constexpr int P = Model::kParams;
  const double qnan = nan("");
  SolveResult res{kStatusMaxIter, 0, qnan};
  if (cov) {
    for (int a = 0; a < P * P; ++a) cov[a] = qnan;
  }
  double n_eff = 0.0;
  if ((!d.w && !d.mult) || d.positive) {  // every point counts
    n_eff = static_cast<double>(d.n);
  } else {
    for (long long i = 0; i < d.n; ++i) n_eff += point_weight(d, i) > real(0) ? 1.0 : 0.0;
  }
  for (int a = 0; a < P; ++a) {
    if (!sf_isfinite(p[a]) || p[a] < lo[a] || p[a] > hi[a]) {
      res.status = kStatusBadInput;
      return res;
    }
  }
  // Fixed parameters are read from lo/hi where needed (lo[a] == hi[a]), not kept in an array
  // across the iterations: on the GPU that state cost registers (spills at 4 threads per item).
  if (n_eff < free_count<P>(lo, hi)) {
    res.status = kStatusBadInput;
    return res;
  }

  double H[kMaxParams * kMaxParams], g[kMaxParams];
  double Hn[kMaxParams * kMaxParams], gn[kMaxParams];
  double A[kMaxParams * kMaxParams], L[kMaxParams * kMaxParams];
  double D[kMaxParams], h[kMaxParams], pn[kMaxParams];
  double cost;
  if (!accumulate<Model, Loss>(d, o, p, &cost, H, g)) {
    res.status = kStatusNonFinite;
    return res;
  }
  double dmax = 0.0;
  for (int a = 0; a < P; ++a) dmax = sf_max(dmax, H[a * kMaxParams + a]);
  // D's floor only keeps the Jacobi scale positive (a column that is exactly 0): it must stay
  // below any legitimate ratio of two parameters' curvatures, which depends on their units
  // (power_law with A = 1e20 and x up to 1e20: H_AA / H_alpha,alpha ~ 1e-43; 1e-30 * dmax
  // froze A, and the xtol test then passed after one step at 16x the optimal cost). Columns
  // small relative to their parameter's size get the damping floor of damping_scale instead.
  const double dfloor = dmax > 0.0 ? sf_max(kDiagFloor * dmax, 1e-300) : 1e-30;
  for (int a = 0; a < P; ++a) D[a] = sf_max(H[a * kMaxParams + a], dfloor);
  bool zero_start[kMaxParams];  // a parameter that starts at exactly 0 has magnitude >= 1
  double DS[kMaxParams];        // the damping scale: D with the relative floor (see top)
  for (int a = 0; a < P; ++a) zero_start[a] = p[a] == 0.0;
  damping_scale<P>(D, p, zero_start, lo, hi, DS);

  // The ftol tests below stop where a step's actual and predicted gains are both below
  // ftol * cost. In the float32 builds the cost is a float sum: each residual f - y carries a
  // rounding error of a few ulps of |y|, so the cost's is up to ~eps |r| |y| (Cauchy-Schwarz:
  // sum |r_i y_i| <= |r| |y|), far above 1e-12 * cost when the residuals are small next to the
  // targets (1% noise: ~1e-5 of the cost). So in float32 an accepted step's test uses at least
  // kFloatCostNoise * cost, and a rejected step's (MINPACK's rounding-noise test) also that
  // bound (noise_floor with ynorm): a rejected step whose gains are below it failed by rounding
  // noise. Without the floors float32 took 60-80% more trial steps than float64 (saturating
  // power laws of 10 points: 8.6 -> 15.4), chasing noise; with them 10% fewer (7.6), the
  // solutions within 0.04 standard errors of float64's (with the bound in the accepted-step
  // test too: 0.25 with soft-L1, whose cost is not |r|^2 / 2).
  double ynorm = 0.0;  // sqrt(sum w y^2), for noise_floor
  if constexpr (sizeof(real) < sizeof(double)) {
    for (long long i = 0; i < d.n; ++i) {
      const double w = static_cast<double>(point_weight(d, i)), y = static_cast<double>(d.y[i]);
      ynorm += w > 0.0 ? w * y * y : 0.0;
    }
    ynorm = sqrt(ynorm);
  }
  double mu = o.initial_damping;
  double nu = 2.0;
  double h_prev = 0.0;  // ||h||_D of the last accepted step
  bool exact = false;    // trial points get the exact curvature weights (the curvature switch)
  bool h_exact = false;  // H (at p) has them
  int streak = 0;        // accepted steps in a row with a gain ratio above kSwitchRatio
  int status = kStatusMaxIter;
  int it = 0;
  for (;;) {
    // Active set: parameters on a bound whose descent direction leaves the box.
    bool active[kMaxParams];
    double gmax = 0.0;
    for (int a = 0; a < P; ++a) {
      active[a] = lo[a] == hi[a] || (p[a] <= lo[a] && g[a] > 0.0) || (p[a] >= hi[a] && g[a] < 0.0);
      if (!active[a]) {
        const double hd = sf_max(H[a * kMaxParams + a], dfloor);
        gmax = sf_max(gmax, sf_abs(g[a]) / sqrt(hd));
      }
    }
    if (cost <= 0.0 || gmax <= o.gtol * sqrt(2.0 * cost)) {
      status = kStatusGtol;
      break;
    }
    if (it >= o.max_iter) break;

    // Damped, Jacobi-scaled normal equations on the free parameters.
    for (int a = 0; a < P; ++a) {
      for (int b = 0; b < P; ++b) {
        A[a * kMaxParams + b] = (active[a] || active[b]) ? 0.0 : H[a * kMaxParams + b];
      }
      A[a * kMaxParams + a] = active[a] ? 1.0 : H[a * kMaxParams + a] + mu * DS[a];
      h[a] = active[a] ? 0.0 : -g[a];
    }
    if (!cholesky(A, P, L, 0.0)) {
      mu *= nu;
      nu *= 2.0;
      ++it;
      continue;
    }
    cholesky_solve(L, P, h, h);
    double hn2 = 0.0, pn2 = 0.0;
    for (int a = 0; a < P; ++a) {
      double v = p[a] + h[a];
      v = v < lo[a] ? lo[a] : (v > hi[a] ? hi[a] : v);
      pn[a] = v;
      h[a] = v - p[a];
      hn2 += DS[a] * h[a] * h[a];
      pn2 += DS[a] * p[a] * p[a];
    }
    const double hn = sqrt(hn2);
    const double q = h_prev > 0.0 ? sf_min(hn / h_prev, 0.999) : 0.0;
    const bool small_step = hn / (1.0 - q) <= o.xtol * (sqrt(pn2) + o.xtol);
    if (small_step) {
      status = kStatusXtol;
      break;
    }
    // Predicted reduction of the quadratic model for the (projected) step.
    double gh = 0.0, hHh = 0.0;
    for (int a = 0; a < P; ++a) {
      gh += g[a] * h[a];
      double s = 0.0;
      for (int b = 0; b < P; ++b) s += H[a * kMaxParams + b] * h[b];
      hHh += h[a] * s;
    }
    const double pred = -(gh + 0.5 * hHh);
    double cost_new;
    const bool ok = accumulate<Model, Loss>(d, o, pn, &cost_new, Hn, gn, exact);
    ++it;
    const double act = cost - cost_new;
    if (ok && pred > 0.0 && act > 0.0) {
      const double ratio = act / pred;
      const double cost_old = cost;
      for (int a = 0; a < P; ++a) {
        p[a] = pn[a];
        g[a] = gn[a];
        for (int b = 0; b < P; ++b) H[a * kMaxParams + b] = Hn[a * kMaxParams + b];
        D[a] = sf_max(D[a], H[a * kMaxParams + a]);
      }
      damping_scale<P>(D, p, zero_start, lo, hi, DS);
      cost = cost_new;
      h_prev = hn;
      if constexpr (Loss::kRobust) h_exact = exact;  // Hn came from this trial's weights
      const double t = 2.0 * ratio - 1.0;
      mu *= sf_max(1.0 / 10.0, 1.0 - t * t * t);  // Nielsen's rule, floor 1/10 (not 1/3)
      nu = 2.0;
      const double tol = noise_floor(o.ftol, cost_old, 0.0);
      if (act <= tol && pred <= tol) {
        status = kStatusFtol;
        break;
      }
      if constexpr (Loss::kRobust) {
        streak = ratio > kSwitchRatio ? streak + 1 : 0;
        if (streak >= kSwitchSteps && act <= kSwitchDecrease * cost_old) {
          exact = true;  // from the next trial point on
        }
      }
    } else {
      if constexpr (Loss::kRobust) {
        streak = 0;
        exact = false;
      }
      // MINPACK's test on every trial step, not only on accepted ones: when both the
      // predicted and the actual change are below ftol * cost, the cost is at its minimum up
      // to rounding (the step failed by rounding noise only) and p already holds the best.
      const double tol = noise_floor(o.ftol, cost, ynorm);
      if (ok && pred >= 0.0 && pred <= tol && sf_abs(act) <= tol) {
        status = kStatusFtol;
        break;
      }
      mu *= nu;
      nu *= 2.0;
      if (!(mu < 1e300)) {  // no step of any length reduces the cost
        status = kStatusXtol;
        break;
      }
    }
  }
  res.status = status;
  res.iterations = it;
  res.cost = cost;
  if constexpr (Loss::kRobust) {
    if (h_exact) {
      // The Gauss-Newton matrix of the reweighted problem for the identifiability test and
      // the covariance, as without the switch (the same cost and g at the same p).
      double c_irls;
      accumulate<Model, Loss>(d, o, p, &c_irls, H, g, false);
    }
  }

  // Identifiability and covariance from the (undamped) H at the solution, over the free
  // parameters (a fixed one's row and column of the scaled matrix are the identity's).
  double S[kMaxParams * kMaxParams], dinv[kMaxParams];
  bool zero_col = false;
  for (int a = 0; a < P; ++a) {
    const double haa = H[a * kMaxParams + a];
    const bool fixed = lo[a] == hi[a];
    zero_col = zero_col || (!fixed && !(haa > 0.0));
    dinv[a] = !fixed && haa > 0.0 ? 1.0 / sqrt(haa) : 0.0;
  }
  for (int a = 0; a < P; ++a) {
    for (int b = 0; b < P; ++b) {
      const bool fixed = lo[a] == hi[a] || lo[b] == hi[b];
      S[a * kMaxParams + b] = fixed ? (a == b ? 1.0 : 0.0) : H[a * kMaxParams + b] * dinv[a] * dinv[b];
    }
  }
  if (zero_col || !cholesky(S, P, L, o.singular_rtol)) {
    if (res.status > 0) res.status = kStatusSingular;
    return res;
  }
  if (cov) {
    double Sinv[kMaxParams * kMaxParams];
    cholesky_inverse(L, P, Sinv);
    const double dof = n_eff - free_count<P>(lo, hi);
    const double s2 = dof > 0 ? 2.0 * cost / dof : qnan;
    for (int a = 0; a < P; ++a) {
      for (int b = 0; b < P; ++b) {
        const bool fixed = lo[a] == hi[a] || lo[b] == hi[b];
        cov[a * P + b] = fixed ? 0.0 : Sinv[a * kMaxParams + b] * dinv[a] * dinv[b] * s2;
      }
    }
  }
  return res;
}

}  // namespace scalingfit
