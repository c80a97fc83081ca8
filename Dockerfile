# syntax=docker/dockerfile:1
# Multi-stage build of the static lectern binary into a small non-root image.

FROM golang:1.27-alpine AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/lectern .

FROM alpine:3.22
# ca-certificates for outgoing mail/OAuth2/S3; wget (busybox) serves the health check.
RUN apk add --no-cache ca-certificates tzdata \
    && addgroup -S lectern && adduser -S -G lectern -H -h /pb_data lectern \
    && mkdir -p /pb_data && chown lectern:lectern /pb_data
COPY --from=build /out/lectern /usr/local/bin/lectern
USER lectern
VOLUME /pb_data
EXPOSE 8090
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
    CMD wget -q -O /dev/null http://127.0.0.1:8090/api/health || exit 1
ENTRYPOINT ["/usr/local/bin/lectern"]
CMD ["serve", "--http=0.0.0.0:8090", "--dir=/pb_data"]
