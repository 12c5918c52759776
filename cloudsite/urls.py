from importlib import import_module

from django.contrib import admin
from django.urls import include, path
from django.utils.module_loading import module_has_submodule

from workers import dashboard, tools
from workers.api import api

from . import health, views

# A tool app with an `api` module serves its router at /api/v1/<app label>/.
for tool in tools.installed():
    if module_has_submodule(import_module(tool.app_module), "api"):
        api.add_router(f"/{tool.app_label}/", import_module(f"{tool.app_module}.api").router)

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    # Each installed tool app at /<app label>/, its URL namespace.
    *(path(f"{tool.app_label}/", include(tool.urls)) for tool in tools.installed()),
    path("api/v1/", api.urls),
    path("admin/queues/", dashboard.queues, name="admin-queues"),
    path("admin/", admin.site.urls),
]
