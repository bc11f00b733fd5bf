// A randomised driver for fuzz_batch.cpp where libFuzzer is not available (e.g. g++ only):
//   fuzz_driver [-runs=N] [-seed=S] [-max_len=L] [FILE_OR_DIR ...]
// Replays every given file (a libFuzzer corpus or crash file; directories are walked one level),
// then feeds N random inputs of up to L bytes from a seeded SplitMix64 stream. Build it with
// -fsanitize=address,undefined so that memory errors and undefined behaviour abort.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

uint64_t splitmix64(uint64_t& s) {
  uint64_t z = (s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

void replay(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  LLVMFuzzerTestOneInput(bytes.data(), bytes.size());
}

}  // namespace

int main(int argc, char** argv) {
  long long runs = 100000, max_len = 512;
  uint64_t seed = 1;
  long long replayed = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a.rfind("-runs=", 0) == 0) {
      runs = std::atoll(a.c_str() + 6);
    } else if (a.rfind("-seed=", 0) == 0) {
      seed = std::strtoull(a.c_str() + 6, nullptr, 10);
    } else if (a.rfind("-max_len=", 0) == 0) {
      max_len = std::atoll(a.c_str() + 9);
    } else if (std::filesystem::is_directory(a)) {
      for (const auto& e : std::filesystem::directory_iterator(a)) {
        if (e.is_regular_file()) {
          replay(e.path());
          ++replayed;
        }
      }
    } else {
      replay(a);
      ++replayed;
    }
  }
  uint64_t s = seed;
  std::vector<uint8_t> buf(static_cast<size_t>(max_len > 0 ? max_len : 1));
  for (long long r = 0; r < runs; ++r) {
    const size_t len = static_cast<size_t>(splitmix64(s) % static_cast<uint64_t>(buf.size() + 1));
    for (size_t i = 0; i < len; i += 8) {
      const uint64_t v = splitmix64(s);
      std::memcpy(buf.data() + i, &v, len - i < 8 ? len - i : 8);
    }
    LLVMFuzzerTestOneInput(buf.data(), len);
  }
  std::printf("fuzz_driver: %lld files replayed, %lld random inputs (seed %llu), no failure\n",
              replayed, runs, static_cast<unsigned long long>(seed));
  return 0;
}
