// Tensor kernels of the training engine (native backend). Each one has a TypeScript
// reference in src/tensor/ref.ts; the tests run both and compare them.
//
// GEMM: GotoBLAS-style blocking (KC x NC panels of B and MC x KC blocks of A packed into
// contiguous micro-panels), a register-blocked micro-kernel written with GCC vector
// extensions and compiled three times (AVX-512, AVX2+FMA, SSE2), chosen at load time
// from the CPU's features (ZIYA_SIMD=avx2|generic forces a lower level), and a thread
// pool that splits the larger of M and N across cores (ZIYA_THREADS sets its size).
#include <node_api.h>
#include "napi_args.h"
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <math.h>
#include <stdlib.h>
#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>
#include <xmmintrin.h>

// ---------------------------------------------------------------- thread pool
namespace {

// Workers spin briefly on the job counter before sleeping, so that the back-to-back kernel
// calls of a training step do not pay a thread wake-up each (about 50 us of spinning at most).
constexpr int SPIN = 2000;

class Pool {
 public:
  explicit Pool(int n) : n_(n < 1 ? 1 : n) {
    for (int i = 1; i < n_; i++) threads_.emplace_back([this, i] { loop(i); });
  }
  int size() const { return n_; }
  // runs f(tid) for tid in [0, n) and returns when all are done; the caller is tid 0
  void run(const std::function<void(int)>& f) {
    if (n_ == 1) { f(0); return; }
    job_ = &f;
    pending_.store(n_ - 1, std::memory_order_relaxed);
    {
      std::lock_guard<std::mutex> l(mu_);
      gen_.fetch_add(1, std::memory_order_release);
    }
    cv_.notify_all();
    f(0);
    for (int i = 0; pending_.load(std::memory_order_acquire) != 0; i++) {
      if (i < SPIN) _mm_pause();
      else {
        std::unique_lock<std::mutex> l(mu_);
        done_.wait(l, [&] { return pending_.load(std::memory_order_acquire) == 0; });
      }
    }
  }

 private:
  void loop(int id) {
    _mm_setcsr(_mm_getcsr() | 0x8040);  // flush denormals to zero (FTZ | DAZ) on pool threads
    uint64_t seen = 0;
    for (;;) {
      uint64_t g = gen_.load(std::memory_order_acquire);
      for (int i = 0; g == seen && i < SPIN; i++) {
        _mm_pause();
        g = gen_.load(std::memory_order_acquire);
      }
      if (g == seen) {
        std::unique_lock<std::mutex> l(mu_);
        cv_.wait(l, [&] { return (g = gen_.load(std::memory_order_acquire)) != seen; });
      }
      seen = g;
      (*job_)(id);
      if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
        std::lock_guard<std::mutex> l(mu_);
        done_.notify_one();
      }
    }
  }
  int n_;
  std::vector<std::thread> threads_;
  std::mutex mu_;
  std::condition_variable cv_, done_;
  const std::function<void(int)>* job_ = nullptr;
  std::atomic<int> pending_{0};
  std::atomic<uint64_t> gen_{0};
};

Pool* g_pool = nullptr;  // never destroyed: its threads sleep until the process ends

int default_threads() {
  const char* e = getenv("ZIYA_THREADS");
  if (e && atoi(e) > 0) return atoi(e);
  unsigned h = std::thread::hardware_concurrency();
  return h ? (int)h : 1;
}
Pool& pool() {
  if (!g_pool) g_pool = new Pool(default_threads());
  return *g_pool;
}

// splits [0, n) into pool-size contiguous parts (multiples of `align`) and runs f(lo, hi)
// on each; small jobs (work < min_work) run on the caller alone
struct DenormalsOff {  // FTZ | DAZ on the calling (JS) thread while a kernel runs, restored after
  unsigned saved;
  DenormalsOff() : saved(_mm_getcsr()) { _mm_setcsr(saved | 0x8040); }
  ~DenormalsOff() { _mm_setcsr(saved); }
};

void parallel_range(long n, long align, double work, const std::function<void(long, long)>& f) {
  DenormalsOff guard;
  Pool& p = pool();
  int t = p.size();
  if (t == 1 || work < 2e5 || n <= align) { f(0, n); return; }
  long units = (n + align - 1) / align;
  if (units < t) t = (int)units;
  std::function<void(int)> job = [&](int id) {
    if (id >= t) return;
    long lo = units * id / t * align, hi = std::min(n, units * (id + 1) / t * align);
    if (lo < hi) f(lo, hi);
  };
  p.run(job);
}

// ---------------------------------------------------------------- SIMD level
// AVX512_ON_AVX2 runs the AVX-512 kernel's source and blocking (8 x 32 tiles, 64-byte vectors)
// compiled for AVX2, so that machines without AVX-512 still test that code (ZIYA_SIMD=avx512-layout)
enum Level { GENERIC = 0, AVX2 = 1, AVX512 = 2, AVX512_ON_AVX2 = 3 };
Level g_level = GENERIC;
const char* level_name(Level l) { return l == AVX512 ? "avx512f" : l == AVX2 ? "avx2" : l == AVX512_ON_AVX2 ? "avx512-layout-on-avx2" : "generic"; }

// ---------------------------------------------------------------- GEMM
typedef float v4f __attribute__((vector_size(16)));
typedef float v8f __attribute__((vector_size(32)));
typedef float v16f __attribute__((vector_size(64)));

constexpr int KC = 256;
constexpr int MC = 96;   // multiple of every MR below (4, 6, 8)
constexpr int NC = 2048; // multiple of every NR below (8, 16, 32)

