"""Template context shared by the admin branding and the status page."""

from django.conf import settings


def version(request):
    return {"intelliflow_version": settings.VERSION}
