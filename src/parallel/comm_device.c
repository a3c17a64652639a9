/* comm_device.c — the CUDA backend's communicators (see comm_device.h):
 * the CUDA memory primitives every device path uses, the host-staged path
 * (device -> host, MPI, host -> device), and the choice between it and
 * NCCL.  NCCL needs each rank of a communicator on a GPU of its own, so the
 * choice compares the GPUs (by UUID) of all ranks: auto takes NCCL when no
 * two ranks share one and the build has NCCL. */
#include "parallel/comm_device.h"
#include "build_config.h"
#include "util/check.h"
#include "parallel/comm_dev.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#ifdef NT_HAVE_CUDA
#include "cuda_check.h"

int nt_cuda_mem_is_device(const void *p)
{
    struct cudaPointerAttributes a;
    if (cudaPointerGetAttributes(&a, p) != cudaSuccess) {
        (void)cudaGetLastError();   /* an unknown host pointer on old runtimes: not ours */
        return 0;
    }
    return a.type == cudaMemoryTypeDevice || a.type == cudaMemoryTypeManaged;
}

/* cudaMemcpy on the default stream: ordered after the kernels that wrote
 * the source; the device-to-host copy is complete on return */
void nt_cuda_mem_d2h(void *h, const void *d, size_t bytes) { NT_CHECK_CUDA(cudaMemcpy(h, d, bytes, cudaMemcpyDeviceToHost)); }
void nt_cuda_mem_h2d(void *d, const void *h, size_t bytes) { NT_CHECK_CUDA(cudaMemcpy(d, h, bytes, cudaMemcpyHostToDevice)); }
void nt_cuda_mem_d2d(void *dst, const void *src, size_t bytes)
{
    const char *a = dst, *b = src;
    NT_CHECK(a + bytes <= b || b + bytes <= a, "internal: overlapping device copy of %zu bytes", bytes);
    NT_CHECK_CUDA(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, 0));
}

const nt_comm_dev nt_comm_dev_staged = {
    .name = "host-staged",
    .is_device = nt_cuda_mem_is_device,
    .d2h = nt_cuda_mem_d2h, .h2d = nt_cuda_mem_h2d, .d2d = nt_cuda_mem_d2d,
};

typedef struct gpu_id { unsigned char uuid[16]; int rank; } gpu_id;

static int by_uuid(const void *a, const void *b)
{
    const gpu_id *x = a, *y = b;
    int d = memcmp(x->uuid, y->uuid, sizeof x->uuid);
    return d ? d : (x->rank > y->rank) - (x->rank < y->rank);
}

/* 1 when two ranks of the world use one GPU; names the first pair in why */
static int gpus_shared(const nt_comm *world, int device, char *why, size_t n)
{
    struct cudaDeviceProp prop;
    NT_CHECK_CUDA(cudaGetDeviceProperties(&prop, device));
    gpu_id me = {.rank = world->rank};
    memcpy(me.uuid, &prop.uuid, sizeof me.uuid);
    gpu_id *all = nt_malloc((size_t)world->size * sizeof *all, "GPU ids");
    _Static_assert(sizeof(gpu_id) % sizeof(int32_t) == 0, "gpu_id travels as 32-bit words");
    nt_comm_allgather(world, &me, all, sizeof me / sizeof(int32_t), NT_I32);   /* host memory: the MPI path */
    qsort(all, (size_t)world->size, sizeof *all, by_uuid);
    int shared = 0;
    for (int i = 1; i < world->size && !shared; i++)
        if (!memcmp(all[i - 1].uuid, all[i].uuid, sizeof me.uuid)) {
            shared = 1;
            snprintf(why, n, "ranks %d and %d share one GPU", all[i - 1].rank, all[i].rank);
        }
    free(all);
    return shared;
}

void nt_comm_device_setup(nt_grid *g, const char *mode)
{
    int device = 0, ngpu = 0;
    NT_CHECK_CUDA(cudaGetDevice(&device));
    NT_CHECK_CUDA(cudaGetDeviceCount(&ngpu));
    char why[256] = "", lib[64] = "built without NCCL";
    int shared = gpus_shared(&g->world, device, why, sizeof why);
#ifdef NT_HAVE_NCCL
    int have_nccl = 1;
    nt_comm_nccl_version(lib, sizeof lib);
#else
    int have_nccl = 0;
#endif
    const nt_comm_dev *dev = &nt_comm_dev_staged;
    char said[512];
    if (!strcmp(mode, "mpi")) {
        snprintf(said, sizeof said, "host-staged MPI (parallel.comm = mpi)");
    } else if (have_nccl && !shared) {
        dev = &nt_comm_dev_nccl;
        snprintf(said, sizeof said, "nccl (%s; each of the %d ranks has a GPU of its own)", lib, g->world.size);
    } else if (!strcmp(mode, "nccl")) {
        nt_input_error("parallel.comm = nccl cannot run: %s (NCCL needs one GPU per rank: start at most as many "
                       "ranks per node as it has GPUs, %d here), or set parallel.comm = mpi or auto",
                       have_nccl ? why : lib, ngpu);
    } else if (!have_nccl) {
        snprintf(said, sizeof said, "host-staged MPI (%s)", lib);
    } else {
        snprintf(said, sizeof said, "host-staged MPI (%s, %d GPU%s visible to rank 0; NCCL needs one GPU per rank)",
                 why, ngpu, ngpu == 1 ? "" : "s");
    }
    if (g->world.size > 1 && g->world.rank == 0) {
        printf("comm: %s\n", said);
        fflush(stdout);
    }
    nt_comm *all[] = {&g->world, &g->tp_comm, &g->dp_comm, &g->pp_comm, &g->mp_comm, &g->emb_comm};
    for (size_t i = 0; i < sizeof all / sizeof *all; i++) {
        if (all[i]->mpi == MPI_COMM_NULL) continue;   /* emb: not a member */
        all[i]->dev = dev;
        all[i]->dev_state = NULL;
        if (dev->attach) dev->attach(all[i]);
    }
}
#else
void nt_comm_device_setup(nt_grid *g, const char *mode)
{
    (void)g;
    (void)mode;
}
#endif
