// bench:tv-budget's native bound for dare_ties (issue #16): the per-element work of dare_ties' two passes — LOAD
// (δ = x − base in float32, Σ|δ| and Σ|kept δ| in float64 in the reference's lane order, the counter-based DARE
// draws, the masks) and FINAL (the masks, the l1 factor through a float64 product, the weight, the sign consensus
// and mix in float32, the bfloat16 encoding) — written as g++ vector code at 4, 8 and 16 float lanes (128, 256 and
// 512 bits), all three models in one loop and the base decoded once per group, the fastest form we could write.
// The bits are those of assembly/dare-norms.ts + the maskNormalized loop of assembly/task-vector-final-loops.ts:
// the bench checks the norms and the output bytes against our wasm kernels. Not part of modelevo: compiled by the
// bench for the comparison only.
//
//   dare-ties-bound <blocks file> <block elements> <blocks> <index starts file> <factors (3 float64) file> <out dir>
//
// The blocks file holds, for each of base, ft-1, ft-2, ft-3, `blocks` raw bfloat16 blocks side by side. Prints one
// JSON line per width: LOAD and FINAL ns per output element (one thread, best of 40 rounds after 0.3 s of warm-up);
// writes norms-<W>.bin (blocks × 3 × {before, after} float64) and out-<W>.bin (the encoded output) to <out dir>.
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>
#include <immintrin.h>
using namespace std;

static vector<uint8_t> slurp(const char* path) {
  FILE* f = fopen(path, "rb");
  if (!f) { perror(path); exit(1); }
  fseek(f, 0, SEEK_END); long b = ftell(f); fseek(f, 0, SEEK_SET);
  vector<uint8_t> v(b);
  if (fread(v.data(), 1, b, f) != (size_t)b) exit(1);
  fclose(f);
  return v;
}

template <int W> struct Lanes {
  typedef float F __attribute__((vector_size(4 * W)));
  typedef int32_t I __attribute__((vector_size(4 * W)));
  typedef uint32_t U __attribute__((vector_size(4 * W)));
  typedef uint16_t H __attribute__((vector_size(2 * W)));
  // W raw bfloat16 values read straight from a block (one widening load)
  typedef uint16_t RawH __attribute__((vector_size(2 * W), aligned(2), may_alias));
  typedef double D4 __attribute__((vector_size(32)));
  typedef double D __attribute__((vector_size(8 * W)));
  typedef float F4 __attribute__((vector_size(16)));
};

// the mask of W compare lanes as W bits
template <int W> static inline uint32_t bitsOf(typename Lanes<W>::I keep) {
  if constexpr (W == 4) return (uint32_t)_mm_movemask_ps((__m128)keep);
#ifdef __AVX2__
  else if constexpr (W == 8) return (uint32_t)_mm256_movemask_ps((__m256)keep);
#endif
#ifdef __AVX512DQ__
  else if constexpr (W == 16) return (uint32_t)_mm512_movepi32_mask((__m512i)keep);
#endif
  else return 0;
}

template <int W> static inline typename Lanes<W>::F decode(const uint16_t* p) {
  typedef Lanes<W> L;
  // g++ lowers the generic u16 → u32 conversion to two widenings and a shuffle; one widening load instead
  if constexpr (W == 4) return (typename L::F)((typename L::U)_mm_cvtepu16_epi32(_mm_loadl_epi64((const __m128i*)p)) << 16);
#ifdef __AVX2__
  else if constexpr (W == 8) return (typename L::F)((typename L::U)_mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i*)p)) << 16);
#endif
#ifdef __AVX512F__
  else if constexpr (W == 16) return (typename L::F)((typename L::U)_mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i*)p)) << 16);
#endif
  else return (typename L::F)(__builtin_convertvector(*(const typename L::RawH*)p, typename L::U) << 16);
}

template <int W> static inline typename Lanes<W>::U lowbias(typename Lanes<W>::U x) {
  x ^= x >> 16; x *= 0x7feb352du; x ^= x >> 15; x *= 0x846ca68bu; return x ^ (x >> 16);
}

// lanes 4q … 4q + 3 of v, promoted to float64
template <int W, int Q> static inline typename Lanes<W>::D4 quarter(typename Lanes<W>::F v) {
  typename Lanes<W>::F4 part = __builtin_shufflevector(v, v, 4 * Q, 4 * Q + 1, 4 * Q + 2, 4 * Q + 3);
  return __builtin_convertvector(part, typename Lanes<W>::D4);
}

