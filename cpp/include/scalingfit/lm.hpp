// scalingfit/lm.hpp -- one problem's Levenberg-Marquardt solve; a pure function of its inputs.
//
// Objective (scipy.optimize.least_squares contract, weights as multiplicities):
//   cost(p) = 1/2 sum_i w_i f^2 rho(r_i(p)^2 / f^2),
//   r_i = model(p, x_i) - y_i            (plain residuals), or
//   r_i = log model(p, x_i) - log y_i    (log residuals; the driver passes log y_i).
// A weight of k counts a point k times (so bootstrap multiplicities are weights).
//
// Step: (H + mu diag(D)) h = -g with g = sum w rho' r J (the exact gradient) and
// H = sum w rho' J J^T. For rho'' <= 0 (every robust loss here) this is the iteratively
// reweighted Gauss-Newton matrix that Ceres' Corrector uses. D is Marquardt's Jacobi
// scaling: the running maximum of diag(H) (as in MINPACK), so results do not depend on the
// units of the parameters. The damping mu follows Nielsen's rule. Box bounds are handled by
// an active set (a parameter at a bound whose gradient points outward is frozen for the
// step) and projection of the step.
//
// Stopping (all scale-free):
//   gtol  max_k |g_k| / sqrt(H_kk * 2 cost) <= gtol over the free parameters
//         (the cosine between the residual vector and each Jacobian column, as MINPACK);
//   ftol  actual and predicted reduction both <= ftol * cost;
//   xtol  ||h||_D / (1 - q) <= xtol * (||p||_D + xtol), where q = ||h||_D / ||h_prev||_D is the
//         observed contraction of the steps (capped at 0.999): for a linearly converging
//         iteration (robust losses, large residuals) the remaining distance is the step
//         times 1 / (1 - q), not the step, so a slow crawl does not pass for convergence.
#pragma once
#include "config.hpp"
#include "linalg.hpp"

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
  double singular_rtol = 1e-13; // pivot threshold of the scaled J^T J for kStatusSingular
};

// One problem's points. t: n x kInputs model inputs (logs already taken when the model
// asks for them); y: targets (already log y for log residuals); w: weights or null;
// mult: integer multiplicities (bootstrap) or null. A point's weight is w * mult.
struct ProblemView {
  const double* t;
  const double* y;
  const double* w;
  const int* mult;
  long long n;
};

// Evaluates cost, and (when H is not null) the gradient g and the upper triangle of H.
// Returns false when anything is not finite.
template <class Model, class Loss>
SF_HD bool accumulate(const ProblemView& d, const Options& o, const double* p, double* cost,
                      double* H, double* g) {
  constexpr int P = Model::kParams;
  const double fs2 = o.f_scale * o.f_scale;
  const double inv_fs2 = 1.0 / fs2;
  double c = 0.0;
  if (H) {
    for (int a = 0; a < P; ++a) {
      g[a] = 0.0;
      for (int b = a; b < P; ++b) H[a * kMaxParams + b] = 0.0;
    }
  }
  double J[kMaxParams];
  for (long long i = 0; i < d.n; ++i) {
    double w = d.w ? d.w[i] : 1.0;
    if (d.mult) w *= d.mult[i];
    if (w == 0.0) continue;
    double f = Model::eval(p, d.t + i * Model::kInputs, J);
    double r;
    if (o.log_residuals) {
      if (!(f > 0.0)) return false;
      const double inv_f = 1.0 / f;
      for (int a = 0; a < P; ++a) J[a] *= inv_f;
      r = log(f) - d.y[i];
    } else {
      r = f - d.y[i];
    }
    double rho[3];
    Loss::eval(r * r * inv_fs2, rho);
    c += w * rho[0];
    if (H) {
      const double wr = w * rho[1];
      for (int a = 0; a < P; ++a) {
        const double wja = wr * J[a];
        g[a] += wja * r;
        for (int b = a; b < P; ++b) H[a * kMaxParams + b] += wja * J[b];
      }
    }
  }
  c *= 0.5 * fs2;
  *cost = c;
  if (!sf_isfinite(c)) return false;
  if (H) {
    for (int a = 0; a < P; ++a) {
      if (!sf_isfinite(g[a])) return false;
      for (int b = a; b < P; ++b) {
        if (!sf_isfinite(H[a * kMaxParams + b])) return false;
        H[b * kMaxParams + a] = H[a * kMaxParams + b];
      }
    }
  }
  return true;
}

