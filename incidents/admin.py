from __future__ import annotations

from django.contrib import admin

from incidents.models import Category, Service, Team


class CategoryInline(admin.TabularInline):
    model = Category
    extra = 0


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "tier", "next_tier", "lead", "email"]
    list_filter = ["tier"]
    list_select_related = ["next_tier", "lead"]
    search_fields = ["name", "email"]
    autocomplete_fields = ["next_tier", "lead"]
    filter_horizontal = ["members"]
    inlines = [CategoryInline]


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "team"]
    list_filter = ["team"]
    list_select_related = ["team"]
    search_fields = ["name", "description"]


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    list_display = ["name", "team", "is_public"]
    list_filter = ["is_public", "team"]
    list_select_related = ["team"]
    search_fields = ["name", "description"]
