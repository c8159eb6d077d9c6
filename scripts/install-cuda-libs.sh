#!/usr/bin/env bash
# Installs the CUDA 12 / cuDNN 9 libraries that the CUDA build of TensorFlow pins (its `and-cuda` extra),
# from NVIDIA's PyPI wheels, into DIR, and registers their folders with the dynamic loader (ldconfig;
# without root it prints the LD_LIBRARY_PATH to export instead). ONNX Runtime's CUDA provider opens the
# same libraries. The Dockerfile's gpu image runs it; docs/gpu.md explains the route.
#
#   bash scripts/install-cuda-libs.sh [--no-ldconfig] [DIR]     DIR defaults to /opt/nvidia-pypi
#
#   BLOOMSIGHT_TF_VERSION   TensorFlow version whose pins to follow, default 2.21.0
#   BLOOMSIGHT_CACHE        where setup-tfjs-native.sh keeps the wheel, default ~/.cache/bloomsight
set -euo pipefail
LDCONFIG=1
[ "${1:-}" = --no-ldconfig ] && { LDCONFIG=0; shift; }
TARGET=${1:-/opt/nvidia-pypi}
TF_VERSION=${BLOOMSIGHT_TF_VERSION:-2.21.0}
WHEEL_DIR=${BLOOMSIGHT_CACHE:-$HOME/.cache/bloomsight}/tfwheel
say() { echo "[cuda-libs] $*"; }

whl=$(ls "$WHEEL_DIR"/tensorflow-"$TF_VERSION"-*.whl 2>/dev/null | head -1 || true)
if [ -z "$whl" ]; then
  mkdir -p "$WHEEL_DIR"
  python3 -m pip download --quiet --no-deps --only-binary=:all: "tensorflow==$TF_VERSION" -d "$WHEEL_DIR"
  whl=$(ls "$WHEEL_DIR"/tensorflow-"$TF_VERSION"-*.whl | head -1)
fi

# The exact requirement lines TensorFlow declares for CUDA, e.g. "nvidia-cudnn-cu12<10.0,>=9.3.0.75".
mapfile -t requirements < <(unzip -p "$whl" "tensorflow-$TF_VERSION.dist-info/METADATA" \
  | sed -n 's/^Requires-Dist: \(nvidia-[^;]*\); extra == "and-cuda"$/\1/p' | tr -d ' ')
[ "${#requirements[@]}" -gt 0 ] || { say "no and-cuda requirements in $(basename "$whl")" >&2; exit 1; }
say "installing ${#requirements[@]} NVIDIA wheels pinned by tensorflow==$TF_VERSION into $TARGET"
# --target needs no virtualenv; Debian's pip refuses installs into the system unless told it may.
PIP_BREAK_SYSTEM_PACKAGES=1 python3 -m pip install --quiet --no-cache-dir --disable-pip-version-check --target "$TARGET" "${requirements[@]}"

mapfile -t dirs < <(ls -d "$TARGET"/nvidia/*/lib 2>/dev/null)
[ "${#dirs[@]}" -gt 0 ] || { say "no nvidia/*/lib folders under $TARGET" >&2; exit 1; }
if [ "$LDCONFIG" = 1 ] && [ -w /etc/ld.so.conf.d ] && command -v ldconfig >/dev/null; then
  printf '%s\n' "${dirs[@]}" >/etc/ld.so.conf.d/bloomsight-nvidia-pypi.conf
  ldconfig
  say "registered ${#dirs[@]} library folders with ldconfig (/etc/ld.so.conf.d/bloomsight-nvidia-pypi.conf)"
else
  say "export LD_LIBRARY_PATH=$(IFS=:; echo "${dirs[*]}")\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}"
fi
