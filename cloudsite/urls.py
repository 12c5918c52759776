from django.contrib import admin
from django.urls import include, path

import calc.api
import pic.api
from workers import dashboard
from workers.api import api

from . import views

api.add_router("/calc/", calc.api.router)
api.add_router("/pic/", pic.api.router)

urlpatterns = [
    path("", views.home, name="home"),
    path("calc/", include("calc.urls")),
    path("pic/", include("pic.urls")),
    path("api/v1/", api.urls),
    path("admin/queues/", dashboard.queues, name="admin-queues"),
    path("admin/", admin.site.urls),
]
