// scalingfit._core -- the only file that includes pybind11.
//
// It checks shapes and dtypes (the Python layer has already converted and validated the
// user's input; here arrays must arrive exactly as float64 / int64 C-contiguous, so no
// hidden copy can happen), allocates the outputs, releases the GIL for the whole numeric
// call, and dispatches (model x loss) to one template instance of the core.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstdint>
#include <array>
#include <atomic>
#include <cmath>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "kernels.hpp"
#include "scalingfit/batch.hpp"
#include "scalingfit/bootstrap.hpp"
#include "scalingfit/losses.hpp"
#include "scalingfit/models.hpp"

namespace py = pybind11;
namespace sf = scalingfit;

using DArray = py::array_t<double, py::array::c_style>;
using IArray = py::array_t<int64_t, py::array::c_style>;
using I32Array = py::array_t<int32_t, py::array::c_style>;

namespace {

[[noreturn]] void fail(const std::string& msg) { throw py::value_error(msg); }

// ------------------------------------------------------------------ the solver builds
// (kernels.hpp): the numeric loops run in the best build of kernels.cpp for this CPU.

sf_kernels::Settings kernel_settings(int model, int loss, const sf::Options& o,
                                     const double* lo, const double* hi) {
  return sf_kernels::Settings{model,     loss,       o.ftol,          o.xtol, o.gtol,
                              o.max_iter, o.f_scale, o.log_residuals, lo,     hi};
}
sf_kernels::Batch kernel_batch(const sf::BatchData& d) {
  return sf_kernels::Batch{d.t, d.y, d.w, d.offsets, d.valid, d.n_problems};
}
sf_kernels::Outputs kernel_outputs(const sf::BatchOutputs& o) {
  return sf_kernels::Outputs{o.x, o.cov, o.cost, o.status, o.iterations};
}

// Items per chunk handed to a worker: ~32 chunks per thread, so that items of very different
// cost (multi-start grids: 10 to 500 iterations) still spread evenly over the threads.
int64_t chunk_size(int64_t n_items, int n_threads) {
  return std::max<int64_t>(1, std::min<int64_t>(256, n_items / (32 * std::max(1, n_threads))));
}

// Ctrl-C: parallel_for's poll, called about every 20 ms from the waiting (calling) thread.
bool poll_signals() {
  py::gil_scoped_acquire gil;
  return PyErr_CheckSignals() != 0;
}

py::list simd_levels() {
  py::list out;
  for (int i = 0; i < sf_kernels::n_available(); ++i) out.append(sf_kernels::available(i).name);
  return out;
}

void set_simd_level(const std::string& name) {
  if (!sf_kernels::set_active(name.c_str())) {
    py::list names = simd_levels();
    fail("unknown or unavailable instruction-set level " + name + " (this CPU and build: " +
         py::str(names).cast<std::string>() + ")");
  }
}

// The build a call runs in: the active one, or the float32 build (float data and per-point
// arithmetic; kernels.hpp) for precision="float32".
const sf_kernels::Isa& call_isa(bool float32) {
  if (!float32) return sf_kernels::active();
  const sf_kernels::Isa* isa = sf_kernels::float32();
  if (!isa) fail("this build of scalingfit has no float32 solver (built with SCALINGFIT_FLOAT32_BUILD=OFF)");
  return *isa;
}

// A float32 call's copy of the batch's double data (t, y, w; the bootstrap's yhat, resid),
// rounded to float as NumPy's astype(float32) rounds. A problem with a value that is finite in
// double but not in float (|v| > 3.4e38) is marked unusable (kStatusBadInput), as prepare_batch
// marks non-finite data.
struct FloatData {
  std::vector<float> t, y, w, yhat, resid;

