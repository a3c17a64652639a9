#!/bin/bash
# test_cuda_deps.sh — header dependencies of the CUDA objects reach make:
# nvcc's NAME.d files (-MMD -MP) are included by the Makefile, so a changed
# header rebuilds exactly the objects that include it, directly or through
# another project header.  For each header checked, `make -n -W HEADER`
# (GNU make's "what if HEADER were new": it touches nothing, so the source
# tree and the build stay as they are) is asked which objects it would
# compile, and that set must equal the objects whose sources include the
# header (found by scanning the #include lines, not from the .d files):
#   kernels/cuda/nt_device.cuh  every kernel object, nothing else;
#   kernels/cuda/kernels_cuda.h those, tests/test_cuda_kernels.o and the C
#                               objects that include it (src/backend/backend_cuda.o).
# Also: with no header changed nothing is compiled (the build is current),
# and a header no CUDA object includes does not rebuild any of them.
# Without CUDA in the build: "SKIP: ...", exit 77.
. "$(dirname "$0")/lib.sh"
B=${NTRON_BUILDDIR:-$PWD}
S=$top_srcdir
if ! grep -q '^#define NT_HAVE_CUDA 1' "$B/src/build_config.h" 2>/dev/null; then
    echo "SKIP: this build has no CUDA (configured --without-cuda or nvcc not found): no nvcc dependency files to check"
    exit 77
fi
cd "$B" || exit 1
# a clean environment for the inner make: not the jobserver or flags of the make running the tests
mk() { env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u MAKEOVERRIDES ${MAKE:-make} --no-print-directory "$@"; }
# the programs make check builds, and so the objects a header may rebuild
progs=$(printf 'nt-print-progs:\n\t@echo $(PROGRAMS) $(check_PROGRAMS) $(LIBRARIES)\n' | mk -s -f Makefile -f - nt-print-progs)
[ -n "$progs" ] || { fail "could not read the program list from $B/Makefile"; finish; }
# compiled objects in `make -n` output: every compile rule ends in "-c -o OBJ SRC".
# -o src/build_config.h: automake's config-header rule leaves that file's
# mtime alone when config.status rewrote it unchanged, which `make -n`
# cannot see, so it would list every object that includes it.
compiled() { mk -n V=1 -o src/build_config.h "$@" all-am $progs 2>&1 | grep -oE -- '-c -o [^ ]+\.o' | sed 's/^-c -o //' | sort -u; }
now=$(compiled)
if [ -z "$now" ]; then pass "up to date: make -n compiles nothing"
else fail "the build is not up to date, make -n would compile: $(echo $now)"; finish; fi

# sources (.c .cc .cu) in src/ kernels/ tests/ whose #include closure reaches
# header H (by file name; project headers only), as the objects they build
includers() {
    local want=" $(basename "$1") " grew=1 f
    while [ $grew = 1 ]; do
        grew=0
        for f in "$S"/src/*.h "$S"/src/*/*.h "$S"/kernels/*/*.h "$S"/kernels/*/*.cuh "$S"/kernels/cuda/emu/*.h; do
            [ -f "$f" ] || continue
            case "$want" in *" $(basename "$f") "*) continue ;; esac
            if includes_any "$f" "$want"; then want="$want$(basename "$f") "; grew=1; fi
        done
    done
    for f in "$S"/src/*.c "$S"/src/*/*.c "$S"/src/*/*.cc "$S"/kernels/*/*.c "$S"/kernels/*/*.cu "$S"/tests/*.c "$S"/tests/*.cu; do
        [ -f "$f" ] || continue
        includes_any "$f" "$want" || continue
        o=${f#"$S"/}; o=${o%.*}.o
        [ -f "$o" ] && echo "$o"    # only objects this configuration builds
    done | sort -u
}
includes_any() { # FILE " a.h b.h ": does FILE #include "x" with x's name in the list?
    local inc
    for inc in $(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$1"); do
        case "$2" in *" $(basename "$inc") "*) return 0 ;; esac
    done
    return 1
}
# the spellings of header H in the dependency files (nvcc's .d, automake's .Po),
# as make knows the file by the name written there; -W takes each
whatif() {
    local h=$1 names n args=()
    names=$(cat kernels/cuda/*.d tests/*.d $(find . -path '*/.deps/*.Po') 2>/dev/null | tr ' \\' '\n\n' \
            | grep -E "(^|/)${h//./\\.}:?$" | sed 's/:$//' | sort -u)
    for n in $names; do args+=(-W "$n"); done
    [ ${#args[@]} -gt 0 ] || args=(-W "$S/$h")
    printf '%s\n' "${args[@]}"
}
check_header() {
    local h=$1 want got
    [ -f "$S/$h" ] || { fail "$h: not in the source tree"; return; }
    mapfile -t wargs < <(whatif "$h")
    want=$(includers "$S/$h")
    got=$(compiled "${wargs[@]}")
    if [ -z "$want" ]; then fail "$h: no object includes it (the include scan found none)"; return; fi
    if [ "$got" = "$want" ]; then
        pass "$h changed: make rebuilds exactly the $(echo "$want" | wc -l) objects that include it: $(echo $got)"
    else
        fail "$h changed: make would compile [$(echo $got)], want [$(echo $want)]"
    fi
}
check_header kernels/cuda/nt_device.cuh
check_header kernels/cuda/kernels_cuda.h
# a header no CUDA source includes: no nvcc object rebuilds (C objects may)
got=$(compiled $(whatif src/util/rng.h) | grep -E '^(kernels/cuda/|tests/test_cuda_kernels)' || true)
if [ -z "$got" ]; then pass "src/util/rng.h changed: no CUDA object rebuilds"
else fail "src/util/rng.h changed: CUDA objects would rebuild: $(echo $got)"; fi
finish
