# The pinned upstream otel-collector binary on Alpine, so the compose health check has a wget to call
# (the upstream image has no shell or HTTP client).
FROM otel/opentelemetry-collector-contrib:0.111.0 AS upstream
FROM alpine:3.20.3
COPY --from=upstream /otelcol-contrib /usr/local/bin/otelcol-contrib
ENTRYPOINT ["/usr/local/bin/otelcol-contrib"]