  static std::vector<float> round(const double* a, size_t n) {
    std::vector<float> out(n);
    for (size_t i = 0; i < n; ++i) out[i] = static_cast<float>(a[i]);
    return out;
  }
  static bool finite(const std::vector<float>& a, int64_t b, int64_t e, int64_t stride) {
    for (int64_t i = b * stride; i < e * stride; ++i) {
      if (!sf::sf_isfinite(a[static_cast<size_t>(i)])) return false;
    }
    return true;
  }
  // Rounds data's arrays (and yhat, resid when given) and points batch (and rs) at the copies.
  FloatData(const sf::BatchData& data, int n_inputs, const double* yhat_d, const double* resid_d,
            uint8_t* valid, sf_kernels::Batch& batch, sf_kernels::Resample* rs) {
    const int64_t n = data.offsets[data.n_problems];
    const size_t un = static_cast<size_t>(n);
    t = round(data.t, un * static_cast<size_t>(n_inputs));
    y = round(data.y, un);
    if (data.w) w = round(data.w, un);
    if (yhat_d) yhat = round(yhat_d, un);
    if (resid_d) resid = round(resid_d, un);
    for (int64_t j = 0; j < data.n_problems; ++j) {
      const int64_t b = data.offsets[j], e = data.offsets[j + 1];
      const bool ok = finite(t, b, e, n_inputs) && finite(y, b, e, 1) &&
                      (w.empty() || finite(w, b, e, 1)) && (yhat.empty() || finite(yhat, b, e, 1)) &&
                      (resid.empty() || finite(resid, b, e, 1));
      if (!ok) valid[j] = 0;
    }
    batch.t = t.data();
    batch.y = y.data();
    batch.w = data.w ? w.data() : nullptr;
    if (rs) {
      rs->yhat = yhat_d ? yhat.data() : nullptr;
      rs->resid = resid_d ? resid.data() : nullptr;
    }
  }
};

// sf_exp (fn 0), sf_log (fn 1) or sf_log1p (fn 2) of every element, as the active build
// computes them (float32: the float32 build's, of x rounded to float).
DArray elementary(int fn, DArray x, bool float32) {
  if (fn < 0 || fn > 2) fail("fn must be 0 (exp), 1 (log) or 2 (log1p)");
  const sf_kernels::Isa& isa = call_isa(float32);
  DArray out(x.request().shape);
  const int64_t n = x.size();
  const double* xp = x.data();
  double* op = out.mutable_data();
  {
    py::gil_scoped_release nogil;
    isa.elementary(fn, xp, op, n);
  }
  return out;
}

void require_ndim(const py::array& a, int ndim, const char* name) {
  if (a.ndim() != ndim) {
    fail(std::string(name) + " must have " + std::to_string(ndim) + " dimension(s), got " +
         std::to_string(a.ndim()));
  }
}

py::list model_info() {
  py::list out;
  for (int m = 0; m < sf::kNumModels; ++m) {
    sf::dispatch_model(m, [&](auto model) {
      using M = decltype(model);
      py::list names;
      for (int a = 0; a < M::kParams; ++a) names.append(M::name(a));
      py::dict d;
      d["name"] = M::kName;
      d["index"] = m;
      d["n_params"] = M::kParams;
      d["n_inputs"] = M::kInputs;
      d["log_inputs"] = M::kLogInputs;
      d["param_names"] = names;
      out.append(d);
    });
  }
  return out;
}

py::list loss_names() {
  py::list out;
  for (int l = 0; l < sf::kNumLosses; ++l) {
    sf::dispatch_loss(l, [&](auto loss) { out.append(decltype(loss)::kName); });
  }
  return out;
}

// Evaluates a model (value and Jacobian) at points x for one parameter vector; used by
// Python for predictions and by the Jacobian tests.
py::tuple evaluate(int model_index, DArray x, DArray p) {
  py::tuple result;
  bool found = sf::dispatch_model(model_index, [&](auto model) {
    using M = decltype(model);
    require_ndim(x, 2, "x");
    require_ndim(p, 1, "p");
    if (x.shape(1) != M::kInputs) fail("x must have " + std::to_string(M::kInputs) + " columns");
    if (p.shape(0) != M::kParams) fail("p must have " + std::to_string(M::kParams) + " entries");
    const int64_t n = x.shape(0);
    DArray f(n);
    DArray J({n, static_cast<int64_t>(M::kParams)});
    const double* xp = x.data();
    const double* pp = p.data();
    double* fp = f.mutable_data();
    double* Jp = J.mutable_data();
    {
      py::gil_scoped_release nogil;
      double t[sf::kMaxInputs];
      for (int64_t i = 0; i < n; ++i) {
        for (int c = 0; c < M::kInputs; ++c) {
          const double v = xp[i * M::kInputs + c];
          t[c] = M::kLogInputs ? std::log(v) : v;
        }
        fp[i] = M::eval(pp, t, Jp + i * M::kParams);
      }
    }
    result = py::make_tuple(f, J);
  });
  if (!found) fail("unknown model index " + std::to_string(model_index));
  return result;
}

// Shape checks shared by the batch entry points (x, y, weights, offsets of a batch). Offsets
// must be non-decreasing: the core reads problem j's points at [offsets[j], offsets[j + 1]).
template <class M>
int64_t check_batch_layout(const DArray& x, const DArray& y, const std::optional<DArray>& w,
                           const IArray& offsets) {
  require_ndim(x, 2, "x");
  require_ndim(y, 1, "y");
  require_ndim(offsets, 1, "offsets");
  const int64_t n_points = y.shape(0);
  if (x.shape(0) != n_points) {
    fail("x has " + std::to_string(x.shape(0)) + " rows but y has " + std::to_string(n_points) +
         " points");
  }
  if (x.shape(1) != M::kInputs) {
    fail("x must have " + std::to_string(M::kInputs) + " columns for model " + M::kName +
         ", got " + std::to_string(x.shape(1)));
  }
  if (w) {
    require_ndim(*w, 1, "weights");
    if (w->shape(0) != n_points) fail("weights must have one entry per point");
  }
  if (offsets.shape(0) < 1) fail("offsets must have at least one entry");
  const int64_t n_problems = offsets.shape(0) - 1;
  const int64_t* off = offsets.data();
  if (off[0] != 0 || off[n_problems] != n_points) {
    fail("offsets must start at 0 and end at the number of points");
  }
  for (int64_t j = 0; j < n_problems; ++j) {
    if (off[j + 1] < off[j]) fail("offsets must be non-decreasing");
  }
  return n_problems;
}

// The solver's options, after checking the two that can be out of range.
sf::Options solver_options(double ftol, double xtol, double gtol, int max_iter, double f_scale,
                           bool log_residuals) {
  if (f_scale <= 0.0 || !sf::sf_isfinite(f_scale)) fail("f_scale must be positive and finite");
  if (max_iter < 0) fail("max_iter must be >= 0");
  sf::Options opt;
  opt.ftol = ftol;
  opt.xtol = xtol;
  opt.gtol = gtol;
  opt.max_iter = max_iter;
  opt.f_scale = f_scale;
  opt.log_residuals = log_residuals;
  return opt;
}

// The per-item outputs of a batch call (x, cov or None, cost, status, iterations).
struct ItemOutputs {
  DArray x, cov, cost;
  py::array_t<int32_t> status, iterations;
  bool with_cov;