// C[mr x nr] (leading dimension ldc) += A-panel (K x MR) * B-panel (K x NR). The full-tile body
// has only constant-trip loops, so the accumulators live in registers; a partial tile is
// computed into a zeroed local tile and added.
#define MICRO_KERNEL(NAME, TGT, VT, VW, MR, NV)                                                      \
  __attribute__((target(TGT), always_inline)) static inline void NAME##_full(                       \
      int K, const float* __restrict A, const float* __restrict B, float* __restrict C, long ldc) {  \
    constexpr int NR = (VW) * (NV);                                                                  \
    _Pragma("GCC unroll 16") for (int i = 0; i < MR; i++) {                                          \
      __builtin_prefetch(C + i * ldc, 1);                                                            \
      __builtin_prefetch(C + i * ldc + NR - 1, 1);                                                   \
    }                                                                                                \
    VT c[MR][NV];                                                                                    \
    _Pragma("GCC unroll 16") for (int i = 0; i < MR; i++)                                            \
      _Pragma("GCC unroll 4") for (int j = 0; j < NV; j++) c[i][j] = (VT){};                         \
    for (int k = 0; k < K; k++) {                                                                    \
      VT b[NV];                                                                                      \
      _Pragma("GCC unroll 4") for (int j = 0; j < NV; j++) b[j] = *(const VT*)(B + k * NR + j * VW); \
      _Pragma("GCC unroll 16") for (int i = 0; i < MR; i++) {                                        \
        VT a = A[k * MR + i] - (VT){};                                                               \
        _Pragma("GCC unroll 4") for (int j = 0; j < NV; j++) c[i][j] += a * b[j];                    \
      }                                                                                              \
    }                                                                                                \
    _Pragma("GCC unroll 16") for (int i = 0; i < MR; i++)                                            \
      _Pragma("GCC unroll 4") for (int j = 0; j < NV; j++) {                                         \
        VT t;                                                                                        \
        memcpy(&t, C + i * ldc + j * VW, sizeof t);                                                  \
        t += c[i][j];                                                                                \
        memcpy(C + i * ldc + j * VW, &t, sizeof t);                                                  \
      }                                                                                              \
  }                                                                                                  \
  __attribute__((target(TGT))) static void NAME(int K, const float* __restrict A,                   \
                                                const float* __restrict B, float* __restrict C,     \
                                                long ldc, int mr, int nr) {                          \
    constexpr int NR = (VW) * (NV);                                                                  \
    if (mr == MR && nr == NR) { NAME##_full(K, A, B, C, ldc); return; }                              \
    float tmp[MR * NR] __attribute__((aligned(64))) = {};                                            \
    NAME##_full(K, A, B, tmp, NR);                                                                   \
    for (int i = 0; i < mr; i++)                                                                     \
      for (int j = 0; j < nr; j++) C[i * ldc + j] += tmp[i * NR + j];                                \
  }

MICRO_KERNEL(kernel_avx512, "avx512f", v16f, 16, 8, 2)
MICRO_KERNEL(kernel_avx2, "avx2,fma", v8f, 8, 6, 2)
MICRO_KERNEL(kernel_generic, "sse2", v4f, 4, 4, 2)
MICRO_KERNEL(kernel_avx512_on_avx2, "avx2,fma", v16f, 16, 8, 2)

struct Micro {
  int mr, nr;
  void (*fn)(int, const float*, const float*, float*, long, int, int);
};
Micro micro_for(Level l) {
  if (l == AVX512) return {8, 32, kernel_avx512};
  if (l == AVX512_ON_AVX2) return {8, 32, kernel_avx512_on_avx2};
  if (l == AVX2) return {6, 16, kernel_avx2};
  return {4, 8, kernel_generic};
}

struct Mat {  // a row-major matrix view, read as op(X) = trans ? X^T : X
  const float* p;
  long ld;
  bool trans;
  inline float at(long r, long c) const { return trans ? p[c * ld + r] : p[r * ld + c]; }
};

float* aligned_buffer(std::vector<float>& v, size_t n) {
  if (v.size() < n + 16) v.resize(n + 16);
  uintptr_t a = reinterpret_cast<uintptr_t>(v.data());
  return reinterpret_cast<float*>((a + 63) & ~uintptr_t(63));
}

// op(A) rows [i0, i0+mc), cols [p0, p0+kc) into MR-row panels, scaled by alpha
void pack_a(const Mat& A, long i0, long mc, long p0, long kc, int MR, float alpha, float* out) {
  for (long ip = 0; ip < mc; ip += MR) {
    float* dst = out + ip * kc;
    long rows = std::min<long>(MR, mc - ip);
    if (!A.trans) {
      for (long i = 0; i < MR; i++) {
        if (i < rows) {
          const float* src = A.p + (i0 + ip + i) * A.ld + p0;
          for (long k = 0; k < kc; k++) dst[k * MR + i] = alpha * src[k];
        } else {
          for (long k = 0; k < kc; k++) dst[k * MR + i] = 0.f;
        }
      }
    } else {
      for (long k = 0; k < kc; k++) {
        const float* src = A.p + (p0 + k) * A.ld + i0 + ip;
        long i = 0;
        for (; i < rows; i++) dst[k * MR + i] = alpha * src[i];
        for (; i < MR; i++) dst[k * MR + i] = 0.f;
      }
    }
  }
}

// op(B) rows [p0, p0+kc), cols [j0, j0+nc) into NR-column panels
void pack_b(const Mat& B, long p0, long kc, long j0, long nc, int NR, float* out) {
  for (long jp = 0; jp < nc; jp += NR) {
    float* dst = out + jp * kc;
    long cols = std::min<long>(NR, nc - jp);
    if (!B.trans) {
      for (long k = 0; k < kc; k++) {
        const float* src = B.p + (p0 + k) * B.ld + j0 + jp;
        long j = 0;
        for (; j < cols; j++) dst[k * NR + j] = src[j];
        for (; j < NR; j++) dst[k * NR + j] = 0.f;
      }
    } else {
      for (long j = 0; j < NR; j++) {
        if (j < cols) {
          const float* src = B.p + (j0 + jp + j) * B.ld + p0;
          for (long k = 0; k < kc; k++) dst[k * NR + j] = src[k];
        } else {
          for (long k = 0; k < kc; k++) dst[k * NR + j] = 0.f;
        }
      }
    }
  }
}

thread_local std::vector<float> tl_a, tl_b;

// C[m0..m1) x [n0..n1) += alpha * op(A) op(B), single thread
// rows [m0, m1) of C += alpha * op(A) * (a KC x NC block of op(B) already packed in pb)
void gemm_rows_packed_b(const Mat& A, const float* pb, float* C, long ldc, long m0, long m1, long jc, long nc, long pc, long kc, float alpha) {
  Micro mk = micro_for(g_level);
  float* pa = aligned_buffer(tl_a, (size_t)MC * KC);
  for (long ic = m0; ic < m1; ic += MC) {
    long mc = std::min<long>(MC, m1 - ic);
    pack_a(A, ic, mc, pc, kc, mk.mr, alpha, pa);
    for (long jr = 0; jr < nc; jr += mk.nr) {
      int nr = (int)std::min<long>(mk.nr, nc - jr);
      for (long ir = 0; ir < mc; ir += mk.mr) {
        int mr = (int)std::min<long>(mk.mr, mc - ir);
        mk.fn((int)kc, pa + ir * kc, pb + jr * kc, C + (ic + ir) * ldc + jc + jr, ldc, mr, nr);
      }
    }
  }
}

void gemm_block(const Mat& A, const Mat& B, float* C, long ldc, long m0, long m1, long n0, long n1, long K, float alpha) {
  Micro mk = micro_for(g_level);
  float* pb = aligned_buffer(tl_b, (size_t)KC * NC);
  for (long jc = n0; jc < n1; jc += NC) {
    long nc = std::min<long>(NC, n1 - jc);
    for (long pc = 0; pc < K; pc += KC) {
      long kc = std::min<long>(KC, K - pc);
      pack_b(B, pc, kc, jc, nc, mk.nr, pb);
      gemm_rows_packed_b(A, pb, C, ldc, m0, m1, jc, nc, pc, kc, alpha);
    }
  }
}

std::vector<float> g_shared_b;  // B block packed once and shared by the threads (gemm_parallel runs on the JS thread only)

void scale_c(float* C, long ldc, long m0, long m1, long N, float beta) {
  if (beta == 1.f) return;
  for (long i = m0; i < m1; i++) {
    float* r = C + i * ldc;
    if (beta == 0.f) memset(r, 0, N * sizeof(float));
    else for (long j = 0; j < N; j++) r[j] *= beta;
  }
}

__attribute__((target_clones("avx512f", "avx2", "default")))
void gemm_small(const Mat& A, const Mat& B, float* C, long ldc, long M, long n0, long n1, long K, float alpha) {
  // few rows (decoding): dot products or axpys straight from memory, no packing
  std::vector<float> arow(K);
  for (long i = 0; i < M; i++) {
    for (long k = 0; k < K; k++) arow[k] = alpha * A.at(i, k);
    float* c = C + i * ldc;
    if (B.trans) {
      for (long j = n0; j < n1; j++) {
        const float* b = B.p + j * B.ld;
        float s = 0.f;
#pragma omp simd reduction(+ : s)
        for (long k = 0; k < K; k++) s += arow[k] * b[k];
        c[j] += s;
      }
    } else {
      for (long k = 0; k < K; k++) {
        const float a = arow[k];
        const float* b = B.p + k * B.ld;
#pragma omp simd
        for (long j = n0; j < n1; j++) c[j] += a * b[j];
      }
    }
  }
}

// C = alpha * op(A) op(B) + beta * C, single thread (used inside parallel kernels)
void gemm_serial(bool ta, bool tb, long M, long N, long K, float alpha, const float* a, long lda, const float* b, long ldb, float beta, float* C, long ldc) {
  Mat A{a, lda, ta}, B{b, ldb, tb};
  scale_c(C, ldc, 0, M, N, beta);
  if (K == 0 || M == 0 || N == 0) return;
  if (M <= 4) gemm_small(A, B, C, ldc, M, 0, N, K, alpha);
  else gemm_block(A, B, C, ldc, 0, M, 0, N, K, alpha);
}

// the same, across the pool: the larger of M and N is split
void gemm_parallel(bool ta, bool tb, long M, long N, long K, float alpha, const float* a, long lda, const float* b, long ldb, float beta, float* C, long ldc) {
  Mat A{a, lda, ta}, B{b, ldb, tb};
  double work = (double)M * N * K;
  if (M <= 4) {
    parallel_range(N, 64, work, [&](long lo, long hi) {
      for (long i = 0; i < M; i++) {
        float* r = C + i * ldc;
        if (beta == 0.f) memset(r + lo, 0, (hi - lo) * sizeof(float));
        else if (beta != 1.f) for (long j = lo; j < hi; j++) r[j] *= beta;
      }
      if (K > 0) gemm_small(A, B, C, ldc, M, lo, hi, K, alpha);
    });
    return;
  }
  Micro mk = micro_for(g_level);
  if (M >= N && pool().size() > 1 && work >= 2e7 && M >= 2 * MC) {
    // rows split across threads; each KC x NC block of B is packed once, cooperatively, and shared
    parallel_range(M, mk.mr, (double)M * N * 64, [&](long lo, long hi) { scale_c(C, ldc, lo, hi, N, beta); });
    float* pb = aligned_buffer(g_shared_b, (size_t)KC * NC);
    for (long jc = 0; jc < N; jc += NC) {
      const long nc = std::min<long>(NC, N - jc);
      const long panels = (nc + mk.nr - 1) / mk.nr;
      for (long pc = 0; pc < K; pc += KC) {
        const long kc = std::min<long>(KC, K - pc);
        parallel_range(panels, 1, (double)kc * nc * 64, [&](long plo, long phi) {
          pack_b(B, pc, kc, jc + plo * mk.nr, std::min<long>(nc - plo * mk.nr, (phi - plo) * mk.nr), mk.nr, pb + plo * mk.nr * kc);
        });
        parallel_range(M, mk.mr, work, [&](long lo, long hi) { gemm_rows_packed_b(A, pb, C, ldc, lo, hi, jc, nc, pc, kc, alpha); });
      }
    }
  } else if (M >= N) {
    parallel_range(M, mk.mr, work, [&](long lo, long hi) {
      scale_c(C, ldc, lo, hi, N, beta);
      if (K > 0) gemm_block(A, B, C, ldc, lo, hi, 0, N, K, alpha);
    });
  } else {
    parallel_range(N, mk.nr, work, [&](long lo, long hi) {
      for (long i = 0; i < M; i++) {
        float* r = C + i * ldc;
        if (beta == 0.f) memset(r + lo, 0, (hi - lo) * sizeof(float));
        else if (beta != 1.f) for (long j = lo; j < hi; j++) r[j] *= beta;
      }
      if (K > 0) gemm_block(A, B, C, ldc, 0, M, lo, hi, K, alpha);
    });
  }
}

// ---------------------------------------------------------------- elementwise helpers
// exp for x <= 0 (and moderately positive x) with ~1 ulp-level relative error; vectorizes
static inline float fast_exp(float x) {
  x = x < -87.3f ? -87.3f : (x > 88.0f ? 88.0f : x);
  float n = __builtin_floorf(x * 1.44269504088896341f + 0.5f);
  float r = x - n * 0.693359375f + n * 2.12194440e-4f;
  float p = 1.9875691500E-4f;
  p = p * r + 1.3981999507E-3f;
  p = p * r + 8.3334519073E-3f;
  p = p * r + 4.1665795894E-2f;
  p = p * r + 1.6666665459E-1f;
  p = p * r + 5.0000001201E-1f;
  p = p * r * r + r + 1.f;
  int32_t e = ((int32_t)n + 127) << 23;
  float s;
  memcpy(&s, &e, 4);
  return p * s;
}

typedef int32_t v8i __attribute__((vector_size(32)));
#define V8(x) ((v8f){} + (float)(x))
static inline v8f load8(const float* p) { v8f v; memcpy(&v, p, 32); return v; }
static inline void store8(float* p, v8f v) { memcpy(p, &v, 32); }
static inline float hsum8(v8f v) { return ((v[0] + v[4]) + (v[1] + v[5])) + ((v[2] + v[6]) + (v[3] + v[7])); }
static inline float hmax8(v8f v) {
  float m = v[0];
  for (int i = 1; i < 8; i++) m = v[i] > m ? v[i] : m;
  return m;
}
// fast_exp on 8 lanes: clamp, n = round(x / ln 2) by the 1.5 * 2^23 trick, Cephes polynomial, 2^n from the exponent bits
static inline v8f vexp8(v8f x) {
  x = x < V8(-87.3f) ? V8(-87.3f) : x;
  x = x > V8(88.0f) ? V8(88.0f) : x;
  const v8f magic = V8(12582912.0f);
  v8f n = (x * V8(1.44269504088896341f) + magic) - magic;
  v8f r = x - n * V8(0.693359375f) + n * V8(2.12194440e-4f);
  v8f p = V8(1.9875691500E-4f);
  p = p * r + V8(1.3981999507E-3f);
  p = p * r + V8(8.3334519073E-3f);
  p = p * r + V8(4.1665795894E-2f);
  p = p * r + V8(1.6666665459E-1f);
  p = p * r + V8(5.0000001201E-1f);
  p = p * r * r + r + V8(1.f);
  v8i e = (__builtin_convertvector(n, v8i) + 127) << 23;
  v8f sc;
  memcpy(&sc, &e, 32);
  return p * sc;
}

__attribute__((target_clones("avx512f", "avx2", "default")))
void rmsnorm_rows(const float* x, const float* w, float* y, float* rstd, long lo, long hi, long D, float eps) {
  for (long r = lo; r < hi; r++) {
    const float* xr = x + r * D;
    float* yr = y + r * D;
    float ss = 0.f;
#pragma omp simd reduction(+ : ss)
    for (long i = 0; i < D; i++) ss += xr[i] * xr[i];
    float s = 1.f / sqrtf(ss / (float)D + eps);
    rstd[r] = s;
#pragma omp simd
    for (long i = 0; i < D; i++) yr[i] = xr[i] * s * w[i];
  }
}

__attribute__((target_clones("avx512f", "avx2", "default")))
void rmsnorm_bwd_rows(const float* dy, const float* x, const float* w, const float* rstd, float* dx, float* dw, long lo, long hi, long D) {
  for (long r = lo; r < hi; r++) {
    const float* xr = x + r * D;
    const float* dyr = dy + r * D;
    float* dxr = dx + r * D;
    const float s = rstd[r];
    float dot = 0.f;
#pragma omp simd reduction(+ : dot)
    for (long i = 0; i < D; i++) dot += w[i] * dyr[i] * xr[i];
    const float c = s * s * dot / (float)D;
#pragma omp simd
    for (long i = 0; i < D; i++) {
      dxr[i] = s * (w[i] * dyr[i] - xr[i] * c);
      dw[i] += dyr[i] * xr[i] * s;
    }
  }
}

void rope_rows(float* x, const int32_t* pos, long lo, long hi, long width, long hd, float theta, bool inverse) {
  const long half = hd / 2;
  std::vector<float> freq(half), cs(half), sn(half);
  for (long i = 0; i < half; i++) freq[i] = 1.0f / powf(theta, (float)(2 * i) / (float)hd);
  for (long r = lo; r < hi; r++) {
    const float p = (float)pos[r];
    for (long i = 0; i < half; i++) {
      float v = p * freq[i];
      cs[i] = cosf(v);
      sn[i] = inverse ? -sinf(v) : sinf(v);
    }
    float* xr = x + r * width;
    for (long h = 0; h < width; h += hd)
      for (long i = 0; i < half; i++) {
        float a = xr[h + 2 * i], b = xr[h + 2 * i + 1];
        xr[h + 2 * i] = a * cs[i] - b * sn[i];
        xr[h + 2 * i + 1] = a * sn[i] + b * cs[i];
      }
  }
}

// softmax of a row of S over its first n entries (the causal prefix), valid[j] says which take part;
// invalid entries and those past n are 0; valid == nullptr: every entry of the prefix takes part
__attribute__((target_clones("avx512f", "avx2", "default")))
void masked_softmax_row(float* s, const uint8_t* valid, long n, long total) {
  if (valid)
    for (long j = 0; j < n; j++) s[j] = valid[j] ? s[j] : -INFINITY;
  v8f vmax = V8(-INFINITY);
  long k = 0;
  for (; k + 8 <= n; k += 8) {
    const v8f x = load8(s + k);
    vmax = x > vmax ? x : vmax;
  }
  float m = hmax8(vmax);
  for (; k < n; k++) m = s[k] > m ? s[k] : m;
  if (m == -INFINITY) { memset(s, 0, total * sizeof(float)); return; }
  const v8f vm = V8(m), ninf = V8(-INFINITY);
  v8f acc = V8(0.f);
  long j = 0;
  for (; j + 8 <= n; j += 8) {
    v8f x = load8(s + j);
    v8f e = vexp8(x - vm);
    e = x == ninf ? V8(0.f) : e;
    store8(s + j, e);
    acc += e;
  }
  float sum = hsum8(acc);
  for (; j < n; j++) {
    float e = s[j] == -INFINITY ? 0.f : fast_exp(s[j] - m);
    s[j] = e;
    sum += e;
  }
  const v8f inv = V8(1.f / sum);
  for (j = 0; j + 8 <= n; j += 8) store8(s + j, load8(s + j) * inv);
  for (; j < n; j++) s[j] *= 1.f / sum;
  if (total > n) memset(s + n, 0, (total - n) * sizeof(float));
}

struct AttnShape {
  long B, T, H, KVH, hd;
  float scale;
  const int32_t* doc;     // [B*T] document id per position, or null
  const uint8_t* keymask; // [B*T] 1 = real token, 0 = padding, or null
};

// valid[j] for query i of batch b: causal, same document, key not padding; false when every key
// up to i takes part (no document ids and no padding mask), and valid is then left untouched
bool attn_valid(const AttnShape& s, long b, long i, uint8_t* valid) {
  const long T = s.T;
  const int32_t* doc = s.doc ? s.doc + b * T : nullptr;
  const uint8_t* km = s.keymask ? s.keymask + b * T : nullptr;
  if (!doc && !km) return false;
  if (doc && km) {
    const int32_t di = doc[i];
    for (long j = 0; j <= i; j++) valid[j] = (doc[j] == di) & (km[j] != 0);
  } else if (doc) {
    const int32_t di = doc[i];
    for (long j = 0; j <= i; j++) valid[j] = doc[j] == di;
  } else {
    for (long j = 0; j <= i; j++) valid[j] = km[j] != 0;
  }
  return true;
}

constexpr long ATT_TILE = 64;  // query rows per tile: a tile only meets keys up to its last row (causal)

void attention_fwd(const AttnShape& s, const float* q, const float* k, const float* v, float* out, float* P) {
  const long T = s.T, H = s.H, KVH = s.KVH, hd = s.hd, group = H / KVH;
  const long qw = H * hd, kw = KVH * hd;
  parallel_range(s.B * H, 1, (double)s.B * H * T * T * hd * 2, [&](long lo, long hi) {
    std::vector<uint8_t> valid(T);
    for (long bh = lo; bh < hi; bh++) {
      const long b = bh / H, h = bh % H, g = h / group;
      float* Pb = P + bh * T * T;
      const float* qb = q + b * T * qw + h * hd;
      const float* kb = k + b * T * kw + g * hd;
      const float* vb = v + b * T * kw + g * hd;
      float* ob = out + b * T * qw + h * hd;
      for (long r0 = 0; r0 < T; r0 += ATT_TILE) {
        const long rows = std::min(ATT_TILE, T - r0), cols = r0 + rows;
        gemm_serial(false, true, rows, cols, hd, s.scale, qb + r0 * qw, qw, kb, kw, 0.f, Pb + r0 * T, T);
        for (long i = r0; i < r0 + rows; i++) {
          const bool masked = attn_valid(s, b, i, valid.data());
          masked_softmax_row(Pb + i * T, masked ? valid.data() : nullptr, i + 1, T);
        }
        gemm_serial(false, false, rows, hd, cols, 1.f, Pb + r0 * T, T, vb, kw, 0.f, ob + r0 * qw, qw);
      }
    }
  });
}

__attribute__((target_clones("avx512f", "avx2", "default")))
void softmax_bwd_rows(float* dS, const float* P, long rows, long n, long ld) {
  // dS = P * (dP - rowsum(P * dP)), dS holds dP on entry
  for (long i = 0; i < rows; i++) {
    float* d = dS + i * ld;
    const float* p = P + i * ld;
    float dot = 0.f;
#pragma omp simd reduction(+ : dot)
    for (long j = 0; j < n; j++) dot += p[j] * d[j];
#pragma omp simd
    for (long j = 0; j < n; j++) d[j] = p[j] * (d[j] - dot);
  }
}

void attention_bwd(const AttnShape& s, const float* dout, const float* q, const float* k, const float* v, const float* P, float* dq, float* dk, float* dv) {
  const long T = s.T, H = s.H, KVH = s.KVH, hd = s.hd, group = H / KVH;
  const long qw = H * hd, kw = KVH * hd;
  // one task per (batch, kv head): the heads sharing a kv head accumulate into it serially
  parallel_range(s.B * KVH, 1, (double)s.B * H * T * T * hd * 4, [&](long lo, long hi) {
    std::vector<float> dS((size_t)T * T);
    for (long bg = lo; bg < hi; bg++) {
      const long b = bg / KVH, g = bg % KVH;
      const float* kb = k + b * T * kw + g * hd;
      const float* vb = v + b * T * kw + g * hd;
      float* dkb = dk + b * T * kw + g * hd;
      float* dvb = dv + b * T * kw + g * hd;
      for (long t = 0; t < T; t++) {
        memset(dkb + t * kw, 0, hd * sizeof(float));
        memset(dvb + t * kw, 0, hd * sizeof(float));
      }
      for (long h = g * group; h < (g + 1) * group; h++) {
        const float* Pb = P + (b * H + h) * T * T;
        const float* qb = q + b * T * qw + h * hd;
        const float* dob = dout + b * T * qw + h * hd;
        float* dqb = dq + b * T * qw + h * hd;
        for (long r0 = 0; r0 < T; r0 += ATT_TILE) {
          const long rows = std::min(ATT_TILE, T - r0), cols = r0 + rows;
          const float* Pt = Pb + r0 * T;
          float* dSt = dS.data() + r0 * T;
          gemm_serial(true, false, cols, hd, rows, 1.f, Pt, T, dob + r0 * qw, qw, 1.f, dvb, kw);            // dV += P^T dO
          gemm_serial(false, true, rows, cols, hd, 1.f, dob + r0 * qw, qw, vb, kw, 0.f, dSt, T);            // dP = dO V^T
          softmax_bwd_rows(dSt, Pt, rows, cols, T);                                                         // dS
          gemm_serial(false, false, rows, hd, cols, s.scale, dSt, T, kb, kw, 0.f, dqb + r0 * qw, qw);       // dQ = s dS K
          gemm_serial(true, false, cols, hd, rows, s.scale, dSt, T, qb + r0 * qw, qw, 1.f, dkb, kw);        // dK += s dS^T Q
        }
      }
    }
  });
}

__attribute__((target_clones("avx512f", "avx2", "default")))
void swiglu_fwd_range(const float* a, const float* b, float* out, long lo, long hi) {
  long i = lo;
  for (; i + 8 <= hi; i += 8) {
    v8f x = load8(a + i);
    v8f sg = V8(1.f) / (V8(1.f) + vexp8(-x));
    store8(out + i, x * sg * load8(b + i));
  }
  for (; i < hi; i++) {
    float sg = 1.f / (1.f + fast_exp(-a[i]));
    out[i] = a[i] * sg * b[i];
  }
}

__attribute__((target_clones("avx512f", "avx2", "default")))
void swiglu_bwd_range(const float* d, const float* a, const float* b, float* da, float* db, long lo, long hi) {
  long i = lo;
  for (; i + 8 <= hi; i += 8) {
    v8f x = load8(a + i), y = load8(b + i), g = load8(d + i);
    v8f sg = V8(1.f) / (V8(1.f) + vexp8(-x));
    store8(da + i, g * y * sg * (V8(1.f) + x * (V8(1.f) - sg)));
    store8(db + i, g * x * sg);
  }
  for (; i < hi; i++) {
    float sg = 1.f / (1.f + fast_exp(-a[i]));
    da[i] = d[i] * b[i] * sg * (1.f + a[i] * (1.f - sg));
    db[i] = d[i] * a[i] * sg;
  }
}

// cross-entropy rows: loss[r] = logsumexp(x_r) - x_r[t_r]; grad row = scale * (softmax - onehot), 0 for ignored rows
__attribute__((target_clones("avx512f", "avx2", "default")))
void xent_rows(const float* x, const int32_t* t, int32_t ignore, float scale, float* loss, float* grad, long lo, long hi, long V) {
  for (long r = lo; r < hi; r++) {
    const float* xr = x + r * V;
    float* g = grad + r * V;
    if (t[r] == ignore) {
      loss[r] = 0.f;
      memset(g, 0, V * sizeof(float));
      continue;
    }
    v8f vm = V8(-INFINITY);
    long j = 0;
    for (; j + 8 <= V; j += 8) { v8f v = load8(xr + j); vm = v > vm ? v : vm; }
    float m = hmax8(vm);
    for (; j < V; j++) m = xr[j] > m ? xr[j] : m;
    const v8f mm = V8(m);
    v8f acc = V8(0.f);
    for (j = 0; j + 8 <= V; j += 8) {
      v8f e = vexp8(load8(xr + j) - mm);
      store8(g + j, e);
      acc += e;
    }
    float sum = hsum8(acc);
    for (; j < V; j++) { float e = fast_exp(xr[j] - m); g[j] = e; sum += e; }
    const float k = scale / sum;
    const v8f kk = V8(k);
    for (j = 0; j + 8 <= V; j += 8) store8(g + j, load8(g + j) * kk);
    for (; j < V; j++) g[j] *= k;
    loss[r] = m + logf(sum) - xr[t[r]];
    g[t[r]] -= scale;
  }
}

__attribute__((target_clones("avx512f", "avx2", "default")))
void adamw_range(float* p, const float* g, float* m, float* v, long lo, long hi, float lr, float b1, float b2, float eps, float wd, float bc1, float bc2) {
  const float decay = 1.f - lr * wd;
  const float step = lr / bc1;
  const float rbc2 = 1.f / sqrtf(bc2);
#pragma omp simd
  for (long i = lo; i < hi; i++) {
    float gi = g[i];
    float mi = b1 * m[i] + (1.f - b1) * gi;
    float vi = b2 * v[i] + (1.f - b2) * gi * gi;
    m[i] = mi;
    v[i] = vi;
    p[i] = p[i] * decay - step * mi / (sqrtf(vi) * rbc2 + eps);
  }
}

__attribute__((target_clones("avx512f", "avx2", "default")))
void axpy_range(float* y, const float* x, float a, long lo, long hi) {
#pragma omp simd
  for (long i = lo; i < hi; i++) y[i] += a * x[i];
}

inline float round_bf16(float f) {
  uint32_t u;
  memcpy(&u, &f, 4);
  if ((u & 0x7f800000u) == 0x7f800000u) return f;  // Inf and NaN stay
  u += 0x7fffu + ((u >> 16) & 1u);
  u &= 0xffff0000u;
  memcpy(&f, &u, 4);
  return f;
}

// float -> IEEE half (round to nearest even, overflow to Inf) -> float
inline float round_fp16(float f) {
  uint32_t u;
  memcpy(&u, &f, 4);
  const uint32_t sign = u & 0x80000000u;
  uint32_t a = u & 0x7fffffffu;
  uint32_t h;
  if (a >= 0x7f800000u) h = a > 0x7f800000u ? 0x7e00u : 0x7c00u;  // NaN, Inf
  else if (a >= 0x477ff000u) h = 0x7c00u;                            // rounds beyond 65504 -> Inf
  else if (a < 0x38800000u) {                                        // subnormal half (or zero)
    float af;
    memcpy(&af, &a, 4);
    h = (uint32_t)nearbyintf(af * 16777216.f);  // units of 2^-24, ties to even
  } else {
    uint32_t mant = a & 0x7fffffu;
    int32_t e = (int32_t)(a >> 23) - 127 + 15;
    uint32_t hm = mant >> 13, rest = mant & 0x1fffu;
    h = ((uint32_t)e << 10) | hm;
    if (rest > 0x1000u || (rest == 0x1000u && (hm & 1u))) h++;
  }
  // back to float
  uint32_t out;
  uint32_t he = (h >> 10) & 0x1fu, hmn = h & 0x3ffu;
  if (he == 0x1f) out = 0x7f800000u | (hmn << 13);
  else if (he == 0) {
    float v = (float)hmn / 16777216.f;
    memcpy(&out, &v, 4);
  } else out = ((he - 15 + 127) << 23) | (hmn << 13);
  out |= sign;
  float r;
  memcpy(&r, &out, 4);
  return r;
}

// ---------------------------------------------------------------- N-API glue
struct F32 { float* p; size_t n; };

bool f32_arg(napi_env env, napi_value v, F32* out) {
  napi_typedarray_type type;
  void* p;
  if (napi_get_typedarray_info(env, v, &type, &out->n, &p, nullptr, nullptr) != napi_ok || type != napi_float32_array) return false;
  out->p = static_cast<float*>(p);
  return true;
}
template <typename T>
bool typed_arg(napi_env env, napi_value v, napi_typedarray_type want, T** p, size_t* n) {
  napi_typedarray_type type;
  void* d;
  if (napi_get_typedarray_info(env, v, &type, n, &d, nullptr, nullptr) != napi_ok || type != want) return false;
  *p = static_cast<T*>(d);
  return true;
}
bool is_nullish(napi_env env, napi_value v) {
  napi_valuetype t;
  napi_typeof(env, v, &t);
  return t == napi_null || t == napi_undefined;
}
double num(napi_env env, napi_value v) {
  double d = 0;
  if (napi_get_value_double(env, v, &d) != napi_ok) {
    bool b = false;
    if (napi_get_value_bool(env, v, &b) == napi_ok) return b ? 1 : 0;
  }
  return d;
}

#define ARGS(N)                                                                \
  size_t argc = N;                                                             \
  napi_value argv[N];                                                          \
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok || argc < N) { \
    napi_throw_type_error(env, nullptr, "tensor kernel: expected " #N " arguments"); \
    return nullptr;                                                            \
  }
#define F32ARG(name, i)                                                        \
  F32 name;                                                                    \
  if (!f32_arg(env, argv[i], &name)) {                                         \
    napi_throw_type_error(env, nullptr, "tensor kernel: argument " #i " (" #name ") must be a Float32Array"); \
    return nullptr;                                                            \
  }
#define FAIL(msg)                                   \
  do {                                              \
    napi_throw_range_error(env, nullptr, msg);      \
    return nullptr;                                 \
  } while (0)

// gemm(transA, transB, M, N, K, alpha, A, B, beta, C, batch, strideA, strideB, strideC)
napi_value Gemm(napi_env env, napi_callback_info info) {
  ARGS(14)
  bool ta = num(env, argv[0]) != 0, tb = num(env, argv[1]) != 0;
  long M = (long)num(env, argv[2]), N = (long)num(env, argv[3]), K = (long)num(env, argv[4]);
  float alpha = (float)num(env, argv[5]);
  F32ARG(A, 6) F32ARG(B, 7)
  float beta = (float)num(env, argv[8]);
  F32ARG(C, 9)
  long batch = (long)num(env, argv[10]), sa = (long)num(env, argv[11]), sb = (long)num(env, argv[12]), sc = (long)num(env, argv[13]);
  if (M < 0 || N < 0 || K < 0 || batch < 1) FAIL("gemm: negative size");
  if ((size_t)((batch - 1) * sa + M * K) > A.n || (size_t)((batch - 1) * sb + K * N) > B.n || (size_t)((batch - 1) * sc + M * N) > C.n) FAIL("gemm: an operand is smaller than its shape");
  long lda = ta ? M : K, ldb = tb ? K : N;
  if (batch == 1) gemm_parallel(ta, tb, M, N, K, alpha, A.p, lda, B.p, ldb, beta, C.p, N);
  else if ((double)M * N * K >= 4e6)
    for (long i = 0; i < batch; i++) gemm_parallel(ta, tb, M, N, K, alpha, A.p + i * sa, lda, B.p + i * sb, ldb, beta, C.p + i * sc, N);
  else
    parallel_range(batch, 1, (double)batch * M * N * K, [&](long lo, long hi) {
      for (long i = lo; i < hi; i++) gemm_serial(ta, tb, M, N, K, alpha, A.p + i * sa, lda, B.p + i * sb, ldb, beta, C.p + i * sc, N);
    });
  return nullptr;
}

// rmsnormFwd(x, w, D, eps, y, rstd)
napi_value RmsnormFwd(napi_env env, napi_callback_info info) {
  ARGS(6)
  F32ARG(x, 0) F32ARG(w, 1)
  long D = (long)num(env, argv[2]);
  float eps = (float)num(env, argv[3]);
  F32ARG(y, 4) F32ARG(rstd, 5)
  long rows = D ? (long)(x.n / D) : 0;
  if (w.n != (size_t)D || y.n < x.n || rstd.n < (size_t)rows) FAIL("rmsnormFwd: shapes disagree");
  parallel_range(rows, 1, (double)x.n * 4, [&](long lo, long hi) { rmsnorm_rows(x.p, w.p, y.p, rstd.p, lo, hi, D, eps); });
  return nullptr;
}

// rmsnormBwd(dy, x, w, rstd, D, dx, dw)  dx written, dw accumulated
napi_value RmsnormBwd(napi_env env, napi_callback_info info) {
  ARGS(7)
  F32ARG(dy, 0) F32ARG(x, 1) F32ARG(w, 2) F32ARG(rstd, 3)
  long D = (long)num(env, argv[4]);
  F32ARG(dx, 5) F32ARG(dw, 6)
  long rows = D ? (long)(x.n / D) : 0;
  if (w.n != (size_t)D || dy.n < x.n || dx.n < x.n || dw.n != (size_t)D) FAIL("rmsnormBwd: shapes disagree");
  int t = pool().size();
  std::vector<float> part((size_t)t * D, 0.f);
  std::atomic<int> slot{0};
  std::vector<long> start(t, -1);
  parallel_range(rows, 1, (double)x.n * 6, [&](long lo, long hi) {
    int s = slot++;
    start[s] = lo;
    rmsnorm_bwd_rows(dy.p, x.p, w.p, rstd.p, dx.p, part.data() + (size_t)s * D, lo, hi, D);
  });
  // partial sums added in row order, whichever thread made them: the result is reproducible
  std::vector<int> order;
  for (int s = 0; s < t; s++) if (start[s] >= 0) order.push_back(s);
  std::sort(order.begin(), order.end(), [&](int a, int b) { return start[a] < start[b]; });
  for (int s : order)
    for (long i = 0; i < D; i++) dw.p[i] += part[(size_t)s * D + i];
  return nullptr;
}

// rope(x, pos, width, headDim, theta, inverse)  in place
napi_value Rope(napi_env env, napi_callback_info info) {
  ARGS(6)
  F32ARG(x, 0)
  int32_t* pos;
  size_t npos;
  if (!typed_arg(env, argv[1], napi_int32_array, &pos, &npos)) FAIL("rope: pos must be an Int32Array");
  long width = (long)num(env, argv[2]), hd = (long)num(env, argv[3]);
  float theta = (float)num(env, argv[4]);
  bool inverse = num(env, argv[5]) != 0;
  if (hd <= 0 || hd % 2 || width % hd || x.n != npos * (size_t)width) FAIL("rope: shapes disagree");
  parallel_range((long)npos, 1, (double)x.n * 8, [&](long lo, long hi) { rope_rows(x.p, pos, lo, hi, width, hd, theta, inverse); });
  return nullptr;
}

bool attn_shape(napi_env env, napi_value* argv, AttnShape* s) {
  s->B = (long)num(env, argv[0]);
  s->T = (long)num(env, argv[1]);
  s->H = (long)num(env, argv[2]);
  s->KVH = (long)num(env, argv[3]);
  s->hd = (long)num(env, argv[4]);
  s->scale = (float)num(env, argv[5]);
  size_t n;
  s->doc = nullptr;
  s->keymask = nullptr;
  if (!is_nullish(env, argv[6]) && !typed_arg(env, argv[6], napi_int32_array, const_cast<int32_t**>(&s->doc), &n)) return false;
  if (!is_nullish(env, argv[7]) && !typed_arg(env, argv[7], napi_uint8_array, const_cast<uint8_t**>(&s->keymask), &n)) return false;
  return s->H % s->KVH == 0;
}

// attentionFwd(B, T, H, KVH, hd, scale, doc, keymask, q, k, v, out, P)
napi_value AttentionFwd(napi_env env, napi_callback_info info) {
  ARGS(13)
  AttnShape s;
  if (!attn_shape(env, argv, &s)) FAIL("attentionFwd: bad shape, document ids (Int32Array) or key mask (Uint8Array)");
  F32ARG(q, 8) F32ARG(k, 9) F32ARG(v, 10) F32ARG(out, 11) F32ARG(P, 12)
  size_t nq = s.B * s.T * s.H * s.hd, nk = s.B * s.T * s.KVH * s.hd;
  if (q.n != nq || k.n != nk || v.n != nk || out.n != nq || P.n != (size_t)(s.B * s.H * s.T * s.T)) FAIL("attentionFwd: shapes disagree");
  attention_fwd(s, q.p, k.p, v.p, out.p, P.p);
  return nullptr;
}

// attentionBwd(B, T, H, KVH, hd, scale, doc, keymask, dout, q, k, v, P, dq, dk, dv)
napi_value AttentionBwd(napi_env env, napi_callback_info info) {
  ARGS(16)
  AttnShape s;
  if (!attn_shape(env, argv, &s)) FAIL("attentionBwd: bad shape");
  F32ARG(dout, 8) F32ARG(q, 9) F32ARG(k, 10) F32ARG(v, 11) F32ARG(P, 12) F32ARG(dq, 13) F32ARG(dk, 14) F32ARG(dv, 15)
  size_t nq = s.B * s.T * s.H * s.hd, nk = s.B * s.T * s.KVH * s.hd;
  if (dout.n != nq || q.n != nq || dq.n != nq || k.n != nk || v.n != nk || dk.n != nk || dv.n != nk || P.n != (size_t)(s.B * s.H * s.T * s.T)) FAIL("attentionBwd: shapes disagree");
  attention_bwd(s, dout.p, q.p, k.p, v.p, P.p, dq.p, dk.p, dv.p);
  return nullptr;
}

// swigluFwd(a, b, out)
napi_value SwigluFwd(napi_env env, napi_callback_info info) {
  ARGS(3)
  F32ARG(a, 0) F32ARG(b, 1) F32ARG(out, 2)
  if (b.n != a.n || out.n != a.n) FAIL("swigluFwd: shapes disagree");
  parallel_range((long)a.n, 1024, (double)a.n * 8, [&](long lo, long hi) { swiglu_fwd_range(a.p, b.p, out.p, lo, hi); });
  return nullptr;
}

// swigluBwd(dout, a, b, da, db)
napi_value SwigluBwd(napi_env env, napi_callback_info info) {
  ARGS(5)
  F32ARG(d, 0) F32ARG(a, 1) F32ARG(b, 2) F32ARG(da, 3) F32ARG(db, 4)
  if (d.n != a.n || b.n != a.n || da.n != a.n || db.n != a.n) FAIL("swigluBwd: shapes disagree");
  parallel_range((long)a.n, 1024, (double)a.n * 12, [&](long lo, long hi) { swiglu_bwd_range(d.p, a.p, b.p, da.p, db.p, lo, hi); });
  return nullptr;
}

// xent(logits, V, targets, ignore, lossRows, grad, scale)
napi_value Xent(napi_env env, napi_callback_info info) {
  ARGS(7)
  F32ARG(x, 0)
  long V = (long)num(env, argv[1]);
  int32_t* t;
  size_t nt;
  if (!typed_arg(env, argv[2], napi_int32_array, &t, &nt)) FAIL("xent: targets must be an Int32Array");
  int32_t ignore = (int32_t)num(env, argv[3]);
  F32ARG(loss, 4) F32ARG(grad, 5)
  if (x.n != nt * (size_t)V || loss.n != nt || grad.n != x.n) FAIL("xent: shapes disagree");
  for (size_t r = 0; r < nt; r++)
    if (t[r] != ignore && (t[r] < 0 || t[r] >= V)) FAIL("xent: a target is outside the vocabulary");
  float scale = (float)num(env, argv[6]);
  parallel_range((long)nt, 1, (double)x.n * 6, [&](long lo, long hi) { xent_rows(x.p, t, ignore, scale, loss.p, grad.p, lo, hi, V); });
  return nullptr;
}

// adamw(p, g, m, v, lr, b1, b2, eps, wd, step)
napi_value Adamw(napi_env env, napi_callback_info info) {
  ARGS(10)
  F32ARG(p, 0) F32ARG(g, 1) F32ARG(m, 2) F32ARG(v, 3)
  float lr = (float)num(env, argv[4]), b1 = (float)num(env, argv[5]), b2 = (float)num(env, argv[6]), eps = (float)num(env, argv[7]), wd = (float)num(env, argv[8]);
  double step = num(env, argv[9]);
  if (g.n != p.n || m.n != p.n || v.n != p.n) FAIL("adamw: shapes disagree");
  float bc1 = (float)(1.0 - pow(b1, step)), bc2 = (float)(1.0 - pow(b2, step));
  parallel_range((long)p.n, 1024, (double)p.n * 10, [&](long lo, long hi) { adamw_range(p.p, g.p, m.p, v.p, lo, hi, lr, b1, b2, eps, wd, bc1, bc2); });
  return nullptr;
}

// embeddingFwd(W, ids, D, out) / embeddingBwd(dout, ids, D, dW)  (dW accumulated): rows [n, D] <-> table [V, D]
struct EmbArgs { F32 rows, table; int32_t* ids; size_t n; long D; };
bool embedding_args(napi_env env, napi_callback_info info, const char* name, bool rowsFirst, EmbArgs* a) {
  size_t argc = 4;
  napi_value argv[4];
  char msg[160];
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok || argc < 4) { snprintf(msg, sizeof msg, "%s: expected 4 arguments", name); napi_throw_type_error(env, nullptr, msg); return false; }
  if (!f32_arg(env, argv[rowsFirst ? 0 : 3], &a->rows) || !f32_arg(env, argv[rowsFirst ? 3 : 0], &a->table) || !typed_arg(env, argv[1], napi_int32_array, &a->ids, &a->n)) {
    snprintf(msg, sizeof msg, "%s: (Float32Array, Int32Array ids, D, Float32Array)", name);
    napi_throw_type_error(env, nullptr, msg);
    return false;
  }
  a->D = (long)num(env, argv[2]);
  const long V = a->D ? (long)(a->table.n / a->D) : 0;
  if (a->rows.n != a->n * (size_t)a->D) { snprintf(msg, sizeof msg, "%s: shapes disagree", name); napi_throw_range_error(env, nullptr, msg); return false; }
  for (size_t i = 0; i < a->n; i++)
    if (a->ids[i] < 0 || a->ids[i] >= V) { snprintf(msg, sizeof msg, "%s: token id %d at %zu is outside the vocabulary (%ld)", name, a->ids[i], i, V); napi_throw_range_error(env, nullptr, msg); return false; }
  return true;
}
napi_value EmbeddingFwd(napi_env env, napi_callback_info info) {
  EmbArgs a;
  if (!embedding_args(env, info, "embeddingFwd", false, &a)) return nullptr;
  for (size_t i = 0; i < a.n; i++) memcpy(a.rows.p + i * a.D, a.table.p + (size_t)a.ids[i] * a.D, a.D * sizeof(float));
  return nullptr;
}
napi_value EmbeddingBwd(napi_env env, napi_callback_info info) {
  EmbArgs a;
  if (!embedding_args(env, info, "embeddingBwd", true, &a)) return nullptr;
  for (size_t i = 0; i < a.n; i++) {
    float* row = a.table.p + (size_t)a.ids[i] * a.D;
    const float* src = a.rows.p + i * a.D;
    for (long j = 0; j < a.D; j++) row[j] += src[j];
  }
  return nullptr;
}

// round(x, out, mode) mode 1 = bf16, 2 = fp16
napi_value Round(napi_env env, napi_callback_info info) {
  ARGS(3)
  F32ARG(x, 0) F32ARG(out, 1)
  int mode = (int)num(env, argv[2]);
  if (out.n != x.n) FAIL("round: shapes disagree");
  parallel_range((long)x.n, 1024, (double)x.n * 4, [&](long lo, long hi) {
    if (mode == 1) for (long i = lo; i < hi; i++) out.p[i] = round_bf16(x.p[i]);
    else for (long i = lo; i < hi; i++) out.p[i] = round_fp16(x.p[i]);
  });
  return nullptr;
}

// firstNonFinite(x) -> index or -1 ; sumSquares(x) -> number (double accumulation)
__attribute__((target_clones("avx512f", "avx2", "default")))
long first_nonfinite(const float* x, long n) {
  const long B = 4096;
  for (long s = 0; s < n; s += B) {
    long e = std::min(n, s + B);
    float acc = 0.f;
#pragma omp simd reduction(+ : acc)
    for (long i = s; i < e; i++) acc += x[i] * 0.f;  // NaN iff some x is NaN or Inf
    if (acc != acc)
      for (long i = s; i < e; i++)
        if (!std::isfinite(x[i])) return i;
  }
  return -1;
}
napi_value FirstNonFinite(napi_env env, napi_callback_info info) {
  ARGS(1)
  F32ARG(x, 0)
  napi_value r;
  napi_create_double(env, (double)first_nonfinite(x.p, (long)x.n), &r);
  return r;
}
napi_value SumSquares(napi_env env, napi_callback_info info) {
  ARGS(1)
  F32ARG(x, 0)
  double s = 0;
  const long B = 1024;
  for (long i = 0; i < (long)x.n; i += B) {
    float acc = 0.f;
    long e = std::min((long)x.n, i + B);
    for (long j = i; j < e; j++) acc += x.p[j] * x.p[j];
    s += acc;
  }
  napi_value r;
  napi_create_double(env, s, &r);
  return r;
}

// axpy(y, x, a): y += a * x
napi_value Axpy(napi_env env, napi_callback_info info) {
  ARGS(3)
  F32ARG(y, 0) F32ARG(x, 1)
  float a = (float)num(env, argv[2]);
  if (x.n != y.n) FAIL("axpy: sizes differ");
  parallel_range((long)y.n, 1024, (double)y.n * 2, [&](long lo, long hi) { axpy_range(y.p, x.p, a, lo, hi); });
  return nullptr;
}

napi_value SetThreads(napi_env env, napi_callback_info info) {
  ARGS(1)
  int n = (int)num(env, argv[0]);
  if (n < 1) n = default_threads();
  if (!g_pool || g_pool->size() != n) g_pool = new Pool(n);  // the old pool's threads stay asleep
  return nullptr;
}
napi_value Threads(napi_env env, napi_callback_info) {
  napi_value r;
  napi_create_int32(env, pool().size(), &r);
  return r;
}

}  // namespace

