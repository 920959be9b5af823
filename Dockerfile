# Tessera: production image. Expects DATABASE_URL (an external PostgreSQL) and
# KEYS_DIR (a mounted secret folder); without them it falls back to the
# embedded database and development keys under DATA_DIR, which suits a demo only.
FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts

FROM node:20-bookworm-slim
ENV NODE_ENV=production HOST=0.0.0.0 PORT=3000 DATA_DIR=/var/lib/tessera
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json tsconfig.json ./
COPY src ./src
COPY migrations ./migrations
COPY contexts ./contexts
COPY schemas ./schemas
RUN mkdir -p /var/lib/tessera && chown node:node /var/lib/tessera
USER node
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=3s CMD node -e "fetch('http://127.0.0.1:3000/ready').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "--import", "tsx", "src/server.ts"]
