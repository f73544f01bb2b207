"""Routes of the leads API, mounted under /api/v1/."""

from rest_framework.routers import DefaultRouter

from leads.api.views import LeadViewSet

# use_regex_path=False: path converters instead of regexes, so no "$" leaks into route names.
router = DefaultRouter(use_regex_path=False)
router.include_format_suffixes = False  # one representation per URL: no /leads.json twins
router.register("leads", LeadViewSet, basename="lead")

urlpatterns = router.urls
