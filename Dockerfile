# One image for every bloomsight worker; the queue is chosen by the command (see docker-compose.yml).
FROM node:20-bookworm
RUN apt-get update && apt-get install -y --no-install-recommends ffmpeg python3 python3-pip unzip && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY . .
# With internet, tfjs-node's own installer fetches the prebuilt libtensorflow. Its build cache lives
# outside /root so the non-root user below can read anything it links to.
ENV BLOOMSIGHT_TFJS_SOURCE=download
RUN BLOOMSIGHT_CACHE=/opt/bloomsight-build-cache bash scripts/setup-tfjs-native.sh && (chmod -R a+rX /opt/bloomsight-build-cache 2>/dev/null || true)
# The gpu worker's image adds tfjs-node-gpu (its installer fetches the CUDA build of libtensorflow 2.9.1;
# the host must provide an NVIDIA driver, and CUDA 11.2 + cuDNN 8.1 must be in the image or mounted).
ARG TFJS_GPU=0
RUN if [ "$TFJS_GPU" = 1 ]; then npm install --no-save @tensorflow/tfjs-node-gpu@4.22.0; fi
# Workers run as the image's unprivileged user; the code stays root-owned and read-only to it
# (docker-compose.yml also makes the root filesystem read-only). Only the cache is theirs.
RUN mkdir -p /home/node/.cache/bloomsight && chown -R node:node /home/node/.cache
ENV BLOOMSIGHT_CACHE=/home/node/.cache/bloomsight
USER node
CMD ["node", "--import", "tsx", "workers/all.ts"]
