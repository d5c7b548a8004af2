"""Print the README's config table from Pulumi.yaml (the single source of the keys).

`python -m tools.config_table` writes Markdown; tests/test_readme.py checks the README
carries exactly this table, so the documentation cannot drift from the program.
"""

from __future__ import annotations

import json

from components.reader import schema


def _default(value: object) -> str:
    if value is None:
        return "**required**"
    if value == "" or value == []:
        return "—"
    return f"`{json.dumps(value) if not isinstance(value, str) else value}`"


def config_table() -> str:
    """Markdown table: key, type, default, description."""
    lines = ["| key | type | default | description |", "| --- | --- | --- | --- |"]
    for key, spec in schema().items():
        type_ = f"{spec.item_type}[]" if spec.type == "array" else spec.type
        description = spec.description.replace("|", "\\|")
        lines.append(f"| `{key}` | {type_} | {_default(spec.default)} | {description} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(config_table())
