/* ckpt_writeback.c — early write-back of a checkpoint being written.
 *
 * The page cache absorbs a checkpoint's writes and the disk only starts
 * on them once a tenth of memory is dirty (or at the final fsync), so the
 * encoding of tensors (bf16 conversion, checksums) and the disk would
 * otherwise take turns.  Each rank opens the file it is writing through
 * MPI-IO a second time, read-only, and every NT_WRITEBACK_BYTES of its own
 * writes asks the kernel to start writing the file's dirty pages
 * (sync_file_range, SYNC_FILE_RANGE_WRITE: starts write-out, waits for
 * nothing).  Durability still comes from the fsync at commit.  Where
 * sync_file_range does not exist this does nothing. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "ckpt.h"
#include "check.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#define NT_WRITEBACK_BYTES ((size_t)128 << 20)

void nt_writeback_open(nt_writeback *wb, const char *file)
{
    wb->pending = 0;
    wb->fd = open(file, O_RDONLY);
    /* not fatal: without it the write is only slower */
    if (wb->fd < 0) fprintf(stderr, "ntron: %s: cannot open for early write-back: %s (continuing)\n", file, strerror(errno));
}

void nt_writeback_kick(nt_writeback *wb, size_t bytes)
{
    wb->pending += bytes;
    if (wb->fd < 0 || wb->pending < NT_WRITEBACK_BYTES) return;
    wb->pending = 0;
#ifdef SYNC_FILE_RANGE_WRITE
    if (sync_file_range(wb->fd, 0, 0, SYNC_FILE_RANGE_WRITE) != 0 && errno != ENOSYS && errno != EINVAL)
        fprintf(stderr, "ntron: early write-back: sync_file_range: %s (continuing)\n", strerror(errno));
#endif
}

void nt_writeback_close(nt_writeback *wb)
{
    if (wb->fd >= 0) NT_CHECK_SYS(close(wb->fd));
    wb->fd = -1;
}
