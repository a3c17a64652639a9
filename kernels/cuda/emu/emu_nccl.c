/* emu_nccl.c — the host emulator's NCCL (emu/c/nccl.h) over MPI.
 *
 * Communicator: the unique id names its creator's world rank and a serial
 * number.  In ncclCommInitRank every member sends (its NCCL rank, its world
 * rank) to the creator on MPI_COMM_WORLD with tag TAG_BASE + serial, the
 * creator answers with the list, and the members build their own MPI
 * communicator with MPI_Comm_create_group, a collective of the members only
 * (as ncclCommInitRank is).  So the creator must be a member, as it is in
 * ntron (the group's rank 0 creates the id).  The members' GPUs are
 * compared: two on one GPU is refused, as NCCL refuses it.
 * Collectives: the contributions are gathered (MPI_Allgather or
 * MPI_Alltoall of bytes) and reduced here in rank order, bf16 through fp32
 * rounded once, so the emulator's sums are deterministic.
 * Point-to-point: ncclSend/ncclRecv inside a group are posted together at
 * the outermost ncclGroupEnd (MPI_Isend/Irecv, one MPI_Waitall); outside a
 * group each is a blocking MPI call.  Every buffer must be emulated device
 * memory; calls complete before they return. */
#include "nccl.h"
#include "util/bf16.h"

#include <mpi.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ID_MAGIC "ntron-emu-nccl"
#define TAG_BASE 20000
#define MAX_SERIAL 10000

struct nt_emu_nccl { MPI_Comm mpi; int rank, size, device; };

static char last_text[400];

static ncclResult_t failed(ncclResult_t r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static ncclResult_t failed(ncclResult_t r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_text, sizeof last_text, fmt, ap);
    va_end(ap);
    return r;
}

const char *ncclGetErrorString(ncclResult_t r)
{
    switch (r) {
    case ncclSuccess: return "no error";
    case ncclUnhandledCudaError: return "unhandled cuda error";
    case ncclSystemError: return "unhandled system error";
    case ncclInternalError: return "internal error";
    case ncclInvalidArgument: return "invalid argument";
    case ncclInvalidUsage: return "invalid usage";
    default: return "unknown result";
    }
}
const char *ncclGetLastError(ncclComm_t comm)
{
    static char buf[440];
    (void)comm;
    snprintf(buf, sizeof buf, "emulated NCCL%s%s", last_text[0] ? ": " : "", last_text);
    return buf;
}
ncclResult_t ncclGetVersion(int *version)
{
    *version = 0;   /* no NCCL release: nt_comm_nccl_version names the emulator */
    return ncclSuccess;
}

typedef struct { char magic[16]; int creator, serial; } id_body;

ncclResult_t ncclGetUniqueId(ncclUniqueId *id)
{
    static int serial;
    int init = 0;
    MPI_Initialized(&init);
    if (!init) return failed(ncclInvalidUsage, "the emulated NCCL runs over MPI: MPI_Init first");
    if (serial >= MAX_SERIAL) return failed(ncclInternalError, "more than %d unique ids from one rank", MAX_SERIAL);
    id_body b;
    memset(&b, 0, sizeof b);
    memcpy(b.magic, ID_MAGIC, sizeof ID_MAGIC);
    MPI_Comm_rank(MPI_COMM_WORLD, &b.creator);
    b.serial = serial++;
    memset(id, 0, sizeof *id);
    memcpy(id->internal, &b, sizeof b);
    return ncclSuccess;
}

#define MPI_OK(call) do { int e_ = (call); if (e_ != MPI_SUCCESS) return failed(ncclSystemError, "%s failed (%d)", #call, e_); } while (0)

