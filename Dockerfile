# syntax=docker/dockerfile:1
# minicrew in a container: built with the Rust toolchain, run on Debian slim as a non-root user.
#   docker build -t minicrew .
#   docker compose up -d          (see compose.yaml and the README's "Run in a container")
# Secrets never enter the image: they come at run time from `.env` (compose's env_file), and
# .dockerignore keeps `.env`, data/ and credentials/ out of the build context.

# ---- build: the toolchain named by Cargo.toml's rust-version, on Debian bookworm ----
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
# The dependency and target caches stay on the builder between builds; the binary is copied out
# of the cache mount in the same step.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked \
    && cp target/release/minicrew /usr/local/bin/minicrew

# ---- run: a small base, no toolchain, no shell tools needed ----
FROM debian:bookworm-slim AS run
# One fixed uid/gid (10001), so a bind-mounted data folder can be chowned to it ahead of time.
RUN groupadd --system --gid 10001 minicrew \
    && useradd --system --uid 10001 --gid minicrew \
        --home-dir /var/lib/minicrew --shell /usr/sbin/nologin minicrew \
    && install -d -m 0700 -o minicrew -g minicrew /var/lib/minicrew
COPY --from=build /usr/local/bin/minicrew /usr/local/bin/minicrew

# Everything the bot writes lives on this one volume: the database and secret.key (DATA_DIR),
# Gmail tokens (CREDENTIALS_DIR); relative paths (credentials.json, mcp.json) resolve here too.
ENV DATA_DIR=/var/lib/minicrew/data \
    CREDENTIALS_DIR=/var/lib/minicrew/credentials \
    HTTP_LISTEN=127.0.0.1:9090 \
    LOG_FORMAT=json
VOLUME ["/var/lib/minicrew"]
WORKDIR /var/lib/minicrew
USER 10001:10001

# `minicrew health` GETs http://HTTP_LISTEN/health (3 s timeout): exit 0 healthy, 1 not.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["/usr/local/bin/minicrew", "health"]

# Webhook mode listens on WEBHOOK_PORT (8443 by default); polling mode needs no port.
EXPOSE 8443
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/minicrew"]
