"""``python -m features`` prints the feature catalog (docs/features.md) generated from the code."""

from features.catalog import catalog_markdown

print(catalog_markdown(), end="")
