# The pinned upstream tempo binary on Alpine, so the compose health check has a wget to call
# (the upstream image has no shell or HTTP client).
FROM grafana/tempo:3.0.3 AS upstream
FROM alpine:3.24.1
COPY --from=upstream /tempo /usr/local/bin/tempo
ENTRYPOINT ["/usr/local/bin/tempo"]
