#!/bin/bash
# test_sanitize.sh — memory and undefined-behaviour errors: builds ntron
# (without CUDA) and the C unit tests a second time with gcc's
# AddressSanitizer and UndefinedBehaviorSanitizer in a scratch directory,
# then runs the unit tests, and ntron on the tiny deck: one rank with a
# checkpoint, a resume from it, TP2 x PP2 with sequence parallelism on 4
# ranks, and generation from the checkpoint.  Any sanitizer report fails the
# test (each process exits non-zero on its first report, and the output is
# searched for one besides).  Leak checking is off: Open MPI, PMIx and
# OpenBLAS keep allocations to exit by design.  Skips (77) when gcc cannot
# link a sanitized program, or when the source tree is configured in place
# (a second, out-of-tree configure is then refused).
. "$(dirname "$0")/lib.sh"
cd "$WORK"
SAN="-fsanitize=address,undefined -fno-omit-frame-pointer"
printf 'int main(void) { return 0; }\n' > probe.c
if ! ${CC:-gcc} $SAN probe.c -o probe 2> probe.err || ! ./probe; then
    echo "SKIP: gcc cannot build a sanitized program here: $(head -n1 probe.err)"; exit 77
fi
[ -f "$top_srcdir/config.status" ] && { echo "SKIP: $top_srcdir is configured in place; a second build needs a clean source tree"; exit 77; }
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=0:exitcode=86 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
B=$WORK/build
mkdir -p "$B"
UNIT="tests/test_kernels tests/test_model_grad tests/test_schedule tests/test_data_blend tests/test_data_padded tests/test_packing tests/test_sdg_rules tests/test_sample"
( cd "$B" && "$top_srcdir/configure" --without-cuda CFLAGS="-g -O1 $SAN" CXXFLAGS="-g -O1 $SAN" LDFLAGS="$SAN" > configure.out 2>&1 \
  && make -j"$(nproc)" src/ntron $UNIT > make.out 2>&1 ) \
    && pass "sanitized build (-O1 $SAN)" || { fail "sanitized build"; tail -20 "$B"/configure.out "$B"/make.out; finish; }
N=$B/src/ntron
# a sanitizer report in any output file fails the test, whatever the exit status
reports() { grep -lE 'runtime error:|ERROR: AddressSanitizer|ERROR: UndefinedBehaviorSanitizer' "$@" 2>/dev/null; }
check() { # name rc outfile
    if [ "$2" -ne 0 ]; then fail "$1: exit $2"; grep -E -A12 'runtime error:|ERROR: ' "$3" | head -30
    elif [ -n "$(reports "$3")" ]; then fail "$1: sanitizer report"; grep -E -A12 'runtime error:|ERROR: ' "$3" | head -30
    else pass "$1: no sanitizer report"; fi
}
for t in $UNIT; do
    (cd "$B" && timeout 600 "./$t") > "unit_$(basename "$t").out" 2>&1
    check "$(basename "$t")" $? "unit_$(basename "$t").out"
done
"$N" prep --tokenizer byte "$top_srcdir/inputs/tiny/corpus.txt" -o corpus.h5 > prep.out 2>&1
check "prep" $? prep.out
DECK=$top_srcdir/inputs/tiny/pretrain.deck
C=(--set data.train=$WORK/corpus.h5 --set model.layers=2 --set model.seq_len=64 --set train.warmup=1 --set run.log_interval=1)
mpi 1 "$N" run "$DECK" "${C[@]}" --set train.steps=4 --set checkpoint.interval=4 --set run.dir=$WORK/r1 \
    --set checkpoint.dir=$WORK/ck < /dev/null > r1.out 2>&1
check "run, 1 rank, checkpoint" $? r1.out
mpi 1 "$N" run "$DECK" "${C[@]}" --set train.steps=6 --set run.dir=$WORK/r2 --set checkpoint.dir=$WORK/ck \
    < /dev/null > r2.out 2>&1
check "resume from the checkpoint" $? r2.out
mpi 4 "$N" run "$DECK" "${C[@]}" --set train.steps=3 --set parallel.tensor=2 --set parallel.pipeline=2 \
    --set parallel.sequence_parallel=true --set parallel.micro_batch=2 --set run.dir=$WORK/r4 < /dev/null > r4.out 2>&1
check "run, TP2 x PP2 + SP on 4 ranks" $? r4.out
printf '{"id": "a", "prompt": "the "}\n{"id": "b", "prompt": "a"}\n' > prompts.jsonl
mpi 1 "$N" generate "$DECK" "${C[@]}" --set checkpoint.load=$WORK/ck --set checkpoint.dir= --set data.tokenizer=byte \
    --set generate.input=$WORK/prompts.jsonl --set generate.output=$WORK/gen.jsonl --set generate.max_new_tokens=8 \
    --set generate.temperature=0.8 --set generate.top_k=20 --set generate.n=2 < /dev/null > gen.out 2>&1
check "generate from the checkpoint" $? gen.out
finish
