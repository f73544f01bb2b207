"""Health probes for Kubernetes, load balancers and people: ping, alive, ready, check, db-stats."""
