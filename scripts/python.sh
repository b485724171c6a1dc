#!/bin/sh
# The interpreter for DVC's stage commands (dvc.yaml: `sh scripts/python.sh -m stages.<name>`), so that `dvc repro`
# and `dvc exp run` work from a shell where the project's environment is not activated:
#   $VENV/bin/python if VENV is set (make sets it), else the nearest .venv/bin/python in the working folder or a
#   folder above it (`dvc exp run --temp` runs in a copy under .dvc/tmp/exps), else `python` on PATH.
if [ -n "$VENV" ] && [ -x "$VENV/bin/python" ]; then
  exec "$VENV/bin/python" "$@"
fi
d=$(pwd)
while :; do
  if [ -x "$d/.venv/bin/python" ]; then
    exec "$d/.venv/bin/python" "$@"
  fi
  [ "$d" = "/" ] && break
  d=$(dirname "$d")
done
exec python "$@"