ncclResult_t ncclCommInitRank(ncclComm_t *comm, int nranks, ncclUniqueId id, int rank)
{
    id_body b;
    memcpy(&b, id.internal, sizeof b);
    *comm = NULL;
    if (memcmp(b.magic, ID_MAGIC, sizeof ID_MAGIC)) return failed(ncclInvalidArgument, "not a unique id of the emulator");
    if (nranks < 1 || rank < 0 || rank >= nranks) return failed(ncclInvalidArgument, "rank %d of %d", rank, nranks);
    int me, wsize, tag = TAG_BASE + b.serial;
    MPI_OK(MPI_Comm_rank(MPI_COMM_WORLD, &me));
    MPI_OK(MPI_Comm_size(MPI_COMM_WORLD, &wsize));
    int *list = malloc((size_t)nranks * sizeof *list);
    if (!list) return failed(ncclSystemError, "host memory");
    if (me == b.creator) {
        for (int i = 0; i < nranks; i++) list[i] = -1;
        list[rank] = me;
        for (int i = 1; i < nranks; i++) {
            int pair[2];
            MPI_OK(MPI_Recv(pair, 2, MPI_INT, MPI_ANY_SOURCE, tag, MPI_COMM_WORLD, MPI_STATUS_IGNORE));
            if (pair[0] < 0 || pair[0] >= nranks || list[pair[0]] >= 0) {
                free(list);
                return failed(ncclInvalidUsage, "NCCL rank %d claimed twice (world ranks %d and %d)", pair[0],
                              pair[0] >= 0 && pair[0] < nranks ? list[pair[0]] : -1, pair[1]);
            }
            list[pair[0]] = pair[1];
        }
        for (int i = 0; i < nranks; i++)
            if (i != rank) MPI_OK(MPI_Send(list, nranks, MPI_INT, list[i], tag, MPI_COMM_WORLD));
    } else {
        if (b.creator < 0 || b.creator >= wsize) { free(list); return failed(ncclInvalidArgument, "creator %d", b.creator); }
        int pair[2] = {rank, me};
        MPI_OK(MPI_Send(pair, 2, MPI_INT, b.creator, tag, MPI_COMM_WORLD));
        MPI_OK(MPI_Recv(list, nranks, MPI_INT, b.creator, tag, MPI_COMM_WORLD, MPI_STATUS_IGNORE));
    }
    MPI_Group world, g;
    MPI_Comm c;
    MPI_OK(MPI_Comm_group(MPI_COMM_WORLD, &world));
    MPI_OK(MPI_Group_incl(world, nranks, list, &g));
    MPI_OK(MPI_Comm_create_group(MPI_COMM_WORLD, g, tag, &c));
    MPI_Group_free(&g);
    MPI_Group_free(&world);
    free(list);
    int crank;
    MPI_OK(MPI_Comm_rank(c, &crank));
    if (crank != rank) return failed(ncclInternalError, "communicator rank %d, asked for %d", crank, rank);
    /* NCCL's rule: one GPU per rank (all emulated GPUs are on this host) */
    int dev = nt_emu_current_device(), *devs = malloc((size_t)nranks * sizeof *devs);
    if (!devs) return failed(ncclSystemError, "host memory");
    MPI_OK(MPI_Allgather(&dev, 1, MPI_INT, devs, 1, MPI_INT, c));
    for (int i = 0; i < nranks; i++)
        if (i != rank && devs[i] == dev) {
            free(devs);
            MPI_Comm_free(&c);
            return failed(ncclInvalidUsage, "Duplicate GPU detected: rank %d and rank %d both on CUDA device %d", rank, i, dev);
        }
    free(devs);
    struct nt_emu_nccl *n = calloc(1, sizeof *n);
    if (!n) return failed(ncclSystemError, "host memory");
    *n = (struct nt_emu_nccl){c, rank, nranks, dev};
    *comm = n;
    return ncclSuccess;
}

ncclResult_t ncclCommDestroy(ncclComm_t comm)
{
    if (!comm) return ncclSuccess;
    MPI_Comm_free(&comm->mpi);
    free(comm);
    return ncclSuccess;
}

/* ---- collectives -------------------------------------------------------- */
static size_t type_size(ncclDataType_t t)
{
    switch (t) {
    case ncclInt8: case ncclUint8: return 1;
    case ncclFloat16: case ncclBfloat16: return 2;
    case ncclInt32: case ncclUint32: case ncclFloat32: return 4;
    case ncclInt64: case ncclUint64: case ncclFloat64: return 8;
    default: return 0;
    }
}

#define RED(T, a, b) (op == ncclSum ? (T)((a) + (b)) : op == ncclMax ? ((a) > (b) ? (a) : (b)) : ((a) < (b) ? (a) : (b)))
/* out[i] = contributions[0][i] op contributions[1][i] op ..., in rank order */
static void reduce(void *out, const char *parts, int nparts, size_t count, ncclDataType_t t, ncclRedOp_t op)
{
    size_t stride = count * type_size(t);
    for (size_t i = 0; i < count; i++) {
#define LOOP(T)                                                       \
    {                                                                 \
        T acc = ((const T *)parts)[i];                                \
        for (int r = 1; r < nparts; r++) {                            \
            T x = ((const T *)(parts + (size_t)r * stride))[i];       \
            acc = RED(T, acc, x);                                     \
        }                                                             \
        ((T *)out)[i] = acc;                                          \
    }
        switch (t) {
        case ncclInt8: LOOP(int8_t) break;
        case ncclUint8: LOOP(uint8_t) break;
        case ncclInt32: LOOP(int32_t) break;
        case ncclUint32: LOOP(uint32_t) break;
        case ncclInt64: LOOP(int64_t) break;
        case ncclUint64: LOOP(uint64_t) break;
        case ncclFloat32: LOOP(float) break;
        case ncclFloat64: LOOP(double) break;
        case ncclBfloat16: {
            float acc = nt_bf16_to_f32(((const uint16_t *)parts)[i]);
            for (int r = 1; r < nparts; r++) {
                float x = nt_bf16_to_f32(((const uint16_t *)(parts + (size_t)r * stride))[i]);
                acc = RED(float, acc, x);
            }
            ((uint16_t *)out)[i] = nt_f32_to_bf16(acc);
            break;
        }
        default: break;
        }
#undef LOOP
    }
}

