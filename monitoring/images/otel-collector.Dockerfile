# The pinned upstream otel-collector binary on Alpine, so the compose health check has a wget to call
# (the upstream image has no shell or HTTP client). Alpine 3.24 is the base that
# opentelemetry-collector-releases v0.159.0 itself builds the contrib image's certificates from.
FROM otel/opentelemetry-collector-contrib:0.159.0 AS upstream
FROM alpine:3.24
COPY --from=upstream /otelcol-contrib /usr/local/bin/otelcol-contrib
# The file_storage extension's directory (offsets of the filelog receiver); mount a volume on it.
RUN mkdir -p /var/lib/otelcol/file_storage
ENTRYPOINT ["/usr/local/bin/otelcol-contrib"]
