from django.contrib import admin
from django.urls import include, path

from workers import dashboard, tools

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    # Each installed tool app at /<app label>/, its URL namespace.
    *(path(f"{tool.app_label}/", include(tool.urls)) for tool in tools.installed()),
    path("admin/queues/", dashboard.queues, name="admin-queues"),
    path("admin/", admin.site.urls),
]
