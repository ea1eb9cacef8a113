# gobit in a container: a static binary on distroless, as a non-root user.
#
#   docker build -t gobit .
#   docker run -d --name gobit -e GOBIT_API_TOKEN=$(openssl rand -hex 16) \
#     -p 8080:8080 -p 6881:6881/tcp -p 6881:6881/udp \
#     -v gobit-data:/data -v /srv/torrents:/downloads -v gobit-config:/config gobit
#
# The API listens on 0.0.0.0:8080 inside the container, so gobit requires a
# token: set GOBIT_API_TOKEN (clients send "Authorization: Bearer <token>").
# The health check (gobit health) reads the same variable. Settings: GOBIT_*
# variables or /config/gobit/config.toml (see contrib/config.toml).
# A bind-mounted /downloads must be writable by uid 65532 (or run with
# --user matching its owner).

FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/gobit ./cmd/gobit
# The volumes' mount points, owned by the user gobit runs as.
RUN mkdir -p /out/data /out/downloads /out/config/gobit && chown -R 65532:65532 /out/data /out/downloads /out/config

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/gobit /usr/local/bin/gobit
COPY --from=build --chown=65532:65532 /out/data /data
COPY --from=build --chown=65532:65532 /out/downloads /downloads
COPY --from=build --chown=65532:65532 /out/config /config
USER 65532:65532
ENV GOBIT_ADDR=0.0.0.0:8080 \
    GOBIT_PORT=6881 \
    GOBIT_DATA_DIR=/data \
    GOBIT_DOWNLOAD_DIR=/downloads \
    XDG_CONFIG_HOME=/config
VOLUME ["/data", "/downloads", "/config"]
EXPOSE 8080 6881/tcp 6881/udp
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 \
    CMD ["/usr/local/bin/gobit", "health", "--timeout", "8s"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/gobit"]
CMD ["serve"]
