"""Attachments: checked on their content (not their name), stored under instance/attachments/."""
import secrets
from pathlib import Path

from flask import current_app

from app import filenames
from models import Attachment, now

# Sniffed from the first bytes: a renamed .exe is not a photo.
SIGNATURES = (
    (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
    (b"%PDF-", "application/pdf", ".pdf"),
)
DOCX = ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", ".docx")


class RefusedUpload(ValueError):
    """The file is too large or of a kind not accepted; the message says which."""


class Upload:
    def __init__(self, filename, content, content_type, suffix):
        self.filename, self.content, self.content_type, self.suffix = filename, content, content_type, suffix

    def save_for(self, ticket, event, user):
        folder = storage_dir()
        stored = secrets.token_hex(16) + self.suffix
        (folder / stored).write_bytes(self.content)
        return Attachment.create(ticket=ticket, event=event, filename=self.filename, stored_name=stored,
                                 content_type=self.content_type, size=len(self.content), uploaded_by=user,
                                 created_at=now())


def storage_dir():
    folder = Path(current_app.config["INSTANCE_PATH"]) / "attachments"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def path_of(attachment):
    return storage_dir() / attachment.stored_name


def sniff(content):
    for signature, content_type, suffix in SIGNATURES:
        if content.startswith(signature):
            return content_type, suffix
    if content.startswith(b"PK\x03\x04") and b"word/" in content[:4096] and b"[Content_Types].xml" in content:
        return DOCX
    return None


def check_upload(file):
    limit = current_app.config["ATTACHMENT_MAX_BYTES"]
    content = file.stream.read(limit + 1)
    if len(content) > limit:
        raise RefusedUpload(f"附件不能超过 {limit // (1024 * 1024)} MB。")
    if not content:
        raise RefusedUpload("附件是空文件。")
    kind = sniff(content)
    if kind is None:
        raise RefusedUpload("只接受 JPG、PNG 图片，PDF 文件和 Word（.docx）文档。")
    name = filenames.plain(Path(file.filename or "").name, "附件")[:150]
    return Upload(name, content, kind[0], kind[1])
