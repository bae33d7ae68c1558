from django.apps import AppConfig


class ReviewsConfig(AppConfig):
    """Post-incident reviews, their root cause analysis and action items."""

    name = "reviews"
    verbose_name = "Post-incident reviews"
