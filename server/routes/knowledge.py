"""Shared knowledge: uploaded runbooks with their provenance. An upload is screened (text that reads
like orders to an assistant or asks for secrets waits in quarantine for an admin); documents are
listed with who uploaded them and when, released by an admin, and deleted by an admin or their uploader."""

from __future__ import annotations

import asyncio
import hashlib
import io
import tempfile
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, HTTPException, Request, UploadFile
from fastapi import Path as PathParam

from tools.registry import Role

from ..auth import Principal, require
from ..compose import App
from ..deps import Running
from ..errors import error_response
from ..schemas import FORBIDDEN_CHARACTERS, DocumentOut, UploadOut, clean_text

router = APIRouter(tags=["knowledge"])
Viewer = Annotated[Principal, Depends(require(Role.VIEWER))]
Admin = Annotated[Principal, Depends(require(Role.ADMIN))]
DocumentId = Annotated[str, PathParam(pattern=r"^[0-9a-f\-]{36}$")]
NOT_FOUND = error_response("no such document")


def uploader(app: Running, principal: Annotated[Principal, Depends(require(Role.VIEWER))]) -> Principal:
    """Who may upload: the role ``DOCUMENT_UPLOAD_ROLE`` names (operator by default, or admin only)."""
    needed = Role(app.settings.document_upload_role)
    if not principal.at_least(needed):
        raise HTTPException(403, detail=f"uploading knowledge needs the {needed.value} role")
    return principal


Uploader = Annotated[Principal, Depends(uploader)]


TEXT_SUFFIXES = frozenset({".md", ".markdown", ".txt", ".text"})


def content_problem(suffix: str, data: bytes) -> str | None:
    """Why the bytes are not what the name says (checked by content, not by name), or None."""
    if suffix == ".pdf":
        return None if data.startswith(b"%PDF-") else "not a PDF file (no %PDF- header)"
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"not UTF-8 text (byte {exc.start})"
    try:
        clean_text(text)
    except ValueError as exc:
        return f"not plain text: {exc}"
    return None


def named_by_content(name: str, data: bytes) -> tuple[str, str]:
    """(name, suffix): a known suffix is kept; a name without one (or no name) gets the suffix its
    content shows — a PDF header, else text — so ``file`` becomes ``file.txt``. Content is checked after."""
    suffix = Path(name).suffix.lower()
    if name and suffix in {*TEXT_SUFFIXES, ".pdf"}:
        return name, suffix
    if name and suffix:  # another kind of file by its name (evil.exe): refused, not renamed
        return name, suffix
    guessed = ".pdf" if data.startswith(b"%PDF-") else ".txt"
    stem = name or f"upload-{hashlib.sha256(data).hexdigest()[:12]}"
    return f"{stem}{guessed}", guessed


def _save(folder: Path, name: str, data: bytes) -> Path:
    """Written atomically (temp file + rename) into the uploader's own folder: a re-upload replaces
    the uploader's earlier version, never another user's file of the same name."""
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=folder, delete=False, suffix=".part") as tmp:
        tmp.write(data)
    target = folder / name
    try:
        Path(tmp.name).replace(target)
    except OSError:
        Path(tmp.name).unlink(missing_ok=True)
        raise
    return target


def uploads_of(app: App, principal: Principal) -> Path:
    # a folder per identity, named by a hash (no two names meet, no name is a path)
    return Path(app.settings.data_dir) / "uploads" / hashlib.sha256(principal.name.encode()).hexdigest()[:16]