struct SolveResult {
  int status;
  int iterations;
  double cost;
};

// Solves one item in place: p holds the start on entry and the solution on exit.
// lo/hi: bounds (may be +-inf). cov (P x P, row-major, may be null) receives the
// Gauss-Newton covariance inv(H) * 2 cost / (n_eff - P), NaN where it is undefined.
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
  for (long long i = 0; i < d.n; ++i) {
    double w = d.w ? d.w[i] : 1.0;
    if (d.mult) w *= d.mult[i];
    if (w > 0.0) n_eff += 1.0;
  }
  for (int a = 0; a < P; ++a) {
    if (!sf_isfinite(p[a]) || p[a] < lo[a] || p[a] > hi[a]) {
      res.status = kStatusBadInput;
      return res;
    }
  }
  if (n_eff < P) {
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
  const double dfloor = dmax > 0.0 ? 1e-30 * dmax : 1e-30;
  for (int a = 0; a < P; ++a) D[a] = sf_max(H[a * kMaxParams + a], dfloor);

  double mu = o.initial_damping;
  double nu = 2.0;
  double h_prev = 0.0;  // ||h||_D of the last accepted step
  int status = kStatusMaxIter;
  int it = 0;
  for (;;) {
    // Active set: parameters on a bound whose descent direction leaves the box.
    bool active[kMaxParams];
    double gmax = 0.0;
    for (int a = 0; a < P; ++a) {
      active[a] = (p[a] <= lo[a] && g[a] > 0.0) || (p[a] >= hi[a] && g[a] < 0.0);
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
      A[a * kMaxParams + a] = active[a] ? 1.0 : H[a * kMaxParams + a] + mu * D[a];
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
      hn2 += D[a] * h[a] * h[a];
      pn2 += D[a] * p[a] * p[a];
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
    const bool ok = accumulate<Model, Loss>(d, o, pn, &cost_new, Hn, gn);
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
      cost = cost_new;
      h_prev = hn;
      const double t = 2.0 * ratio - 1.0;
      mu *= sf_max(1.0 / 3.0, 1.0 - t * t * t);
      nu = 2.0;
      if (act <= o.ftol * cost_old && pred <= o.ftol * cost_old) {
        status = kStatusFtol;
        break;
      }
    } else {
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

  // Identifiability and covariance from the (undamped) H at the solution.
  double S[kMaxParams * kMaxParams], dinv[kMaxParams];
  bool zero_col = false;
  for (int a = 0; a < P; ++a) {
    const double haa = H[a * kMaxParams + a];
    zero_col = zero_col || !(haa > 0.0);
    dinv[a] = haa > 0.0 ? 1.0 / sqrt(haa) : 0.0;
  }
  for (int a = 0; a < P; ++a) {
    for (int b = 0; b < P; ++b) S[a * kMaxParams + b] = H[a * kMaxParams + b] * dinv[a] * dinv[b];
  }
  if (zero_col || !cholesky(S, P, L, o.singular_rtol)) {
    if (res.status > 0) res.status = kStatusSingular;
    return res;
  }
  if (cov) {
    double Sinv[kMaxParams * kMaxParams];
    cholesky_inverse(L, P, Sinv);
    const double dof = n_eff - P;
    const double s2 = dof > 0 ? 2.0 * cost / dof : qnan;
    for (int a = 0; a < P; ++a) {
      for (int b = 0; b < P; ++b) {
        cov[a * P + b] = Sinv[a * kMaxParams + b] * dinv[a] * dinv[b] * s2;
      }
    }
  }
  return res;
}

}  // namespace scalingfit
