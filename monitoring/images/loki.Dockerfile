# The pinned upstream loki binary on Alpine, so the compose health check has a wget to call
# (the upstream image has no shell or HTTP client).
FROM grafana/loki:3.2.0 AS upstream
FROM alpine:3.20.3
COPY --from=upstream /usr/bin/loki /usr/local/bin/loki
ENTRYPOINT ["/usr/local/bin/loki"]
