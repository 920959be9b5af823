# Tessera: production image. Compiled JavaScript on a supported Node LTS, run as
# the unprivileged `node` user. It refuses to start (exit 2, naming each missing
# setting) unless DATABASE_URL, KEYS_DIR (a mounted secret folder holding keys),
# ADMIN_API_KEY, an https PUBLIC_BASE_URL and ISSUER_NAME are set: no embedded database and
# no development keys in production (embedded-postgres is not even installed).
#
# Every operator command is compiled into dist/ and runs with plain node (no tsx here):
#   docker run --rm --env-file tessera.env IMAGE node dist/cli/migrate.js         # once per deployment, before the new instances
#   docker run --rm --env-file tessera.env -v /etc/tessera/keys:/keys IMAGE node dist/cli/generate-keys.js --out /keys
#   docker run --rm --env-file tessera.env IMAGE node dist/cli/admin.js api-keys list
#   docker run --rm --env-file tessera.env IMAGE node dist/worker.js              # notification workers (WORKER=off on the service)
# migrate needs only DATABASE_URL; admin needs the service's settings. The service does not
# migrate at start (MIGRATE_ON_BOOT is false with DATABASE_URL) and refuses to start on a
# database that is behind. The keys folder must be writable by the `node` user (uid 1000).
# test/compiled-commands.test.ts runs these compiled commands beside production dependencies only.
FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY types ./types
COPY src ./src
RUN npm run build

FROM node:22-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

FROM node:22-bookworm-slim
ENV NODE_ENV=production HOST=0.0.0.0 PORT=3000
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
# What dist/ reads at run time, found relative to it (../migrations from dist/infrastructure/db, ...):
# the server, the worker and the operator commands alike.
COPY migrations ./migrations
COPY contexts ./contexts
COPY schemas ./schemas
COPY templates ./templates
COPY assets ./assets
USER node
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=3s --start-period=20s \
  CMD node -e "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/health').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"
# A 192 MB old-generation cap: V8 then collects before growing (peak RSS about 270 MiB under the
# bench instead of about 400; six concurrent 1,000-item batches peaked at 320 MiB). Keep these flags in step with start:prod.
# The cap is per process: WEB_CONCURRENCY (default: one per core) HTTP processes and the job-worker
# process inherit it from the primary (Node's cluster module passes execArgv on).
# An 8 MB semi-space (V8's default is 16): the young generation of the event loop and of the Data
# Integrity thread holds about 30 MiB less at peak (bench/README.md); request garbage dies young
# either way, and signing costs about 7% more CPU on its thread.
# Two malloc arenas per process (glibc's default is up to eight per core, each keeping what it
# freed): about 20 MiB less per process under the bench at no measured cost; the primary also sets it for its
# children when it is unset (server.ts).
ENV MALLOC_ARENA_MAX=2
CMD ["node", "--max-old-space-size=192", "--max-semi-space-size=8", "dist/server.js"]
