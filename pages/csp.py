"""django-csp's middleware, with a fixed policy for what is not a page."""

from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.middleware import CSPMiddleware
from django.conf import settings

# For responses no browser renders as a page (the API's JSON, CSV exports): nothing may load,
# nothing may frame them. A constant, sent as the configured header (enforced or report-only).
NOT_A_PAGE_POLICY = "default-src 'none'; frame-ancestors 'none'"


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's CSPMiddleware (nonces, settings, decorators, exclusions) for HTML pages.

    Other responses get NOT_A_PAGE_POLICY without django-csp building its policy string from
    the settings (a tenth of a millisecond per thousand API calls is not worth a nonce-free
    policy that never applies to JSON), and the excluded prefixes (the probes and the scrape,
    settings.CONTENT_SECURITY_POLICY's EXCLUDE_URL_PREFIXES) get no header at all, as
    django-csp would do.
    """

    def __init__(self, get_response):
        super().__init__(get_response)
        config = getattr(settings, "CONTENT_SECURITY_POLICY", None)
        self.header = HEADER if config else HEADER_REPORT_ONLY
        config = config or getattr(settings, "CONTENT_SECURITY_POLICY_REPORT_ONLY", None) or {}
        self.excluded = tuple(config.get("EXCLUDE_URL_PREFIXES", ()))

    def process_response(self, request, response):
        if response.get("Content-Type", "").startswith("text/html"):
            return super().process_response(request, response)
        if not request.path_info.startswith(self.excluded) and self.header not in response:
            response[self.header] = NOT_A_PAGE_POLICY
        return response
