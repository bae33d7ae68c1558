from django.contrib import admin

from dashboards.models import DigestSubscription


@admin.register(DigestSubscription)
class DigestSubscriptionAdmin(admin.ModelAdmin):
    list_display = ["user", "created_at", "last_week"]
    raw_id_fields = ["user"]
