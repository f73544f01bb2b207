"""Probe routes, each with and without a trailing slash (a redirect would fail a probe)."""

from django.urls import path

from health import views


def both_forms(route: str, view, name: str) -> list:
    return [path(route, view, name=name), path(f"{route}/", view)]


urlpatterns = [
    *both_forms("ping", views.ping, "health-ping"),
    *both_forms("alive", views.alive, "health-alive"),
    *both_forms("ready", views.ready, "health-ready"),
    *both_forms("check", views.check, "health-check"),
    *both_forms("db-stats", views.db_stats, "health-db-stats"),
    *both_forms("dbStats", views.db_stats, "health-db-stats-alias"),
]
