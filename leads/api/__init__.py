"""The leads REST API (DRF): serializers, filters, parsers, the viewset and its routes."""