@router.post(
    "/api/v2/knowledge/documents",
    response_model=UploadOut,
    responses={
        403: error_response("the caller's role may not upload (DOCUMENT_UPLOAD_ROLE)"),
        415: error_response("not a .md, .txt or .pdf file by its name"),
        422: error_response("the content is not what the name says, or could not be ingested"),
    },
)
async def upload(
    request: Request,
    app: Running,
    principal: Uploader,
    file: Annotated[
        UploadFile | str, File(description="a .md, .txt or .pdf document (a nameless part is judged by content)")
    ],
) -> dict[str, Any]:
    extra = sorted(set((await request.form()).keys()) - {"file"})
    if extra:
        raise HTTPException(422, detail=f"unknown form field {', '.join(map(repr, extra))}: send only 'file'")
    if isinstance(file, str):  # a form part without a file name: the bytes decide what it is
        file = UploadFile(io.BytesIO(file.encode()), filename=None)
    name = Path(file.filename or "").name
    if FORBIDDEN_CHARACTERS.search(name):
        raise HTTPException(415, detail="the file name contains control characters")
    data = await file.read(app.settings.max_upload_bytes + 1)
    if len(data) > app.settings.max_upload_bytes:
        raise HTTPException(413, detail=f"documents are limited to {app.settings.max_upload_bytes} bytes")
    name, suffix = named_by_content(name, data)
    if suffix not in {*TEXT_SUFFIXES, ".pdf"}:
        raise HTTPException(415, detail="upload a .md, .txt or .pdf file")
    if len(name.encode()) > 200:
        raise HTTPException(422, detail="the file name is longer than 200 bytes")
    problem = content_problem(suffix, data)
    if problem:  # the bytes are not what the name says: unprocessable as a document
        raise HTTPException(422, detail=f"{name}: {problem}")
    target = await asyncio.to_thread(_save, uploads_of(app, principal), name, data)
    try:
        report = await app.documents.ingest([target], uploaded_by=principal.name)
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    if report.skipped:
        target.unlink(missing_ok=True)
        raise HTTPException(422, detail=f"could not ingest {name}: {next(iter(report.skipped.values()))}")
    [doc] = await app.documents.sources(source=str(target.resolve()))
    return {
        "ingested": [name],
        "unchanged": [name] if report.unchanged else [],
        "chunks": report.chunks,
        "document": doc,
    }


@router.get("/api/v2/knowledge/documents", response_model=list[DocumentOut])
async def list_documents(
    app: Running, principal: Viewer, status: Literal["active", "quarantined", "all"] = "all"
) -> list[dict[str, Any]]:
    """Every document with who uploaded it and when; ``status=quarantined`` for those waiting for an admin."""
    return await app.documents.sources(None if status == "all" else status)


@router.post(
    "/api/v2/knowledge/documents/{doc_id}/release",
    response_model=DocumentOut,
    responses={404: NOT_FOUND, 409: error_response("not in quarantine")},
)
async def release(app: Running, doc_id: DocumentId, principal: Admin) -> dict[str, Any]:
    """An admin read the quarantined document: it may be retrieved from now on."""
    released = await app.documents.release(doc_id, principal.name)
    if released is not None:
        return released
    if await app.documents.source(doc_id) is None:
        raise HTTPException(404, detail=f"no document {doc_id}")
    raise HTTPException(409, detail=f"document {doc_id} is not in quarantine")


@router.delete(
    "/api/v2/knowledge/documents/{doc_id}",
    response_model=DocumentOut,
    responses={403: error_response("neither an admin nor the uploader"), 404: NOT_FOUND},
)
async def delete(app: Running, doc_id: DocumentId, principal: Viewer) -> dict[str, Any]:
    """Removed with its passages: by an admin, or by the operator who uploaded it."""
    doc = await app.documents.source(doc_id)
    if doc is None:
        raise HTTPException(404, detail=f"no document {doc_id}")
    if not principal.at_least(Role.ADMIN) and not (
        principal.at_least(Role.OPERATOR) and doc["uploaded_by"] == principal.name
    ):
        raise HTTPException(403, detail="only an admin or the document's uploader may delete it")
    removed = await app.documents.delete(doc_id)
    if removed is None:
        raise HTTPException(404, detail=f"no document {doc_id}")
    return removed
