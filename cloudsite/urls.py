from django.contrib import admin
from django.urls import include, path

from workers import dashboard

from . import health, views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", health.healthz, name="healthz"),
    path("calc/", include("calc.urls")),
    path("pic/", include("pic.urls")),
    path("admin/queues/", dashboard.queues, name="admin-queues"),
    path("admin/", admin.site.urls),
]
