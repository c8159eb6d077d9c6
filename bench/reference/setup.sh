#!/usr/bin/env bash
# Creates the Python venv for the Keras reference bench (bench/reference/pix2pix_keras.py).
# Idempotent. Uses the tensorflow-cpu wheel cached by scripts/setup-tfjs-native.sh when present,
# else asks PyPI for it. Prints the venv's python path on its last line.
#
#   BLOOMSIGHT_CACHE       cache root, default ~/.cache/bloomsight (venv at $BLOOMSIGHT_CACHE/venv-reference)
#   BLOOMSIGHT_TF_VERSION  tensorflow-cpu version, default 2.21.0
set -euo pipefail

CACHE=${BLOOMSIGHT_CACHE:-$HOME/.cache/bloomsight}
TF_VERSION=${BLOOMSIGHT_TF_VERSION:-2.21.0}
VENV=$CACHE/venv-reference
PY=$VENV/bin/python

if [ -x "$PY" ] && "$PY" -c "import tensorflow as tf, sys; sys.exit(tf.__version__ != '$TF_VERSION')" 2>/dev/null; then
  echo "$PY"
  exit 0
fi

mkdir -p "$CACHE"
python3 -m venv "$VENV"
"$PY" -m pip install --quiet --upgrade pip >&2
WHEEL=$(ls "$CACHE"/tfwheel/tensorflow_cpu-"$TF_VERSION"-*.whl 2>/dev/null | head -n 1 || true)
if [ -n "$WHEEL" ]; then
  "$PY" -m pip install --quiet "$WHEEL" >&2
else
  "$PY" -m pip install --quiet "tensorflow-cpu==$TF_VERSION" >&2
fi
"$PY" -c "import tensorflow as tf; print('tensorflow', tf.__version__)" >&2
echo "$PY"
