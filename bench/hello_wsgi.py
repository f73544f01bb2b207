"""The ceiling: a bare WSGI hello-world, served by the same gunicorn settings as the app."""


def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "application/health+json")])
    return [b'{"status": "pass"}']
