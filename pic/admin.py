from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from jobs.admin import JobAdmin
from jobs.numbers import for_people

from .models import PicJob


@admin.register(PicJob)
class PicJobAdmin(JobAdmin):
    # Few, narrow columns: with the admin's sidebar and filters they fit at 1280 px.
    list_display = ["thumbs", *JobAdmin.list_display, "photo"]
    list_display_links = ["short_id"]
    list_filter = [*JobAdmin.list_filter, "format"]
    search_fields = ["id"]
    fields = [*JobAdmin.common_fields, "original_name", "format", "dimensions", "size",
              "strength_percent", "original_link", "result_link", "metrics_table"]

    def thumb(self, job, which: str):
        # A small stored JPEG (pic/thumbnails.py), not the photo itself.
        url = reverse("pic:thumbnail", args=[job.id, which])
        return format_html('<img class="thumb" src="{}" alt="" loading="lazy">', url)

    @admin.display(description="original → result")
    def thumbs(self, job):
        return format_html(
            '<span class="thumbs">{} {}</span>',
            self.thumb(job, "original") if job.original_is_own else "—",
            self.thumb(job, "result") if job.result_is_own else "—")

    @admin.display(description="photo")
    def photo(self, job):
        return f"{self.strength_percent(job)} · {self.dimensions(job)}"

    @admin.display(description="strength")
    def strength_percent(self, job):
        return f"{job.strength * 100:.0f}%"

    @admin.display(description="size in pixels")
    def dimensions(self, job):
        return f"{job.width} × {job.height} ({job.megapixels:.1f} MP)"

    @admin.display(description="original")
    def original_link(self, job):
        return self.link(reverse("pic:original", args=[job.id]), job.image_key)

    @admin.display(description="result")
    def result_link(self, job):
        return self.stored_object(job, job.result_key, job.result_is_own, "pic:result")

    @admin.display(description="metrics")
    def metrics_table(self, job):
        rows = job.metric_rows()
        if not rows:
            return "—"
        body = format_html_join(
            "", "<tr><th>{}</th><td>{}</td><td>{}</td></tr>",
            ((row["name"], for_people(row["before"]), for_people(row["after"])) for row in rows))
        return format_html("<table><tr><th></th><th>before</th><th>after</th></tr>{}</table>",
                           body)
