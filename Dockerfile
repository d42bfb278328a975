# syntax=docker/dockerfile:1
# Warren in a container: a Rust builder stage, then a distroless runtime with the binary only
# (no compiler, no shell, no package manager), running as a non-root user.
# Build: docker build -t warren .   Run: see compose.yaml and docs/operations.md, "Container".

FROM rust:1-bookworm AS builder
WORKDIR /src
COPY . .
# BuildKit cache mounts keep downloaded crates and compiled dependencies between builds.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --locked --release --package warren --bin warren \
    && install -D -m 0755 target/release/warren /out/usr/local/bin/warren \
    && install -d -m 0700 /out/data

# glibc and libgcc, nothing else; "nonroot" is uid/gid 65532.
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=builder /out/usr/local/bin/warren /usr/local/bin/warren
COPY --from=builder --chown=65532:65532 /out/data /data
USER 65532:65532
ENV WARREN_SERVER__HOST=0.0.0.0 \
    WARREN_SERVER__PORT=8000 \
    WARREN_DATA_DIR=/data
VOLUME ["/data"]
EXPOSE 8000
# `warren health` asks /api/health/ready itself: no curl needed in the image.
HEALTHCHECK --interval=30s --timeout=10s --start-period=20s --retries=3 CMD ["warren", "health"]
ENTRYPOINT ["warren"]
CMD ["serve"]