  ItemOutputs(int64_t n_items, int64_t P, bool compute_cov)
      : x({n_items, P}),
        cov(compute_cov ? DArray({n_items, P, P}) : DArray(std::vector<int64_t>{0})),
        cost(n_items),
        status(n_items),
        iterations(n_items),
        with_cov(compute_cov) {}

  sf::BatchOutputs view() {
    return sf::BatchOutputs{x.mutable_data(), with_cov ? cov.mutable_data() : nullptr,
                            cost.mutable_data(), status.mutable_data(), iterations.mutable_data()};
  }

  py::tuple tuple() const {
    return py::make_tuple(x, with_cov ? py::object(cov) : py::object(py::none()), cost, status,
                          iterations);
  }
};

// The prepared inputs of a batch, as the solver sees them (logs of the inputs of power-law
// models, log targets for log residuals) and each problem's validity: (t, y, valid). The CUDA
// driver (scalingfit/_cuda.py) prepares on the host with this and ships the result.
py::tuple prepare_batch(int model_index, DArray x, DArray y, std::optional<DArray> w,
                        IArray offsets, bool log_residuals) {
  py::tuple result;
  const bool found = sf::dispatch_model(model_index, [&](auto model) {
    using M = decltype(model);
    const int64_t n_problems = check_batch_layout<M>(x, y, w, offsets);
    const int64_t n_points = y.shape(0);
    DArray t({n_points, static_cast<int64_t>(M::kInputs)});
    DArray yt(n_points);
    py::array_t<uint8_t> valid(n_problems);
    const double *xp = x.data(), *yp = y.data(), *wp = w ? w->data() : nullptr;
    const int64_t* off = offsets.data();
    double *tp = t.mutable_data(), *ytp = yt.mutable_data();
    uint8_t* vp = valid.mutable_data();
    {
      py::gil_scoped_release nogil;
      sf::prepare_batch<M>(xp, yp, wp, off, n_problems, log_residuals, tp, ytp, vp);
    }
    result = py::make_tuple(t, yt, valid);
  });
  if (!found) fail("unknown model index " + std::to_string(model_index));
  return result;
}

py::tuple solve_batch(int model_index, int loss_index, DArray x, DArray y,
                      std::optional<DArray> w, IArray offsets, IArray problem, DArray p0,
                      DArray lo, DArray hi, double ftol, double xtol, double gtol, int max_iter,
                      double f_scale, bool log_residuals, bool compute_cov, int n_threads,
                      bool float32) {
  py::tuple result;
  const sf_kernels::Isa& isa = call_isa(float32);
  bool model_found = sf::dispatch_model(model_index, [&](auto model) {
    using M = decltype(model);
    constexpr int P = M::kParams;
    constexpr int K = M::kInputs;
    const int64_t n_problems = check_batch_layout<M>(x, y, w, offsets);
    require_ndim(problem, 1, "problem");
    require_ndim(p0, 2, "p0");
    require_ndim(lo, 1, "lo");
    require_ndim(hi, 1, "hi");
    const int64_t n_points = y.shape(0);
    const int64_t* off = offsets.data();
    const int64_t n_items = problem.shape(0);
    if (p0.shape(0) != n_items || p0.shape(1) != P) {
      fail("p0 must have shape (" + std::to_string(n_items) + ", " + std::to_string(P) + ")");
    }
    if (lo.shape(0) != P || hi.shape(0) != P) fail("bounds must have one entry per parameter");
    const sf::Options opt = solver_options(ftol, xtol, gtol, max_iter, f_scale, log_residuals);
    ItemOutputs res(n_items, P, compute_cov);

    std::vector<double> t(static_cast<size_t>(n_points) * K);
    std::vector<double> yt(static_cast<size_t>(n_points));
    std::vector<uint8_t> valid(static_cast<size_t>(n_problems));

    sf::BatchData data{t.data(), yt.data(), w ? w->data() : nullptr, off, valid.data(), n_problems};
    sf::BatchItems items{problem.data(), p0.data(), n_items};
    const sf::BatchOutputs out = res.view();
    const double* xp = x.data();
    const double* yp = y.data();
    const double* wp = w ? w->data() : nullptr;
    const double* lop = lo.data();
    const double* hip = hi.data();

    bool completed = true;
    bool loss_found = true;
    {
      py::gil_scoped_release nogil;
      sf::prepare_batch<M>(xp, yp, wp, off, n_problems, log_residuals, t.data(), yt.data(),
                           valid.data());
      loss_found = loss_index >= 0 && loss_index < sf::kNumLosses;
      if (loss_found) {
        const sf_kernels::Settings set = kernel_settings(model_index, loss_index, opt, lop, hip);
        sf_kernels::Batch batch = kernel_batch(data);
        std::optional<FloatData> f32;
        if (float32) f32.emplace(data, K, nullptr, nullptr, valid.data(), batch, nullptr);
        const sf_kernels::Items kitems{items.problem, items.p0, nullptr, n_items};
        const sf_kernels::Outputs kout = kernel_outputs(out);
        auto body = [&](int64_t b, int64_t e) { isa.solve(set, batch, kitems, kout, b, e); };
        const int64_t chunk = chunk_size(n_items, n_threads);
        completed = sf::parallel_for(n_items, n_threads, chunk, body, poll_signals);
      }
    }
    if (!loss_found) fail("unknown loss index " + std::to_string(loss_index));
    if (!completed) throw py::error_already_set();
    result = res.tuple();
  });
  if (!model_found) fail("unknown model index " + std::to_string(model_index));
  return result;
}

// ------------------------------------------------------------------ bootstrap (rng.hpp,
// bootstrap.hpp): resamples as pure functions of (seed, problem, replicate).

void check_scheme(int scheme) {
  if (!sf::scheme_is_known(scheme)) fail("unknown resampling scheme index " + std::to_string(scheme));
}

// Group ids local to each problem: 0 <= groups[i] < n_groups[problem of i].
void check_groups(const I32Array& groups, const IArray& n_groups, const int64_t* off,
                  int64_t n_problems) {
  require_ndim(groups, 1, "groups");
  require_ndim(n_groups, 1, "n_groups");
  if (groups.shape(0) != off[n_problems]) fail("groups must have one entry per point");
  if (n_groups.shape(0) != n_problems) fail("n_groups must have one entry per problem");
  const int32_t* g = groups.data();
  const int64_t* ng = n_groups.data();
  for (int64_t j = 0; j < n_problems; ++j) {
    // Scratch of n_groups ints per thread: a problem cannot have more groups than points.
    if (ng[j] < 0 || ng[j] > off[j + 1] - off[j]) {
      fail("n_groups[" + std::to_string(j) + "] = " + std::to_string(ng[j]) +
           " is not between 0 and the problem's number of points (" +
           std::to_string(off[j + 1] - off[j]) + ")");
    }
    for (int64_t i = off[j]; i < off[j + 1]; ++i) {
      if (g[i] < 0 || g[i] >= ng[j]) {
        fail("groups[" + std::to_string(i) + "] = " + std::to_string(g[i]) +
             " is not a group id of its problem (0.." + std::to_string(ng[j] - 1) + ")");
      }
    }
  }
}

py::tuple philox4x32_10(std::array<uint32_t, 4> ctr, std::array<uint32_t, 2> key) {
  uint32_t out[4];
  sf::philox4x32_10(ctr.data(), key.data(), out);
  return py::make_tuple(out[0], out[1], out[2], out[3]);
}

// Words [start, start + n) of the stream (seed; s1, s2, s3).
py::array_t<uint32_t> philox_stream(uint64_t seed, uint32_t s1, uint32_t s2, uint32_t s3,
                                    uint64_t start, int64_t n) {
  if (n < 0) fail("n must be >= 0");
  py::array_t<uint32_t> out(n);
  uint32_t* o = out.mutable_data();
  {
    py::gil_scoped_release nogil;
    sf::PhiloxStream s;
    s.init(seed, s1, s2, s3);
    s.seek(start);
    for (int64_t i = 0; i < n; ++i) o[i] = s.next_u32();
  }
  return out;
}

// Integer multiplicities of resamples `replicates` of one problem of n_points points.
I32Array resample_multiplicities(int scheme, uint64_t seed, int64_t problem_id,
                                 IArray replicates, int64_t n_points,
                                 std::optional<I32Array> groups, int64_t n_groups,
                                 int n_threads) {
  check_scheme(scheme);
  if (sf::scheme_uses_targets(scheme)) fail("the residual and wild schemes have no multiplicities");
  require_ndim(replicates, 1, "replicates");
  if (n_points < 0 || n_points > 0xFFFFFFFFll) fail("n_points out of range");
  const int32_t* g = nullptr;
  if (sf::scheme_uses_groups(scheme)) {
    if (!groups) fail("the groups schemes need groups");
    require_ndim(*groups, 1, "groups");
    if (groups->shape(0) != n_points) fail("groups must have one entry per point");
    if (n_groups < 1 || n_groups > std::max<int64_t>(n_points, 1)) {
      fail("n_groups must be between 1 and n_points");
    }
    g = groups->data();
    for (int64_t i = 0; i < n_points; ++i) {
      if (g[i] < 0 || g[i] >= n_groups) fail("groups[" + std::to_string(i) + "] out of range");
    }
  }
  const int64_t R = replicates.shape(0);
  I32Array out({R, n_points});
  int32_t* o = out.mutable_data();
  const int64_t* rep = replicates.data();
  std::atomic<bool> ok{true};
  {
    py::gil_scoped_release nogil;
    auto body = [&](int64_t b, int64_t e) {
      std::vector<int> gcount(static_cast<size_t>(g ? n_groups : 1));
      for (int64_t r = b; r < e; ++r) {
        if (!sf::resample_multiplicities(scheme, seed, problem_id, rep[r], n_points, g, n_groups,
                                         gcount.data(), o + r * n_points)) {
          ok = false;
        }
      }
    };
    sf::parallel_for(R, n_threads, 16, body, {});
  }
  if (!ok) fail("could not generate the resample (bad scheme or groups)");
  return out;
}

// Perturbed targets of resamples `replicates` of one problem (residual and wild schemes),
// from y, yhat and resid in the solver's space (see prepare_residuals).
DArray resample_targets(int scheme, int wild, uint64_t seed, int64_t problem_id,
                        IArray replicates, DArray y, DArray yhat, DArray resid,
                        std::optional<DArray> w, int n_threads) {
  check_scheme(scheme);
  if (!sf::scheme_uses_targets(scheme)) fail("only the residual and wild schemes perturb targets");
  require_ndim(replicates, 1, "replicates");
  require_ndim(y, 1, "y");
  const int64_t n = y.shape(0);
  if (yhat.ndim() != 1 || yhat.shape(0) != n || resid.ndim() != 1 || resid.shape(0) != n) {
    fail("yhat and resid must have one entry per point");
  }
  if (w && (w->ndim() != 1 || w->shape(0) != n)) fail("weights must have one entry per point");
  const int64_t R = replicates.shape(0);
  DArray out({R, n});
  double* o = out.mutable_data();
  const int64_t* rep = replicates.data();
  const double *yp = y.data(), *hp = yhat.data(), *rp = resid.data();
  const double* wp = w ? w->data() : nullptr;
  std::atomic<bool> ok{true};
  {
    py::gil_scoped_release nogil;
    auto body = [&](int64_t b, int64_t e) {
      std::vector<int> donors(static_cast<size_t>(std::max<int64_t>(n, 1)));  // per chunk
      for (int64_t r = b; r < e; ++r) {
        if (!sf::resample_targets(scheme, wild, seed, problem_id, rep[r], n, yp, hp, rp, wp,
                                  o + r * n, donors.data())) {
          ok = false;
        }
      }
    };
    sf::parallel_for(R, n_threads, 16, body, {});
  }
  if (!ok) {
    fail("could not generate the resample (bad scheme or wild distribution, or, residual "
         "scheme, no point of positive weight)");
  }
  return out;
}

// Fitted values and adjusted residuals of each problem's point fit, in the solver's space
// (log space for log residuals): (yhat, resid, ok per problem).
py::tuple prepare_residuals(int model_index, int scheme, DArray x, DArray y,
                            std::optional<DArray> w, IArray offsets, DArray center,
                            bool log_residuals, std::optional<DArray> lo,
                            std::optional<DArray> hi) {
  py::tuple result;
  check_scheme(scheme);
  bool found = sf::dispatch_model(model_index, [&](auto model) {
    using M = decltype(model);
    constexpr int P = M::kParams;
    const int64_t n_problems = check_batch_layout<M>(x, y, w, offsets);
    if (center.ndim() != 2 || center.shape(0) != n_problems || center.shape(1) != P) {
      fail("center must have shape (" + std::to_string(n_problems) + ", " + std::to_string(P) + ")");
    }
    if (lo.has_value() != hi.has_value()) fail("pass both lo and hi, or neither");
    if (lo && (lo->ndim() != 1 || hi->ndim() != 1 || lo->shape(0) != P || hi->shape(0) != P)) {
      fail("bounds must have one entry per parameter");
    }
    const double* lop = lo ? lo->data() : nullptr;
    const double* hip = hi ? hi->data() : nullptr;
    const int64_t n_points = y.shape(0);
    std::vector<double> t(static_cast<size_t>(n_points) * M::kInputs);
    DArray yhat(n_points), resid(n_points);
    py::array_t<uint8_t> okp(n_problems);
    const int64_t* off = offsets.data();
    const double* wp = w ? w->data() : nullptr;
    const double *xp = x.data(), *yp = y.data(), *cp = center.data();
    double *hp = yhat.mutable_data(), *rp = resid.mutable_data();
    uint8_t* ok = okp.mutable_data();
    {
      py::gil_scoped_release nogil;
      std::vector<double> yt(static_cast<size_t>(n_points));
      sf::prepare_batch<M>(xp, yp, wp, off, n_problems, log_residuals, t.data(), yt.data(), ok);
      const sf::BatchData data{t.data(), yt.data(), wp, off, ok, n_problems};
      sf::prepare_resample_batch<M>(data, cp, log_residuals, scheme, true, hp, rp, ok, lop, hip);
    }
    result = py::make_tuple(yhat, resid, okp);
  });
  if (!found) fail("unknown model index " + std::to_string(model_index));
  return result;
}

// Solves bootstrap items (problem, replicate) of a batch, each warm-started at its problem's
// point fit `center`; returns (x, cov or None, cost, status, iterations) per item.
py::tuple bootstrap_batch(int model_index, int loss_index, DArray x, DArray y,
                          std::optional<DArray> w, IArray offsets, DArray center, DArray lo,
                          DArray hi, int scheme, int wild, uint64_t seed,
                          std::optional<IArray> problem_id, std::optional<I32Array> groups,
                          std::optional<IArray> n_groups, IArray item_problem,
                          IArray item_replicate, double ftol, double xtol, double gtol,
                          int max_iter, double f_scale, bool log_residuals, bool compute_cov,
                          int n_threads, bool float32) {
  py::tuple result;
  check_scheme(scheme);
  const sf_kernels::Isa& isa = call_isa(float32);
  bool model_found = sf::dispatch_model(model_index, [&](auto model) {
    using M = decltype(model);
    constexpr int P = M::kParams;
    constexpr int K = M::kInputs;
    const int64_t n_problems = check_batch_layout<M>(x, y, w, offsets);
    const int64_t n_points = y.shape(0);
    const int64_t* off = offsets.data();
    if (center.ndim() != 2 || center.shape(0) != n_problems || center.shape(1) != P) {
      fail("center must have shape (" + std::to_string(n_problems) + ", " + std::to_string(P) + ")");
    }
    require_ndim(lo, 1, "lo");
    require_ndim(hi, 1, "hi");
    if (lo.shape(0) != P || hi.shape(0) != P) fail("bounds must have one entry per parameter");
    require_ndim(item_problem, 1, "item_problem");
    require_ndim(item_replicate, 1, "item_replicate");
    const int64_t n_items = item_problem.shape(0);
    if (item_replicate.shape(0) != n_items) fail("item_replicate must match item_problem");
    if (problem_id) {
      require_ndim(*problem_id, 1, "problem_id");
      if (problem_id->shape(0) != n_problems) fail("problem_id must have one entry per problem");
    }
    if (sf::scheme_uses_groups(scheme)) {
      if (!groups || !n_groups) fail("the groups schemes need groups and n_groups");
      check_groups(*groups, *n_groups, off, n_problems);
    }
    if (sf::scheme_uses_targets(scheme) && (wild < sf::kWildRademacher || wild > sf::kWildMammen)) {
      fail("unknown wild distribution index " + std::to_string(wild));
    }
    const sf::Options opt = solver_options(ftol, xtol, gtol, max_iter, f_scale, log_residuals);
    ItemOutputs res(n_items, P, compute_cov);

    std::vector<double> t(static_cast<size_t>(n_points) * K);
    std::vector<double> yt(static_cast<size_t>(n_points));
    std::vector<uint8_t> valid(static_cast<size_t>(n_problems));
    const bool targets = sf::scheme_uses_targets(scheme);
    std::vector<double> yhat(targets ? static_cast<size_t>(n_points) : 0);
    std::vector<double> resid(targets ? static_cast<size_t>(n_points) : 0);

    const double* wp = w ? w->data() : nullptr;
    const double* cp = center.data();
    sf::BatchData data{t.data(), yt.data(), wp, off, valid.data(), n_problems};
    sf::ResampleSpec spec{scheme,
                          wild,
                          seed,
                          problem_id ? problem_id->data() : nullptr,
                          sf::scheme_uses_groups(scheme) ? groups->data() : nullptr,
                          sf::scheme_uses_groups(scheme) ? n_groups->data() : nullptr,
                          targets ? yhat.data() : nullptr,
                          targets ? resid.data() : nullptr,
                          cp};
    sf::ResampleItems items{item_problem.data(), item_replicate.data(), n_items};
    const sf::BatchOutputs out = res.view();
    const double* xp = x.data();
    const double* yp = y.data();
    const double* lop = lo.data();
    const double* hip = hi.data();

    bool completed = true;
    bool loss_found = true;
    {
      py::gil_scoped_release nogil;
      sf::prepare_batch<M>(xp, yp, wp, off, n_problems, log_residuals, t.data(), yt.data(),
                           valid.data());
      sf::prepare_resample_batch<M>(data, cp, log_residuals, scheme, targets, yhat.data(),
                                    resid.data(), valid.data(), lop, hip);
      int64_t max_points = 0, max_groups = 0;
      sf::resample_scratch_sizes(data, spec, &max_points, &max_groups);
      loss_found = loss_index >= 0 && loss_index < sf::kNumLosses;
      if (loss_found) {
        const sf_kernels::Settings set = kernel_settings(model_index, loss_index, opt, lop, hip);
        sf_kernels::Batch batch = kernel_batch(data);
        sf_kernels::Resample rs{spec.scheme,   spec.wild, spec.seed,  spec.problem_id,
                                spec.group,    spec.n_groups, spec.yhat, spec.resid,
                                spec.center};
        std::optional<FloatData> f32;
        if (float32) f32.emplace(data, K, spec.yhat, spec.resid, valid.data(), batch, &rs);
        const sf_kernels::Items kitems{items.problem, nullptr, items.replicate, n_items};
        const sf_kernels::Outputs kout = kernel_outputs(out);
        auto body = [&](int64_t b, int64_t e) {
          // Per-thread scratch (one allocation per chunk, never per item).
          std::vector<int> mult(static_cast<size_t>(std::max<int64_t>(max_points, 1)));
          std::vector<int> gcount(static_cast<size_t>(std::max<int64_t>(max_groups, 1)));
          // ys: resample_work_size reals of the build (doubles: room for floats too).
          std::vector<double> ys(
              static_cast<size_t>(sf::resample_work_size<M>(std::max<int64_t>(max_points, 1))));
          const sf_kernels::Scratch scratch{mult.data(), gcount.data(), ys.data()};
          isa.resample(set, batch, rs, kitems, kout, b, e, scratch);
        };
        const int64_t chunk = chunk_size(n_items, n_threads);
        completed = sf::parallel_for(n_items, n_threads, chunk, body, poll_signals);
      }
    }
    if (!loss_found) fail("unknown loss index " + std::to_string(loss_index));
    if (!completed) throw py::error_already_set();
    result = res.tuple();
  });
  if (!model_found) fail("unknown model index " + std::to_string(model_index));
  return result;
}

// x (n, kInputs) and params (S, kParams) of model M, or a ValueError.
template <class M>
void check_points_and_params(const DArray& x, const DArray& params) {
  require_ndim(x, 2, "x");
  require_ndim(params, 2, "params");
  if (x.shape(1) != M::kInputs) fail("x must have " + std::to_string(M::kInputs) + " columns");
  if (params.shape(1) != M::kParams) {
    fail("params must have " + std::to_string(M::kParams) + " columns");
  }
}

// Model values at points x for many parameter vectors: params (S, P) -> (S, n).
DArray evaluate_many(int model_index, DArray x, DArray params) {
  DArray result;
  bool found = sf::dispatch_model(model_index, [&](auto model) {
    using M = decltype(model);
    check_points_and_params<M>(x, params);
    const int64_t n = x.shape(0), S = params.shape(0);
    DArray f({S, n});
    const double* xp = x.data();
    const double* pp = params.data();
    double* fp = f.mutable_data();
    {
      py::gil_scoped_release nogil;
      std::vector<double> t(static_cast<size_t>(n) * M::kInputs);
      for (int64_t i = 0; i < n * M::kInputs; ++i) {
        t[i] = M::kLogInputs ? std::log(xp[i]) : xp[i];
      }
      double J[sf::kMaxParams];
      for (int64_t s = 0; s < S; ++s) {
        for (int64_t i = 0; i < n; ++i) {
          fp[s * n + i] = M::eval(pp + s * M::kParams, t.data() + i * M::kInputs, J);
        }
      }
    }
    result = f;
  });
  if (!found) fail("unknown model index " + std::to_string(model_index));
  return result;
}

// Row-wise values: f[i] = model(params[i], x[i]), one parameter row per point (e.g. each
// leave-one-out refit at the point it left out).
DArray evaluate_pairs(int model_index, DArray x, DArray params) {
  DArray result;
  bool found = sf::dispatch_model(model_index, [&](auto model) {
    using M = decltype(model);
    check_points_and_params<M>(x, params);
    if (params.shape(0) != x.shape(0)) fail("params must have one row per row of x");
    const int64_t n = x.shape(0);
    DArray f(n);
    const double* xp = x.data();
    const double* pp = params.data();
    double* fp = f.mutable_data();
    {
      py::gil_scoped_release nogil;
      double t[sf::kMaxInputs];
      double J[sf::kMaxParams];
      for (int64_t i = 0; i < n; ++i) {
        for (int a = 0; a < M::kInputs; ++a) {
          const double v = xp[i * M::kInputs + a];
          t[a] = M::kLogInputs ? std::log(v) : v;
        }
        fp[i] = M::eval(pp + i * M::kParams, t, J);
      }
    }
    result = f;
  });
  if (!found) fail("unknown model index " + std::to_string(model_index));
  return result;
}

}  // namespace

