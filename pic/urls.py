from django.urls import path

from . import views

app_name = "pic"
urlpatterns = [
    path("", views.submit, name="submit"),
    path("jobs/<uuid:job_id>/", views.job_page, name="job"),
    path("jobs/<uuid:job_id>/status", views.job_status, name="status"),
    path("jobs/<uuid:job_id>/original", views.original, name="original"),
    path("jobs/<uuid:job_id>/result", views.result, name="result"),
    path("jobs/<uuid:job_id>/thumbnail/<str:which>", views.thumbnail, name="thumbnail"),
]