// before += |δ| and after += |kept δ| lane i mod 4 in index order (the reference's float64 sums)
template <int W> static inline void accumulate(typename Lanes<W>::D4& before, typename Lanes<W>::D4& after, typename Lanes<W>::F v, typename Lanes<W>::F kept) {
  before += quarter<W, 0>(v); after += quarter<W, 0>(kept);
  if constexpr (W >= 8) { before += quarter<W, 1>(v); after += quarter<W, 1>(kept); }
  if constexpr (W >= 16) {
    before += quarter<W, 2>(v); after += quarter<W, 2>(kept);
    before += quarter<W, 3>(v); after += quarter<W, 3>(kept);
  }
}

// the run's weight and λ (1), read at run time so the compiler cannot drop the products
static volatile float WEIGHT = 1.0f, LAMBDA = 1.0f;

static inline double blockSum(const double* s) { return (s[0] + s[1]) + (s[2] + s[3]); }

// LOAD over one block of n elements (n a multiple of W) for the three models: norms[j] = {Σ|δ|, Σ|kept δ|}, masks
// W bits per group and model
template <int W> static void load(const uint16_t* const* raw, int n, uint32_t index0, const uint32_t* k0, const uint32_t* k1,
                                  uint32_t bound, double* norms, uint32_t* masks) {
  typedef Lanes<W> L;
  typename L::D4 before[3] = {}, after[3] = {};
  typename L::I largest = {};
  typename L::U index;
  for (int l = 0; l < W; l++) index[l] = index0 + l;
  for (int i = 0; i < n; i += W) {
    typename L::F b = decode<W>(raw[0] + i);
    for (int j = 0; j < 3; j++) {
      typename L::F d = decode<W>(raw[j + 1] + i) - b;
      typename L::I v = (typename L::I)d & 0x7fffffff;
      largest = largest > v ? largest : v;
      typename L::U draw = lowbias<W>(lowbias<W>(index ^ k0[j]) + k1[j]);
      typename L::I keep = (typename L::I)(draw < bound);
      masks[(size_t)j * (n / W) + i / W] = bitsOf<W>(keep);
      typename L::F fv = (typename L::F)v, kept = (typename L::F)(v & keep);
      accumulate<W>(before[j], after[j], fv, kept);
    }
    index += W;
  }
  for (int j = 0; j < 3; j++) {
    norms[2 * j] = blockSum((const double*)&before[j]);
    norms[2 * j + 1] = blockSum((const double*)&after[j]);
  }
  for (int l = 0; l < W; l++) if (largest[l] >= 0x7f800000) norms[0] = -1;  // a NaN/±Inf δ (the reference path's case)
}

// FINAL over one block: out = base + mix (λ 1, weights 1, consensus, normalised), encoded to bfloat16
template <int W> static void final(const uint16_t* const* raw, int n, const uint32_t* masks, const double* factors, uint16_t* out, int* bad) {
  typedef Lanes<W> L;
  typename L::I lane;
  for (int l = 0; l < W; l++) lane[l] = 1 << l;
  typename L::I flags = {};
  const float w = WEIGHT, lambda = LAMBDA;
  const typename L::F wv = (typename L::F){} + w;
  for (int i = 0; i < n; i += W) {
    typename L::F b = decode<W>(raw[0] + i);
    typename L::F d[3];
    for (int j = 0; j < 3; j++) {
      typename L::I keep = (((typename L::I){} + (int32_t)masks[(size_t)j * (n / W) + i / W]) & lane) != 0;
      typename L::F s = (typename L::F)((typename L::I)(decode<W>(raw[j + 1] + i) - b) & keep);
      typename L::D wide = __builtin_convertvector(s, typename L::D) * factors[j];
      d[j] = w * __builtin_convertvector(wide, typename L::F);
    }
    typename L::F total = d[0] + d[1] + d[2];
    typename L::I flip = ~(typename L::I)(total >= 0) & (int32_t)0x80000000;
    typename L::F mixed = {}, divisor = {};
    for (int j = 0; j < 3; j++) {
      typename L::I agrees = ((typename L::I)d[j] ^ flip) > 0;
      mixed = j == 0 ? (typename L::F)((typename L::I)d[0] & agrees) : mixed + (typename L::F)((typename L::I)d[j] & agrees);
      typename L::F wj = (typename L::F)((typename L::I)wv & agrees);
      divisor = j == 0 ? wj : divisor + wj;
    }
    divisor = divisor < 1e-8f ? 1e-8f : divisor;
    typename L::F result = b + lambda * (mixed / divisor);
    typename L::U bits = (typename L::U)result;
    flags |= (typename L::I)((bits & 0x7f800000u) == 0x7f800000u);
    typename L::U encoded = (bits + 0x7fffu + ((bits >> 16) & 1u)) >> 16;
    if constexpr (W == 4) _mm_storel_epi64((__m128i*)(out + i), _mm_packus_epi32((__m128i)encoded, (__m128i)encoded));
    else *(typename L::RawH*)(out + i) = __builtin_convertvector(encoded, typename L::H);
  }
  for (int l = 0; l < W; l++) if (flags[l]) *bad = 1;
}

