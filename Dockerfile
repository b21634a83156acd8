# kidwatch-hub container image.
#
#   docker build -t kidwatch-hub .
#   docker run -p 3000:3000 -v hubdata:/data kidwatch-hub
#
# Stages: `toolchain` (node + compilers for native addons), `build` (all deps, TypeScript and the web app → dist/),
# `deps` (production node_modules only), and the final runtime image (no compilers, no dev deps,
# runs as the unprivileged `node` user). All stages share one Debian base so that the native
# addons compiled in `deps` (better-sqlite3, later mediasoup) match the runtime's glibc.

# --- toolchain: python3/make/g++ for node-gyp when no prebuilt binary fits ---------------------
# mediasoup (optional, for calls) downloads a prebuilt worker; where that fails it builds one with
# tools it installs from PyPI, hence pip. Where both fail, npm leaves mediasoup out and the image
# runs without calls (the deps stage says so in the build log; calls then answer UNAVAILABLE).
FROM node:20-bookworm-slim AS toolchain
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 python3-pip make g++ ca-certificates \
 && rm -rf /var/lib/apt/lists/*
# mediasoup's fallback pip-installs its build tools into its own folder, not the system's.
ENV PIP_BREAK_SYSTEM_PACKAGES=1
WORKDIR /app

# --- build: full install (dev deps for tsc), then compile to dist/ ------------------------------
FROM toolchain AS build
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
COPY src ./src
COPY rooms ./rooms
# The parents' web app: `npm run build` also runs Vite, into dist/web (served by the hub at /).
COPY web ./web
RUN npm run build

# --- deps: production dependencies only, native addons built here ------------------------------
FROM toolchain AS deps
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund \
 && npm cache clean --force \
 && if [ -x node_modules/mediasoup/worker/out/Release/mediasoup-worker ]; then echo "calls: mediasoup worker installed"; \
    else echo "calls: mediasoup could not be installed here; this image runs without calls"; fi

# --- runtime ------------------------------------------------------------------------------------
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production HUB_DATA_DIR=/data
WORKDIR /app
# Voice conversion for watches (AMR-NB) and browsers (Ogg/Opus): ffmpeg, with libavcodec-extra for
# the libopencore_amrnb encoder (Debian's plain libavcodec decodes AMR but cannot encode it).
RUN apt-get update \
 && apt-get install -y --no-install-recommends ffmpeg libavcodec-extra \
 && rm -rf /var/lib/apt/lists/* \
 && ffmpeg -hide_banner -encoders | grep -q libopencore_amrnb
# Code and dependencies stay root-owned (read-only for the process); only /data is writable.
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
# The directory must be created and chowned before VOLUME, or the ownership is lost; a fresh
# named volume mounted here inherits it.
RUN mkdir -p /data && chown node:node /data
VOLUME ["/data"]
USER node
# HTTP and Socket.IO (PORT), and watches over TCP (HUB_WATCH_TCP_PORT).
EXPOSE 3000 5093
# Liveness only (/readyz is for load balancers). No curl in slim images: node's global fetch.
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz', { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"
# The hub drains on SIGTERM (HUB_DRAIN_TIMEOUT_MS, 10 s by default): give it longer than that
# before the SIGKILL (`docker stop -t 30`, compose `stop_grace_period`).
STOPSIGNAL SIGTERM
CMD ["node", "dist/src/main.js"]
