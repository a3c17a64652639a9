/* ckpt_writeback.c — early write-back of a checkpoint being written.
 *
 * The page cache absorbs a checkpoint's writes and the disk only starts
 * on them once a tenth of memory is dirty (or at the final fsync), so the
 * encoding of tensors and the disk would otherwise take turns.  Each rank
 * opens the file it is writing through MPI-IO a second time, read-only,
 * and every NT_WRITEBACK_BYTES of its own writes asks the kernel to start
 * writing the file's dirty pages (sync_file_range, SYNC_FILE_RANGE_WRITE).
 * That call can block while the device queue is full (measured: ~1.5 s of
 * a 4 s save), so a background thread makes it; the writer only signals.
 * Durability still comes from the fsync at commit.  Where sync_file_range
 * does not exist, or the thread cannot start, this does nothing. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "ckpt/ckpt.h"
#include "util/check.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#define NT_WRITEBACK_BYTES ((size_t)128 << 20)

static void *writeback_thread(void *arg)
{
    nt_writeback *wb = arg;
    pthread_mutex_lock(&wb->mu);
    for (;;) {
        while (!wb->requests && !wb->done) pthread_cond_wait(&wb->cv, &wb->mu);
        if (!wb->requests && wb->done) break;
        wb->requests = 0;
        pthread_mutex_unlock(&wb->mu);
#ifdef SYNC_FILE_RANGE_WRITE
        if (sync_file_range(wb->fd, 0, 0, SYNC_FILE_RANGE_WRITE) != 0 && errno != ENOSYS && errno != EINVAL)
            fprintf(stderr, "ntron: early write-back: sync_file_range: %s (continuing)\n", strerror(errno));
#endif
        pthread_mutex_lock(&wb->mu);
    }
    pthread_mutex_unlock(&wb->mu);
    return NULL;
}

void nt_writeback_open(nt_writeback *wb, const char *file)
{
    memset(wb, 0, sizeof *wb);
    wb->fd = open(file, O_RDONLY);
    /* not fatal: without it the write is only slower */
    if (wb->fd < 0) {
        fprintf(stderr, "ntron: %s: cannot open for early write-back: %s (continuing)\n", file, strerror(errno));
        return;
    }
    NT_CHECK(pthread_mutex_init(&wb->mu, NULL) == 0, "early write-back: pthread_mutex_init failed");
    NT_CHECK(pthread_cond_init(&wb->cv, NULL) == 0, "early write-back: pthread_cond_init failed");
    wb->running = pthread_create(&wb->th, NULL, writeback_thread, wb) == 0;
}

void nt_writeback_kick(nt_writeback *wb, size_t bytes)
{
    wb->pending += bytes;
    if (!wb->running || wb->pending < NT_WRITEBACK_BYTES) return;
    wb->pending = 0;
    pthread_mutex_lock(&wb->mu);
    wb->requests++;
    pthread_cond_signal(&wb->cv);
    pthread_mutex_unlock(&wb->mu);
}

void nt_writeback_close(nt_writeback *wb)
{
    if (wb->running) {
        pthread_mutex_lock(&wb->mu);
        wb->done = 1;
        pthread_cond_signal(&wb->cv);
        pthread_mutex_unlock(&wb->mu);
        NT_CHECK(pthread_join(wb->th, NULL) == 0, "early write-back: pthread_join failed");
        wb->running = 0;
    }
    if (wb->fd >= 0) {
        pthread_mutex_destroy(&wb->mu);
        pthread_cond_destroy(&wb->cv);
        NT_CHECK_SYS(close(wb->fd));
    }
    wb->fd = -1;
}