template <int W> static void run(const vector<const uint16_t*>& blocks, int n, int count, const uint32_t* starts, const double* factors, const char* dir) {
  vector<double> norms((size_t)count * 6);
  vector<uint32_t> masks((size_t)count * 3 * (n / W));
  vector<uint16_t> out((size_t)count * n);
  const uint32_t k0[3] = {0x1234, 0x1235, 0x1236}, k1[3] = {0x5678, 0x5679, 0x567a};
  const uint32_t bound = (uint32_t)ceil(0.2 * 4294967296.0);  // u < 0.2 · 2³² ⇔ u < ceil(0.2 · 2³²)
  int bad = 0;
  auto rawOf = [&](int b, const uint16_t** raw) { for (int m = 0; m < 4; m++) raw[m] = blocks[(size_t)m * count + b]; };
  auto loadSweep = [&]() {
    for (int b = 0; b < count; b++) {
      const uint16_t* raw[4]; rawOf(b, raw);
      load<W>(raw, n, starts[b], k0, k1, bound, &norms[(size_t)b * 6], &masks[(size_t)b * 3 * (n / W)]);
    }
  };
  auto finalSweep = [&]() {
    for (int b = 0; b < count; b++) {
      const uint16_t* raw[4]; rawOf(b, raw);
      final<W>(raw, n, &masks[(size_t)b * 3 * (n / W)], factors, &out[(size_t)b * n], &bad);
    }
  };
  auto time = [&](auto sweep) {
    using clock = chrono::steady_clock;
    for (auto warm = clock::now(); chrono::duration<double>(clock::now() - warm).count() < 0.3;) sweep();
    double best = 1e30;
    for (int round = 0; round < 40; round++) {
      auto t = clock::now();
      for (int r = 0; r < 4; r++) sweep();
      best = min(best, chrono::duration<double, nano>(clock::now() - t).count());
    }
    return best / (4.0 * count * n);
  };
  double loadNs = time(loadSweep), finalNs = time(finalSweep);
  char path[4096];
  snprintf(path, sizeof path, "%s/norms-%d.bin", dir, W);
  FILE* f = fopen(path, "wb"); fwrite(norms.data(), 8, norms.size(), f); fclose(f);
  snprintf(path, sizeof path, "%s/out-%d.bin", dir, W);
  f = fopen(path, "wb"); fwrite(out.data(), 2, out.size(), f); fclose(f);
  printf("{\"width\":%d,\"load\":%.4f,\"final\":%.4f,\"bad\":%d}\n", W, loadNs, finalNs, bad);
}

int main(int argc, char** argv) {
  if (argc != 7) { fprintf(stderr, "usage: dare-ties-bound <blocks> <n> <count> <starts> <factors> <out dir>\n"); return 2; }
  vector<uint8_t> data = slurp(argv[1]);
  int n = atoi(argv[2]), count = atoi(argv[3]);
  vector<uint8_t> startBytes = slurp(argv[4]), factorBytes = slurp(argv[5]);
  // 64-byte aligned copies of each block (base first), as the passes' buffers are
  vector<const uint16_t*> blocks;
  for (int b = 0; b < 4 * count; b++) {
    void* p = aligned_alloc(64, (size_t)n * 2);
    memcpy(p, data.data() + (size_t)b * n * 2, (size_t)n * 2);
    blocks.push_back((const uint16_t*)p);
  }
  const uint32_t* starts = (const uint32_t*)startBytes.data();
  const double* factors = (const double*)factorBytes.data();
  run<4>(blocks, n, count, starts, factors, argv[6]);
#ifdef __AVX2__
  run<8>(blocks, n, count, starts, factors, argv[6]);
#endif
#ifdef __AVX512DQ__
  run<16>(blocks, n, count, starts, factors, argv[6]);
#endif
  return 0;
}
