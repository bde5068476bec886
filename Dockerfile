# Linli in a container: one static binary (the console is embedded) on a
# distroless base with CA certificates and time zones, run as a non-root user.
#
#   docker build --build-arg VERSION=$(git describe --always) -t linli .
#   docker run -d --name linli -p 8080:8080 -p 1883:1883 -p 5060:5060 -p 5060:5060/udp \
#     -p 20000-20999:20000-20999/udp -v linli-data:/data linli
#
# Probes: GET /healthz (process up) and GET /readyz (database, MQTT broker,
# file store) on port 8080. Backups: docker exec linli linli backup /data/backup.tar.gz

FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X linli/internal/app.Version=${VERSION}" -o /out/linli ./cmd/linli \
    && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/linli /usr/local/bin/linli
# The data volume belongs to the image's non-root user (65532).
COPY --from=build --chown=65532:65532 /out/data /data
ENV LINLI_DATA_DIR=/data
USER 65532:65532
VOLUME ["/data"]
# HTTP (console, API, devices), MQTT, SIP over TCP and UDP, call media (LINLI_RTP_PORTS).
EXPOSE 8080 1883 5060 5060/udp 20000-20999/udp
ENTRYPOINT ["/usr/local/bin/linli"]
CMD ["serve"]
