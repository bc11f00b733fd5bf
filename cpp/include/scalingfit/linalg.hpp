// scalingfit/linalg.hpp -- fixed-size dense linear algebra for the normal equations.
// Matrices are row-major kMaxParams x kMaxParams arrays of which the leading n x n block is used.
#pragma once
#include "config.hpp"

namespace scalingfit {

// In-place Cholesky factorisation A = L L^T of the leading n x n block (lower triangle
// written into L). Returns false when a pivot is not positive or not finite, or when a
// pivot falls below rel_tol times the matching diagonal entry of A (numerically singular).
SF_HD inline bool cholesky(const double* A, int n, double* L, double rel_tol) {
  for (int j = 0; j < n; ++j) {
    double d = A[j * kMaxParams + j];
    for (int k = 0; k < j; ++k) d -= L[j * kMaxParams + k] * L[j * kMaxParams + k];
    if (!(d > rel_tol * A[j * kMaxParams + j]) || !sf_isfinite(d) || !(d > 0.0)) return false;
    const double ljj = sqrt(d);
    L[j * kMaxParams + j] = ljj;
    for (int i = j + 1; i < n; ++i) {
      double s = A[i * kMaxParams + j];
      for (int k = 0; k < j; ++k) s -= L[i * kMaxParams + k] * L[j * kMaxParams + k];
      L[i * kMaxParams + j] = s / ljj;
    }
  }
  return true;
}

// Solves L L^T x = b for x (b and x may alias).
SF_HD inline void cholesky_solve(const double* L, int n, const double* b, double* x) {
  for (int i = 0; i < n; ++i) {
    double s = b[i];
    for (int k = 0; k < i; ++k) s -= L[i * kMaxParams + k] * x[k];
    x[i] = s / L[i * kMaxParams + i];
  }
  for (int i = n - 1; i >= 0; --i) {
    double s = x[i];
    for (int k = i + 1; k < n; ++k) s -= L[k * kMaxParams + i] * x[k];
    x[i] = s / L[i * kMaxParams + i];
  }
}

// Inverse of A from its Cholesky factor L, written into Ainv (row-major, leading n x n).
SF_HD inline void cholesky_inverse(const double* L, int n, double* Ainv) {
  double e[kMaxParams];
  for (int c = 0; c < n; ++c) {
    for (int i = 0; i < n; ++i) e[i] = (i == c) ? 1.0 : 0.0;
    cholesky_solve(L, n, e, e);
    for (int i = 0; i < n; ++i) Ainv[i * kMaxParams + c] = e[i];
  }
}

}  // namespace scalingfit
