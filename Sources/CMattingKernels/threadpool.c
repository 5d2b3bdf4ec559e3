// A small persistent thread pool for MattingEngine's ThreadPool: workers park on a condition
// variable, spin briefly before parking (successive layers of a network arrive microseconds
// apart), and take indices from a shared atomic counter. Which worker runs which index is
// not deterministic; kernels make results independent of it (one writer per output tile).
// The caller claims indices too and never waits for a worker that has not joined.
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include "cmk_threadpool.h"

#if defined(__x86_64__) || defined(__i386__)
#define MK_CPU_RELAX() __builtin_ia32_pause()
#elif defined(__aarch64__)
#define MK_CPU_RELAX() __asm__ __volatile__("yield")
#else
#define MK_CPU_RELAX() ((void) 0)
#endif

// About 20–50 µs of polling before a thread parks.
#define MK_SPIN_ITERATIONS 4000

struct mk_threadpool {
    size_t worker_count;  // threads besides the caller
    pthread_t* threads;
    pthread_mutex_t mutex;
    pthread_cond_t work_ready;
    pthread_cond_t work_done;
    pthread_mutex_t run_mutex;  // one parallel region at a time
    _Atomic uint64_t generation;  // the current region's id (0: none yet)
    // (region id << 32) | MK_CLOSED | workers that joined the region. Workers join only while
    // the region is open; the caller closes it once every index is claimed and then waits
    // only for the workers that joined, so a worker that wakes late (descheduled by other
    // load) never holds the caller up and never touches a later region's state.
    _Atomic uint64_t membership;
    _Atomic size_t finished;  // joined workers that have left the region
    _Atomic size_t next;
    size_t count;
    mk_parallel_fn fn;
    void* context;
    int stop;
};

static _Thread_local int mk_inside_pool = 0;

#define MK_CLOSED ((uint64_t) 1 << 31)
#define MK_JOINED_MASK (MK_CLOSED - 1)

struct mk_worker_start { mk_threadpool* pool; size_t index; };

static void mk_run_indices(mk_threadpool* pool, size_t worker) {
    const size_t count = pool->count;
    for (;;) {
        const size_t i = atomic_fetch_add_explicit(&pool->next, 1, memory_order_relaxed);
        if (i >= count) break;
        pool->fn(pool->context, i, worker);
    }
}

static void* mk_worker_main(void* arg) {
    struct mk_worker_start start = *(struct mk_worker_start*) arg;
    free(arg);
    mk_threadpool* pool = start.pool;
    mk_inside_pool = 1;
    uint64_t seen = 0;
    for (;;) {
        int spins = 0;
        while (atomic_load_explicit(&pool->generation, memory_order_acquire) == seen && spins < MK_SPIN_ITERATIONS) {
            MK_CPU_RELAX();
            spins++;
        }
        if (atomic_load_explicit(&pool->generation, memory_order_acquire) == seen) {
            pthread_mutex_lock(&pool->mutex);
            while (atomic_load_explicit(&pool->generation, memory_order_acquire) == seen && !pool->stop)
                pthread_cond_wait(&pool->work_ready, &pool->mutex);
            pthread_mutex_unlock(&pool->mutex);
        }
        if (pool->stop) return NULL;
        seen = atomic_load_explicit(&pool->generation, memory_order_acquire);
        // Join the region if it is still open.
        uint64_t m = atomic_load_explicit(&pool->membership, memory_order_acquire);
        int joined = 0;
        while ((m >> 32) == (seen & 0xffffffffu) && !(m & MK_CLOSED)) {
            if (atomic_compare_exchange_weak_explicit(&pool->membership, &m, m + 1,
                                                      memory_order_acq_rel, memory_order_acquire)) {
                joined = 1;
                break;
            }
        }
        if (!joined) continue;
        mk_run_indices(pool, start.index);
        atomic_fetch_add_explicit(&pool->finished, 1, memory_order_acq_rel);
        pthread_mutex_lock(&pool->mutex);
        pthread_cond_signal(&pool->work_done);
        pthread_mutex_unlock(&pool->mutex);
    }
}

