"""Forms of the knowledge base. They validate input only; every write is a service
call in the views."""

from __future__ import annotations

from typing import Any

from django import forms

from incidents.models import Category, Problem, Service, Team
from incidents.portal.forms import FilesForm
from kb.models import Article


def _blank(choices: list[tuple[Any, str]], label: str = "Any") -> list[tuple[Any, str]]:
    return [("", label), *choices]


class ArticleFilterForm(forms.Form):
    """The list's search and filters, from the query string."""

    q = forms.CharField(label="Search", required=False, max_length=200)
    kind = forms.ChoiceField(choices=_blank(Article.Kind.choices), required=False)
    service = forms.ModelChoiceField(
        queryset=Service.objects.order_by("name"), required=False, empty_label="Any"
    )
    category = forms.ModelChoiceField(
        queryset=Category.objects.order_by("name"), required=False, empty_label="Any"
    )
    status = forms.ChoiceField(
        label="State", choices=_blank(Article.Status.choices), required=False
    )


class PortalSearchForm(forms.Form):
    q = forms.CharField(label="Search help articles", required=False, max_length=200)


class ArticleForm(forms.Form):
    """An article's text and details. The body's size limit is the service's."""

    title = forms.CharField(max_length=200)
    symptoms = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text="What people see, in their words: this is what searches find.",
    )
    body = forms.CharField(
        label="Text",
        widget=forms.Textarea(attrs={"rows": 14}),
        required=False,
        help_text="Markdown. HTML is shown as typed; pictures only from this "
        "article's files.",
    )
    kind = forms.ChoiceField(choices=Article.Kind.choices)
    audience = forms.ChoiceField(choices=Article.Audience.choices)
    owner_team = forms.ModelChoiceField(
        label="Owner team", queryset=Team.objects.order_by("name")
    )
    services = forms.ModelMultipleChoiceField(
        queryset=Service.objects.order_by("name"), required=False
    )
    categories = forms.ModelMultipleChoiceField(
        queryset=Category.objects.order_by("name"), required=False
    )
    problem = forms.ModelChoiceField(
        queryset=Problem.objects.order_by("-id"),
        required=False,
        help_text="For a known error: the problem it documents.",
    )
    revision = forms.IntegerField(widget=forms.HiddenInput, required=False)


class ArticleFilesForm(FilesForm):
    pass


class UseForm(forms.Form):
    kind = forms.ChoiceField(choices=[("applied", "Applied"), ("helped", "Helped")])
