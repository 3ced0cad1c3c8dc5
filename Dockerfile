# syntax=docker/dockerfile:1
# Portico: one image for both containers of the pod (`portico operator …`, `portico dataplane …`).
# The image runs the sources as JavaScript (`npm run build`: types stripped by Node's own function, no compiler): an
# isolate that loads TypeScript also loads Node's type stripper, ~10 MiB each, five isolates in a pod (bench/RESULTS.md).

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

# The JavaScript build: the sources with their types stripped, in dist/ (scripts/build.ts).
FROM node:24.21.0-bookworm-slim AS build
WORKDIR /app
COPY package.json ./
COPY scripts/build.ts ./scripts/build.ts
COPY shared ./shared
COPY operator ./operator
COPY dataplane ./dataplane
COPY bin ./bin
RUN node --disable-warning=ExperimentalWarning scripts/build.ts

FROM node:24.21.0-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=runtime-deps /app/node_modules ./node_modules
# package.json: "type": "module" for dist/.
COPY package.json ./
COPY --from=build /app/dist ./dist
# uid 1000, as the Deployment's securityContext expects.
USER node
# The launcher re-executes itself with the V8 flags and environment each process needs (bin/launch-flags.ts).
ENTRYPOINT ["node", "dist/bin/portico.js"]
