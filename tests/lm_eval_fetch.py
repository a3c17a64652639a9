#!/usr/bin/python3
"""tests/lm_eval_fetch.py — put lm-eval's source (the reference the math
answer test runs) in a cache directory and print that directory.

Downloads the lm-eval wheel of that version from PyPI's simple index
(PEP 503; urllib, no pip), checks its sha256 against the index's, and
unpacks it into
${XDG_CACHE_HOME:-~/.cache}/ntron/lm-eval-VERSION (reused when present).
Exit 0 and the directory on stdout; exit 1 and the reason on stderr."""
import hashlib, html, io, os, re, sys, urllib.parse, urllib.request, zipfile

version = os.environ.get("NTRON_LM_EVAL", "0.4.5")
cache = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
dest = os.path.join(cache, "ntron", "lm-eval-" + version)
mark = os.path.join(dest, ".complete")
if not os.path.exists(mark):
    index = os.environ.get("NTRON_PYPI_SIMPLE", "https://pypi.org/simple") + "/lm-eval/"
    name = f"lm_eval-{version}-py3-none-any.whl"
    try:
        with urllib.request.urlopen(index, timeout=30) as r:
            page = r.read().decode()
        hrefs = [html.unescape(h) for h in re.findall(r'href="([^"]+)"', page)]
        url = [h for h in hrefs if urllib.parse.urlsplit(h).path.endswith("/" + name)][0]
        url = urllib.parse.urljoin(index, url)
        want = re.search(r"#sha256=([0-9a-f]{64})", url).group(1)
        with urllib.request.urlopen(url, timeout=120) as r:
            data = r.read()
    except Exception as e:  # network, index, no such wheel
        sys.exit(f"lm_eval_fetch: cannot download {name} from {index}: {e!r}")
    if hashlib.sha256(data).hexdigest() != want:
        sys.exit(f"lm_eval_fetch: {name}: sha256 differs from the index's")
    os.makedirs(dest, exist_ok=True)
    zipfile.ZipFile(io.BytesIO(data)).extractall(dest)
    open(mark, "w").write(name + "\n")
print(dest)
