from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from accounts.views import set_language
from core.views import healthz


class FaviconRedirect(RedirectView):
    """The icon's static URL is looked up per request: with the hashed-name storage of production
    the manifest exists only after ``collectstatic``, not when the URLconf is imported."""

    def get_redirect_url(self, *args, **kwargs):
        return static("favicon.svg")


urlpatterns = [
    path("", include("accounts.urls")),
    path("healthz", healthz, name="healthz"),
    # Browsers and feed readers ask for /favicon.ico whatever the page's <link rel="icon"> says.
    path("favicon.ico", FaviconRedirect.as_view(permanent=True)),
    path("i18n/setlang/", set_language, name="set_language"),
    path("admin/", admin.site.urls),
    # REST API and its OpenAPI schema.
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    path("api/incidents/", include("incidents.api_urls")),
    path("api/telemetry/", include("telemetry.api_urls")),
    path("api/sla/", include("sla.api_urls")),
    path("api/merchants/", include("merchants.api_urls")),
    path("api/claims/", include("claims.api_urls")),
    path("api/finance/", include("settlements.api_urls")),
    # Server-rendered pages: staff console, merchant portal, finance.
    path("console/incidents/", include("incidents.urls")),
    path("console/sla/", include("sla.urls")),
    path("console/claims/", include("claims.urls.console")),
    path("portal/", include("claims.urls.portal")),
    path("finance/", include("settlements.urls")),
]
