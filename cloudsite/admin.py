"""Admin of the site's own model: API tokens (the job models' admin is jobs.admin)."""

from django.contrib import admin, messages
from django.template.response import TemplateResponse

from .models import ApiToken


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Create a token (its value is shown once, on the page after saving) or revoke one."""

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
        obj.raw_token = raw  # for response_add, this request only

    def response_add(self, request, obj, post_url_continue=None):
        """Show the new token on a page of its own, this once. Not in a message: messages
        travel in a cookie that is signed, not encrypted, and outlive the page."""
        raw = getattr(obj, "raw_token", None)
        if raw is None:
            return super().response_add(request, obj, post_url_continue)
        context = {**self.admin_site.each_context(request), "opts": self.opts, "token": obj,
                   "raw": raw, "title": "Your new API token"}
        response = TemplateResponse(request, "admin/cloudsite/apitoken/issued.html", context)
        response["Cache-Control"] = "private, no-store"
        return response

    @admin.action(description="Revoke the selected tokens")
    def revoke(self, request, queryset):
        revoked = sum(token.revoke() for token in queryset)
        self.message_user(request, f"Revoked {revoked} tokens.", messages.SUCCESS)
