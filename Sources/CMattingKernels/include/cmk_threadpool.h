// Persistent worker threads behind MattingEngine's ThreadPool. Not public API.
#pragma once
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mk_threadpool mk_threadpool;

/// Calls for one index: `fn(context, index, worker)`, worker in 0 ..< thread_count (0 = caller).
typedef void (*mk_parallel_fn)(void* context, size_t index, size_t worker);

/// Starts `thread_count − 1` workers (the caller is the last thread). NULL on allocation failure.
mk_threadpool* mk_threadpool_create(size_t thread_count);

/// Stops and joins the workers.
void mk_threadpool_destroy(mk_threadpool* pool);

/// Workers actually started (≤ thread_count − 1).
size_t mk_threadpool_worker_count(const mk_threadpool* pool);

/// Runs `fn` for every index in 0 ..< count on the caller and the workers; returns when all
/// calls have returned. Calls from inside a running region run serially on the calling thread.
void mk_threadpool_run(mk_threadpool* pool, size_t count, mk_parallel_fn fn, void* context);

#ifdef __cplusplus
}
#endif
