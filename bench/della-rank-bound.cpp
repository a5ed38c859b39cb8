// bench:della-rank — DELLA's exact per-row rank (each row's |δ| ranked, equal patterns by index) in the fastest
// native forms we could write, to bound what the rank step alone costs on this machine (issue #16); then the keep
// decisions of the default l1 rescale (which need no rank, only u < p(rank)) by the exact rank and by a rank-free
// form, checked equal. Reads files of |δ| float32 bit patterns written by bench/della-rank-bound.ts; one thread;
// prints one JSON line per file and form: ns per element, best of 7. Not part of modelevo: the bench compiles it
// with g++ for the comparison only.
#include <cstdio>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>
#include <algorithm>
#include <chrono>
#include <cmath>
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
// DELLA's draw (src/core/counter-rng.ts): two rounds of lowbias32 keyed by (k0, k1), one per flat index
static inline uint32_t lowbias32(uint32_t x) {
  x ^= x >> 16; x *= 0x7feb352du; x ^= x >> 15; x *= 0x846ca68bu; return x ^ (x >> 16);
}
static inline uint32_t draw(uint32_t index, uint32_t k0, uint32_t k1) { return lowbias32(lowbias32(index ^ k0) + k1); }
// the keep odds of rank r in a row of n (sparsify.ts rowKeepProbabilities), in the same float64 order
static inline double keepOdds(double low, double high, uint32_t r, uint32_t n) { return low + ((high - low) * r) / (n - 1); }
// the l1 rescale needs only DELLA's keep decisions u < p(rank), not the ranks. The exact decisions of every row:
// ranks by rankLsd3, then the comparison (the reference for the rank-free form below)
struct Decide { uint32_t start, k0, k1; double low, high; uint8_t* keep; };
static void decideByRank(const uint32_t* key, uint32_t n, const Decide& d, uint32_t* rank, uint64_t* a, uint64_t* b) {
  rankLsd3(key, n, rank, a, b);
  for (uint32_t i = 0; i < n; i++) d.keep[i] = draw(d.start + i, d.k0, d.k1) / 4294967296.0 < keepOdds(d.low, d.high, rank[i], n);
}
// Rank-free: a draw below ceil(p(0)·2^32) keeps and one at or above ceil(p(n−1)·2^32) drops whatever the rank;
// the others (a fraction 2ε of the row) place their rank in its bucket's range [C_b, C_b + m_b) (bucket 0: |δ| = 0;
// then the top 15 bits of the 31-bit |δ| pattern, from the row's smallest nonzero to its largest), which decides
// u < p(rank) unless the rank u needs lies within a rank of that range; those few count their exact rank over the
// row. Branch-free passes: draws and extremes; histogram; sure decisions and the window's indices; bucket bounds.
static uint64_t ambiguous = 0, bucketsSeen = 0;
static void decideRankFree(const uint32_t* key, uint32_t n, const Decide& d, uint32_t* u, uint64_t* listA, uint64_t*) {
  static uint32_t start[(1u << 15) + 2];
  const int SHIFT = 16;
  uint32_t* window = (uint32_t*)listA;
  uint32_t* unsure = window + n;
  uint32_t lowM1 = ~0u, hi = 0;
  for (uint32_t i = 0; i < n; i++) { lowM1 = min(lowM1, key[i] - 1); hi = max(hi, key[i]); u[i] = draw(d.start + i, d.k0, d.k1); }
  const uint32_t first = (lowM1 + 1) >> SHIFT;
  const uint32_t buckets = min(hi == 0 ? 1u : (hi >> SHIFT) - first + 2, 1u << 15);
  bucketsSeen += buckets;
  memset(start, 0, (size_t)(buckets + 1) * 4);
  for (uint32_t i = 0; i < n; i++) { const uint32_t k = key[i]; start[k ? (k >> SHIFT) - first + 2 : 1]++; }
  for (uint32_t b = 1; b <= buckets; b++) start[b] += start[b - 1];
  const uint32_t keepAll = (uint32_t)ceil(keepOdds(d.low, d.high, 0, n) * 4294967296.0);
  const uint32_t dropAll = (uint32_t)min(ceil(keepOdds(d.low, d.high, n - 1, n) * 4294967296.0), 4294967295.0);
  uint32_t w = 0;
  for (uint32_t i = 0; i < n; i++) { d.keep[i] = u[i] < keepAll; window[w] = i; w += (u[i] >= keepAll) & (u[i] < dropAll); }
  // u < p(r) ⇔ r > t for t = (u/2^32 − low)·(n − 1)/(high − low), up to rounding far below one rank
  const double perRank = (n - 1) / (d.high - d.low);
  uint32_t a = 0;
  for (uint32_t q = 0; q < w; q++) {
    const uint32_t i = window[q], k = key[i];
    const double t = (u[i] / 4294967296.0 - d.low) * perRank;
    const uint32_t b = k ? (k >> SHIFT) - first + 1 : 0;
    const double from = start[b], last = start[b + 1] - 1.0;
    d.keep[i] = from > t + 1;
    unsure[a] = i;
    a += (from <= t + 1) & (last + 1 >= t);
  }
  ambiguous += a;
  for (uint32_t q = 0; q < a; q++) {
    const uint32_t i = unsure[q], k = key[i];
    uint32_t r = 0;
    for (uint32_t j = 0; j < n; j++) r += (key[j] < k) | ((key[j] == k) & (j < i));
    d.keep[i] = u[i] / 4294967296.0 < keepOdds(d.low, d.high, r, n);
  }
}
static void rankSort(const uint32_t* key, uint32_t n, uint32_t* rank, uint64_t* a, uint64_t*) {
  for (uint32_t i = 0; i < n; i++) a[i] = (uint64_t)key[i] << 32 | i;
  sort(a, a + n);
  for (uint32_t i = 0; i < n; i++) rank[(uint32_t)a[i]] = i;
}
// times the decisions of every row of one file (the fine-tune's flat indices, DELLA at density 0.2, ε 0.15 as
// bench:merge runs it), checks both forms decide alike, prints one JSON line per form
static int decisions(const char* file, uint32_t row, const vector<uint32_t>& key) {
  const uint32_t rows = key.size() / row;
  vector<uint8_t> keep(key.size()), check(key.size());
  vector<uint32_t> scratch(row); vector<uint64_t> a(row), b(row);
  struct F { const char* name; void (*fn)(const uint32_t*, uint32_t, const Decide&, uint32_t*, uint64_t*, uint64_t*); } forms[] = {
    {"l1 decisions via the exact rank (LSD 11/10/10)", decideByRank}, {"l1 decisions rank-free (bucket bounds, rare exact counts)", decideRankFree}};
  for (auto& f : forms) {
    double best = 1e9;
    for (int rep = 0; rep < 7; rep++) {
      ambiguous = 0; bucketsSeen = 0;
      auto t0 = chrono::steady_clock::now();
      for (uint32_t r = 0; r < rows; r++) {
        Decide d{r * row, 0x9e3779b9u, 0x7f4a7c15u, 0.05, 0.35, keep.data() + (size_t)r * row};
        f.fn(key.data() + (size_t)r * row, row, d, scratch.data(), a.data(), b.data());
      }
      best = min(best, chrono::duration<double, nano>(chrono::steady_clock::now() - t0).count() / key.size());
    }
    if (f.fn == decideByRank) check = keep; else if (check != keep) { fprintf(stderr, "decisions differ: %s\n", f.name); return 1; }
    size_t kept = 0; for (uint8_t k : keep) kept += k;
    printf("{\"file\":\"%s\",\"row\":%u,\"rows\":%u,\"form\":\"%s\",\"ns\":%.3f,\"kept\":%.4f,\"exactPerRow\":%.2f,\"bucketsPerRow\":%.1f}\n", file, row, rows, f.name, best,
           (double)kept / key.size(), f.fn == decideRankFree ? (double)ambiguous / rows : 0.0, (double)bucketsSeen / rows);
  }
  return 0;
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
    if (decisions(argv[t], row, key) != 0) return 1;
  }
}
