// OpenMP's static schedule against the runtime-free bound, interleaved (the
// counterpart of `MTJobsInterleaved w64`): 64 chunks of ~1 us on 2 threads,
// OpenMP `parallel for schedule(static)` against static halves run by a
// second thread polling a generation word; 500 runs of each per block, 12
// blocks, median of per-block ratios. The bound's thread sleeps while
// OpenMP runs, so the two never compete for a CPU.
//   g++ -O2 -std=c++17 -fopenmp omp_bound.cpp -o omp_bound -lpthread && ./omp_bound
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <thread>
#include <vector>
#include <algorithm>
#include <cstdint>
static long steps = 670;
__attribute__((noinline)) static void work_chunk(long i) {
  uint64_t x = (uint64_t)i + 1;
  for (long s = 0; s < steps; s++) { x ^= x >> 33; x *= 0xFF51AFD7ED558CCDULL; }
  asm volatile("" ::"r"(x));
}
static long now_ns() { return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count(); }
static long med(std::vector<long> v) { std::sort(v.begin(), v.end()); return v[v.size() / 2]; }
int main() {
  std::atomic<long> go{0}, done{0};
  std::mutex m; std::condition_variable cv; bool parked = false, quit = false;
  std::thread t([&] {
    long seen = 0;
    for (;;) {
      long g = go.load(std::memory_order_acquire);
      if (g == -1) {
        std::unique_lock<std::mutex> l(m); parked = true; done.store(-1, std::memory_order_release);
        cv.wait(l, [&] { return !parked; }); if (quit) return; continue;
      }
      if (g != seen) { seen = g; for (long i = 32; i < 64; i++) work_chunk(i); done.store(g, std::memory_order_release); }
    }
  });
  long gen = 0;
  auto stat = [&] { gen++; go.store(gen, std::memory_order_release); for (long i = 0; i < 32; i++) work_chunk(i);
                    while (done.load(std::memory_order_acquire) != gen) {} };
  auto omp = [&] {
#pragma omp parallel for schedule(static) num_threads(2)
    for (long i = 0; i < 64; i++) work_chunk(i);
  };
  auto park = [&] { go.store(-1, std::memory_order_release); while (done.load(std::memory_order_acquire) != -1) {} };
  // `done` back to the last generation first: a later park() must wait for
  // the thread's own -1, not find the previous one.
  auto unpark = [&] { done.store(gen, std::memory_order_relaxed); go.store(gen, std::memory_order_release); { std::lock_guard<std::mutex> l(m); parked = false; } cv.notify_one(); };
  for (int i = 0; i < 50; i++) stat();
  std::vector<double> ratios; std::vector<long> sm, om;
  for (int round = 0; round < 12; round++) {
    std::vector<long> a(500), b(500);
    for (auto& x : a) { long s = now_ns(); stat(); x = now_ns() - s; }
    park();
    for (int i = 0; i < 20; i++) omp();
    for (auto& x : b) { long s = now_ns(); omp(); x = now_ns() - s; }
    unpark();
    long ms = med(a), mo = med(b);
    sm.push_back(ms); om.push_back(mo); ratios.push_back(double(mo) / ms);
  }
  std::sort(ratios.begin(), ratios.end());
  printf("static split:"); for (long v : sm) printf(" %ld", v);
  printf(" ns\nOpenMP static:"); for (long v : om) printf(" %ld", v);
  printf(" ns\nOpenMP/static median %.4f (min %.4f, max %.4f)\n", ratios[6], ratios[0], ratios[11]);
  park(); { std::lock_guard<std::mutex> l(m); quit = true; parked = false; } cv.notify_one(); t.join();
}
