from django.contrib import admin

from jobs.admin import JobAdmin
from jobs.numbers import for_people

from .models import CalcJob


@admin.register(CalcJob)
class CalcJobAdmin(JobAdmin):
    list_display = [*JobAdmin.list_display, "summary"]
    fields = [*JobAdmin.common_fields, "input_size", "numbers", "result", "log"]

    @admin.display(description="result")
    def summary(self, job):
        r = job.shown_result  # odd values stored by older versions come back as None
        if not r:
            return "—"
        def shown(name):
            return "?" if r[name] is None else for_people(r[name])
        return (f"n={r['count']} min={shown('min')} max={shown('max')} "
                f"mean={shown('mean')} median={shown('median')}")

    @admin.display(description="values")
    def input_size(self, job):
        return len(job.numbers)

    @admin.display(description="log file")
    def log(self, job):
        return self.stored_object(job, job.log_key, job.log_is_own, "calc:log")
