# bloomsight's worker images, one per kind of machine; docker-compose.yml picks the target per service.
#   docker build --target cpu -t bloomsight .        every queue on CPUs (the default target)
#   docker build --target gpu -t bloomsight-gpu .    the gpu queue on an NVIDIA GPU (docs/gpu.md)
# Both run as the image's unprivileged user; the code stays root-owned and read-only to it
# (docker-compose.yml also makes the root filesystem read-only). Only the cache is theirs.

FROM node:20-bookworm AS base
RUN apt-get update && apt-get install -y --no-install-recommends ffmpeg python3 python3-pip unzip && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY . .
# Build caches live outside /root so the non-root user can read anything the addon links to.
ENV TFJS_BUILD_CACHE=/opt/bloomsight-build-cache
RUN mkdir -p /home/node/.cache/bloomsight && chown -R node:node /home/node/.cache

# The gpu image: tfjs-node's addon built on the CUDA build of TensorFlow 2.21 from PyPI (the same route as
# the CPU build, another wheel), the CUDA 12 / cuDNN 9 libraries TensorFlow pins from NVIDIA's PyPI wheels
# (registered with ldconfig), and ONNX Runtime's CUDA provider (onnxruntime-node's installer, from NuGet),
# which opens those same libraries. The NVIDIA driver (libcuda.so.1) comes from the host through the
# NVIDIA Container Toolkit. The last root step checks the image has everything but the driver and the device.
FROM base AS gpu
RUN BLOOMSIGHT_CACHE=$TFJS_BUILD_CACHE BLOOMSIGHT_TFJS_SOURCE=pypi BLOOMSIGHT_TF_PACKAGE=tensorflow BLOOMSIGHT_REQUIRE_NATIVE=1 \
      bash scripts/setup-tfjs-native.sh \
 && BLOOMSIGHT_CACHE=$TFJS_BUILD_CACHE bash scripts/install-cuda-libs.sh /opt/nvidia-pypi \
 && ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules/onnxruntime-node/script/install.js \
 && node --import tsx scripts/check-gpu-image.ts \
 && (chmod -R a+rX $TFJS_BUILD_CACHE /opt/nvidia-pypi 2>/dev/null || true)
ENV BLOOMSIGHT_CACHE=/home/node/.cache/bloomsight \
    BLOOMSIGHT_WORKERS__GPU__BACKEND=tensorflow-gpu BLOOMSIGHT_WORKERS__GPU__REQUIRE_BACKEND=true BLOOMSIGHT_WORKERS__GPU__INFERENCE=cuda
USER node
CMD ["node", "--import", "tsx", "workers/gpu.ts"]

# The CPU image (last, so a plain `docker build .` makes it). With internet, tfjs-node's own installer
# fetches its prebuilt libtensorflow; the PyPI route is the fallback.
FROM base AS cpu
RUN BLOOMSIGHT_CACHE=$TFJS_BUILD_CACHE BLOOMSIGHT_TFJS_SOURCE=download bash scripts/setup-tfjs-native.sh \
 && (chmod -R a+rX $TFJS_BUILD_CACHE 2>/dev/null || true)
ENV BLOOMSIGHT_CACHE=/home/node/.cache/bloomsight
USER node
CMD ["node", "--import", "tsx", "workers/all.ts"]
