#!/bin/sh
# gencode.sh LIST [NVCC] — the nvcc flags for a list of CUDA compute
# capabilities, one `-gencode arch=compute_X,code=sm_X` per entry:
#   kernels/cuda/gencode.sh 80,90,90a
#   -> -gencode arch=compute_80,code=sm_80 -gencode arch=compute_90,code=sm_90 -gencode arch=compute_90a,code=sm_90a
# LIST: comma-separated, each entry 2-3 digits with an optional a/f suffix
# (90, 90a, 100f; a leading sm_ is accepted).  When NVCC is given (and
# answers --list-gpu-code) the base of every entry must be one it lists.
# Used by configure (--with-cuda-arch) and kernels/cuda/build_test.sh
# (CUDA_ARCH), so both spell the flags the same way.  On bad input: one
# line on stderr, exit 1.
list=$1
nvcc=${2:-}
known=
[ -n "$nvcc" ] && known=$("$nvcc" --list-gpu-code 2>/dev/null | tr '\n' ' ')
flags=
case $list in
    ,*|*,|*,,*) echo "CUDA arch list '$list' has an empty entry (want e.g. 80,90,90a)" >&2; exit 1 ;;
esac
old_ifs=$IFS; IFS=,
set -f
for a in $list; do
    a=${a#sm_}
    case $a in
        [0-9][0-9]|[0-9][0-9][0-9]|[0-9][0-9][af]|[0-9][0-9][0-9][af]) ;;
        *) echo "CUDA arch list '$list': '$a' is not a compute capability (want e.g. 80,90,90a)" >&2; exit 1 ;;
    esac
    base=${a%[af]}
    if [ -n "$known" ]; then
        case " $known " in
            *" sm_$base "*) ;;
            *) echo "CUDA arch list '$list': $nvcc does not support sm_$base (it lists: ${known% })" >&2; exit 1 ;;
        esac
    fi
    flags="$flags${flags:+ }-gencode arch=compute_$a,code=sm_$a"
done
IFS=$old_ifs
[ -n "$flags" ] || { echo "CUDA arch list '$list' is empty (want e.g. 90 or 80,90,90a)" >&2; exit 1; }
echo "$flags"
