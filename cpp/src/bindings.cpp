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
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "scalingfit/batch.hpp"
#include "scalingfit/losses.hpp"
#include "scalingfit/models.hpp"

namespace py = pybind11;
namespace sf = scalingfit;

using DArray = py::array_t<double, py::array::c_style>;
using IArray = py::array_t<int64_t, py::array::c_style>;

namespace {

[[noreturn]] void fail(const std::string& msg) { throw py::value_error(msg); }

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

py::tuple solve_batch(int model_index, int loss_index, DArray x, DArray y,
                      std::optional<DArray> w, IArray offsets, IArray problem, DArray p0,
                      DArray lo, DArray hi, double ftol, double xtol, double gtol, int max_iter,
                      double f_scale, bool log_residuals, bool compute_cov, int n_threads) {
  py::tuple result;
  bool model_found = sf::dispatch_model(model_index, [&](auto model) {
    using M = decltype(model);
    constexpr int P = M::kParams;
    constexpr int K = M::kInputs;
    require_ndim(x, 2, "x");
    require_ndim(y, 1, "y");
    require_ndim(offsets, 1, "offsets");
    require_ndim(problem, 1, "problem");
    require_ndim(p0, 2, "p0");
    require_ndim(lo, 1, "lo");
    require_ndim(hi, 1, "hi");
    const int64_t n_points = y.shape(0);
    if (x.shape(0) != n_points) {
      fail("x has " + std::to_string(x.shape(0)) + " rows but y has " +
           std::to_string(n_points) + " points");
    }
    if (x.shape(1) != K) {
      fail("x must have " + std::to_string(K) + " columns for model " + M::kName + ", got " +
           std::to_string(x.shape(1)));
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
    const int64_t n_items = problem.shape(0);
    if (p0.shape(0) != n_items || p0.shape(1) != P) {
      fail("p0 must have shape (" + std::to_string(n_items) + ", " + std::to_string(P) + ")");
    }
    if (lo.shape(0) != P || hi.shape(0) != P) fail("bounds must have one entry per parameter");
    if (f_scale <= 0.0 || !sf::sf_isfinite(f_scale)) fail("f_scale must be positive and finite");
    if (max_iter < 0) fail("max_iter must be >= 0");

    sf::Options opt;
    opt.ftol = ftol;
    opt.xtol = xtol;
    opt.gtol = gtol;
    opt.max_iter = max_iter;
    opt.f_scale = f_scale;
    opt.log_residuals = log_residuals;

    DArray out_x({n_items, static_cast<int64_t>(P)});
    DArray out_cov = compute_cov ? DArray({n_items, static_cast<int64_t>(P), static_cast<int64_t>(P)})
                                 : DArray(std::vector<int64_t>{0});
    DArray out_cost(n_items);
    py::array_t<int32_t> out_status(n_items);
    py::array_t<int32_t> out_iter(n_items);

    std::vector<double> t(static_cast<size_t>(n_points) * K);
    std::vector<double> yt(static_cast<size_t>(n_points));
    std::vector<uint8_t> valid(static_cast<size_t>(n_problems));

    sf::BatchData data{t.data(), yt.data(), w ? w->data() : nullptr, off, valid.data(), n_problems};
    sf::BatchItems items{problem.data(), p0.data(), n_items};
    sf::BatchOutputs out{out_x.mutable_data(), compute_cov ? out_cov.mutable_data() : nullptr,
                         out_cost.mutable_data(), out_status.mutable_data(),
                         out_iter.mutable_data()};
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
      loss_found = sf::dispatch_loss(loss_index, [&](auto loss) {
        using L = decltype(loss);
        auto body = [&](int64_t b, int64_t e) {
          sf::solve_items<M, L>(data, items, out, opt, lop, hip, b, e);
        };
        auto poll = []() {
          py::gil_scoped_acquire gil;
          return PyErr_CheckSignals() != 0;
        };
        const int64_t chunk = std::max<int64_t>(1, std::min<int64_t>(256, n_items / (8 * n_threads) + 1));
        completed = sf::parallel_for(n_items, n_threads, chunk, body, poll);
      });
    }
    if (!loss_found) fail("unknown loss index " + std::to_string(loss_index));
    if (!completed) throw py::error_already_set();
    result = py::make_tuple(out_x, compute_cov ? py::object(out_cov) : py::object(py::none()),
                            out_cost, out_status, out_iter);
  });
  if (!model_found) fail("unknown model index " + std::to_string(model_index));
  return result;
}

}  // namespace

PYBIND11_MODULE(_core, m) {
  m.doc() = "scalingfit's C++ core: batched Levenberg-Marquardt fits of scaling laws.";
  m.def("model_info", &model_info, "Built-in models: name, index, sizes and parameter names.");
  m.def("loss_names", &loss_names, "Names of the robust losses, in index order.");
  m.def("hardware_threads", []() { return static_cast<int>(std::thread::hardware_concurrency()); });
  m.def("evaluate", &evaluate, py::arg("model").noconvert(), py::arg("x").noconvert(),
        py::arg("p").noconvert(), "Model value and Jacobian at points x for parameters p.");
  m.def("solve_batch", &solve_batch, py::arg("model"), py::arg("loss"), py::arg("x").noconvert(),
        py::arg("y").noconvert(), py::arg("weights").noconvert(), py::arg("offsets").noconvert(),
        py::arg("problem").noconvert(), py::arg("p0").noconvert(), py::arg("lo").noconvert(),
        py::arg("hi").noconvert(), py::arg("ftol"), py::arg("xtol"), py::arg("gtol"),
        py::arg("max_iter"), py::arg("f_scale"), py::arg("log_residuals"),
        py::arg("compute_cov"), py::arg("n_threads"),
        "Solve a batch of items; returns (x, cov, cost, status, iterations).");
}
