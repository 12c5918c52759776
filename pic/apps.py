from django.apps import AppConfig


class PicConfig(AppConfig):
    name = "pic"
    verbose_name = "CloudPic"
