// scalingfit/losses.hpp -- robust losses with the scipy.optimize.least_squares contract.
//
// For a residual r and scale f (f_scale), z = (r / f)^2 and the point's cost is
//   1/2 * w * f^2 * rho(z),
// so that cost = 1/2 sum r^2 for the linear loss. Each loss fills rho[0..2] =
// (rho, rho', rho'') at z. The definitions are scipy's, so least_squares is a direct oracle.
// kRobust: rho'' can be nonzero (the solver's curvature switch of lm.hpp applies).
#pragma once
#include "config.hpp"

namespace scalingfit {

struct LinearLoss {
  static constexpr const char* kName = "linear";
  static constexpr bool kRobust = false;
  SF_HD static void eval(real z, real* rho) {
    rho[0] = z;
    rho[1] = real(1.0);
    rho[2] = real(0.0);
  }
};

struct HuberLoss {
  static constexpr const char* kName = "huber";
  static constexpr bool kRobust = true;
  SF_HD static void eval(real z, real* rho) {
    if (z <= real(1.0)) {
      rho[0] = z;
      rho[1] = real(1.0);
      rho[2] = real(0.0);
    } else {
      const real s = sf_sqrt(z);
      rho[0] = real(2.0) * s - real(1.0);
      rho[1] = real(1.0) / s;
      rho[2] = -real(0.5) / (z * s);
    }
  }
};

struct SoftL1Loss {
  static constexpr const char* kName = "soft_l1";
  static constexpr bool kRobust = true;
  SF_HD static void eval(real z, real* rho) {
    const real t = real(1.0) + z;
    const real s = sf_sqrt(t);
    rho[0] = real(2.0) * (s - real(1.0));
    rho[1] = real(1.0) / s;
    rho[2] = -real(0.5) / (t * s);
  }
};

struct CauchyLoss {
  static constexpr const char* kName = "cauchy";
  static constexpr bool kRobust = true;
  SF_HD static void eval(real z, real* rho) {
    const real t = real(1.0) + z;
    rho[0] = sf_log1p(z);
    rho[1] = real(1.0) / t;
    rho[2] = -real(1.0) / (t * t);
  }
};

struct ArctanLoss {
  static constexpr const char* kName = "arctan";
  static constexpr bool kRobust = true;
  SF_HD static void eval(real z, real* rho) {
    const real t = real(1.0) + z * z;
    rho[0] = sf_atan(z);
    rho[1] = real(1.0) / t;
    rho[2] = -real(2.0) * z / (t * t);
  }
};

// Index order of the losses (_core.loss_names()): LossAt<i>::type is the loss with index i.
template <int I>
struct LossAt;
template <>
struct LossAt<0> {
  typedef LinearLoss type;
};
template <>
struct LossAt<1> {
  typedef HuberLoss type;
};
template <>
struct LossAt<2> {
  typedef SoftL1Loss type;
};
template <>
struct LossAt<3> {
  typedef CauchyLoss type;
};
template <>
struct LossAt<4> {
  typedef ArctanLoss type;
};
constexpr int kNumLosses = 5;

#ifndef SF_DEVICE_COMPILE
// Calls fn(LossType{}) for the loss with the given index; false for an unknown index.
template <class Fn>
bool dispatch_loss(int index, Fn&& fn) {
  return dispatch_index<LossAt, kNumLosses>(index, static_cast<Fn&&>(fn));
}
#endif

}  // namespace scalingfit
