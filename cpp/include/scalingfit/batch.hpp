// scalingfit/batch.hpp -- the CPU driver: items of a batch over a persistent thread pool.
//
// A batch is CSR-packed data of many problems plus items that refer to them: item k solves
// problem `problem[k]` from start `p0[k]`. Each item is solved by exactly one thread, in
// one fixed order of floating-point operations, so the results are bit-identical for any
// thread count. Outputs are caller-owned arrays written in place, once per item (the solver
// iterates on a copy of the item's parameters on its own stack, so threads working on
// neighbouring items do not share cache lines while they run); nothing here allocates per
// item or touches Python.
#pragma once
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <list>
#include <mutex>
#include <thread>
#include <vector>
#if defined(__unix__) || defined(__APPLE__)
#include <unistd.h>
#define SF_HAVE_GETPID 1
#endif

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
    double p[kMaxParams];
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
    for (int a = 0; a < P; ++a) out.x[k * P + a] = p[a];
    out.cost[k] = r.cost;
    out.status[k] = r.status;
    out.iterations[k] = r.iterations;
  }
}

namespace detail {

// A process-wide pool of worker threads, started on first use and grown on demand (so that a
// new job finds as many idle workers as it may use); threads are never stopped (they sleep on
// a condition variable between jobs), so a batch does not pay for starting threads. Several
// jobs (from several Python threads) may run at once; each job has its own cap on the number
// of workers that may join it. After a fork the child starts a pool of its own (the parent's
// threads do not exist there).
class ThreadPool {
 public:
  struct Job {
    const std::function<void(int64_t, int64_t)>* body;
    int64_t n, chunk;
    int max_workers;
    std::atomic<int64_t> next{0};
    std::atomic<bool> cancel{false};
    int joined = 0, active = 0;  // guarded by the pool's mutex
    bool finished = false;       // guarded by the pool's mutex
    std::condition_variable done;
    bool has_work() const {
      return !cancel.load(std::memory_order_relaxed) &&
             next.load(std::memory_order_relaxed) < n;
    }
  };

  static ThreadPool& instance() {
    static std::mutex guard;
    static ThreadPool* pool = nullptr;  // never deleted: workers may outlive static destructors
    std::lock_guard<std::mutex> lk(guard);
    if (!pool || pool->pid_ != current_pid()) pool = new ThreadPool();
    return *pool;
  }

  // Runs job on up to job.max_workers pool threads. The calling thread does no work: it
  // calls poll() about every 20 ms and cancels the job once poll() returns true; it returns
  // when no worker is inside the job any more.
  void run(Job& job, const std::function<bool()>& poll) {
    std::unique_lock<std::mutex> lk(m_);
    while (idle_ < job.max_workers) {
      std::thread([this]() { work(); }).detach();
      ++idle_;  // it waits for m_, then for a job
    }
    jobs_.push_back(&job);
    wake_.notify_all();
    while (!job.finished) {
      job.done.wait_for(lk, std::chrono::milliseconds(20));
      if (job.finished || !poll || job.cancel.load()) continue;
      lk.unlock();
      const bool stop = poll();
      lk.lock();
      if (stop) {
        job.cancel.store(true);
        if (job.active == 0) finish(job);
      }
    }
  }

 private:
  ThreadPool() : pid_(current_pid()) {}

  static long current_pid() {
#ifdef SF_HAVE_GETPID
    return static_cast<long>(getpid());
#else
    return 0;
#endif
  }

  Job* find_job() {
    for (Job* j : jobs_) {
      if (j->joined < j->max_workers && j->has_work()) return j;
    }
    return nullptr;
  }

  void finish(Job& job) {  // with m_ held
    jobs_.remove(&job);
    job.finished = true;
    job.done.notify_all();
  }

  void work() {
    std::unique_lock<std::mutex> lk(m_);
    for (;;) {
      Job* job = nullptr;
      wake_.wait(lk, [&]() { return (job = find_job()) != nullptr; });
      --idle_;
      ++job->joined;
      ++job->active;
      lk.unlock();
      for (;;) {
        if (job->cancel.load(std::memory_order_relaxed)) break;
        const int64_t b = job->next.fetch_add(job->chunk);
        if (b >= job->n) break;
        (*job->body)(b, std::min(job->n, b + job->chunk));
      }
      lk.lock();
      if (--job->active == 0 && !job->has_work() && !job->finished) finish(*job);
      ++idle_;
    }
  }

  std::mutex m_;
  std::condition_variable wake_;
  std::list<Job*> jobs_;
  int idle_ = 0;  // workers waiting for a job (guarded by m_)
  long pid_;
};

}  // namespace detail

// Runs body(begin, end) over [0, n) in chunks on n_threads workers of the persistent pool.
// The calling thread does no work: it calls poll() about every 20 ms and stops handing out
// chunks once poll() returns true (the binding uses this to honour Ctrl-C); it returns when
// every worker has left the job. Returns false if cancelled. Small jobs (n <= inline_below,
// or n_threads <= 1 without poll) run on the calling thread.
inline bool parallel_for(int64_t n, int n_threads, int64_t chunk,
                         const std::function<void(int64_t, int64_t)>& body,
                         const std::function<bool()>& poll, int64_t inline_below = 64) {
  if (n <= 0) return true;
  chunk = std::max<int64_t>(1, chunk);
  if (n <= inline_below || (n_threads <= 1 && !poll)) {
    body(0, n);
    return true;
  }
  detail::ThreadPool::Job job;
  job.body = &body;
  job.n = n;
  job.chunk = chunk;
  job.max_workers = std::max(1, n_threads);
  detail::ThreadPool::instance().run(job, poll);
  return !job.cancel.load();
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
