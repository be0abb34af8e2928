"""Split documents into chunks with their source and heading: Markdown by headings, text by
paragraphs, PDF by pages (pypdf); long sections are cut on paragraph boundaries."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from tools.language import detect_language

MAX_CHARS = 1200
HEADING = re.compile(r"^(#{1,4})\s+(.+?)\s*#*\s*$")
PT_WORDS = {
    "de",
    "que",
    "nao",
    "para",
    "com",
    "uma",
    "os",
    "as",
    "do",
    "da",
    "em",
    "se",
    "por",
    "como",
    "quando",
    "job",
    "esta",
    "sao",
    "voce",
}
EN_WORDS = {
    "the",
    "and",
    "of",
    "to",
    "is",
    "for",
    "with",
    "a",
    "in",
    "when",
    "it",
    "this",
    "you",
    "be",
    "are",
    "on",
    "not",
}
SUPPORTED = {".md", ".markdown", ".txt", ".text", ".pdf"}


@dataclass(frozen=True)
class Chunk:
    position: int
    heading: str
    content: str
    language: str


def text_language(text: str) -> str:
    """``pt`` or ``en`` by common words (enough to pick the full-text dictionary)."""
    return detect_language(text, PT_WORDS, EN_WORDS)


def _pieces(text: str) -> list[str]:
    """Cut text on blank lines into pieces of at most MAX_CHARS (a huge paragraph is cut hard)."""
    pieces, current = [], ""
    for paragraph in re.split(r"\n\s*\n", text.strip()):
        while len(paragraph) > MAX_CHARS:
            pieces.append(paragraph[:MAX_CHARS])
            paragraph = paragraph[MAX_CHARS:]
        if current and len(current) + len(paragraph) + 2 > MAX_CHARS:
            pieces.append(current)
            current = ""
        current = f"{current}\n\n{paragraph}" if current else paragraph
    if current.strip():
        pieces.append(current)
    return [p.strip() for p in pieces if p.strip()]


def markdown_sections(text: str) -> list[tuple[str, str]]:
    """(heading path, body) for each section; the path joins the enclosing headings with " > "."""
    sections: list[tuple[str, str]] = []
    stack: list[str] = []
    body: list[str] = []

    def flush() -> None:
        content = "\n".join(body).strip()
        if content:
            sections.append((" > ".join(stack), content))
        body.clear()

    in_code = False
    for line in text.splitlines():
        if line.strip().startswith("```"):
            in_code = not in_code
        match = None if in_code else HEADING.match(line)
        if match:
            flush()
            level = len(match.group(1))
            stack = [*stack[: level - 1], match.group(2)]
        else:
            body.append(line)
    flush()
    return sections


def read_sections(path: Path) -> tuple[str, list[tuple[str, str]]]:
    """The document's title and its sections."""
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        from pypdf import PdfReader

        reader = PdfReader(str(path))
        pages = [(f"page {i}", page.extract_text() or "") for i, page in enumerate(reader.pages, start=1)]
        title = (reader.metadata.title if reader.metadata and reader.metadata.title else path.stem) or path.stem
        return str(title), [(h, t) for h, t in pages if t.strip()]
    text = path.read_text(encoding="utf-8", errors="replace")
    if suffix in {".md", ".markdown"}:
        sections = markdown_sections(text)
        title = sections[0][0].split(" > ")[0] if sections and sections[0][0] else path.stem
        return title, sections
    return path.stem, [("", text)]


def chunk_sections(sections: list[tuple[str, str]]) -> list[Chunk]:
    chunks: list[Chunk] = []
    for heading, body in sections:
        for piece in _pieces(body):
            chunks.append(Chunk(len(chunks), heading, piece, text_language(f"{heading}\n{piece}")))
    return chunks
