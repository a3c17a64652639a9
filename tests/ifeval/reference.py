#!/usr/bin/env python3
"""tests/ifeval/reference.py — the reference verdicts for tests/test_ifeval.sh.

    reference.py cases CASES.jsonl   one line per case: NAME STRICT LOOSE (1/0),
                                     from lm-eval 0.4.5's own
                                     test_instruction_following_strict/loose
    reference.py describe CASES.jsonl  NAME and the JSON string of the instruction's
                                     text (build_description of the case's kwargs)
    reference.py counts TEXTS        per NUL-terminated text: words, sentences
                                     (punkt) and str.isupper() tokens of
                                     nltk.word_tokenize, as instructions_util counts them
    reference.py corpus N            writes N+ realistic texts (the standard
                                     library's docstrings, paragraphs joined
                                     into responses, a third in capitals),
                                     NUL-terminated, on stdout

Run in the venv of tests/ifeval/setup_venv.sh (PYTHONPATH=$VENV/ref,
NLTK_DATA=$VENV/nltk_data).  langdetect samples at random: its seed is fixed
(DetectorFactory.seed = 0) so that the verdicts do not change between runs.
"""
import json
import sys


def cases(path):
    import langdetect
    langdetect.DetectorFactory.seed = 0
    from lm_eval.tasks.ifeval import utils
    for line in open(path, encoding="utf-8"):
        if not line.strip():
            continue
        c = json.loads(line)
        inp = utils.InputExample(key=0, instruction_id_list=[c["id"]], prompt=c["prompt"], kwargs=[c["kwargs"]])
        s = utils.test_instruction_following_strict(inp, c["response"]).follow_all_instructions
        lo = utils.test_instruction_following_loose(inp, c["response"]).follow_all_instructions
        print(c["name"], int(s), int(lo))


def describe(path):
    from lm_eval.tasks.ifeval import instructions_registry as reg
    for line in open(path, encoding="utf-8"):
        if line.strip():
            c = json.loads(line)
            ins = reg.INSTRUCTION_DICT[c["id"]](c["id"])
            print(c["name"], json.dumps(ins.build_description(**{k: v for k, v in c["kwargs"].items() if v}), ensure_ascii=False))


def counts(path):
    from lm_eval.tasks.ifeval import instructions_util as u
    data = open(path, encoding="utf-8").read().split("\0")[:-1]
    for t in data:
        caps = sum(1 for w in u.nltk.word_tokenize(t) if w.isupper())
        print(u.count_words(t), u.count_sentences(t), caps)


def corpus(n):
    import importlib, inspect, random, re
    random.seed(1)
    texts = []
    mods = ["os", "re", "json", "collections", "argparse", "logging", "email", "http.client", "unittest", "typing",
            "asyncio", "subprocess", "threading", "pathlib", "datetime", "decimal", "fractions", "statistics",
            "random", "string", "textwrap", "shutil", "tarfile", "zipfile", "csv", "sqlite3", "urllib.request",
            "socket", "ssl", "io", "functools", "itertools", "contextlib", "dataclasses", "enum", "abc", "heapq",
            "bisect", "calendar", "difflib", "pickle", "struct", "codecs", "locale", "gettext", "imaplib", "smtplib",
            "ftplib", "poplib", "mailbox", "wave", "colorsys", "turtle", "cmd", "shlex", "configparser", "netrc",
            "plistlib", "hashlib", "hmac", "secrets", "sched", "queue", "signal", "mmap", "tempfile", "glob",
            "fnmatch", "linecache", "filecmp", "stat", "gzip", "bz2", "lzma", "zlib", "pprint", "reprlib", "weakref",
            "types", "copy", "numbers", "math", "cmath", "operator", "inspect", "dis", "ast", "tokenize", "pdb",
            "timeit", "trace", "warnings", "traceback", "doctest"]
    for m in mods:
        try:
            mod = importlib.import_module(m)
        except Exception:
            continue
        docs = [inspect.getdoc(mod) or ""]
        for name, obj in inspect.getmembers(mod):
            if not name.startswith("_"):
                d = inspect.getdoc(obj)
                if d:
                    docs.append(d)
        for d in docs:
            for para in re.split(r"\n\s*\n", d):
                p = para.strip()
                if len(p) > 40 and not p.startswith((">>>", "..")):
                    texts.append(p)
    texts = sorted(set(texts))
    random.shuffle(texts)
    texts = texts[:n]
    out = ["\n\n".join(texts[i:i + 1 + i % 4]) for i in range(0, len(texts) - 4, 3)]
    out += texts + [t.upper() for t in texts[:len(texts) // 3]]
    sys.stdout.write("".join(t + "\0" for t in out))


if __name__ == "__main__":
    {"cases": cases, "describe": describe, "counts": counts, "corpus": lambda a: corpus(int(a))}[sys.argv[1]](sys.argv[2])
