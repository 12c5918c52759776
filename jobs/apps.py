from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "jobs"
    verbose_name = "Jobs"

    def ready(self):
        # A tool app that brings no admin of its own gets the shared one: its job rows
        # are browsable like every other tool's. (Django's admin app is earlier in
        # INSTALLED_APPS, so every app's admin module has been imported by now.)
        from django.contrib import admin

        from . import tools
        from .admin import JobAdmin

        for tool in tools.installed():
            if not admin.site.is_registered(tool.model):
                admin.site.register(tool.model, JobAdmin)
