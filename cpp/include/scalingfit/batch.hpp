// scalingfit/batch.hpp -- the CPU driver: items of a batch over a fixed set of threads.
//
// A batch is CSR-packed data of many problems plus items that refer to them: item k solves
// problem `problem[k]` from start `p0[k]`. Each item is solved by exactly one thread, in
// one fixed order of floating-point operations, so the results are bit-identical for any
// thread count. Outputs are caller-owned arrays written in place; nothing here allocates
// per item or touches Python.
#pragma once
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "lm.hpp"

namespace scalingfit {

struct BatchData {
  const double* t;         // n_points x n_inputs model inputs (logs taken where needed)
  const double* y;         // n_points targets (log y for log residuals)
  const double* w;         // n_points weights, or null
  const int64_t* offsets;  // n_problems + 1
  const uint8_t* valid;    // n_problems flags: 0 = data unusable (status kStatusBadInput)
  int64_t n_problems;
};

struct BatchItems {
  const int64_t* problem;  // n_items problem indices
  const double* p0;        // n_items x n_params starts
  int64_t n_items;
};

struct BatchOutputs {
  double* x;        // n_items x n_params
  double* cov;      // n_items x n_params x n_params, or null
  double* cost;     // n_items
  int32_t* status;  // n_items
  int32_t* iterations;
};

// Solves items [begin, end) of the batch with Model and Loss.
template <class Model, class Loss>
void solve_items(const BatchData& data, const BatchItems& items, const BatchOutputs& out,
                 const Options& opt, const double* lo, const double* hi, int64_t begin,
                 int64_t end) {
  constexpr int P = Model::kParams;
  for (int64_t k = begin; k < end; ++k) {
    double* p = out.x + k * P;
    for (int a = 0; a < P; ++a) p[a] = items.p0[k * P + a];
    double* cov = out.cov ? out.cov + k * P * P : nullptr;
    const int64_t j = items.problem[k];
    SolveResult r{kStatusBadInput, 0, nan("")};
    if (j >= 0 && j < data.n_problems && data.valid[j]) {
      const int64_t o0 = data.offsets[j];
      ProblemView v{data.t + o0 * Model::kInputs, data.y + o0, data.w ? data.w + o0 : nullptr,
                    nullptr, static_cast<long long>(data.offsets[j + 1] - o0)};
      r = solve<Model, Loss>(v, opt, lo, hi, p, cov);
    } else if (cov) {
      for (int a = 0; a < P * P; ++a) cov[a] = nan("");
    }
    out.cost[k] = r.cost;
    out.status[k] = r.status;
    out.iterations[k] = r.iterations;
  }
}

// Runs body(begin, end) over [0, n) in chunks on n_threads worker threads. The calling
// thread does no work: it calls poll() about every 20 ms and stops handing out chunks once
// poll() returns true (the binding uses this to honour Ctrl-C). Returns false if cancelled.
// Small jobs (n <= inline_below or n_threads <= 1 without poll) run on the calling thread.
inline bool parallel_for(int64_t n, int n_threads, int64_t chunk,
                         const std::function<void(int64_t, int64_t)>& body,
                         const std::function<bool()>& poll, int64_t inline_below = 64) {
  if (n <= 0) return true;
  chunk = std::max<int64_t>(1, chunk);
  if (n <= inline_below || (n_threads <= 1 && !poll)) {
    body(0, n);
    return true;
  }
  n_threads = std::max(1, n_threads);
  std::atomic<int64_t> next{0};
  std::atomic<bool> cancel{false};
  std::atomic<int> running{n_threads};
  std::mutex m;
  std::condition_variable cv;
  auto worker = [&]() {
    for (;;) {
      if (cancel.load(std::memory_order_relaxed)) break;
      const int64_t b = next.fetch_add(chunk);
      if (b >= n) break;
      body(b, std::min(n, b + chunk));
    }
    if (running.fetch_sub(1) == 1) {
      std::lock_guard<std::mutex> lk(m);
      cv.notify_all();
    }
  };
  std::vector<std::thread> pool;
  pool.reserve(n_threads);
  for (int i = 0; i < n_threads; ++i) pool.emplace_back(worker);
  {
    std::unique_lock<std::mutex> lk(m);
    while (running.load() > 0) {
      cv.wait_for(lk, std::chrono::milliseconds(20));
      if (poll && !cancel.load() && running.load() > 0) {
        lk.unlock();
        if (poll()) cancel.store(true);
        lk.lock();
      }
    }
  }
  for (auto& th : pool) th.join();
  return !cancel.load();
}

}  // namespace scalingfit

namespace scalingfit {

// Builds the model inputs of a batch in place of the caller's buffers: t = log x for models
// with kLogInputs, y_out = log y for log residuals, and marks each problem valid (1) when
// every one of its inputs, targets and weights is usable (finite, weights >= 0).
template <class Model>
void prepare_batch(const double* x, const double* y, const double* w, const int64_t* offsets,
                   int64_t n_problems, bool log_residuals, double* t_out, double* y_out,
                   uint8_t* valid) {
  constexpr int K = Model::kInputs;
  for (int64_t j = 0; j < n_problems; ++j) {
    bool ok = offsets[j + 1] >= offsets[j];
    for (int64_t i = offsets[j]; ok && i < offsets[j + 1]; ++i) {
      for (int c = 0; c < K; ++c) {
        const double v = x[i * K + c];
        const double tv = Model::kLogInputs ? (v > 0.0 ? log(v) : nan("")) : v;
        t_out[i * K + c] = tv;
        ok = ok && sf_isfinite(tv);
      }
      const double yv = log_residuals ? (y[i] > 0.0 ? log(y[i]) : nan("")) : y[i];
      y_out[i] = yv;
      ok = ok && sf_isfinite(yv);
      if (w) ok = ok && sf_isfinite(w[i]) && w[i] >= 0.0;
    }
    valid[j] = ok ? 1 : 0;
  }
}

}  // namespace scalingfit
