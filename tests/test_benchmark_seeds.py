"""The benchmarks seed the incident table with raw SQL, for speed; these checks keep
their column lists in step with the model, since CI does not run the benchmarks."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings

from incidents.models import Incident

SEEDED = ["benchmarks/console.py", "benchmarks/sla_sweep.py"]


def _inserted_columns(path: str) -> set[str]:
    text = (Path(settings.BASE_DIR) / path).read_text()
    found = re.search(r"INSERT INTO incidents_incident \((.*?)\)\s*SELECT", text, re.S)
    assert found, f"{path}: no INSERT INTO incidents_incident"
    return {column.strip() for column in found.group(1).split(",")}


@pytest.mark.parametrize("path", SEEDED)
def test_benchmark_seed_fills_every_required_column(path: str) -> None:
    required = {
        field.column
        for field in Incident._meta.concrete_fields
        if not field.null and not field.primary_key
    }
    assert required - _inserted_columns(path) == set()


@pytest.mark.parametrize("path", SEEDED)
def test_benchmark_seed_names_only_real_columns(path: str) -> None:
    columns = {field.column for field in Incident._meta.concrete_fields}
    assert _inserted_columns(path) - columns == set()


def test_knowledge_base_seed_fills_every_required_article_column() -> None:
    from kb.models import Article

    text = (Path(settings.BASE_DIR) / "benchmarks/kb.py").read_text()
    found = re.search(r"INSERT INTO kb_article \((.*?)\)\s*SELECT", text, re.S)
    assert found
    inserted = {column.strip() for column in found.group(1).split(",")}
    columns = {field.column for field in Article._meta.concrete_fields}
    required = {
        field.column
        for field in Article._meta.concrete_fields
        if not field.null and not field.primary_key
    }
    assert required - inserted == set()
    assert inserted - columns == set()
