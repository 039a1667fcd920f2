"""Reading manifests as kubectl does: files, directories of them, or `-` (kustomize output on stdin)."""

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ecs_scheduler.model import names

SUFFIXES = (".yaml", ".yml", ".json")


@dataclass(frozen=True)
class Document:
    """One YAML document of a file: `index` counts from 1, as editors count lines."""

    source: str
    index: int
    body: Any
    error: str | None = None
    """Why the document could not be read (it is then None)."""

    @property
    def where(self) -> str:
        return f"{self.source}:{self.index}"

    @property
    def kind(self) -> str | None:
        if not isinstance(self.body, dict):
            return None
        group = str(self.body.get("apiVersion", "")).split("/", 1)[0]
        return str(self.body.get("kind")) if group == names.GROUP else None


def _files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.suffix in SUFFIXES and p.is_file())
    return [path]


def _documents(source: str, text: str) -> Iterator[Document]:
    index = 0
    try:
        for body in yaml.safe_load_all(text):
            if body is None:
                continue  # an empty document (a leading `---`) is not counted, as kubectl skips it
            index += 1
            # A `kind: List` (kubectl get -o yaml) holds the documents as items.
            items = body.get("items") if isinstance(body, dict) and body.get("kind") == "List" else None
            for item in items if isinstance(items, list) else [body]:
                yield Document(source, index, item)
    except yaml.YAMLError as error:
        yield Document(source, index + 1, None, f"yaml: {' '.join(str(error).split())}")


def read(paths: list[str]) -> Iterator[Document]:
    """Every document of every path, in order; `-` is standard input."""
    for given in paths:
        if given == "-":
            yield from _documents("<stdin>", sys.stdin.read())
            continue
        for file in _files(Path(given)):
            try:
                text = file.read_text()
            except OSError as error:
                yield Document(str(file), 1, None, f"cannot read: {error.strerror or error}")
                continue
            yield from _documents(str(file), text)
