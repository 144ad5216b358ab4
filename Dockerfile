# Build: the dashboard (wasm32) and the release server.
FROM rust:1.95-bookworm AS build
WORKDIR /src
RUN rustup target add wasm32-unknown-unknown
COPY . .
RUN cargo xtask dashboard && cargo build --release -p cohort-api --bin cohort

# Run: the binary, the dashboard, and the C libraries diesel links.
FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpq5 libsqlite3-0 ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --home /data cohort && mkdir -p /data && chown cohort /data
COPY --from=build /src/target/release/cohort /usr/local/bin/cohort
COPY --from=build /src/frontend/dist /app/dashboard
ENV COHORT_DASHBOARD_DIR=/app/dashboard COHORT_DATA_DIR=/data COHORT_BIND=0.0.0.0:8080
USER cohort
EXPOSE 8080
CMD ["cohort"]
