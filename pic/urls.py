from django.urls import path

from cloudsite.toolpages import job_paths

from . import views

app_name = "pic"
urlpatterns = [
    *job_paths(views.submit, views.job_page, views.job_status),
    path("jobs/<uuid:job_id>/original", views.original, name="original"),
    path("jobs/<uuid:job_id>/result", views.result, name="result"),
    path("jobs/<uuid:job_id>/thumbnail/<str:which>", views.thumbnail, name="thumbnail"),
]
