// scalingfit/models.hpp -- the built-in scaling laws.
//
// A model is a stateless struct with
//   kName      stable short name (the Python registry key),
//   kParams    number of parameters (<= kMaxParams),
//   kInputs    number of input columns per point (<= kMaxInputs),
//   kLogInputs true when the driver hands the model log(x) instead of x (all power-law
//              style models: the logs are taken once per point, never per iteration),
//   names()    parameter names, in order,
//   eval(p, t, J) -> value at one point; fills J[0..kParams) with d value / d p.
// Value and Jacobian share their exp/log work (the solver's sf_exp / sf_log, which vectorise;
// config.hpp). Optional: eval_log(p, t, J) -> log value, J = d log value / d p, used for log
// residuals (lm.hpp). Every derivative is checked against central finite differences in
// tests/test_models.py.
#pragma once
#include "config.hpp"

namespace scalingfit {

// log(1 + exp(z)) without overflow.
SF_HD inline real softplus(real z) {
  return z > 0 ? z + sf_log1p(sf_exp(-z)) : sf_log1p(sf_exp(z));
}
// 1 / (1 + exp(-z)) without overflow.
SF_HD inline real logistic(real z) {
  if (z >= 0) {
    return real(1.0) / (real(1.0) + sf_exp(-z));
  }
  const real e = sf_exp(z);
  return e / (real(1.0) + e);
}

// y = A * x^-alpha.   t = log x.
struct PowerLaw {
  static constexpr const char* kName = "power_law";
  static constexpr int kParams = 2;
  static constexpr int kInputs = 1;
  static constexpr bool kLogInputs = true;
  SF_HD static const char* name(int i) {
    const char* n[] = {"A", "alpha"};
    return n[i];
  }
  SF_HD static real eval(const real* p, const real* t, real* J) {
    const real xa = sf_exp(-p[1] * t[0]);  // x^-alpha
    const real f = p[0] * xa;
    J[0] = xa;
    J[1] = -t[0] * f;
    return f;
  }
};

// y = E + A * x^-alpha.   t = log x.
struct SaturatingPowerLaw {
  static constexpr const char* kName = "saturating_power_law";
  static constexpr int kParams = 3;
  static constexpr int kInputs = 1;
  static constexpr bool kLogInputs = true;
  SF_HD static const char* name(int i) {
    const char* n[] = {"E", "A", "alpha"};
    return n[i];
  }
  SF_HD static real eval(const real* p, const real* t, real* J) {
    const real xa = sf_exp(-p[2] * t[0]);
    const real g = p[1] * xa;
    J[0] = real(1.0);
    J[1] = xa;
    J[2] = -t[0] * g;
    return p[0] + g;
  }
};

// Hoffmann et al. (2022): L = E + A / N^alpha + B / D^beta.   t = (log N, log D).
struct Chinchilla {
  static constexpr const char* kName = "chinchilla";
  static constexpr int kParams = 5;
  static constexpr int kInputs = 2;
  static constexpr bool kLogInputs = true;
  SF_HD static const char* name(int i) {
    const char* n[] = {"E", "A", "B", "alpha", "beta"};
    return n[i];
  }
  SF_HD static real eval(const real* p, const real* t, real* J) {
    const real na = sf_exp(-p[3] * t[0]);  // N^-alpha
    const real db = sf_exp(-p[4] * t[1]);  // D^-beta
    const real ga = p[1] * na;
    const real gb = p[2] * db;
    J[0] = real(1.0);
    J[1] = na;
    J[2] = db;
    J[3] = -t[0] * ga;
    J[4] = -t[1] * gb;
    return p[0] + ga + gb;
  }
};

// Chinchilla in the log-sum-exp parametrisation of Hoffmann et al. / Epoch:
//   L = exp(LSE(a - alpha log N, b - beta log D, e)),  A = exp(a), B = exp(b), E = exp(e).
// Meant for log residuals (log L_hat - log L), where log L_hat = LSE(...) is linear-ish in a, b, e.
struct ChinchillaLSE {
  static constexpr const char* kName = "chinchilla_lse";
  static constexpr int kParams = 5;
  static constexpr int kInputs = 2;
  static constexpr bool kLogInputs = true;
  SF_HD static const char* name(int i) {
    const char* n[] = {"a", "b", "e", "alpha", "beta"};
    return n[i];
  }
  SF_HD static real eval(const real* p, const real* t, real* J) {
    const real u1 = p[0] - p[3] * t[0];
    const real u2 = p[1] - p[4] * t[1];
    const real u3 = p[2];
    const real m = sf_max(u1, sf_max(u2, u3));
    const real e1 = sf_exp_nonpos(u1 - m), e2 = sf_exp_nonpos(u2 - m);  // each u - m <= 0
    const real e3 = sf_exp_nonpos(u3 - m);
    const real s = e1 + e2 + e3;
    const real L = sf_exp(m + sf_log(s));
    const real w1 = L * e1 / s, w2 = L * e2 / s, w3 = L * e3 / s;
    J[0] = w1;
    J[1] = w2;
    J[2] = w3;
    J[3] = -t[0] * w1;
    J[4] = -t[1] * w2;
    return L;
  }
  // For log residuals: log L = LSE(...) and d log L / d p (softmax weights): no exp/log round
  // trip, one exp fewer.
  SF_HD static real eval_log(const real* p, const real* t, real* J) {
    const real u1 = p[0] - p[3] * t[0];
    const real u2 = p[1] - p[4] * t[1];
    const real u3 = p[2];
    const real m = sf_max(u1, sf_max(u2, u3));
    const real e1 = sf_exp_nonpos(u1 - m), e2 = sf_exp_nonpos(u2 - m);  // each u - m <= 0
    const real e3 = sf_exp_nonpos(u3 - m);
    const real s = e1 + e2 + e3;
    const real inv_s = real(1.0) / s;
    J[0] = e1 * inv_s;
    J[1] = e2 * inv_s;
    J[2] = e3 * inv_s;
    J[3] = -t[0] * J[0];
    J[4] = -t[1] * J[1];
    return m + (s == s ? sf_log_normal(s) : s);  // s in [1, 3] (m is the largest u), or NaN
  }
};

// Kaplan et al. (2020), eq. 1.5: L = [ (N_c / N)^(alpha_N / alpha_D) + D_c / D ]^alpha_D.
// t = (log N, log D). N_c and D_c are in the same units as N and D (must stay > 0).
struct KaplanND {
  static constexpr const char* kName = "kaplan_nd";
  static constexpr int kParams = 4;
  static constexpr int kInputs = 2;
  static constexpr bool kLogInputs = true;
  SF_HD static const char* name(int i) {
    const char* n[] = {"N_c", "D_c", "alpha_N", "alpha_D"};
    return n[i];
  }
  SF_HD static real eval(const real* p, const real* t, real* J) {
    const real Nc = p[0], Dc = p[1], aN = p[2], aD = p[3];
    const real ln_ratio = sf_log(Nc) - t[0];          // log(N_c / N)
    const real u = (aN / aD) * ln_ratio;
    const real t1 = sf_exp(u);                        // (N_c/N)^(aN/aD)
    const real t2 = sf_exp(sf_log(Dc) - t[1]);           // D_c / D
    const real s = t1 + t2;
    const real ls = sf_log(s);
    const real L = sf_exp(aD * ls);
    J[0] = L * aN * t1 / (s * Nc);
    J[1] = L * aD * t2 / (s * Dc);
    J[2] = L * t1 * ln_ratio / s;
    J[3] = L * (ls - t1 * u / s);
    return L;
  }
};

// IsoFLOP parabola in log N (Hoffmann et al. approach 2), vertex form:
//   L = L_opt + k (log N - log_N_opt)^2.   t = log N.   N_opt = exp(log_N_opt).
struct IsoflopParabola {
  static constexpr const char* kName = "isoflop_parabola";
  static constexpr int kParams = 3;
  static constexpr int kInputs = 1;
  static constexpr bool kLogInputs = true;
  SF_HD static const char* name(int i) {
    const char* n[] = {"L_opt", "log_N_opt", "k"};
    return n[i];
  }
  SF_HD static real eval(const real* p, const real* t, real* J) {
    const real d = t[0] - p[1];
    J[0] = real(1.0);
    J[1] = -real(2.0) * p[2] * d;
    J[2] = d * d;
    return p[0] + p[2] * d * d;
  }
};

// Sigmoid in log x with floor and ceiling (downstream accuracy vs scale):
//   y = lo + (hi - lo) / (1 + exp(-k (log x - log_x0))).   t = log x.
struct Sigmoid {
  static constexpr const char* kName = "sigmoid";
  static constexpr int kParams = 4;
  static constexpr int kInputs = 1;
  static constexpr bool kLogInputs = true;
  SF_HD static const char* name(int i) {
    const char* n[] = {"lo", "hi", "k", "log_x0"};
    return n[i];
  }
  SF_HD static real eval(const real* p, const real* t, real* J) {
    const real d = t[0] - p[3];
    const real s = logistic(p[2] * d);
    const real span = p[1] - p[0];
    const real ds = span * s * (real(1.0) - s);
    J[0] = real(1.0) - s;
    J[1] = s;
    J[2] = ds * d;
    J[3] = -ds * p[2];
    return p[0] + span * s;
  }
};

// Broken power law with one smooth break (Caballero et al. 2022, "BNSL", n = 1):
//   y = E + A x^-alpha (1 + (x / x_b)^(1/f))^(-beta f),   t = log x,  log_x_b = log x_b.
// alpha is the slope before the break, alpha + beta after it, f > 0 its sharpness.
struct BrokenPowerLaw {
  static constexpr const char* kName = "broken_power_law";
  static constexpr int kParams = 6;
  static constexpr int kInputs = 1;
  static constexpr bool kLogInputs = true;
  SF_HD static const char* name(int i) {
    const char* n[] = {"E", "A", "alpha", "beta", "log_x_b", "f"};
    return n[i];
  }
  SF_HD static real eval(const real* p, const real* t, real* J) {
    const real A = p[1], alpha = p[2], beta = p[3], lxb = p[4], f = p[5];
    const real z = (t[0] - lxb) / f;
    const real lq = softplus(z);     // log(1 + (x/x_b)^(1/f))
    const real sz = logistic(z);     // d lq / dz
    const real xa = sf_exp(-alpha * t[0] - beta * f * lq);
    const real P = A * xa;
    J[0] = real(1.0);
    J[1] = xa;
    J[2] = -t[0] * P;
    J[3] = -f * lq * P;
    J[4] = beta * sz * P;
    J[5] = -beta * (lq - z * sz) * P;
    return p[0] + P;
  }
};

// Kaplan et al. (2020), eq. 1.6, the learning-curve law:
//   L = (N_c / N)^alpha_N + (S_c / S)^alpha_S.   t = (log N, log S).
// S is the number of optimiser steps (Kaplan's S_min at the critical batch size); N_c and S_c
// are in the units of N and S and must stay > 0.
//   dL/dN_c = alpha_N f_N / N_c,  dL/dalpha_N = f_N log(N_c / N)   (f_N the first term; same for S)
struct KaplanNS {
  static constexpr const char* kName = "kaplan_ns";
  static constexpr int kParams = 4;
  static constexpr int kInputs = 2;
  static constexpr bool kLogInputs = true;
  SF_HD static const char* name(int i) {
    const char* n[] = {"N_c", "S_c", "alpha_N", "alpha_S"};
    return n[i];
  }
  SF_HD static real eval(const real* p, const real* t, real* J) {
    const real Nc = p[0], Sc = p[1], aN = p[2], aS = p[3];
    const real lrn = sf_log(Nc) - t[0];  // log(N_c / N)
    const real lrs = sf_log(Sc) - t[1];  // log(S_c / S)
    const real fN = sf_exp(aN * lrn);
    const real fS = sf_exp(aS * lrs);
    J[0] = aN * fN / Nc;
    J[1] = aS * fS / Sc;
    J[2] = fN * lrn;
    J[3] = fS * lrs;
    return fN + fS;
  }
};

// Learning curve with a time offset (warm-up, or steps before the first checkpoint):
//   L = E + A (x + x0)^-alpha.   Raw input x (steps or tokens); x + x0 must stay > 0.
//   dL/dA = u^-alpha,  dL/dalpha = -A u^-alpha log u,  dL/dx0 = -alpha A u^(-alpha-1),  u = x + x0.
struct LearningCurve {
  static constexpr const char* kName = "learning_curve";
  static constexpr int kParams = 4;
  static constexpr int kInputs = 1;
  static constexpr bool kLogInputs = false;
  SF_HD static const char* name(int i) {
    const char* n[] = {"E", "A", "alpha", "x0"};
    return n[i];
  }
  SF_HD static real eval(const real* p, const real* t, real* J) {
    const real u = t[0] + p[3];
    const real lu = sf_log(u);  // NaN for u <= 0: the driver reports a non-finite step
    const real ua = sf_exp(-p[2] * lu);
    const real g = p[1] * ua;
    J[0] = real(1.0);
    J[1] = ua;
    J[2] = -lu * g;
    J[3] = -p[2] * g / u;
    return p[0] + g;
  }
};

// Schedule-aware learning curve in the learning-rate areas of Tissue et al. (2024), "Scaling
// law with learning rate annealing", in a multiplicative form:
//   L = (L0 + A S1^-alpha) (1 - C S2),
// S1 = forward area (sum of learning rates, in peak-LR steps), S2 = annealing area (momentum
// sum of learning-rate decreases, in units of the peak LR; see scalingfit.curves.lr_areas).
// Tissue et al. subtract C S2; the relative form keeps C nearly constant across model sizes.
// Raw inputs (S2 may be 0); S1 must stay > 0.
//   B = L0 + A S1^-alpha, m = 1 - C S2:  dL/dL0 = m, dL/dA = m S1^-alpha,
//   dL/dalpha = -m A S1^-alpha log S1, dL/dC = -B S2.
struct LrAnnealing {
  static constexpr const char* kName = "lr_annealing";
  static constexpr int kParams = 4;
  static constexpr int kInputs = 2;
  static constexpr bool kLogInputs = false;
  SF_HD static const char* name(int i) {
    const char* n[] = {"L0", "A", "alpha", "C"};
    return n[i];
  }
  SF_HD static real eval(const real* p, const real* t, real* J) {
    const real ls1 = sf_log(t[0]);
    const real sa = sf_exp(-p[2] * ls1);  // S1^-alpha
    const real g = p[1] * sa;
    const real B = p[0] + g;
    const real m = real(1.0) - p[3] * t[1];
    J[0] = m;
    J[1] = m * sa;
    J[2] = -m * g * ls1;
    J[3] = -B * t[1];
    return B * m;
  }
};

// phi(z) = (1 - exp(-z)) / z and phi'(z), z >= 0, for the effective counts of repeated data:
// below z = 1 phi in Kahan's form (1 - u) / (-log u), u = exp(-z), whose rounding errors
// cancel (1 - z/2 where u rounds to 1), above it (1 - u) / z (no cancellation; u may
// underflow to 0 there); phi' = (u - phi) / z, or its Taylor series below z = 0.1 (the
// difference cancels there), sum_{k>=1} k (-z)^(k-1) (-1) / (k+1)!: error < 1e-16 at 0.1.
SF_HD inline real repeat_phi(real z, real* dphi) {
  const real u = sf_exp(-z);
  const bool tiny = u == real(1.0), large = z > real(1.0);
  const real kahan = (real(1.0) - u) / -sf_log(tiny || large ? real(0.5) : u);
  const real phi = large ? (real(1.0) - u) / z : (tiny ? real(1.0) - real(0.5) * z : kahan);
  const bool small = z < real(0.1);
  real series = real(0.0);
  // Horner on k = 10..1 of c_k z^(k-1), c_k = (-1)^k k / (k+1)!.
  const real c[10] = {real(-1.0 / 2), real(2.0 / 6), real(-3.0 / 24), real(4.0 / 120),
                      real(-5.0 / 720), real(6.0 / 5040), real(-7.0 / 40320),
                      real(8.0 / 362880), real(-9.0 / 3628800), real(10.0 / 39916800)};
  for (int k = 9; k >= 0; --k) series = series * z + c[k];
  *dphi = small ? series : (u - phi) / (small ? real(1.0) : z);
  return phi;
}

// Muennighoff et al. (2023), "Scaling Data-Constrained Language Models": Chinchilla's law in
// the effective parameters N' and effective data D' of runs that repeat data,
//   L = E + A / N'^alpha + B / D'^beta,
//   D' = U_D (1 + R_D phi(r_D R_D)),  U_D = min(U, D),  R_D = D / U_D - 1  (repetitions),
//   N' = U_N (1 + R_N phi(r_N R_N)),  U_N = min(N, N_opt(U_D)),  R_N = N / U_N - 1,
//   log N_opt(D) = (log(alpha A / (beta B)) + beta log D) / alpha  (the compute-optimal size
//   whose optimal token count is D), phi(z) = (1 - exp(-z)) / z.
// The decay rates r = 1 / R* (the paper's R_D*, R_N*; r = 0: repeats as good as fresh data)
// keep the law smooth where the data do not bound R* from above. t = (log N, log D, log U).
// Derivatives: with s = d log N' / d log U_N = (1 - phi_N - R_N (1 + R_N) r_N phi'_N) /
// (1 + R_N phi_N) where U_N = N_opt < N (else 0; s -> 0 at the kink, so J is continuous),
//   dL/dA = N'^-alpha (1 - s),  dL/dB = D'^-beta + A N'^-alpha s / B,
//   dL/dalpha = -A N'^-alpha (log N' + s (1 - alpha log N_opt) / alpha),
//   dL/dbeta = -B D'^-beta log D' - A N'^-alpha s (log U_D - 1 / beta),
//   dL/dr_D = -beta B D'^-beta R_D^2 phi'_D / (1 + R_D phi_D)  (r_N likewise with alpha, A).
struct DataConstrained {
  static constexpr const char* kName = "data_constrained";
  static constexpr int kParams = 7;
  static constexpr int kInputs = 3;
  static constexpr bool kLogInputs = true;
  SF_HD static const char* name(int i) {
    const char* n[] = {"E", "A", "B", "alpha", "beta", "r_D", "r_N"};
    return n[i];
  }
  SF_HD static real eval(const real* p, const real* t, real* J) {
    const real A = p[1], B = p[2], alpha = p[3], beta = p[4], rd = p[5], rn = p[6];
    const real lud = sf_min(t[2], t[1]);  // log U_D
    const real RD = sf_exp(t[1] - lud) - real(1.0);
    const real lnopt = (sf_log(alpha * A / (beta * B)) + beta * lud) / alpha;
    const bool excess = t[0] > lnopt;
    const real lun = excess ? lnopt : t[0];  // log U_N
    const real RN = sf_exp(t[0] - lun) - real(1.0);
    real dpd, dpn;
    const real pd = repeat_phi(rd * RD, &dpd);
    const real pn = repeat_phi(rn * RN, &dpn);
    const real fd = real(1.0) + RD * pd;  // D' / U_D
    const real fn = real(1.0) + RN * pn;  // N' / U_N
    const real ldp = lud + sf_log(fd);    // log D'
    const real lnp = lun + sf_log(fn);    // log N'
    const real na = sf_exp(-alpha * lnp);
    const real db = sf_exp(-beta * ldp);
    const real ga = A * na, gb = B * db;
    const real s = excess ? (real(1.0) - pn - RN * (real(1.0) + RN) * rn * dpn) / fn : real(0.0);
    J[0] = real(1.0);
    J[1] = na * (real(1.0) - s);
    J[2] = db + ga * s / B;
    J[3] = -ga * (lnp + s * (real(1.0) - alpha * lnopt) / alpha);
    J[4] = -gb * ldp - ga * s * (lud - real(1.0) / beta);
    J[5] = -beta * gb * RD * RD * dpd / fd;
    J[6] = -alpha * ga * RN * RN * dpn / fn;
    return p[0] + ga + gb;
  }
};

// Chinchilla with one exponent for both terms, L = E + A / N^alpha + B / D^alpha: the law of
// Gadre et al. (2024), who tie the exponents so that the loss at a fixed token multiplier
// M = D / N is a power law in compute, and the null model of a test of alpha = beta.
// t = (log N, log D).
struct ChinchillaTied {
  static constexpr const char* kName = "chinchilla_tied";
  static constexpr int kParams = 4;
  static constexpr int kInputs = 2;
  static constexpr bool kLogInputs = true;
  SF_HD static const char* name(int i) {
    const char* n[] = {"E", "A", "B", "alpha"};
    return n[i];
  }
  SF_HD static real eval(const real* p, const real* t, real* J) {
    const real na = sf_exp(-p[3] * t[0]);  // N^-alpha
    const real da = sf_exp(-p[3] * t[1]);  // D^-alpha
    const real ga = p[1] * na;
    const real gb = p[2] * da;
    J[0] = real(1.0);
    J[1] = na;
    J[2] = da;
    J[3] = -(t[0] * ga + t[1] * gb);
    return p[0] + ga + gb;
  }
};

// The registry's order: ModelAt<i>::type is the model with index i (the Python registry,
// scalingfit/models.py, and the CUDA driver's kernel names use these indices).
template <int I>
struct ModelAt;
template <>
struct ModelAt<0> {
  typedef PowerLaw type;
};
template <>
struct ModelAt<1> {
  typedef SaturatingPowerLaw type;
};
template <>
struct ModelAt<2> {
  typedef Chinchilla type;
};
template <>
struct ModelAt<3> {
  typedef ChinchillaLSE type;
};
template <>
struct ModelAt<4> {
  typedef KaplanND type;
};
template <>
struct ModelAt<5> {
  typedef IsoflopParabola type;
};
template <>
struct ModelAt<6> {
  typedef Sigmoid type;
};
template <>
struct ModelAt<7> {
  typedef BrokenPowerLaw type;
};
template <>
struct ModelAt<8> {
  typedef KaplanNS type;
};
template <>
struct ModelAt<9> {
  typedef LearningCurve type;
};
template <>
struct ModelAt<10> {
  typedef LrAnnealing type;
};
template <>
struct ModelAt<11> {
  typedef DataConstrained type;
};
template <>
struct ModelAt<12> {
  typedef ChinchillaTied type;
};
constexpr int kNumModels = 13;

#ifndef SF_DEVICE_COMPILE
// Calls fn(ModelType{}) for the model with the given index. Returns false for an unknown
// index.
template <class Fn>
bool dispatch_model(int index, Fn&& fn) {
  return dispatch_index<ModelAt, kNumModels>(index, static_cast<Fn&&>(fn));
}
#endif

}  // namespace scalingfit