PYBIND11_MODULE(_core, m) {
  m.doc() = "scalingfit's C++ core: batched Levenberg-Marquardt fits of scaling laws.";
  m.def("model_info", &model_info, "Built-in models: name, index, sizes and parameter names.");
  m.def("loss_names", &loss_names, "Names of the robust losses, in index order.");
  m.def("hardware_threads", []() { return static_cast<int>(std::thread::hardware_concurrency()); });
  m.def("simd_levels", &simd_levels,
        "Builds of the solver this CPU can run, best first (e.g. ['avx512', 'avx2', 'baseline']).");
  m.def("simd_level", []() { return std::string(sf_kernels::active().name); },
        "The build of the solver in use.");
  m.def("set_simd_level", &set_simd_level, py::arg("name"),
        "Use this build of the solver (one of simd_levels()); for comparisons and reproducing "
        "baseline bits. The environment variable SCALINGFIT_SIMD sets it at import.");
  m.def("elementary", &elementary, py::arg("fn"), py::arg("x").noconvert(),
        py::arg("float32") = false,
        "The solver's exp (fn=0), log (fn=1) or log1p (fn=2) of every element, as the active "
        "build computes it (float32: the float32 build, of x rounded to float).");
  m.def("evaluate", &evaluate, py::arg("model").noconvert(), py::arg("x").noconvert(),
        py::arg("p").noconvert(), "Model value and Jacobian at points x for parameters p.");
  m.def("solve_batch", &solve_batch, py::arg("model"), py::arg("loss"), py::arg("x").noconvert(),
        py::arg("y").noconvert(), py::arg("weights").noconvert(), py::arg("offsets").noconvert(),
        py::arg("problem").noconvert(), py::arg("p0").noconvert(), py::arg("lo").noconvert(),
        py::arg("hi").noconvert(), py::arg("ftol"), py::arg("xtol"), py::arg("gtol"),
        py::arg("max_iter"), py::arg("f_scale"), py::arg("log_residuals"),
        py::arg("compute_cov"), py::arg("n_threads"), py::arg("float32") = false,
        "Solve a batch of items; returns (x, cov, cost, status, iterations). float32: float data "
        "and per-point sums (the float32 build).");

  // Bootstrap (rng.hpp, bootstrap.hpp).
  m.def("philox4x32_10", &philox4x32_10, py::arg("counter"), py::arg("key"),
        "One Philox4x32-10 block: 4 counter words, 2 key words -> 4 output words.");
  m.def("philox_stream", &philox_stream, py::arg("seed"), py::arg("s1"), py::arg("s2"),
        py::arg("s3"), py::arg("start"), py::arg("n"),
        "Words [start, start + n) of the Philox stream (seed; s1, s2, s3).");
  m.def("resample_multiplicities", &resample_multiplicities, py::arg("scheme"), py::arg("seed"),
        py::arg("problem_id"), py::arg("replicates").noconvert(), py::arg("n_points"),
        py::arg("groups").noconvert(), py::arg("n_groups"), py::arg("n_threads"),
        "Integer multiplicities (replicates x n_points) of resamples of one problem.");
  m.def("resample_targets", &resample_targets, py::arg("scheme"), py::arg("wild"),
        py::arg("seed"), py::arg("problem_id"), py::arg("replicates").noconvert(),
        py::arg("y").noconvert(), py::arg("yhat").noconvert(), py::arg("resid").noconvert(),
        py::arg("weights").noconvert(), py::arg("n_threads"),
        "Perturbed targets (replicates x n_points) of residual/wild resamples of one problem.");
  m.def("prepare_batch", &prepare_batch, py::arg("model"), py::arg("x").noconvert(),
        py::arg("y").noconvert(), py::arg("weights").noconvert(), py::arg("offsets").noconvert(),
        py::arg("log_residuals"),
        "The solver's view of a batch: (t, y, valid), inputs and targets as the solver sees "
        "them and each problem's validity.");
  m.def("prepare_residuals", &prepare_residuals, py::arg("model"), py::arg("scheme"),
        py::arg("x").noconvert(), py::arg("y").noconvert(), py::arg("weights").noconvert(),
        py::arg("offsets").noconvert(), py::arg("center").noconvert(), py::arg("log_residuals"),
        py::arg("lo").noconvert() = py::none(), py::arg("hi").noconvert() = py::none(),
        "Fitted values and adjusted residuals of each problem's point fit: (yhat, resid, ok); "
        "lo/hi (optional): the bounds, whose equal pairs fix parameters (no leverage).");
  m.def("bootstrap_batch", &bootstrap_batch, py::arg("model"), py::arg("loss"),
        py::arg("x").noconvert(), py::arg("y").noconvert(), py::arg("weights").noconvert(),
        py::arg("offsets").noconvert(), py::arg("center").noconvert(), py::arg("lo").noconvert(),
        py::arg("hi").noconvert(), py::arg("scheme"), py::arg("wild"), py::arg("seed"),
        py::arg("problem_id").noconvert(), py::arg("groups").noconvert(),
        py::arg("n_groups").noconvert(), py::arg("item_problem").noconvert(),
        py::arg("item_replicate").noconvert(), py::arg("ftol"), py::arg("xtol"), py::arg("gtol"),
        py::arg("max_iter"), py::arg("f_scale"), py::arg("log_residuals"),
        py::arg("compute_cov"), py::arg("n_threads"), py::arg("float32") = false,
        "Solve bootstrap items (problem, replicate); returns (x, cov, cost, status, iterations). "
        "float32: as for solve_batch.");
  m.def("evaluate_many", &evaluate_many, py::arg("model"), py::arg("x").noconvert(),
        py::arg("params").noconvert(), "Model values (S x n) at points x for S parameter rows.");
  m.def("evaluate_pairs", &evaluate_pairs, py::arg("model"), py::arg("x").noconvert(),
        py::arg("params").noconvert(), "Model values f[i] = model(params[i], x[i]) (n rows each).");
}
