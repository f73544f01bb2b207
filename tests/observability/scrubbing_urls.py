"""The observability test routes, plus a view that treats a client's input carelessly: it logs
it and puts it into an exception message, as code that never meant to leak anything does."""

import logging

from django.urls import path

from tests.observability.urls import handler500  # noqa: F401 - Django looks it up here
from tests.observability.urls import urlpatterns as observability_urlpatterns

logger = logging.getLogger("tests.observability.echo")


def echo(request, value: str):
    said = " ".join([value, *request.GET.values()])
    logger.warning("client said %s", said, extra={"client.said": said})
    raise RuntimeError(f"cannot handle {said}")


urlpatterns = [path("api/v1/echo/<str:value>/", echo), *observability_urlpatterns]