mk_threadpool* mk_threadpool_create(size_t thread_count) {
    mk_threadpool* pool = calloc(1, sizeof *pool);
    if (!pool) return NULL;
    pthread_mutex_init(&pool->mutex, NULL);
    pthread_mutex_init(&pool->run_mutex, NULL);
    pthread_cond_init(&pool->work_ready, NULL);
    pthread_cond_init(&pool->work_done, NULL);
    pool->worker_count = thread_count > 1 ? thread_count - 1 : 0;
    pool->threads = calloc(pool->worker_count ? pool->worker_count : 1, sizeof(pthread_t));
    if (!pool->threads) {  // no room for the handles: no workers, the caller computes everything
        pool->worker_count = 0;
        return pool;
    }
    size_t started = 0;
    for (size_t w = 0; w < pool->worker_count; w++) {
        struct mk_worker_start* start = malloc(sizeof *start);
        if (!start) break;
        start->pool = pool;
        start->index = w + 1;
        if (pthread_create(&pool->threads[w], NULL, mk_worker_main, start) != 0) { free(start); break; }
        started++;
    }
    pool->worker_count = started;  // fewer threads still compute everything
    return pool;
}

void mk_threadpool_destroy(mk_threadpool* pool) {
    if (!pool) return;
    pthread_mutex_lock(&pool->mutex);
    pool->stop = 1;
    atomic_fetch_add_explicit(&pool->generation, 1, memory_order_release);  // wakes pollers
    pthread_cond_broadcast(&pool->work_ready);
    pthread_mutex_unlock(&pool->mutex);
    for (size_t w = 0; w < pool->worker_count; w++) pthread_join(pool->threads[w], NULL);
    free(pool->threads);
    pthread_cond_destroy(&pool->work_ready);
    pthread_cond_destroy(&pool->work_done);
    pthread_mutex_destroy(&pool->mutex);
    pthread_mutex_destroy(&pool->run_mutex);
    free(pool);
}

size_t mk_threadpool_worker_count(const mk_threadpool* pool) { return pool ? pool->worker_count : 0; }

void mk_threadpool_run(mk_threadpool* pool, size_t count, mk_parallel_fn fn, void* context) {
    if (count == 0) return;
    // Serial: no workers, a single index, or a call from inside a parallel region (nested
    // regions would deadlock on run_mutex; running inline is correct, merely serial).
    if (!pool || pool->worker_count == 0 || count == 1 || mk_inside_pool) {
        for (size_t i = 0; i < count; i++) fn(context, i, 0);
        return;
    }
    pthread_mutex_lock(&pool->run_mutex);
    const uint64_t region = atomic_load_explicit(&pool->generation, memory_order_relaxed) + 1;
    pool->count = count;
    pool->fn = fn;
    pool->context = context;
    atomic_store_explicit(&pool->next, 0, memory_order_relaxed);
    atomic_store_explicit(&pool->finished, 0, memory_order_relaxed);
    atomic_store_explicit(&pool->membership, (region & 0xffffffffu) << 32, memory_order_release);
    pthread_mutex_lock(&pool->mutex);
    atomic_store_explicit(&pool->generation, region, memory_order_release);
    pthread_cond_broadcast(&pool->work_ready);
    pthread_mutex_unlock(&pool->mutex);

    mk_inside_pool = 1;
    mk_run_indices(pool, 0);
    mk_inside_pool = 0;

    // Every index is claimed: close the region and wait for the workers that joined it.
    const size_t joined = (size_t) (atomic_fetch_or_explicit(&pool->membership, MK_CLOSED, memory_order_acq_rel)
                                    & MK_JOINED_MASK);
    int spins = 0;
    while (atomic_load_explicit(&pool->finished, memory_order_acquire) != joined && spins < MK_SPIN_ITERATIONS) {
        MK_CPU_RELAX();
        spins++;
    }
    if (atomic_load_explicit(&pool->finished, memory_order_acquire) != joined) {
        pthread_mutex_lock(&pool->mutex);
        while (atomic_load_explicit(&pool->finished, memory_order_acquire) != joined)
            pthread_cond_wait(&pool->work_done, &pool->mutex);
        pthread_mutex_unlock(&pool->mutex);
    }
    pthread_mutex_unlock(&pool->run_mutex);
}
