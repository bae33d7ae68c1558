from django.apps import AppConfig


class KbConfig(AppConfig):
    """The knowledge base: articles and known errors that triage suggests."""

    name = "kb"
    verbose_name = "Knowledge base"
