# syntax=docker/dockerfile:1
# Portico: one image for both containers of the pod (`portico operator …`, `portico dataplane …`).
# Node 24 runs the TypeScript sources directly (type stripping); there is no build step and no compiler in the image.

FROM node:24.21.0-bookworm-slim AS runtime-deps
WORKDIR /app
COPY package.json package-lock.json ./
# Runtime dependencies only; none of them needs an install script.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

# `skaffold dev` target: development dependencies too (pino-pretty), sources synced in, restarted by node --watch.
FROM node:24.21.0-bookworm-slim AS dev
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY . .
USER node
ENTRYPOINT ["/app/scripts/dev-entrypoint.sh"]

FROM node:24.21.0-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=runtime-deps /app/node_modules ./node_modules
COPY package.json ./
COPY shared ./shared
COPY operator ./operator
COPY dataplane ./dataplane
COPY bin ./bin
# uid 1000, as the Deployment's securityContext expects.
USER node
ENTRYPOINT ["node", "bin/portico.ts"]