static int group_depth;

static ncclResult_t check_call(const char *what, ncclComm_t comm, ncclDataType_t t, ncclRedOp_t op, int reduces)
{
    if (!comm) return failed(ncclInvalidArgument, "%s on a null communicator", what);
    if (type_size(t) == 0 || t == ncclFloat16) return failed(ncclInvalidArgument, "%s: data type %d is not emulated", what, (int)t);
    if (reduces && op != ncclSum && op != ncclMax && op != ncclMin)
        return failed(ncclInvalidArgument, "%s: reduction %d is not emulated (sum, max, min are)", what, (int)op);
    if (group_depth > 0) return failed(ncclInvalidUsage, "%s inside a group: the emulator groups only send/recv", what);
    return ncclSuccess;
}

static ncclResult_t check_buf(const char *what, const char *which, const void *p, size_t bytes)
{
    if (bytes && !nt_emu_is_device(p, bytes))
        return failed(ncclInvalidArgument, "%s: %s %p (%zu bytes) is not device memory", what, which, p, bytes);
    if (bytes > (size_t)INT32_MAX) return failed(ncclInvalidArgument, "%s: %zu bytes: the emulator's MPI counts are int", what, bytes);
    return ncclSuccess;
}

#define TRY(x) do { ncclResult_t r_ = (x); if (r_ != ncclSuccess) return r_; } while (0)

ncclResult_t ncclAllReduce(const void *send, void *recv, size_t count, ncclDataType_t t, ncclRedOp_t op,
                           ncclComm_t comm, cudaStream_t s)
{
    (void)s;
    TRY(check_call("ncclAllReduce", comm, t, op, 1));
    size_t bytes = count * type_size(t);
    TRY(check_buf("ncclAllReduce", "sendbuff", send, bytes));
    TRY(check_buf("ncclAllReduce", "recvbuff", recv, bytes));
    char *parts = malloc(bytes * (size_t)comm->size + 1);
    if (!parts) return failed(ncclSystemError, "host memory");
    MPI_OK(MPI_Allgather(send, (int)bytes, MPI_BYTE, parts, (int)bytes, MPI_BYTE, comm->mpi));
    reduce(recv, parts, comm->size, count, t, op);
    free(parts);
    return ncclSuccess;
}

ncclResult_t ncclReduceScatter(const void *send, void *recv, size_t recvcount, ncclDataType_t t, ncclRedOp_t op,
                               ncclComm_t comm, cudaStream_t s)
{
    (void)s;
    TRY(check_call("ncclReduceScatter", comm, t, op, 1));
    size_t blk = recvcount * type_size(t);
    TRY(check_buf("ncclReduceScatter", "sendbuff", send, blk * (size_t)comm->size));
    TRY(check_buf("ncclReduceScatter", "recvbuff", recv, blk));
    char *parts = malloc(blk * (size_t)comm->size + 1);
    if (!parts) return failed(ncclSystemError, "host memory");
    /* rank r's block `rank` lands at parts[r] */
    MPI_OK(MPI_Alltoall(send, (int)blk, MPI_BYTE, parts, (int)blk, MPI_BYTE, comm->mpi));
    reduce(recv, parts, comm->size, recvcount, t, op);
    free(parts);
    return ncclSuccess;
}

