# The pinned upstream loki binary on Alpine, so the compose health check has a wget to call
# (the upstream image has no shell or HTTP client).
FROM grafana/loki:3.7.6 AS upstream
FROM alpine:3.24.1
COPY --from=upstream /usr/bin/loki /usr/local/bin/loki
ENTRYPOINT ["/usr/local/bin/loki"]
