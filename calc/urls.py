from django.urls import path

from cloudsite.toolpages import job_paths

from . import views

app_name = "calc"
urlpatterns = [
    *job_paths(views.submit, views.job_page, views.job_status),
    path("jobs/<uuid:job_id>/log", views.job_log, name="log"),
]
