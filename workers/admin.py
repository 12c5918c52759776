"""Admin pieces every job model shares: a read-only history browser."""

import uuid

from django.contrib import admin, messages
from django.utils.html import format_html

from .tokens import ApiToken


class JobAdmin(admin.ModelAdmin):
    list_display = ["id", "status", "created_at", "turnaround", "run_time", "worker"]
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

    @staticmethod
    def link(url: str, text: str):
        return format_html('<a href="{}" target="_blank" rel="noopener">{}</a>', url, text)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Create a token (its value is shown once, in the message after saving) or revoke one."""

    list_display = ["hint", "name", "user", "created_at", "last_used_at", "revoked_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "user__username", "hint"]
    actions = ["revoke"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["user", "name"] if request.user.is_superuser else ["name"]
        return ["hint", "name", "user", "created_at", "last_used_at", "revoked_at"]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return ["hint", "user", "created_at", "last_used_at", "revoked_at"]

    def get_queryset(self, request):
        tokens = super().get_queryset(request)
        return tokens if request.user.is_superuser else tokens.filter(user=request.user)

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_staff

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_add_permission(self, request):
        return self.has_module_permission(request)

    def has_change_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_delete_permission(self, request, obj=None):
        return False  # revoke instead: the row says when and who, for the record

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        user = obj.user if request.user.is_superuser and obj.user_id else request.user
        token, raw = ApiToken.issue(user, obj.name)
        obj.pk, obj.digest, obj.hint = token.pk, token.digest, token.hint
        self.message_user(request, f"The new token for {user} is {raw} — copy it now; "
                          "it is shown this once and stored only as a hash.", messages.WARNING)

    @admin.action(description="Revoke the selected tokens")
    def revoke(self, request, queryset):
        revoked = sum(token.revoke() for token in queryset)
        self.message_user(request, f"Revoked {revoked} tokens.", messages.SUCCESS)