void register_tensor_kernels(napi_env env, napi_value exports) {
  __builtin_cpu_init();
  Level best = __builtin_cpu_supports("avx512f") ? AVX512 : (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) ? AVX2 : GENERIC;
  const char* force = getenv("ZIYA_SIMD");
  Level want = best;
  if (force) {
    if (!strcmp(force, "generic")) want = GENERIC;
    else if (!strcmp(force, "avx2")) want = AVX2;
  }
  g_level = want < best ? want : best;
  if (force && !strcmp(force, "avx512-layout") && best >= AVX2) g_level = AVX512_ON_AVX2;
  const ziya_native::NamedFunction fns[] = {
      {"gemm", Gemm}, {"rmsnormFwd", RmsnormFwd}, {"rmsnormBwd", RmsnormBwd}, {"rope", Rope},
      {"attentionFwd", AttentionFwd}, {"attentionBwd", AttentionBwd}, {"swigluFwd", SwigluFwd},
      {"swigluBwd", SwigluBwd}, {"xent", Xent}, {"adamw", Adamw}, {"embeddingFwd", EmbeddingFwd},
      {"embeddingBwd", EmbeddingBwd}, {"round", Round}, {"firstNonFinite", FirstNonFinite},
      {"sumSquares", SumSquares}, {"axpy", Axpy}, {"setThreads", SetThreads}, {"threads", Threads},
  };
  ziya_native::export_functions(env, exports, fns);
  napi_value lv;
  napi_create_string_utf8(env, level_name(g_level), NAPI_AUTO_LENGTH, &lv);
  napi_set_named_property(env, exports, "gemmKernel", lv);
}
