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
    const real e1 = sf_exp(u1 - m), e2 = sf_exp(u2 - m), e3 = sf_exp(u3 - m);
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
    const real e1 = sf_exp(u1 - m), e2 = sf_exp(u2 - m), e3 = sf_exp(u3 - m);
    const real s = e1 + e2 + e3;
    const real inv_s = real(1.0) / s;
    J[0] = e1 * inv_s;
    J[1] = e2 * inv_s;
    J[2] = e3 * inv_s;
    J[3] = -t[0] * J[0];
    J[4] = -t[1] * J[1];
    return m + sf_log(s);
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
constexpr int kNumModels = 11;

#ifndef SF_DEVICE_COMPILE
// Calls fn(ModelType{}) for the model with the given index. Returns false for an unknown
// index.
template <class Fn>
bool dispatch_model(int index, Fn&& fn) {
  return dispatch_index<ModelAt, kNumModels>(index, static_cast<Fn&&>(fn));
}
#endif

}  // namespace scalingfit
