# Sync Manager: a multi-stage image. The build stage installs everything and compiles dist/; the runtime
# stage installs production dependencies only (no esbuild, tsx or pino-pretty) and runs as a non-root user.
#   docker build -t sync-manager .
#   docker run -p 8080:8080 -v sync-data:/data sync-manager
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY patches ./patches
COPY scripts ./scripts
# Scripts run later, once the sources are in place (postinstall builds dist/ from src/).
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY . .
RUN node patches/apply.mjs && node scripts/build.mjs

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8080 \
    SYNC_MANAGER_DATA_DIR=/data \
    SYNC_MANAGER_RATE_LIMIT=600
WORKDIR /app
COPY package.json package-lock.json ./
COPY patches ./patches
COPY scripts ./scripts
# postinstall applies the dependency patches; with esbuild left out it keeps the dist/ copied below.
RUN npm ci --omit=dev --omit=optional --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY bin ./bin
COPY src/db/migrations ./src/db/migrations
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:' + (process.env.PORT || 8080) + '/ready').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"
ENTRYPOINT ["node", "bin/sync-manager.js"]
CMD ["serve"]
