# syntax=docker/dockerfile:1
# Multi-stage build of the static lectern binary into a small non-root image,
# for hosts that can pull golang and alpine. Without a registry, build
# deploy/container/Containerfile (FROM scratch around a host-built binary)
# with scripts/container.sh — CI builds and runs that one.
#
# .git stays out of the context (.dockerignore), so the build is stamped from
# build arguments, as `make build` stamps it (`lectern --version`):
#   docker build -t lectern \
#     --build-arg VERSION="$(git describe --tags --dirty 2>/dev/null || echo dev)" \
#     --build-arg COMMIT="$(git rev-parse --short=12 HEAD)" .

FROM golang:1.27-alpine AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
ARG COMMIT=
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w -X lectern/internal/ops.version=${VERSION} -X lectern/internal/ops.commit=${COMMIT}" -o /out/lectern .

FROM alpine:3.22
# ca-certificates for outgoing mail/OAuth2/S3; a pinned UID so volume
# ownership survives rebuilds (the same 10001 as the scratch image)
RUN apk add --no-cache ca-certificates tzdata \
    && addgroup -S -g 10001 lectern && adduser -S -u 10001 -G lectern -H -h /pb_data lectern \
    && mkdir -p /pb_data && chown lectern:lectern /pb_data
COPY --from=build /out/lectern /usr/local/bin/lectern
USER 10001:10001
VOLUME /pb_data
EXPOSE 8090
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
    CMD ["/usr/local/bin/lectern", "healthcheck"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/lectern"]
# set LECTERN_ORIGINS (e.g. -e LECTERN_ORIGINS=https://your.site): without it
# every origin may call the API from a browser; and LECTERN_APP_URL (e.g.
# -e LECTERN_APP_URL=https://your.site): feeds, the sitemap and mail links
# are built from it, http://localhost:8090 until it is set
CMD ["serve", "--http=0.0.0.0:8090", "--dir=/pb_data"]
