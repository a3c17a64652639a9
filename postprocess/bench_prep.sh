#!/bin/bash
# bench_prep.sh — `ntron prep` throughput (a benchmark, not a test).
# Usage: postprocess/bench_prep.sh BUILD_DIR [SCRATCH_DIR] [MB]
# Generates a ~MB (default 50) text corpus in SCRATCH_DIR (default
# /tmp/ntron-prep-bench; put it on the disk you want to measure) by
# repeating inputs/tiny/corpus.txt, trains a SentencePiece model (vocab
# 4000) on inputs/data/tokenizer.txt, then runs prep with that model on 1
# and 2 MPI ranks (tokens/s of the tokenize phase and end to end), and
# compares the HDF5 collective write of the byte-tokenized corpus (tokens
# 4 bytes each + offsets) with `dd` writing the same number of bytes to the
# same directory (both through the page cache, no fsync; best of 3 each).
set -euo pipefail
B=$(cd "$1" && pwd); S=${2:-/tmp/ntron-prep-bench}; MB=${3:-50}
top=$(cd "$(dirname "$0")/.." && pwd)
N=$B/src/ntron
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl=self,vader OMPI_MCA_oob_tcp_if_include=lo
mkdir -p "$S"; cd "$S"
if [ ! -f corpus.txt ] || [ "$(stat -c %s corpus.txt)" -lt $((MB * 1000000)) ]; then
    : > corpus.txt
    while [ "$(stat -c %s corpus.txt)" -lt $((MB * 1000000)) ]; do cat "$top/inputs/tiny/corpus.txt" >> corpus.txt; done
fi
echo "corpus: $(stat -c %s corpus.txt) bytes in $S ($(df -h . | awk 'NR==2{print $1}'))"
"$N" tokenizer train --vocab 4000 -o bench "$top/inputs/data/tokenizer.txt" | sed 's/, sha256.*//'
field() { sed -n "s/.*$1 \([0-9.]*\) s.*/\1/p"; }
for np in 1 2; do
    line=$(mpirun --oversubscribe -np $np "$N" prep --tokenizer bench.model corpus.txt -o spm_$np.h5)
    echo "$line" | sed 's/.*: pretrain, //'
done
h5s=(); dds=()
for i in 1 2 3; do
    rm -f byte.h5 dd.bin; sync
    line=$(mpirun --oversubscribe -np 2 "$N" prep --tokenizer byte corpus.txt -o byte.h5)
    h5s+=("$(echo "$line" | field write)")
    bytes=$(stat -c %s byte.h5)
    t0=$(date +%s.%N); dd if=/dev/zero of=dd.bin bs=1M count=$((bytes / 1048576)) status=none; t1=$(date +%s.%N)
    dds+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b - a}')")
done
rm -f dd.bin
awk -v bytes="$bytes" -v h="${h5s[*]}" -v d="${dds[*]}" 'BEGIN {
    n = split(h, H, " "); split(d, D, " "); bh = H[1]; bd = D[1]
    for (i = 2; i <= n; i++) { if (H[i] < bh) bh = H[i]; if (D[i] < bd) bd = D[i] }
    db = int(bytes / 1048576) * 1048576
    printf "hdf5 collective write (2 ranks): %d bytes in %.3f s = %.0f MB/s\n", bytes, bh, bytes / bh / 1e6
    printf "dd sequential write (bs 1M):     %d bytes in %.3f s = %.0f MB/s\n", db, bd, db / bd / 1e6
    printf "ratio hdf5/dd: %.2f\n", (bytes / bh) / (db / bd) }'
