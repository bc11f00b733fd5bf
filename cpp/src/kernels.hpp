// cpp/src/kernels.hpp -- the batched solver, compiled once per instruction set and chosen at
// run time.
//
// kernels.cpp is compiled several times (CMakeLists.txt): for the baseline of the wheel
// (x86-64 SSE2, or the target's default elsewhere), and on x86-64 also with AVX2 + FMA and
// with AVX-512. The solver's per-point loops are written for the compiler's vectoriser
// (lm.hpp, config.hpp), so the wider builds run the same source 4 or 8 points at a time. The
// binding asks for the best build this CPU can run (`active()`); `SCALINGFIT_SIMD=baseline`
// (or avx2) in the environment, or `set_active`, caps it.
//
// Results: every build is deterministic and independent of the thread count. The AVX2 and
// AVX-512 builds contract a*b+c into fused multiply-adds, the baseline does not, so their
// results differ in the last bits (far below any tolerance of the solver).
//
// The interface is plain data (pointers and numbers): each build keeps the core's templates
// in an unnamed namespace of its own, so no symbol of one build can stand in for another's.
#pragma once
#include <cstdint>

namespace sf_kernels {

struct Settings {
  int model;  // index in dispatch_model's order
  int loss;   // index in dispatch_loss's order
  double ftol, xtol, gtol;
  int max_iter;
  double f_scale;
  bool log_residuals;
  const double* lo;  // n_params bounds
  const double* hi;
};

// The data arrays (t, y, w, and the bootstrap's yhat, resid and ys) are in the build's
// precision: double, or float in the "float32" build (float32() below).
struct Batch {  // as scalingfit::BatchData
  const void* t;
  const void* y;
  const void* w;
  const int64_t* offsets;
  const uint8_t* valid;
  int64_t n_problems;
};

struct Items {
  const int64_t* problem;
  const double* p0;          // starts (fits), or null (bootstrap: the problem's center)
  const int64_t* replicate;  // bootstrap replicate ids, or null (fits)
  int64_t n_items;
};

struct Outputs {  // as scalingfit::BatchOutputs
  double* x;
  double* cov;
  double* cost;
  int32_t* status;
  int32_t* iterations;
};

struct Resample {  // as scalingfit::ResampleSpec
  int scheme;
  int wild;
  uint64_t seed;
  const int64_t* problem_id;
  const int32_t* group;
  const int64_t* n_groups;
  const void* yhat;
  const void* resid;
  const double* center;
};

struct Scratch {  // one thread's, see scalingfit::solve_resample_items
  int* mult;
  int* gcount;
  void* ys;  // resample_work_size(max_points) reals
};

struct Isa {
  const char* name;  // "baseline", "avx2", "avx512", "plain", "float32"
  // Items [begin, end) of a batch of fits; false for an unknown model or loss index.
  bool (*solve)(const Settings&, const Batch&, const Items&, const Outputs&, int64_t begin,
                int64_t end);
  // Items [begin, end) of a bootstrap batch.
  bool (*resample)(const Settings&, const Batch&, const Resample&, const Items&, const Outputs&,
                   int64_t begin, int64_t end, const Scratch&);
  // out[i] = sf_exp(x[i]) (fn 0), sf_log(x[i]) (fn 1) or sf_log1p(x[i]) (fn 2), as this build
  // computes them (the float32 build: of x[i] rounded to float).
  void (*elementary)(int fn, const double* x, double* out, int64_t n);
};

// The builds in this extension that this CPU can run, best first (the baseline always), then
// "plain" (the CUDA driver's accumulation order, for tests) where it was built.
int n_available();
const Isa& available(int i);
// The build in use: the best available, unless capped (environment or set_active).
const Isa& active();
// Makes the build with this name the active one; false if there is none that runs here.
bool set_active(const char* name);
// The "float32" build (SF_FLOAT32_DATA: float data and per-point arithmetic, the plain
// accumulator, baseline flags: the CUDA backend's precision="float32" on the CPU), or null
// where it was not built. Never active: its callers pass float data.
const Isa* float32();

}  // namespace sf_kernels
