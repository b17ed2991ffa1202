# advprobe on a CUDA host: @tensorflow/tfjs-node-gpu 4.22 links libtensorflow 2.9, which
# needs CUDA 11.2 and cuDNN 8.1 — hence this base image. Node comes from the official image.
FROM node:20.19.5-bookworm-slim AS node

FROM nvidia/cuda:11.2.2-cudnn8-runtime-ubuntu20.04 AS base
COPY --from=node /usr/local/bin/node /usr/local/bin/node
COPY --from=node /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/npm
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \
 && node --version

FROM base AS build
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
# tfjs-node-gpu's install script downloads libtensorflow and may build its binding.
# Versions come with the pinned Ubuntu 20.04 base; pinning each apt package would break on every point release.
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
USER advprobe
EXPOSE 8080
# Healthy once the model is loaded and warmed up (/readyz), not merely listening.
HEALTHCHECK --interval=30s --timeout=5s --start-period=180s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8080) + '/readyz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
STOPSIGNAL SIGTERM
CMD ["node", "dist/server.js"]
