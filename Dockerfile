# HomeStation collector: small, non-root, with the backup tools it runs.
FROM node:20-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY collector ./collector
COPY exporters ./exporters
COPY remediator ./remediator
COPY bench ./bench
COPY test/helpers ./test/helpers
COPY test/podman ./test/podman
RUN npm run build && npm prune --omit=dev

FROM node:20-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends restic borgbackup ca-certificates openssh-client \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /var/lib/homestation --create-home homestation
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json homestation.schema.json ./
USER homestation
EXPOSE 9870
HEALTHCHECK --interval=30s --timeout=5s CMD ["node", "-e", "fetch('http://127.0.0.1:9870/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# The malloc setting and V8 flags of collector/cli.ts's #! line (why: there).
ENV GLIBC_TUNABLES=glibc.malloc.mmap_threshold=32768
ENTRYPOINT ["node", "--max-semi-space-size=2", "--heap-growing-percent=25", "dist/collector/cli.js"]
CMD ["run"]