ncclResult_t ncclAllGather(const void *send, void *recv, size_t sendcount, ncclDataType_t t, ncclComm_t comm,
                           cudaStream_t s)
{
    (void)s;
    TRY(check_call("ncclAllGather", comm, t, ncclSum, 0));
    size_t bytes = sendcount * type_size(t);
    TRY(check_buf("ncclAllGather", "sendbuff", send, bytes));
    TRY(check_buf("ncclAllGather", "recvbuff", recv, bytes * (size_t)comm->size));
    if ((const char *)send == (char *)recv + (size_t)comm->rank * bytes)
        MPI_OK(MPI_Allgather(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, recv, (int)bytes, MPI_BYTE, comm->mpi));
    else
        MPI_OK(MPI_Allgather(send, (int)bytes, MPI_BYTE, recv, (int)bytes, MPI_BYTE, comm->mpi));
    return ncclSuccess;
}

ncclResult_t ncclBroadcast(const void *send, void *recv, size_t count, ncclDataType_t t, int root, ncclComm_t comm,
                           cudaStream_t s)
{
    (void)s;
    TRY(check_call("ncclBroadcast", comm, t, ncclSum, 0));
    if (root < 0 || root >= comm->size) return failed(ncclInvalidArgument, "ncclBroadcast: root %d of %d", root, comm->size);
    size_t bytes = count * type_size(t);
    if (comm->rank == root) TRY(check_buf("ncclBroadcast", "sendbuff", send, bytes));
    TRY(check_buf("ncclBroadcast", "recvbuff", recv, bytes));
    if (comm->rank == root && send != recv) memmove(recv, send, bytes);
    MPI_OK(MPI_Bcast(recv, (int)bytes, MPI_BYTE, root, comm->mpi));
    return ncclSuccess;
}

/* ---- point-to-point and groups -------------------------------------------- */
typedef struct { int send; void *buf; int bytes, peer; ncclComm_t comm; } p2p;
static p2p *pending;
static int npending, cap_pending;

static ncclResult_t run_pending(void)
{
    MPI_Request *req = malloc((size_t)(npending ? npending : 1) * sizeof *req);
    if (!req) return failed(ncclSystemError, "host memory");
    int k = 0;
    for (int pass = 0; pass < 2; pass++)   /* receives first, then sends */
        for (int i = 0; i < npending; i++) {
            p2p *o = &pending[i];
            if (o->send != pass) continue;
            if (o->send) MPI_OK(MPI_Isend(o->buf, o->bytes, MPI_BYTE, o->peer, 0, o->comm->mpi, &req[k++]));
            else MPI_OK(MPI_Irecv(o->buf, o->bytes, MPI_BYTE, o->peer, 0, o->comm->mpi, &req[k++]));
        }
    npending = 0;
    int rc = MPI_Waitall(k, req, MPI_STATUSES_IGNORE);
    free(req);
    return rc == MPI_SUCCESS ? ncclSuccess : failed(ncclSystemError, "MPI_Waitall of a send/recv group failed (%d)", rc);
}

static ncclResult_t p2p_add(int send, const void *buf, size_t count, ncclDataType_t t, int peer, ncclComm_t comm)
{
    const char *what = send ? "ncclSend" : "ncclRecv";
    if (!comm) return failed(ncclInvalidArgument, "%s on a null communicator", what);
    if (type_size(t) == 0) return failed(ncclInvalidArgument, "%s: data type %d", what, (int)t);
    if (peer < 0 || peer >= comm->size || peer == comm->rank)
        return failed(ncclInvalidArgument, "%s: peer %d (rank %d of %d)", what, peer, comm->rank, comm->size);
    size_t bytes = count * type_size(t);
    TRY(check_buf(what, "buffer", buf, bytes));
    if (npending == cap_pending) {
        int c = cap_pending ? 2 * cap_pending : 16;
        p2p *p = realloc(pending, (size_t)c * sizeof *p);
        if (!p) return failed(ncclSystemError, "host memory");
        pending = p;
        cap_pending = c;
    }
    pending[npending++] = (p2p){send, (void *)buf, (int)bytes, peer, comm};
    return group_depth > 0 ? ncclSuccess : run_pending();
}

ncclResult_t ncclSend(const void *buf, size_t count, ncclDataType_t t, int peer, ncclComm_t comm, cudaStream_t s)
{
    (void)s;
    return p2p_add(1, buf, count, t, peer, comm);
}
ncclResult_t ncclRecv(void *buf, size_t count, ncclDataType_t t, int peer, ncclComm_t comm, cudaStream_t s)
{
    (void)s;
    return p2p_add(0, buf, count, t, peer, comm);
}
ncclResult_t ncclGroupStart(void)
{
    group_depth++;
    return ncclSuccess;
}
ncclResult_t ncclGroupEnd(void)
{
    if (group_depth == 0) return failed(ncclInvalidUsage, "ncclGroupEnd without ncclGroupStart");
    return --group_depth == 0 ? run_pending() : ncclSuccess;
}
