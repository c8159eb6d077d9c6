#!/usr/bin/env bash
# Makes @tensorflow/tfjs-node load with a real libtensorflow (issue 3).
# Idempotent and unattended; called by scripts/setup.sh after `npm ci --ignore-scripts`.
# Route, env vars and figures: docs/tfjs-native.md.
#
#   BLOOMSIGHT_TFJS_SOURCE   pypi (default): libtensorflow from PyPI's tensorflow-cpu wheel, addon built here
#                            download: the package's own scripts/install.js (prebuilt libtensorflow 2.9.1
#                                      and addon from Google's storage; needs internet), then pypi if that fails
#                            none: do nothing (pure-JS backend only)
#   BLOOMSIGHT_REQUIRE_NATIVE=1   failure exits non-zero (CI); otherwise a loud warning and exit 0
#   BLOOMSIGHT_CACHE         cache root, default ~/.cache/bloomsight
#   BLOOMSIGHT_TF_VERSION    TensorFlow wheel version, default 2.21.0
#   BLOOMSIGHT_TF_PACKAGE    tensorflow-cpu (default) | tensorflow: the CUDA build of the same version (the
#                            gpu image, docs/gpu.md). Its libtensorflow opens CUDA 12 and cuDNN 9 when they
#                            are there (NVIDIA's PyPI wheels) and runs on the CPU when they are not.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PKG=$ROOT/node_modules/@tensorflow/tfjs-node
CACHE=${BLOOMSIGHT_CACHE:-$HOME/.cache/bloomsight}
SOURCE=${BLOOMSIGHT_TFJS_SOURCE:-pypi}
TF_VERSION=${BLOOMSIGHT_TF_VERSION:-2.21.0}
TF_PACKAGE=${BLOOMSIGHT_TF_PACKAGE:-tensorflow-cpu}
case "$TF_PACKAGE" in tensorflow-cpu|tensorflow) ;; *) echo "[tfjs-native] BLOOMSIGHT_TF_PACKAGE must be tensorflow-cpu or tensorflow, not $TF_PACKAGE" >&2; exit 2 ;; esac
REQUIRE_NATIVE=${BLOOMSIGHT_REQUIRE_NATIVE:-0}
WHEEL_DIR=$CACHE/tfwheel
export TF_CPP_MIN_LOG_LEVEL=${TF_CPP_MIN_LOG_LEVEL:-2}
cd "$ROOT" || exit 1

