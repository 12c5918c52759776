from django.urls import path

from . import views

app_name = "calc"
urlpatterns = [
    path("", views.submit, name="submit"),
    path("jobs/<uuid:job_id>/", views.job_page, name="job"),
    path("jobs/<uuid:job_id>/status", views.job_status, name="status"),
    path("jobs/<uuid:job_id>/log", views.job_log, name="log"),
]
