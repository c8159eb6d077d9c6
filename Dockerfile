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
CMD ["npx", "tsx", "workers/all.ts"]
