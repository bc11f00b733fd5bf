// cpp/src/kernels.cpp -- one build of the batched solver (see kernels.hpp).
//
// Compiled once per instruction set, with SF_KERNEL_ISA set to 0 (baseline), 1 (AVX2 + FMA)
// or 2 (AVX-512) and the matching -m flags, once more as 3 ("plain": the baseline's flags
// with SF_PLAIN_ACCUMULATOR, i.e. the GPU's plain per-point loop instead of the blocked,
// vectorised sums; never chosen by default, it lets the CPU run and test the order of
// additions of the CUDA driver), and as 4 ("float32": the plain build with SF_FLOAT32_DATA,
// float data and per-point arithmetic: the CUDA backend's precision="float32" on the CPU).
// The core's headers are included inside an unnamed namespace: every function of this build
// has internal linkage, so the linker can never pick this build's copy of an inline function
// for another object. This file uses nothing of the standard library that is not also
// inline-and-internal here or a plain libm call (the standard headers are included first,
// outside the namespace).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <list>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>
#if defined(__unix__) || defined(__APPLE__)
#include <unistd.h>
#endif

#include "kernels.hpp"

#ifndef SF_KERNEL_ISA
#define SF_KERNEL_ISA 0
#endif

namespace {
#include "scalingfit/batch.hpp"
#include "scalingfit/bootstrap.hpp"
#include "scalingfit/losses.hpp"
#include "scalingfit/models.hpp"

namespace sf = scalingfit;

sf::Options options(const sf_kernels::Settings& s) {
  sf::Options o;
  o.ftol = s.ftol;
  o.xtol = s.xtol;
  o.gtol = s.gtol;
  o.max_iter = s.max_iter;
  o.f_scale = s.f_scale;
  o.log_residuals = s.log_residuals;
  return o;
}

const sf::real* reals(const void* a) { return static_cast<const sf::real*>(a); }

sf::BatchData batch_data(const sf_kernels::Batch& b) {
  return sf::BatchData{reals(b.t), reals(b.y), reals(b.w), b.offsets, b.valid, b.n_problems};
}

sf::BatchOutputs batch_outputs(const sf_kernels::Outputs& o) {
  return sf::BatchOutputs{o.x, o.cov, o.cost, o.status, o.iterations};
}

bool solve(const sf_kernels::Settings& s, const sf_kernels::Batch& b,
           const sf_kernels::Items& it, const sf_kernels::Outputs& o, int64_t begin,
           int64_t end) {
  const sf::Options opt = options(s);
  const sf::BatchData data = batch_data(b);
  const sf::BatchItems items{it.problem, it.p0, it.n_items};
  const sf::BatchOutputs out = batch_outputs(o);
  bool loss_found = false;
  const bool model_found = sf::dispatch_model(s.model, [&](auto model) {
    using M = decltype(model);
    loss_found = sf::dispatch_loss(s.loss, [&](auto loss) {
      using L = decltype(loss);
      sf::solve_items<M, L>(data, items, out, opt, s.lo, s.hi, begin, end);
    });
  });
  return model_found && loss_found;
}

bool resample(const sf_kernels::Settings& s, const sf_kernels::Batch& b,
              const sf_kernels::Resample& r, const sf_kernels::Items& it,
              const sf_kernels::Outputs& o, int64_t begin, int64_t end,
              const sf_kernels::Scratch& scratch) {
  const sf::Options opt = options(s);
  const sf::BatchData data = batch_data(b);
  const sf::ResampleSpec spec{r.scheme,   r.wild,         r.seed,          r.problem_id, r.group,
                              r.n_groups, reals(r.yhat), reals(r.resid), r.center};
  const sf::ResampleItems items{it.problem, it.replicate, it.n_items};
  const sf::BatchOutputs out = batch_outputs(o);
  bool loss_found = false;
  const bool model_found = sf::dispatch_model(s.model, [&](auto model) {
    using M = decltype(model);
    loss_found = sf::dispatch_loss(s.loss, [&](auto loss) {
      using L = decltype(loss);
      sf::solve_resample_items<M, L>(data, spec, items, out, opt, s.lo, s.hi, begin, end,
                                     scratch.mult, scratch.gcount,
                                     static_cast<sf::real*>(scratch.ys));
    });
  });
  return model_found && loss_found;
}

void elementary(int fn, const double* x, double* out, int64_t n) {
  typedef sf::real R;
  if (fn == 0) {
    for (int64_t i = 0; i < n; ++i) out[i] = static_cast<double>(sf::sf_exp(static_cast<R>(x[i])));
  } else if (fn == 1) {
    for (int64_t i = 0; i < n; ++i) out[i] = static_cast<double>(sf::sf_log(static_cast<R>(x[i])));
  } else {
    for (int64_t i = 0; i < n; ++i) out[i] = static_cast<double>(sf::sf_log1p(static_cast<R>(x[i])));
  }
}

#if SF_KERNEL_ISA == 0
constexpr const char* kName = "baseline";
#elif SF_KERNEL_ISA == 1
constexpr const char* kName = "avx2";
#elif SF_KERNEL_ISA == 2
constexpr const char* kName = "avx512";
#elif SF_KERNEL_ISA == 3
constexpr const char* kName = "plain";
#else
constexpr const char* kName = "float32";
#endif

const sf_kernels::Isa kThisIsa{kName, &solve, &resample, &elementary};
}  // namespace

