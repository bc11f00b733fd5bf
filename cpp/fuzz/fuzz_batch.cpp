// Fuzz target for the core's batch entry: bytes -> one batch -> the CPU driver, no Python.
//
// The bytes are decoded into everything the binding (cpp/src/bindings.cpp) lets through to the
// core: a model and a loss, CSR-packed problems of 0..12 points (empty problems included), inputs,
// targets and weights of any kind (NaN, +-inf, 0, -0, the largest and smallest doubles, raw bit
// patterns, and mostly "plausible" magnitudes from 1e-16 to 1e16 so that the solver does real
// work), bounds (infinite, NaN, crossed, or equal), starts (at a bound, outside it, non-finite),
// item problem indices out of range, tolerances and iteration limits. Then it runs either
//   fit mode:        prepare_batch + solve_items, or
//   bootstrap mode:  prepare_batch + prepare_resample_batch + solve_resample_items (all six
//                    schemes, including jackknife and groups with valid group ids),
// on one thread or through parallel_for on two, exactly as the binding does, and checks the
// contract of every item: a known status code; a converged item (status > 0) has finite
// parameters and a finite, non-negative cost; iterations within [0, max_iter].
// A violated contract aborts (a fuzzer "crash"), as do AddressSanitizer and UBSan findings.
//
// Build with libFuzzer:   clang++ -std=c++17 -g -O1 -fsanitize=fuzzer,address,undefined ...
// or with fuzz_main.cpp (a random-input driver) and any compiler; see cpp/fuzz/run.sh.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <vector>

#include "scalingfit/batch.hpp"
#include "scalingfit/bootstrap.hpp"
#include "scalingfit/losses.hpp"
#include "scalingfit/models.hpp"

namespace sf = scalingfit;

namespace {

// Reads the input front to back; past its end every read is zero (a valid, small batch).
class Reader {
 public:
  Reader(const uint8_t* data, size_t size) : d_(data), n_(size) {}
  uint8_t byte() { return i_ < n_ ? d_[i_++] : 0; }
  uint64_t u64() {
    uint64_t v = 0;
    for (int k = 0; k < 8; ++k) v = (v << 8) | byte();
    return v;
  }
  // A double of any kind; most are positive and of plausible magnitude.
  double value() {
    const uint8_t tag = byte();
    constexpr double inf = std::numeric_limits<double>::infinity();
    switch (tag >> 4) {
      case 0: {
        switch (tag & 15) {
          case 0: return std::numeric_limits<double>::quiet_NaN();
          case 1: return inf;
          case 2: return -inf;
          case 3: return 0.0;
          case 4: return -0.0;
          case 5: return std::numeric_limits<double>::max();
          case 6: return -std::numeric_limits<double>::max();
          case 7: return std::numeric_limits<double>::min();
          case 8: return std::numeric_limits<double>::denorm_min();
          case 9: return 1e300;
          case 10: return 1e-300;
          case 11: return 1.0;
          default: {  // raw bit pattern
            const uint64_t bits = u64();
            double v;
            std::memcpy(&v, &bits, sizeof v);
            return v;
          }
        }
      }
      case 1: return -plausible();
      default: return plausible();
    }
  }
  // (1 + m / 256) * 10^(e / 8 - 16): 1e-16 .. ~1e16, fine steps.
  double plausible() {
    const double e = byte() / 8.0 - 16.0;
    const double m = 1.0 + byte() / 256.0;
    return m * std::pow(10.0, e);
  }
  // A small exponent-like or level-like parameter value (-2 .. 2), or anything.
  double param() {
    const uint8_t tag = byte();
    if (tag < 200) return (tag - 100) / 50.0;
    return value();
  }

