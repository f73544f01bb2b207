"""The front door: what this service is and where its pages and endpoints are."""

from django.conf import settings
from django.shortcuts import render
from django.views.decorators.http import require_safe


@require_safe
def home(request):
    return render(
        request,
        "pages/home.html",
        {"environment": settings.DJANGO_ENV, "release_id": settings.RELEASE_ID},
    )
