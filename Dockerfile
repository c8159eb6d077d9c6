# One image for every bloomsight worker; the queue is chosen by the command (see docker-compose.yml).
FROM node:20-bookworm
RUN apt-get update && apt-get install -y --no-install-recommends ffmpeg python3 python3-pip unzip && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY . .
# With internet, tfjs-node's own installer fetches the prebuilt libtensorflow.
ENV BLOOMSIGHT_TFJS_SOURCE=download
RUN bash scripts/setup-tfjs-native.sh
# The gpu worker's image adds tfjs-node-gpu (its installer fetches the CUDA build of libtensorflow 2.9.1;
# the host must provide an NVIDIA driver, and CUDA 11.2 + cuDNN 8.1 must be in the image or mounted).
ARG TFJS_GPU=0
RUN if [ "$TFJS_GPU" = 1 ]; then npm install --no-save @tensorflow/tfjs-node-gpu@4.22.0; fi
CMD ["npx", "tsx", "workers/all.ts"]
