// scalingfit/batch.hpp -- the CPU driver: items of a batch over a persistent thread pool.
//
// The batch layout and the per-item work are in items.hpp (shared with the CUDA driver,
// device.cuh). Each item is solved by exactly one thread, in one fixed order of
// floating-point operations, so the results are bit-identical for any thread count. Outputs
// are caller-owned arrays written in place, once per item; nothing here allocates per item or
// touches Python. Also here: the host-side preparation of a batch (logs of the inputs, the
// validity of each problem, the bootstrap's fitted values and residuals), which both drivers
// use.
#pragma once
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <list>
#include <mutex>
#include <thread>
#include <vector>
#if defined(__unix__) || defined(__APPLE__)
#include <unistd.h>
#define SF_HAVE_GETPID 1
#endif

#include "items.hpp"

namespace scalingfit {

// Solves items [begin, end) of the batch with Model and Loss.
template <class Model, class Loss>
void solve_items(const BatchData& data, const BatchItems& items, const BatchOutputs& out,
                 const Options& opt, const double* lo, const double* hi, int64_t begin,
                 int64_t end) {
  for (int64_t k = begin; k < end; ++k) solve_item<Model, Loss>(data, items, out, opt, lo, hi, k);
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
    std::mutex error_m;        // guards error
    std::exception_ptr error;  // the first exception a worker's body threw (then cancelled)
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
  // when no worker is inside the job any more. The pool starts threads until the job finds
  // max_workers idle ones, but never more than pool_cap() in all: concurrent jobs (several
  // Python threads calling in) then share the workers instead of each adding its own, which
  // the pool keeps for the life of the process.
  void run(Job& job, const std::function<bool()>& poll) {
    std::unique_lock<std::mutex> lk(m_);
    while (idle_ < job.max_workers && started_ < pool_cap()) {
      std::thread([this]() { work(); }).detach();
      ++idle_;  // it waits for m_, then for a job
      ++started_;
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
        try {
          (*job->body)(b, std::min(job->n, b + job->chunk));
        } catch (...) {  // (std::bad_alloc of a chunk's scratch, say): never std::terminate
          std::lock_guard<std::mutex> g(job->error_m);
          if (!job->error) job->error = std::current_exception();
          job->cancel.store(true);
        }
      }
      lk.lock();
      if (--job->active == 0 && !job->has_work() && !job->finished) finish(*job);
      ++idle_;
    }
  }

  // The most threads the pool starts: 4 per hardware thread (the Python side's own cap on
  // one call's workers), and at least 16.
  static int pool_cap() {
    static const int cap = std::max(16, 4 * static_cast<int>(std::thread::hardware_concurrency()));
    return cap;
  }

  std::mutex m_;
  std::condition_variable wake_;
  std::list<Job*> jobs_;
  int idle_ = 0;     // workers waiting for a job (guarded by m_)
  int started_ = 0;  // workers started, all alive (guarded by m_)
  long pid_;
};

}  // namespace detail

// The most pool threads one job may use (the pool never stops a thread it started).
constexpr int kMaxWorkers = 256;

// Runs body(begin, end) over [0, n) in chunks on n_threads workers of the persistent pool
// (no more workers than chunks, nor than kMaxWorkers). The calling thread does no work: it
// calls poll() about every 20 ms and stops handing out chunks once poll() returns true (the
// binding uses this to honour Ctrl-C); it returns when every worker has left the job.
// Returns false if cancelled. An exception thrown by body on a worker cancels the job and is
// rethrown here, on the calling thread, once every worker has left.
//
// Small jobs (n <= inline_below items) and single-threaded ones start on the calling thread,
// one item (single-threaded: one chunk) at a time, with poll() between them about every 20 ms
// (a fit's 30 starts on a million points each took seconds with Ctrl-C unheard); once those
// took kInlineMs with items left and n_threads > 1, the rest goes to the pool (such a job's
// starts ran on the calling thread alone, whatever n_threads). Without poll, a
// single-threaded job runs whole. Every item is solved by one thread in its one order of
// operations, so where it runs does not change its bits.
constexpr int kInlineMs = 2;

