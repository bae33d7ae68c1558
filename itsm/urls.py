"""URLs. ``/healthz`` and ``/readyz`` are answered by ``itsm.health``'s middleware."""

from csp.decorators import csp_update
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from itsm import views

# Errors outside a view's own handling: JSON under /api/, Django's pages elsewhere.
handler400 = "itsm.errors.bad_request"
handler403 = "itsm.errors.permission_denied"
handler404 = "itsm.errors.page_not_found"
handler500 = "itsm.errors.server_error"

admin.site.site_header = "ITSM administration"
admin.site.site_title = "ITSM admin"

urlpatterns = [
    path("", views.home, name="home"),
    path(
        "login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    # The status page first: its console pages sit under console/status/.
    path("", include("incidents.status.urls")),
    path("", include("incidents.urls")),
    path("", include("kb.urls")),
    path("", include("reviews.urls")),
    path("", include("dashboards.urls")),
    path("problems/", include("reviews.problems.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include(("incidents.api.urls", "api"))),
    path("api/v1/kb/", include(("kb.api.urls", "kb-api"))),
    path("api/v1/", include(("reviews.api.urls", "reviews-api"))),
    path("api/v1/dashboards/", include("dashboards.api.urls")),
    path("api/v1/problems/", include(("reviews.problems.api.urls", "problems-api"))),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path(
        "api/docs/",
        # The page and its script as two responses: no inline script under the
        # CSP. Swagger UI draws its icons from data: URLs, allowed here alone.
        csp_update({"img-src": ["data:"]})(
            SpectacularSwaggerSplitView.as_view(url_name="api-schema")
        ),
        name="api-docs",
    ),
]
