"""Top-level routes: the front door, admin, health probes, status page, the versioned API and its
docs."""

from django.contrib import admin
from django.urls import converters, include, path, register_converter
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from common import problems
from health import views as health_views
from observability.metrics import metrics_view
from pages import views as pages_views


class AnyPathConverter(converters.PathConverter):
    """`path`, newlines included (its ".+" stops at one, so /api/a%0Ab/ fell through to
    Django's HTML 404 instead of the API's problem)."""

    regex = r"[\s\S]+"


register_converter(AnyPathConverter, "anypath")

admin.site.site_header = "IntelliFlow CRM administration"
admin.site.site_title = "IntelliFlow CRM"
admin.site.index_title = "Leads and users"
# No app list beside every page: at 1366 px it took the room the lead changelist's columns need
# (the breadcrumbs and the index lead everywhere it did).
admin.site.enable_nav_sidebar = False

urlpatterns = [
    path("", pages_views.home, name="home"),  # also the admin's "View site"
    path("admin/", admin.site.urls),
    path("health/", include("health.urls")),
    path("status/", health_views.status_page, name="status"),
    path("metrics", metrics_view, name="metrics"),
    path("metrics/", metrics_view),
    path("api/v1/", include("leads.api.urls")),
    path("api/v1/auth/", include("accounts.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    # Last: unknown URLs under the machine prefixes are problems, not Django's HTML 404.
    path("api/<anypath:path>", problems.not_found),
    path("health/<anypath:path>", problems.not_found),
    path("metrics/<anypath:path>", problems.not_found),
]

handler400 = "common.problems.bad_request"
handler404 = "common.problems.page_not_found"
handler500 = "common.problems.server_error"
