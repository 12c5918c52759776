from django.urls import path

from . import views

app_name = "thirdtool"
urlpatterns = [
    path("", views.submit, name="submit"),
    path("jobs/<uuid:job_id>/", views.job_page, name="job"),
]