 private:
  const uint8_t* d_;
  size_t n_;
  size_t i_ = 0;
};

[[noreturn]] void contract_broken(const char* what, int64_t item, int status) {
  std::fprintf(stderr, "contract broken at item %lld (status %d): %s\n",
               static_cast<long long>(item), status, what);
  std::abort();
}

void check_outputs(const sf::BatchOutputs& out, int64_t n_items, int P, int max_iter) {
  for (int64_t k = 0; k < n_items; ++k) {
    const int st = out.status[k];
    if (st < sf::kStatusBadInput || st > sf::kStatusFtolXtol) contract_broken("unknown status", k, st);
    if (out.iterations[k] < 0 || out.iterations[k] > max_iter) {
      contract_broken("iterations outside [0, max_iter]", k, st);
    }
    if (st > 0) {
      for (int a = 0; a < P; ++a) {
        if (!sf::sf_isfinite(out.x[k * P + a])) contract_broken("converged with a non-finite parameter", k, st);
      }
      if (!sf::sf_isfinite(out.cost[k]) || out.cost[k] < 0.0) {
        contract_broken("converged with a non-finite or negative cost", k, st);
      }
    }
    if (st == sf::kStatusBadInput) {  // never started: no parameters that look like a fit
      for (int a = 0; a < P; ++a) {
        if (!std::isnan(out.x[k * P + a])) contract_broken("bad input with a non-NaN parameter", k, st);
      }
    }
  }
}

template <class M, class L>
void run(Reader& in, uint8_t flags) {
  constexpr int P = M::kParams;
  constexpr int K = M::kInputs;
  const bool log_residuals = flags & 1;
  const bool weighted = flags & 2;
  const bool bootstrap = flags & 4;
  const bool threaded = flags & 8;
  const bool compute_cov = flags & 16;

  // Problems: CSR offsets from per-problem counts (non-decreasing, as the binding requires).
  const int64_t n_problems = in.byte() % 5;
  std::vector<int64_t> offsets(1, 0);
  for (int64_t j = 0; j < n_problems; ++j) offsets.push_back(offsets.back() + in.byte() % 13);
  const int64_t n_points = offsets.back();
  std::vector<double> x(static_cast<size_t>(n_points) * K), y(n_points), w(n_points);
  // Inputs: mostly a spread of plausible values; sometimes all equal within a problem
  // (a degenerate design); sometimes anything at all.
  for (int64_t j = 0; j < n_problems; ++j) {
    const uint8_t mode = in.byte() % 4;
    for (int64_t i = offsets[j]; i < offsets[j + 1]; ++i) {
      for (int c = 0; c < K; ++c) {
        x[i * K + c] = mode == 0 ? in.value() : (mode == 1 && i > offsets[j] ? x[offsets[j] * K + c]
                                                                           : in.plausible());
      }
      y[i] = in.byte() < 32 ? in.value() : in.plausible();
      if (weighted) w[i] = in.byte() < 16 ? in.value() : in.byte() % 4;
    }
  }
  // Bounds (anything: the core must cope with NaN or crossed bounds without UB) and options.
  std::vector<double> lo(P), hi(P);
  constexpr double inf = std::numeric_limits<double>::infinity();
  for (int a = 0; a < P; ++a) {
    const uint8_t b = in.byte();
    lo[a] = (b & 3) ? -inf : in.param();
    hi[a] = (b & 12) ? inf : ((b & 16) ? lo[a] : in.param());
  }
  sf::Options opt;
  static const double tols[] = {0.0, 1e-15, 1e-12, 1e-8, 1e-3, 0.5};
  opt.ftol = tols[in.byte() % 6];
  opt.xtol = tols[in.byte() % 6];
  opt.gtol = tols[in.byte() % 6];
  opt.max_iter = in.byte() % 48;
  const double fs = in.value();
  opt.f_scale = sf::sf_isfinite(fs) && fs > 0.0 ? fs : 1.0;  // the binding rejects the rest
  opt.log_residuals = log_residuals;

  // Prepared data, as the binding builds it (zero-filled, like its std::vector buffers).
  std::vector<double> t(static_cast<size_t>(n_points) * K), yt(n_points);
  std::vector<uint8_t> valid(n_problems);
  const double* wp = weighted ? w.data() : nullptr;
  sf::prepare_batch<M>(x.data(), y.data(), wp, offsets.data(), n_problems, log_residuals,
                       t.data(), yt.data(), valid.data());
  const sf::BatchData data{t.data(), yt.data(), wp, offsets.data(), valid.data(), n_problems};

  // Items: problem indices in [-1, n_problems], starts that are anything or at a bound.
  const int64_t n_items = in.byte() % 9;
  std::vector<int64_t> problem(n_items), replicate(n_items);
  std::vector<double> p0(static_cast<size_t>(n_items) * P);
  for (int64_t k = 0; k < n_items; ++k) {
    problem[k] = static_cast<int64_t>(in.byte() % (n_problems + 2)) - 1;
    replicate[k] = static_cast<int8_t>(in.byte());  // -128..127: -1 is the original data
    for (int a = 0; a < P; ++a) {
      const uint8_t b = in.byte() % 8;
      p0[k * P + a] = b == 0 ? lo[a] : (b == 1 ? hi[a] : in.param());
    }
  }
  std::vector<double> ox(static_cast<size_t>(n_items) * P), ocov(static_cast<size_t>(n_items) * P * P),
      ocost(n_items);
  std::vector<int32_t> ostatus(n_items), oiter(n_items);
  const sf::BatchOutputs out{ox.data(), compute_cov ? ocov.data() : nullptr, ocost.data(),
                             ostatus.data(), oiter.data()};
  const int n_threads = threaded ? 2 : 1;
  const int64_t inline_below = threaded ? 0 : 64;

  if (!bootstrap) {
    const sf::BatchItems items{problem.data(), p0.data(), n_items};
    auto body = [&](int64_t b, int64_t e) {
      sf::solve_items<M, L>(data, items, out, opt, lo.data(), hi.data(), b, e);
    };
    sf::parallel_for(n_items, n_threads, 1, body, {}, inline_below);
    check_outputs(out, n_items, P, opt.max_iter);
    return;
  }

  // Bootstrap: a scheme, stream ids, groups with ids valid for their problem (as check_groups
  // requires), and a point fit per problem (the items' starts) that may be anything.
  const int scheme = in.byte() % 6;
  const int wild = in.byte() % 3;
  const uint64_t seed = in.u64();
  std::vector<int64_t> problem_id(n_problems), n_groups(n_problems);
  std::vector<int32_t> groups(n_points);
  for (int64_t j = 0; j < n_problems; ++j) {
    problem_id[j] = static_cast<int64_t>(in.u64());
    const int64_t n_j = offsets[j + 1] - offsets[j];
    n_groups[j] = n_j == 0 ? 0 : 1 + in.byte() % n_j;
    for (int64_t i = offsets[j]; i < offsets[j + 1]; ++i) groups[i] = in.byte() % n_groups[j];
  }
  std::vector<double> center(static_cast<size_t>(n_problems) * P);
  for (int64_t j = 0; j < n_problems; ++j) {
    for (int a = 0; a < P; ++a) center[j * P + a] = in.param();
  }
  const bool targets = sf::scheme_uses_targets(scheme);
  const bool uses_groups = sf::scheme_uses_groups(scheme);
  std::vector<double> yhat(targets ? n_points : 0), resid(targets ? n_points : 0);
  sf::prepare_resample_batch<M>(data, center.data(), log_residuals, scheme, targets, yhat.data(),
                                resid.data(), valid.data());
  const sf::ResampleSpec spec{scheme,
                              wild,
                              seed,
                              (flags & 32) ? problem_id.data() : nullptr,
                              uses_groups ? groups.data() : nullptr,
                              uses_groups ? n_groups.data() : nullptr,
                              targets ? yhat.data() : nullptr,
                              targets ? resid.data() : nullptr,
                              center.data()};
  const sf::ResampleItems items{problem.data(), replicate.data(), n_items};
  int64_t max_points = 0, max_groups = 0;
  sf::resample_scratch_sizes(data, spec, &max_points, &max_groups);
  auto body = [&](int64_t b, int64_t e) {
    std::vector<int> mult(static_cast<size_t>(std::max<int64_t>(max_points, 1)));
    std::vector<int> gcount(static_cast<size_t>(std::max<int64_t>(max_groups, 1)));
    std::vector<double> ys(
        static_cast<size_t>(sf::resample_work_size<M>(std::max<int64_t>(max_points, 1))));
    sf::solve_resample_items<M, L>(data, spec, items, out, opt, lo.data(), hi.data(), b, e,
                                   mult.data(), gcount.data(), ys.data());
  };
  sf::parallel_for(n_items, n_threads, 1, body, {}, inline_below);
  check_outputs(out, n_items, P, opt.max_iter);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Reader in(data, size);
  const int model = in.byte() % sf::kNumModels;
  const int loss = in.byte() % sf::kNumLosses;
  const uint8_t flags = in.byte();
  sf::dispatch_model(model, [&](auto m) {
    sf::dispatch_loss(loss, [&](auto l) { run<decltype(m), decltype(l)>(in, flags); });
  });
  return 0;
}
