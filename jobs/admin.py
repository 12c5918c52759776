"""Admin pieces every job model shares: a read-only history browser."""

import uuid

from django.contrib import admin, messages
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html


class JobAdmin(admin.ModelAdmin):
    # Narrow columns, so that a tool's own ones still fit at 1280 px: the id's first block
    # (the full id is on the job's page and is what search takes), the worker's host.
    list_display = ["short_id", "status", "created", "turnaround", "run_time", "short_worker"]
    list_display_links = ["short_id"]
    list_filter = ["status", ("created_at", admin.DateFieldListFilter)]
    search_fields = ["id"]
    date_hierarchy = "created_at"
    ordering = ["-created_at"]
    list_per_page = 50
    common_fields = ["id", "status", "owner", "user", "created_at", "sent_at", "sends", "retries",
                     "last_error", "started_at", "finished_at", "turnaround", "run_time",
                     "worker", "error"]
    actions = ["requeue", "cancel"]

    def has_add_permission(self, request):
        return False

    def get_fields(self, request, obj=None):
        # A tool with no admin of its own (jobs/apps.py) shows its request and result.
        if self.fields is None:
            return [*self.common_fields, *self.model.request_fields, *self.model.result_fields]
        return super().get_fields(request, obj)

    def get_readonly_fields(self, request, obj=None):
        return [field for field in self.get_fields(request, obj)]

    def get_search_results(self, request, queryset, search_term):
        # Ids are UUIDs: match a whole id exactly, in any spelling, rather than by substring.
        term = search_term.strip()
        if not term:
            return queryset, False
        try:
            return queryset.filter(pk=uuid.UUID(term)), False
        except ValueError:
            return queryset.filter(pk__startswith=term.replace("-", "").lower()), False

    @admin.action(description="Requeue: send the selected jobs to a worker again")
    def requeue(self, request, queryset):
        sent = sum(job.requeue() for job in queryset)
        unsent = queryset.count() - sent
        self.message_user(request, f"Requeued {sent} jobs.", messages.SUCCESS)
        if unsent:
            self.message_user(request, f"{unsent} jobs could not be sent now; the sweeper "
                              "will send them.", messages.WARNING)

    @admin.action(description="Cancel the selected jobs that are still queued")
    def cancel(self, request, queryset):
        cancelled = sum(job.cancel() for job in queryset)
        self.message_user(request, f"Cancelled {cancelled} of {queryset.count()} jobs "
                          "(only queued ones can be).", messages.SUCCESS)

    @admin.display(description="id", ordering="id")
    def short_id(self, job):
        return format_html('<span title="{}">{}…</span>', job.id, str(job.id)[:8])

    @admin.display(description="created", ordering="created_at")
    def created(self, job):
        return date_format(timezone.localtime(job.created_at), "M j, H:i:s")

    @admin.display(description="worker", ordering="worker")
    def short_worker(self, job):
        if len(job.worker) <= 24:
            return job.worker
        return format_html('<span title="{}">{}…</span>', job.worker, job.worker[:23])

    @admin.display(description="turnaround")
    def turnaround(self, job):
        """Submitted to finished: what the user waited, queues included."""
        value = job.turnaround
        return f"{value.total_seconds():.2f} s" if value else "—"

    @admin.display(description="run time")
    def run_time(self, job):
        """Started to finished on the worker: the job's own work."""
        value = job.run_time
        return f"{value.total_seconds() * 1000:.0f} ms" if value else "—"

    def stored_object(self, job, key: str, is_own: bool, url_name: str):
        """A link to one of the job's stored objects, served only if its key is the job's
        own: a row stored by an older version may name anything."""
        if not key:
            return "—"
        if not is_own:
            return f"{key} (not this job's key; not served)"
        return self.link(reverse(url_name, args=[job.id]), key)

    @staticmethod
    def link(url: str, text: str):
        return format_html('<a href="{}" target="_blank" rel="noopener">{}</a>', url, text)
