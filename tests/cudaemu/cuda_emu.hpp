// tests/cudaemu/cuda_emu.hpp -- the CUDA run time the kernels of device.cuh need, on CPU threads.
//
// For the test suite's CUDA emulator (cupy_emulator.py): the kernels' source is compiled by the
// host C++ compiler with this prelude, and a launch runs every block of the grid in turn, each
// block as blockDim.x operating-system threads (so __syncthreads is a real barrier between
// concurrently running threads, and a thread that misses it is reported, not hung). It checks
// the thread-to-item mapping, the kernels' arguments and the Python launch code; it says
// nothing about the GPU's code generation or speed. Not part of the package.
#pragma once
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <exception>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline

struct sf_emu_dim3 {
  unsigned x = 1, y = 1, z = 1;
};

// Per emulated thread: its indices and its block (set by the launcher before the kernel runs).
inline thread_local sf_emu_dim3 threadIdx, blockIdx;
inline sf_emu_dim3 blockDim, gridDim;  // one launch at a time (sf_emu::launch_mutex)

namespace sf_emu {

struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The barrier of one block: every thread of the block must arrive (CUDA: a __syncthreads that
// not all threads reach is undefined). A thread that has left the kernel, or waits elsewhere,
// never arrives: the barrier then fails with an error instead of hanging.
class Block {
 public:
  // Shared memory starts as 0xFF bytes (NaN as doubles and floats): a value read before it was
  // written shows up in the results.
  Block(unsigned n, std::size_t shared_bytes)
      : n_(n), shared_(shared_bytes + 16, 0xFF), slots_(2 * n), exchanges_(n), thread_exited_(n) {
    for (unsigned t = 0; t < n; ++t) groups_.emplace_back(new Group);
  }
  void sync() {
    std::unique_lock<std::mutex> lock(m_);
    const unsigned long long gen = gen_;
    if (exited_ > 0) failed_ = true, cv_.notify_all();
    if (failed_) throw Error("__syncthreads: not every thread of the block reached the barrier");
    if (++arrived_ == n_) {
      release();
      return;
    }
    if (!cv_.wait_for(lock, std::chrono::seconds(20), [&] { return gen_ != gen || failed_; }))
      failed_ = true, cv_.notify_all();
    if (failed_) throw Error("__syncthreads: not every thread of the block reached the barrier");
  }
  void exit(unsigned me) {  // a thread left the kernel: a barrier it has not reached can never complete
    thread_exited_[me] = 1;
    for (auto& g : groups_) {
      std::lock_guard<std::mutex> lock(g->m);
      g->cv.notify_all();
    }
    std::lock_guard<std::mutex> lock(m_);
    ++exited_;
    if (arrived_ > 0) failed_ = true, cv_.notify_all();
  }
  void* shared() { return shared_.data(); }

  // The threads of `mask` in this thread's warp swap values: returns the 8 bytes that thread
  // `partner` (its index in the block) passed. Every thread of the mask must call it.
  unsigned long long exchange(unsigned mask, unsigned me, unsigned partner,
                              unsigned long long bits) {
    unsigned long long v = 0;
    among(mask, me, bits, [&](const unsigned long long* slots) { v = slots[partner]; });
    return v;
  }
  // Bit l: pred of lane l of this thread's warp, for the lanes of `mask` (__ballot_sync).
  unsigned ballot(unsigned mask, unsigned me, bool pred) {
    const unsigned warp = me & ~31u;
    unsigned v = 0;
    among(mask, me, pred ? 1u : 0u, [&](const unsigned long long* slots) {
      for (unsigned l = 0; l < 32; ++l)
        if ((mask >> l & 1u) && slots[warp + l]) v |= 1u << l;
    });
    return v;
  }

 private:
  struct Group {
    std::mutex m;
    std::condition_variable cv;
    unsigned arrived = 0;
    unsigned long long gen = 0;
  };
  // The threads of `mask` post `bits`, wait for each other, then each reads what it needs
  // (read(slots)). One barrier per exchange: exchanges alternate between two slot arrays, and
  // a thread can post into one again only after the next exchange's barrier, which every
  // thread reaches after reading this one.
  template <class Read>
  void among(unsigned mask, unsigned me, unsigned long long bits, Read read) {
    const unsigned warp = me & ~31u;
    Group& g = *groups_[warp + static_cast<unsigned>(__builtin_ctz(mask))];
    const unsigned size = static_cast<unsigned>(__builtin_popcount(mask));
    unsigned long long* slots = slots_.data() + (exchanges_[me]++ & 1u) * n_;
    slots[me] = bits;
    group_sync(g, size, mask, warp);
    read(slots);
  }
  void group_sync(Group& g, unsigned size, unsigned mask, unsigned warp) {
    std::unique_lock<std::mutex> lock(g.m);
    const unsigned long long gen = g.gen;
    if (++g.arrived == size) {
      g.arrived = 0;
      ++g.gen;
      g.cv.notify_all();
      return;
    }
    auto done = [&] { return g.gen != gen || any_exited(mask, warp); };
    if (!g.cv.wait_for(lock, std::chrono::seconds(20), done) || g.gen == gen)
      throw Error("warp shuffle or ballot: not every thread of the mask reached it");
  }
  bool any_exited(unsigned mask, unsigned warp) {
    for (unsigned l = 0; l < 32; ++l)
      if ((mask >> l & 1u) && warp + l < n_ && thread_exited_[warp + l]) return true;
    return false;
  }
  void release() {
    arrived_ = 0;
    ++gen_;
    cv_.notify_all();
  }
  std::mutex m_;
  std::condition_variable cv_;
  unsigned n_, arrived_ = 0, exited_ = 0;
  unsigned long long gen_ = 0;
  bool failed_ = false;
  std::vector<unsigned char> shared_;  // the block's dynamic shared memory
  std::vector<unsigned long long> slots_;        // two values per thread, for exchange
  std::vector<unsigned> exchanges_;              // per thread: its exchanges so far
  std::vector<std::atomic<unsigned char>> thread_exited_;
  std::vector<std::unique_ptr<Group>> groups_;   // by the first thread of a mask
};

inline thread_local Block* current_block = nullptr;
inline std::mutex launch_mutex;

template <class T>
using Arg = std::remove_cv_t<std::remove_reference_t<T>>;

template <class... A, std::size_t... I>
void call(void (*kernel)(A...), void** args, std::index_sequence<I...>) {
  kernel(*static_cast<Arg<A>*>(args[I])...);
}

// Runs kernel<<<grid, block, shared_bytes>>>(args...): args[i] points at argument i's bytes,
// sizes[i] is how many bytes the caller packed for it (checked against the kernel's parameter,
// as the GPU cannot). Returns 0, or 1 with a message in err.
template <class... A>
int launch(void (*kernel)(A...), unsigned grid, unsigned block, std::size_t shared_bytes,
           void** args, const long long* sizes, int n_args, char* err, int err_len) {
  auto fail = [&](const std::string& m) {
    std::snprintf(err, static_cast<std::size_t>(err_len), "%s", m.c_str());
    return 1;
  };
  constexpr std::size_t want[] = {sizeof(Arg<A>)..., 0};
  if (n_args != static_cast<int>(sizeof...(A)))
    return fail("the kernel takes " + std::to_string(sizeof...(A)) + " arguments, the launch passed " +
                std::to_string(n_args));
  for (int i = 0; i < n_args; ++i)
    if (sizes[i] != static_cast<long long>(want[i]))
      return fail("argument " + std::to_string(i) + " has " + std::to_string(sizes[i]) +
                  " bytes, the kernel's parameter " + std::to_string(want[i]));
  if (grid == 0 || block == 0 || block > 1024) return fail("bad launch configuration");
  std::lock_guard<std::mutex> one_launch(launch_mutex);
  gridDim.x = grid;
  blockDim.x = block;
  std::string first_error;
  std::mutex error_mutex;
  for (unsigned b = 0; b < grid && first_error.empty(); ++b) {
    Block blk(block, shared_bytes);
    std::vector<std::thread> threads;
    threads.reserve(block);
    for (unsigned t = 0; t < block; ++t) {
      threads.emplace_back([&, b, t] {
        blockIdx.x = b;
        threadIdx.x = t;
        current_block = &blk;
        try {
          call(kernel, args, std::index_sequence_for<A...>{});
        } catch (const std::exception& e) {
          std::lock_guard<std::mutex> lock(error_mutex);
          if (first_error.empty())
            first_error = "block " + std::to_string(b) + " thread " + std::to_string(t) + ": " + e.what();
        }
        blk.exit(t);
      });
    }
    for (auto& th : threads) th.join();
  }
  return first_error.empty() ? 0 : fail(first_error);
}

}  // namespace sf_emu

inline void __syncthreads() { sf_emu::current_block->sync(); }

namespace sf_emu {
// v of lane partner_lane of this thread's warp (a lane of mask, as this thread must be), for
// the shuffles below; `what` names the intrinsic in the error.
template <class T>
T shuffle(unsigned mask, T v, unsigned partner_lane, bool ok, const char* what) {
  static_assert(sizeof(T) <= 8, "values of at most 8 bytes");
  const unsigned me = threadIdx.x;
  if (!ok || !(mask >> (me & 31u) & 1u) || !(mask >> partner_lane & 1u))
    throw Error(std::string(what) + ": bad mask, lane or width");
  unsigned long long bits = 0;
  std::memcpy(&bits, &v, sizeof v);
  bits = current_block->exchange(mask, me, (me & ~31u) + partner_lane, bits);
  T out;
  std::memcpy(&out, &bits, sizeof out);
  return out;
}
inline bool valid_width(int width) { return width > 0 && width <= 32 && !(width & (width - 1)); }
}  // namespace sf_emu

// Warp shuffles among the threads of mask (width: a power of two up to 32): from lane
// lane ^ lane_mask, or from lane src (mod width) of this thread's width-segment.
template <class T>
T __shfl_xor_sync(unsigned mask, T v, int lane_mask, int width = 32) {
  const unsigned lane = threadIdx.x & 31u, partner = lane ^ static_cast<unsigned>(lane_mask);
  const bool ok = sf_emu::valid_width(width) && lane_mask >= 0 &&
                  partner / static_cast<unsigned>(width) == lane / static_cast<unsigned>(width);
  return sf_emu::shuffle(mask, v, partner & 31u, ok, "__shfl_xor_sync");
}
template <class T>
T __shfl_sync(unsigned mask, T v, int src, int width = 32) {
  const unsigned lane = threadIdx.x & 31u, wu = static_cast<unsigned>(width);
  const bool ok = sf_emu::valid_width(width);
  const unsigned partner = ok ? (lane & ~(wu - 1u)) + (static_cast<unsigned>(src) & (wu - 1u)) : lane;
  return sf_emu::shuffle(mask, v, partner, ok, "__shfl_sync");
}
inline void __syncwarp(unsigned mask = 0xFFFFFFFFu) {
  if (!(mask >> (threadIdx.x & 31u) & 1u)) throw sf_emu::Error("__syncwarp: thread not in the mask");
  sf_emu::current_block->ballot(mask, threadIdx.x, false);  // a barrier of the mask's threads
}
inline unsigned __ballot_sync(unsigned mask, bool pred) {
  if (!(mask >> (threadIdx.x & 31u) & 1u)) throw sf_emu::Error("__ballot_sync: thread not in the mask");
  return sf_emu::current_block->ballot(mask, threadIdx.x, pred);
}
inline int __popc(unsigned m) { return __builtin_popcount(m); }
// The block's dynamic shared memory (`extern __shared__` in CUDA; device.cuh's SF_SHARED).
inline void* sf_emu_shared() { return sf_emu::current_block->shared(); }