namespace sf_kernels {

#if SF_KERNEL_ISA == 0
const Isa& isa_baseline() { return kThisIsa; }
#elif SF_KERNEL_ISA == 1
const Isa& isa_avx2() { return kThisIsa; }
#elif SF_KERNEL_ISA == 2
const Isa& isa_avx512() { return kThisIsa; }
#elif SF_KERNEL_ISA == 3
const Isa& isa_plain() { return kThisIsa; }
#else
const Isa& isa_float32() { return kThisIsa; }
#endif

#if SF_KERNEL_ISA == 0
// ------------------------------------------------------------------ the choice, at run time
#ifdef SF_WITH_AVX2
const Isa& isa_avx2();
#endif
#ifdef SF_WITH_AVX512
const Isa& isa_avx512();
#endif
#ifdef SF_WITH_PLAIN
const Isa& isa_plain();
#endif
#ifdef SF_WITH_FLOAT32
const Isa& isa_float32();
#endif

namespace {

struct Registry {
  const Isa* isas[4];
  int n = 0;
  std::atomic<const Isa*> current{nullptr};

  Registry() {
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
    __builtin_cpu_init();
#ifdef SF_WITH_AVX512
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
        __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512cd") && __builtin_cpu_supports("avx2") &&
        __builtin_cpu_supports("fma")) {
      isas[n++] = &isa_avx512();
    }
#endif
#ifdef SF_WITH_AVX2
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
      isas[n++] = &isa_avx2();
    }
#endif
#endif
    isas[n++] = &isa_baseline();
    current = isas[0];
#ifdef SF_WITH_PLAIN
    isas[n++] = &isa_plain();  // listed, selectable by name, never the default
#endif
    // SCALINGFIT_SIMD caps the choice (for reproducing baseline bits, or for comparisons).
    if (const char* cap = std::getenv("SCALINGFIT_SIMD")) select(cap);
  }

  bool select(const char* name) {
    for (int i = 0; i < n; ++i) {
      if (std::strcmp(isas[i]->name, name) == 0) {
        current = isas[i];
        return true;
      }
    }
    return false;
  }
};

Registry& registry() {
  static Registry r;
  return r;
}

}  // namespace

int n_available() { return registry().n; }
const Isa& available(int i) { return *registry().isas[i]; }
const Isa& active() { return *registry().current.load(); }
bool set_active(const char* name) { return registry().select(name); }
#ifdef SF_WITH_FLOAT32
const Isa* float32() { return &isa_float32(); }
#else
const Isa* float32() { return nullptr; }
#endif
#endif

}  // namespace sf_kernels