say() { echo "[tfjs-native] $*"; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1fs", b - a }'; }
T_START=$(now)

# One line per failed step, for the final warning.
FAILURES=$(mktemp)
PROBE_ERR=$(mktemp)
trap 'rm -f "$FAILURES" "$PROBE_ERR"' EXIT
failed() { echo "$*" >>"$FAILURES"; say "FAILED: $*" >&2; }

give_up() {
  [ $# -gt 0 ] && echo "$*" >>"$FAILURES"
  {
    echo
    echo "######################################################################"
    echo "# WARNING: native TensorFlow for tfjs-node is NOT available."
    if [ -s "$FAILURES" ]; then sed 's/^/#   failed: /' "$FAILURES"; else echo "#   failed: see the output above"; fi
    echo "#   Training falls back to the pure-JS 'cpu' backend: conv2d 100-200x slower,"
    echo "#   its filter gradient ~10000x slower (bench/backend.ts). See docs/tfjs-native.md."
    echo "######################################################################"
    echo
  } >&2
  if [ "$REQUIRE_NATIVE" = 1 ]; then
    say "BLOOMSIGHT_REQUIRE_NATIVE=1: failing." >&2
    exit 1
  fi
  exit 0
}

# Loads tfjs-node and runs a conv2d gradient on it (the note's check: 16,12,12,9). stdout: versions;
# stderr (TF's oneDNN banner, or the error) goes to $PROBE_ERR.
probe() {
  node -e "
    const tf = require('@tensorflow/tfjs-node');
    if (tf.getBackend() !== 'tensorflow') throw new Error('backend is ' + tf.getBackend());
    const x = tf.ones([1, 4, 4, 1]);
    const g = tf.grad((w) => tf.conv2d(x, w, 1, 'same').sum())(tf.ones([2, 2, 1, 1]));
    const got = Array.from(g.dataSync()).join(',');
    if (got !== '16,12,12,9') throw new Error('conv2d filter gradient is ' + got + ', expected 16,12,12,9');
    console.log('tfjs-node ' + tf.version['tfjs-node'] + ', libtensorflow ' + tf.backend().binding.TF_Version);
  " 2>"$PROBE_ERR"
}
probe_error() { grep -v -e 'oneDNN custom operations' -e 'absl::InitializeLog' "$PROBE_ERR" | grep -m1 -E 'Error|error' || echo "see output above"; }

if [ "$SOURCE" = none ]; then
  say "BLOOMSIGHT_TFJS_SOURCE=none: skipped."
  [ "$REQUIRE_NATIVE" = 1 ] && give_up "skipped by BLOOMSIGHT_TFJS_SOURCE=none"
  exit 0
fi
[ -f "$PKG/package.json" ] || give_up "@tensorflow/tfjs-node is not in node_modules (optional dependency; npm ci --ignore-scripts installs it)"

# Which wheel the installed libtensorflow came from (installs older than this marker: the CPU build).
INSTALLED_PACKAGE=$(cat "$PKG/deps/TF_PACKAGE" 2>/dev/null || echo tensorflow-cpu)
if [ "$INSTALLED_PACKAGE" = "$TF_PACKAGE" ] && out=$(probe); then
  say "already working: $out ($(since "$T_START"))"
  exit 0
fi

TFJS_NODE_VERSION=$(node -p "require('$PKG/package.json').version")
# Where tfjs-node will look for its addon, e.g. lib/napi-v8/tfjs_binding.node (node-pre-gyp picks the N-API version).
ADDON_REL=$(node -p "require('path').relative('$PKG', require('@mapbox/node-pre-gyp').find('$PKG/package.json'))") \
  || give_up "cannot ask @mapbox/node-pre-gyp where tfjs-node's addon goes"
NAPI_BUILD=$(basename "$(dirname "$ADDON_REL")"); NAPI_BUILD=${NAPI_BUILD#napi-v}
VARIANT=""; [ "$TF_PACKAGE" = tensorflow ] && VARIANT=cuda-   # the CPU build keeps its cache key
KEY=tfjs-node-${TFJS_NODE_VERSION}_${VARIANT}tf-${TF_VERSION}_abi$(node -p process.versions.modules)-napi${NAPI_BUILD}-$(node -p 'process.platform + "-" + process.arch')
BUILT=$CACHE/tfjs-native/$KEY

# ---- route "download": the package's own installer (prebuilt libtensorflow + addon from Google's storage) ----
route_download() {
  rm -f "$PKG/scripts/custom-binary.json"
  rm -rf "$PKG/deps" "$PKG/lib"
  ( cd "$PKG" && PATH="$ROOT/node_modules/.bin:$PATH" node scripts/install.js cpu download ) \
    || { failed "download route: node_modules/@tensorflow/tfjs-node/scripts/install.js exited $?"; return 1; }
}

# ---- route "pypi": libtensorflow from the PyPI wheel, addon built from source, both cached ----
find_node_gyp() {
  local c
  for c in "${npm_config_node_gyp:-}" \
           "$(dirname "$(readlink -f "$(command -v npm)")")/../node_modules/node-gyp/bin/node-gyp.js" \
           "$(dirname "$(command -v npm)")/../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js" \
           "$ROOT/node_modules/node-gyp/bin/node-gyp.js"; do
    [ -n "$c" ] && [ -f "$c" ] && { readlink -f "$c"; return 0; }
  done
  return 1
}

# Node's headers must be local: node-gyp would otherwise download them from nodejs.org.
find_nodedir() {
  local c
  for c in "${npm_config_nodedir:-}" "$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")" /usr /usr/local; do
    [ -n "$c" ] && [ -f "$c/include/node/node_api.h" ] && [ -f "$c/include/node/common.gypi" ] && { echo "$c"; return 0; }
  done
  return 1
}

find_wheel() { ls "$WHEEL_DIR"/"${TF_PACKAGE//-/_}"-"$TF_VERSION"-*.whl 2>/dev/null | head -1 || true; }

step_failed() {
  if [ "$1" = false ]; then failed "pypi route, $step"; else failed "pypi route, $step: \`$1\` failed"; fi
}

# Builds $BUILT, laid out like the package (deps/lib, deps/include, lib/napi-vN/tfjs_binding.node) so the
# addon's RUNPATH $ORIGIN/../../deps/lib resolves the same way in the cache and in node_modules.
# Runs in a subshell with errexit; $step names what was being done when a command fails.
build_into_cache() {
  set -e
  local t whl node_gyp nodedir
  # Not local: the EXIT trap and the ERR trap run after this function has returned.
  stage=$BUILT.partial.$$ step=starting
  trap 'step_failed "$BASH_COMMAND"' ERR
  trap 'rm -rf "$stage"' EXIT
  rm -rf "$stage" && mkdir -p "$stage/deps/lib"

  step="getting the $TF_PACKAGE==$TF_VERSION wheel"; t=$(now)
  whl=$(find_wheel)
  if [ -z "$whl" ]; then
    say "downloading $TF_PACKAGE==$TF_VERSION from PyPI (~275 MB; the CUDA build ~570 MB) into $WHEEL_DIR"
    mkdir -p "$WHEEL_DIR"
    python3 -m pip download --quiet --no-deps --only-binary=:all: "$TF_PACKAGE==$TF_VERSION" -d "$WHEEL_DIR"
    whl=$(find_wheel); [ -n "$whl" ]
  fi
  say "wheel: $whl ($(since "$t"))"

  step="unpacking libtensorflow and headers from the wheel"; t=$(now)
  unzip -q -o "$whl" -d "$stage/unz" 'tensorflow/libtensorflow_*.so.2' 'tensorflow/include/tensorflow/c/*' \
    'tensorflow/include/tensorflow/core/platform/ctstring*' 'tensorflow/include/tsl/platform/ctstring*' \
    'tensorflow/include/xla/tsl/c/*'
  mv "$stage"/unz/tensorflow/libtensorflow_*.so.2 "$stage/deps/lib/"
  mv "$stage/unz/tensorflow/include" "$stage/deps/include"
  rm -rf "$stage/unz"
  # Names binding.gyp links against (-ltensorflow -ltensorflow_framework); the 2.9.1 name makes the
  # package's install.js (e.g. `npm rebuild`) treat libtensorflow as present and build instead of download.
  ln -s libtensorflow_cc.so.2 "$stage/deps/lib/libtensorflow.so"
  ln -s libtensorflow_framework.so.2 "$stage/deps/lib/libtensorflow_framework.so"
  ln -s libtensorflow_cc.so.2 "$stage/deps/lib/libtensorflow.so.2.9.1"
  say "unpacked libtensorflow + headers ($(since "$t"))"

  step="finding node-gyp (looked beside npm; set npm_config_node_gyp)"; t=$(now)
  node_gyp=$(find_node_gyp)
  step="finding Node's headers (include/node/node_api.h; set npm_config_nodedir)"
  nodedir=$(find_nodedir)
  step="building the addon with node-gyp (log: $BUILT.failed.log)"
  cp -r "$PKG/binding.gyp" "$PKG/binding" "$stage/"
  say "building the addon: node-gyp $(node "$node_gyp" --version), nodedir=$nodedir, N-API $NAPI_BUILD"
  ( cd "$stage" && node "$node_gyp" rebuild --jobs=max --nodedir="$nodedir" \
      --napi_build_version="$NAPI_BUILD" --module_name=tfjs_binding \
      --module_path="$stage/$(dirname "$ADDON_REL")" ) >"$BUILT.failed.log" 2>&1 \
    || { tail -30 "$BUILT.failed.log" >&2; false; }
  mv "$BUILT.failed.log" "$stage/build.log"
  rm -rf "$stage/build" "$stage/binding" "$stage/binding.gyp"
  step="loading the built addon on its own"
  node -e "console.log('[tfjs-native] addon loads on its own, TF_Version ' + require('$stage/$ADDON_REL').TF_Version)" 2>"$PROBE_ERR" \
    || { tail -5 "$PROBE_ERR" >&2; false; }
  say "addon built ($(since "$t"))"

  echo "$TF_PACKAGE" >"$stage/deps/TF_PACKAGE"
  rm -rf "$BUILT" && mv "$stage" "$BUILT" && touch "$BUILT/READY"
}

# Puts the cached build into node_modules: hard links when the cache shares the filesystem
# (no copy, and rm -rf node_modules never touches the cache), else a symlink of deps/lib.
install_from_cache() {
  set -e
  trap 'failed "pypi route, installing from $BUILT: \`$BASH_COMMAND\` failed"' ERR
  local t; t=$(now)
  rm -rf "$PKG/deps" "$PKG/$ADDON_REL"
  if cp -al "$BUILT/deps" "$PKG/deps" 2>/dev/null; then
    say "deps/ hard-linked from $BUILT"
  else
    rm -rf "$PKG/deps" && mkdir -p "$PKG/deps"
    ln -s "$BUILT/deps/lib" "$PKG/deps/lib"
    cp -r "$BUILT/deps/include" "$PKG/deps/include"
    [ ! -f "$BUILT/deps/TF_PACKAGE" ] || cp "$BUILT/deps/TF_PACKAGE" "$PKG/deps/"
    say "deps/lib symlinked to $BUILT/deps/lib (cache on another filesystem)"
  fi
  mkdir -p "$PKG/$(dirname "$ADDON_REL")"
  cp "$BUILT/$ADDON_REL" "$PKG/$ADDON_REL"
  # A custom libtensorflow without a prebuilt addon: install.js builds from source instead of downloading.
  echo '{"tf-lib":"file:///offline"}' >"$PKG/scripts/custom-binary.json"
  say "installed into node_modules ($(since "$t"))"
}

route_pypi() {
  local rc
  if [ "$(uname -s)" != Linux ]; then
    failed "pypi route: Linux only (the wheel's libtensorflow is a manylinux .so); use BLOOMSIGHT_TFJS_SOURCE=download"
    return 1
  fi
  mkdir -p "$CACHE/tfjs-native"
  exec 9>"$CACHE/tfjs-native/.lock"
  command -v flock >/dev/null && flock 9  # another checkout on this machine may be building the same key
  if [ -f "$BUILT/READY" ]; then
    say "cache hit: $BUILT"
  else
    say "cache miss: building $KEY"
    # Plain statements, not `||` or `if`: bash ignores errexit inside subshells run in those contexts.
    ( build_into_cache ); rc=$?
    [ "$rc" -eq 0 ] || return 1
  fi
  ( install_from_cache ); rc=$?
  return "$rc"
}

case "$SOURCE" in
  pypi) routes=(pypi) ;;
  download) routes=(download pypi) ;;
  *) give_up "unknown BLOOMSIGHT_TFJS_SOURCE=$SOURCE (pypi | download | none)" ;;
esac

for route in "${routes[@]}"; do
  say "route: $route"
  t=$(now)
  "route_$route"; rc=$?
  [ "$rc" -eq 0 ] || continue
  if out=$(probe); then
    say "route $route took $(since "$t")"
    say "ready: $out (total $(since "$T_START"))"
    exit 0
  fi
  failed "$route route: tfjs-node still does not load: $(probe_error)"
done
give_up
