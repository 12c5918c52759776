from django.contrib import admin
from django.urls import reverse

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
        if not job.log_key:
            return "—"
        if not job.log_is_own:  # stored by an older version; never served
            return f"{job.log_key} (not this job's key; not served)"
        return self.link(reverse("calc:log", args=[job.id]), job.log_key)
