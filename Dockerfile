# advprobe on a CUDA host. @tensorflow/tfjs-node-gpu 4.22 links libtensorflow 2.9, built for
# CUDA 11.2 / cuDNN 8.1: it loads the CUDA 11 sonames (libcudart.so.11.0, libcublas.so.11,
# libcudnn.so.8, …), and CUDA 11's minor-version compatibility lets those come from any
# 11.x runtime. 11.8 with cuDNN 8 is the last CUDA 11 and the one NVIDIA ships for Ubuntu
# 22.04, which is supported to 2027 (Ubuntu 20.04 and CUDA 11.2's images are past their end).
# The driver must support CUDA 11.8 (≥ 520). Node 24 LTS comes from the official image; its
# binaries need glibc ≥ 2.28 and Ubuntu 22.04 has 2.35.
FROM node:24.22.3-bookworm-slim AS node

FROM nvidia/cuda:11.8.0-cudnn8-runtime-ubuntu22.04 AS base
COPY --from=node /usr/local/bin/node /usr/local/bin/node
COPY --from=node /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/npm
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \
 && node --version

FROM base AS build
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
# tfjs-node-gpu's install script downloads libtensorflow and may build its binding.
# Versions come with the pinned Ubuntu 22.04 base; pinning each apt package would break on every point release.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
COPY scripts/fetch-models.js scripts/
COPY models/*.json models/
# Scripts off for the install, then on for the one package that needs its own.
RUN npm ci --ignore-scripts \
 && npm rebuild @tensorflow/tfjs-node-gpu --foreground-scripts \
 && node scripts/fetch-models.js
COPY tsconfig.json tsconfig.build.json ./
COPY src src
RUN npm run build && npm prune --omit=dev --ignore-scripts

FROM base AS runtime
ENV NODE_ENV=production \
    PORT=8080 \
    HOST=0.0.0.0 \
    ADVPROBE_BACKEND=auto
WORKDIR /app
RUN groupadd --system advprobe && useradd --system --gid advprobe --home-dir /app --shell /usr/sbin/nologin advprobe
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/dist dist
COPY --from=build /app/models models
COPY public public
# The CLI (npx advprobe ...): runs dist/cli once tsx is pruned away.
COPY bin bin
# Trained models are written here (compose mounts a shared volume; a new named volume takes
# this folder's owner, so the unprivileged user can write to it).
RUN mkdir -p models/trained && chown advprobe:advprobe models/trained
USER advprobe
EXPOSE 8080
# Healthy once the model is loaded and warmed up (/readyz), not merely listening.
HEALTHCHECK --interval=30s --timeout=5s --start-period=180s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8080) + '/readyz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
STOPSIGNAL SIGTERM
CMD ["node", "dist/server.js"]
