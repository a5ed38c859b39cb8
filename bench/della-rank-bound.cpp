// bench:della-rank — DELLA's exact per-row rank (each row's |δ| ranked, equal patterns by index) in the fastest
// native forms we could write, to bound what the rank step alone costs on this machine (issue #16). Reads files of
// |δ| float32 bit patterns written by bench/della-rank-bound.ts; one thread; prints one JSON line per file and
// form: ns per element, best of 7. Not part of modelevo: the bench compiles it with g++ for the comparison only.
#include <cstdio>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>
#include <algorithm>
#include <chrono>
using namespace std;
static vector<uint32_t> load(const char* path) {
  FILE* f = fopen(path, "rb"); fseek(f, 0, SEEK_END); long b = ftell(f); fseek(f, 0, SEEK_SET);
  vector<uint32_t> v(b / 4); if (fread(v.data(), 4, v.size(), f) != v.size()) exit(1); fclose(f); return v;
}
// LSD radix on (key, index) pairs: digits of 11, 10, 10 bits (31-bit keys), all histograms from one counting pass
static void rankLsd3(const uint32_t* key, uint32_t n, uint32_t* rank, uint64_t* a, uint64_t* b) {
  static uint32_t h0[2048], h1[1024], h2[1024];
  memset(h0, 0, sizeof h0); memset(h1, 0, sizeof h1); memset(h2, 0, sizeof h2);
  for (uint32_t i = 0; i < n; i++) { uint32_t k = key[i]; h0[k & 2047]++; h1[(k >> 11) & 1023]++; h2[k >> 21]++; a[i] = (uint64_t)k << 32 | i; }
  uint32_t s0 = 0, s1 = 0, s2 = 0;
  for (int d = 0; d < 2048; d++) { uint32_t c = h0[d]; h0[d] = s0; s0 += c; }
  for (int d = 0; d < 1024; d++) { uint32_t c = h1[d]; h1[d] = s1; s1 += c; c = h2[d]; h2[d] = s2; s2 += c; }
  for (uint32_t i = 0; i < n; i++) { uint64_t e = a[i]; b[h0[(e >> 32) & 2047]++] = e; }
  for (uint32_t i = 0; i < n; i++) { uint64_t e = b[i]; a[h1[(e >> 43) & 1023]++] = e; }
  for (uint32_t i = 0; i < n; i++) { uint64_t e = a[i]; rank[(uint32_t)e] = h2[e >> 53]++; }
}
// LSD radix with 8-bit digits over the 31 bits (4 passes), skipping a pass whose digit is the same for every key
static void rankLsd4(const uint32_t* key, uint32_t n, uint32_t* rank, uint64_t* a, uint64_t* b) {
  static uint32_t h[4][256];
  memset(h, 0, sizeof h);
  for (uint32_t i = 0; i < n; i++) { uint32_t k = key[i]; h[0][k & 255]++; h[1][(k >> 8) & 255]++; h[2][(k >> 16) & 255]++; h[3][k >> 24]++; a[i] = (uint64_t)k << 32 | i; }
  uint64_t* src = a; uint64_t* dst = b;
  for (int p = 0; p < 4; p++) {
    uint32_t s = 0; bool trivial = false;
    for (int d = 0; d < 256; d++) { uint32_t c = h[p][d]; if (c == n) trivial = true; h[p][d] = s; s += c; }
    if (trivial) continue;
    for (uint32_t i = 0; i < n; i++) { uint64_t e = src[i]; dst[h[p][(e >> (32 + 8 * p)) & 255]++] = e; }
    swap(src, dst);
  }
  for (uint32_t i = 0; i < n; i++) rank[(uint32_t)src[i]] = i;
}
static void rankSort(const uint32_t* key, uint32_t n, uint32_t* rank, uint64_t* a, uint64_t*) {
  for (uint32_t i = 0; i < n; i++) a[i] = (uint64_t)key[i] << 32 | i;
  sort(a, a + n);
  for (uint32_t i = 0; i < n; i++) rank[(uint32_t)a[i]] = i;
}
int main(int argc, char** argv) {
  // arguments: file row-length [file row-length ...]
  struct V { const char* name; void (*fn)(const uint32_t*, uint32_t, uint32_t*, uint64_t*, uint64_t*); } variants[] = {{"LSD radix, digits 11/10/10", rankLsd3}, {"LSD radix, 8-bit digits, constant digits skipped", rankLsd4}, {"std::sort of (pattern, index)", rankSort}};
  for (int t = 1; t + 1 < argc; t += 2) {
    uint32_t row = (uint32_t)atoi(argv[t + 1]);
    vector<uint32_t> key = load(argv[t]); uint32_t rows = key.size() / row;
    vector<uint32_t> rank(key.size()), check(key.size()); vector<uint64_t> a(row), b(row);
    for (auto& v : variants) {
      double best = 1e9;
      for (int rep = 0; rep < 7; rep++) {
        auto t0 = chrono::steady_clock::now();
        for (uint32_t r = 0; r < rows; r++) v.fn(key.data() + (size_t)r * row, row, rank.data() + (size_t)r * row, a.data(), b.data());
        best = min(best, chrono::duration<double, nano>(chrono::steady_clock::now() - t0).count() / key.size());
      }
      // every form must give the same ranks
      if (v.fn == rankLsd3) check = rank; else if (check != rank) { fprintf(stderr, "ranks differ: %s\n", v.name); return 1; }
      printf("{\"file\":\"%s\",\"row\":%u,\"rows\":%u,\"form\":\"%s\",\"ns\":%.3f}\n", argv[t], row, rows, v.name, best);
    }
  }
}