inline bool parallel_for(int64_t n, int n_threads, int64_t chunk,
                         const std::function<void(int64_t, int64_t)>& body,
                         const std::function<bool()>& poll, int64_t inline_below = 64) {
  if (n <= 0) return true;
  chunk = std::max<int64_t>(1, chunk);
  if (n_threads <= 1 && !poll) {
    body(0, n);
    return true;
  }
  int64_t begin = 0;
  if (n <= inline_below || n_threads <= 1) {
    using clock = std::chrono::steady_clock;
    const auto t0 = clock::now();
    auto polled = t0;
    const int64_t step = n <= inline_below ? 1 : chunk;
    while (begin < n) {
      const int64_t e = std::min(n, begin + step);
      body(begin, e);
      begin = e;
      if (begin >= n) return true;
      const auto t = clock::now();
      if (poll && t - polled >= std::chrono::milliseconds(20)) {
        if (poll()) return false;
        polled = t;
      }
      if (n_threads > 1 && t - t0 >= std::chrono::milliseconds(kInlineMs)) break;
    }
  }
  const int64_t first = begin;
  const std::function<void(int64_t, int64_t)> rest = [&body, first](int64_t b, int64_t e) {
    body(first + b, first + e);
  };
  n -= first;
  detail::ThreadPool::Job job;
  job.body = first ? &rest : &body;
  job.n = n;
  job.chunk = chunk;
  const int64_t chunks = (n - 1) / chunk + 1;
  job.max_workers = static_cast<int>(
      std::min<int64_t>({static_cast<int64_t>(std::max(1, n_threads)), chunks, kMaxWorkers}));
  detail::ThreadPool::instance().run(job, poll);
  if (job.error) std::rethrow_exception(job.error);
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

#ifndef SF_FLOAT32_DATA  // host preparation in double (bootstrap.hpp, prepare_residuals)
// Marks each problem of a bootstrap batch usable (valid[j] = 1) when prepare_batch found its
// data usable and its point fit center[j] is finite; with `targets` (residual and wild schemes)
// also fills yhat and resid (n_points each) from the point fit, and a problem whose model is not
// finite there is unusable too (its yhat and resid are NaN). `valid` is data.valid, in place.
// lo/hi (may be null): the bounds, for the leverages' fixed parameters (equal bounds).
template <class Model>
void prepare_resample_batch(const BatchData& data, const double* center, bool log_residuals,
                            int scheme, bool targets, double* yhat, double* resid,
                            uint8_t* valid, const double* lo = nullptr,
                            const double* hi = nullptr) {
  constexpr int P = Model::kParams;
  for (int64_t j = 0; j < data.n_problems; ++j) {
    const int64_t o0 = data.offsets[j], o1 = data.offsets[j + 1];
    bool good = valid[j] != 0;
    for (int a = 0; a < P; ++a) good = good && sf_isfinite(center[j * P + a]);
    if (targets) {
      const ProblemView v{data.t + o0 * Model::kInputs, data.y + o0,
                          data.w ? data.w + o0 : nullptr, nullptr,
                          static_cast<long long>(o1 - o0)};
      good = good && prepare_residuals<Model>(v, center + j * P, log_residuals, scheme,
                                              yhat + o0, resid + o0, lo, hi);
      if (!good) {
        for (int64_t i = o0; i < o1; ++i) yhat[i] = resid[i] = nan("");
      }
    }
    valid[j] = good ? 1 : 0;
  }
}
#endif

// Largest problem (points) and group count of a batch: the per-thread scratch sizes.
inline void resample_scratch_sizes(const BatchData& data, const ResampleSpec& spec,
                                   int64_t* max_points, int64_t* max_groups) {
  *max_points = 0;
  *max_groups = 0;
  for (int64_t j = 0; j < data.n_problems; ++j) {
    *max_points = std::max<int64_t>(*max_points, data.offsets[j + 1] - data.offsets[j]);
    if (spec.n_groups) *max_groups = std::max<int64_t>(*max_groups, spec.n_groups[j]);
  }
}

// Solves bootstrap items [begin, end), regenerating each resample into this thread's scratch
// (mult: max_points ints, gcount: max_groups ints, ys: resample_work_size(max_points) reals).
template <class Model, class Loss>
void solve_resample_items(const BatchData& data, const ResampleSpec& spec,
                          const ResampleItems& items, const BatchOutputs& out,
                          const Options& opt, const double* lo, const double* hi,
                          int64_t begin, int64_t end, int* mult, int* gcount, real* ys) {
  for (int64_t k = begin; k < end; ++k) {
    solve_resample_item<Model, Loss>(data, spec, items, out, opt, lo, hi, k, mult, gcount, ys);
  }
}
}  // namespace scalingfit
