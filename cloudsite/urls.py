from importlib import import_module

from django.contrib import admin
from django.urls import include, path, re_path
from django.utils.module_loading import module_has_submodule

from jobs import tools

from . import dashboard, health, jobs_api, toolpages, views
from .api import api, unknown_route

api.add_router("/", jobs_api.router)
# A tool app with an `api` module serves its own endpoints at /api/v1/<app label>/.
for tool in tools.installed():
    if module_has_submodule(import_module(tool.app_module), "api"):
        api.add_router(f"/{tool.app_label}/", import_module(f"{tool.app_module}.api").router)

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    # Each installed tool at /<app label>/, in its URL namespace: its own pages, or the
    # site's generic ones (cloudsite/toolpages.py).
    *(path(f"{tool.app_label}/", include(toolpages.urls_of(tool))) for tool in tools.installed()),
    path("api/v1/", api.urls),
    re_path(r"^api/v1/(?P<rest>.*)$", unknown_route),
    path("admin/queues/", dashboard.queues, name="admin-queues"),
    path("admin/", admin.site.urls),
]
