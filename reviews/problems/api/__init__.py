"""The problems API, under ``/api/v1/problems/``."""
