// scalingfit/rng.hpp -- Philox4x32-10, a counter-based generator identical on host and device.
//
// Salmon, Moraes, Dror & Shaw, "Parallel random numbers: as easy as 1, 2, 3", SC'11. Written
// from the published algorithm and constants; tests/test_rng.py checks the Random123
// known-answer vectors (kat_vectors, "philox4x32 10" lines) bit for bit.
//
// One round maps a 128-bit counter (c0, c1, c2, c3) under a 64-bit key (k0, k1) to
//   (hi(M1 c2) ^ c1 ^ k0,  lo(M1 c2),  hi(M0 c0) ^ c3 ^ k1,  lo(M0 c0))
// with M0 = 0xD2511F53, M1 = 0xCD9E8D57; between rounds the key is bumped by the Weyl
// constants (W0, W1) = (0x9E3779B9, 0xBB67AE85). Ten rounds give the output block.
//
// There is no state to carry: a word of output is a pure function of (key, counter), so any
// thread or GPU lane regenerates any resample from its numbers alone. Like every header here
// this compiles with g++ and with NVRTC: no exceptions, no allocation, no std headers on the
// device (the integer types come from config.hpp).
#pragma once
#include "config.hpp"

namespace scalingfit {

constexpr u32 kPhiloxM0 = 0xD2511F53u;
constexpr u32 kPhiloxM1 = 0xCD9E8D57u;
constexpr u32 kPhiloxW0 = 0x9E3779B9u;
constexpr u32 kPhiloxW1 = 0xBB67AE85u;

// The Philox4x32-10 bijection: out = philox(ctr, key).
SF_HD inline void philox4x32_10(const u32 ctr[4], const u32 key[2], u32 out[4]) {
  u32 c0 = ctr[0], c1 = ctr[1], c2 = ctr[2], c3 = ctr[3];
  u32 k0 = key[0], k1 = key[1];
  for (int round = 0; round < 10; ++round) {
    if (round > 0) {
      k0 += kPhiloxW0;
      k1 += kPhiloxW1;
    }
    const u64 p0 = static_cast<u64>(kPhiloxM0) * c0;
    const u64 p1 = static_cast<u64>(kPhiloxM1) * c2;
    const u32 n0 = static_cast<u32>(p1 >> 32) ^ c1 ^ k0;
    const u32 n1 = static_cast<u32>(p1);
    const u32 n2 = static_cast<u32>(p0 >> 32) ^ c3 ^ k1;
    const u32 n3 = static_cast<u32>(p0);
    c0 = n0;
    c1 = n1;
    c2 = n2;
    c3 = n3;
  }
  out[0] = c0;
  out[1] = c1;
  out[2] = c2;
  out[3] = c3;
}

// A stream of 32-bit words: word i is word (i % 4) of philox((i / 4, s1, s2, s3), seed).
// The three stream words (s1, s2, s3) name the stream (bootstrap.hpp uses replicate,
// problem and purpose), the first counter word counts blocks (2^34 words per stream).
struct PhiloxStream {
  u32 key[2];
  u32 ctr[4];
  u32 buf[4];
  int used;

  SF_HD void init(u64 seed, u32 s1, u32 s2, u32 s3) {
    key[0] = static_cast<u32>(seed);
    key[1] = static_cast<u32>(seed >> 32);
    ctr[0] = 0u;
    ctr[1] = s1;
    ctr[2] = s2;
    ctr[3] = s3;
    used = 4;
  }

  // Positions the stream at word `index` (random access; O(1)).
  SF_HD void seek(u64 index) {
    ctr[0] = static_cast<u32>(index >> 2);
    philox4x32_10(ctr, key, buf);
    ctr[0] += 1u;
    used = static_cast<int>(index & 3u);
  }

  SF_HD u32 next_u32() {
    if (used == 4) {
      philox4x32_10(ctr, key, buf);
      ctr[0] += 1u;
      used = 0;
    }
    return buf[used++];
  }

  // Uniform on [0, 1) with 53 random bits (two words).
  SF_HD double next_double() {
    const u64 hi = next_u32() >> 5;  // 27 bits
    const u64 lo = next_u32() >> 6;  // 26 bits
    return static_cast<double>((hi << 26) | lo) * (1.0 / 9007199254740992.0);
  }

  // Uniform integer in [0, n), n >= 1, exactly unbiased (Lemire 2019: multiply, and reject
  // the few low products that would over-represent some values).
  SF_HD u32 below(u32 n) {
    u64 m = static_cast<u64>(next_u32()) * n;
    u32 low = static_cast<u32>(m);
    if (low < n) {
      const u32 threshold = (0u - n) % n;  // 2^32 mod n
      while (low < threshold) {
        m = static_cast<u64>(next_u32()) * n;
        low = static_cast<u32>(m);
      }
    }
    return static_cast<u32>(m >> 32);
  }
};

}  // namespace scalingfit
