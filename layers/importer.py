"""Import preview: everything PlanAtlas would make of a plan file, before anything is written.

``preview_plan(path_or_bytes)`` reads a plan (text in UTF-8/UTF-16/GB18030, a text PDF via
``pypdf``, a ``.docx`` via ``python-docx``), and returns a :class:`PlanPreview`: detected encoding
and kind, title, issuer, issue date, period (with its evidence, or ``period_required``), region
guesses from the administrative names in the text, the clause tree, the targets, and every place
the recogniser finds with how it would be located.  The GUI's import dialog shows it and lets
the user correct the guesses; ``catalog.import_plan`` stores the corrected plan.

Bad input raises :class:`InputError` and writes nothing: empty, binary, undecodable,
structureless, a scanned PDF (no text layer), an encrypted PDF, an old ``.doc``, or a file larger
than :data:`MAX_BYTES`.
"""
from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from .errors import Cancelled, InputError
from .locate import Location, locate_all, region_unit
from .model import Plan, Region
from .period import PeriodGuess, infer_period
from .plan import guess_title, parse_plan_text
from .recognise import PlaceMention, recognise_plan, warm_up
from .text import decode, split_lines

__all__ = ["MAX_BYTES", "SourceText", "read_source", "PlanPreview", "preview_plan", "guess_issuer"]

MAX_BYTES = 20 * 1024 * 1024         # the longest real plan is well under 1 MB of text
MIN_CHARS_PER_PAGE = 20              # a PDF page with less extracted text is a scan


@dataclass
class SourceText:
    text: str
    encoding: str                    # utf-8 | utf-8-sig | utf-16 | gb18030 | pdf-text | docx
    kind: str                        # text | pdf | docx
    name: str
    pages: int | None = None
    data: bytes = b""                # the original bytes of a text file (stored unchanged on import)


def _size_check(size: int, name: str) -> None:
    if size > MAX_BYTES:
        raise InputError(f"{name}: {size / 1e6:.1f} MB is more than a plan text can be "
                         f"({MAX_BYTES // (1024 * 1024)} MB at most); is this the right file?")


def read_source(source: str | Path | bytes, name: str | None = None) -> SourceText:
    """The text of a plan file (bytes or a path); :class:`InputError` for what cannot be read."""
    if isinstance(source, (bytes, bytearray)):
        data, name = bytes(source), name or "<bytes>"
        _size_check(len(data), name)
    else:
        path = Path(source)
        name = name or str(path)
        try:
            _size_check(path.stat().st_size, name)
            data = path.read_bytes()
        except FileNotFoundError:
            raise InputError(f"{name}: no such file") from None
        except IsADirectoryError:
            raise InputError(f"{name}: is a folder, not a plan file") from None
        except OSError as exc:
            raise InputError(f"{name}: cannot read ({exc.strerror})") from None
    if data.startswith(b"%PDF-"):
        return _read_pdf(data, name)
    if data.startswith(b"PK\x03\x04"):
        return _read_docx(data, name)
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise InputError(f"{name}: an old Word .doc (or other OLE) file; save it as .docx or plain text first")
    if data.startswith((b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"II*\x00", b"MM\x00*")):
        raise InputError(f"{name}: an image, not a plan text; a scanned plan needs OCR first")
    text, encoding = decode(data, name)
    return SourceText(text, encoding, "text", name, data=data)


def _read_pdf(data: bytes, name: str) -> SourceText:
    try:
        from pypdf import PdfReader
        from pypdf.errors import PdfReadError
    except ImportError:                      # pragma: no cover - pypdf is a dependency
        raise InputError(f"{name}: a PDF; install pypdf to read PDF plans, or save the plan as text") from None
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise InputError(f"{name}: the PDF is encrypted; save an unprotected copy or the text")
        pages = [page.extract_text() or "" for page in reader.pages]
    except InputError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise InputError(f"{name}: not a readable PDF ({exc})") from None
    text = "\n".join(pages)
    visible = len(re.sub(r"\s+", "", text))
    if not pages or visible < MIN_CHARS_PER_PAGE * len(pages):
        raise InputError(f"{name}: a scanned PDF — {len(pages)} page(s) but only {visible} characters of text; "
                         "it has no text layer, so run OCR first or import the plan's text")
    return SourceText(text, "pdf-text", "pdf", name, pages=len(pages))


def _read_docx(data: bytes, name: str) -> SourceText:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            if "word/document.xml" not in z.namelist():
                raise InputError(f"{name}: a ZIP archive, not a Word .docx or plan text")
    except zipfile.BadZipFile:
        raise InputError(f"{name}: a damaged ZIP/.docx file") from None
    try:
        import docx
    except ImportError:                      # pragma: no cover - python-docx is a dependency
        raise InputError(f"{name}: a .docx; install python-docx to read Word plans, or save as text") from None
    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:                 # python-docx raises several types for broken files
        raise InputError(f"{name}: not a readable .docx ({exc})") from None
    lines = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            cells = []
            for cell in row.cells:
                if not cells or cell.text != cells[-1]:      # merged cells repeat their text
                    cells.append(cell.text.strip())
            lines.append("\t".join(cells))
    text = "\n".join(lines)
    if not text.strip():
        raise InputError(f"{name}: the Word file has no text")
    return SourceText(text, "docx", "docx", name)


# ---------------------------------------------------------------- metadata guesses
DATE_LINE = re.compile(r"^\s*(20\d\d)\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日\s*$")
ISSUER = re.compile(r"(人民政府(?:办公室|办公厅)?|政府办公室|办公厅|委员会|局|厅|管委会|指挥部|办公室|领导小组)$")
DOC_NUMBER = re.compile(r"([\u4e00-\u9fff]{1,6})〔(20\d\d)〕\d+号")


def guess_issuer(lines: list[str]) -> tuple[str, str]:
    """``(issuer, issued date)`` from the signature block (an organ's name above a date line) or
    the first line naming a government organ; empty strings when the text does not say."""
    for i, raw in enumerate(lines[:80]):
        m = DATE_LINE.match(raw.strip())
        if not m:
            continue
        date = f"{m.group(1)}-{int(m.group(2)):02d}-{int(m.group(3)):02d}"
        for j in range(i - 1, max(i - 3, -1), -1):
            prev = lines[j].strip()
            if prev and ISSUER.search(prev) and len(prev) <= 40:
                return prev, date
        return "", date
    for raw in lines[:10]:
        s = raw.strip()
        m = re.match(r"^([\u4e00-\u9fff]{2,20}?(?:人民政府办公室|人民政府办公厅|人民政府|办公厅|局|委员会))关于", s)
        if m and not re.search(r"^(?:为|根据|按照)|贯彻|落实", m.group(1)):
            return m.group(1), ""
    return "", ""


@dataclass
class FoundPlace:
    mention: PlaceMention
    location: Location

    def to_dict(self) -> dict:
        d = self.mention.to_dict()
        d["location"] = self.location.to_dict()
        return d


@dataclass
class PlanPreview:
    source: str
    kind: str                              # text | pdf | docx
    encoding: str
    title: str
    issuer: str
    issued: str
    period: PeriodGuess | None
    period_required: bool                  # nothing in the text says the period: ask the user
    regions: list[dict]                    # ranked guesses (admin.guess_region)
    region: Region                         # the one used for locating (given, else the best guess)
    plan: Plan                             # clause tree and targets (period placeholder if unknown)
    places: list[FoundPlace] = field(default_factory=list)
    text: str = ""

    @property
    def clauses(self):
        return self.plan.clauses

    @property
    def targets(self):
        return self.plan.targets

    def to_dict(self) -> dict:
        return {
            "source": self.source, "kind": self.kind, "encoding": self.encoding, "title": self.title,
            "issuer": self.issuer, "issued": self.issued,
            "period": self.period.to_dict() if self.period else None, "period_required": self.period_required,
            "regions": self.regions, "region": self.region.to_dict(),
            "clauses": [c.to_dict() for c in self.plan.clauses],
            "targets": [t.to_dict() for t in self.plan.targets],
            "places": [p.to_dict() for p in self.places],
        }


def _best_region(guesses: list[dict]) -> Region:
    if not guesses:
        return Region("", "", "", "")
    g = guesses[0]
    return Region(g["province"], g["city"], g["county"], g["adcode"])


def _stepper(progress, cancel):
    """``step(fraction, stage)``: report progress, raise Cancelled when asked to stop."""
    def step(fraction: float, stage: str) -> None:
        if cancel is not None and cancel():
            raise Cancelled(f"import preview cancelled ({stage})")
        if progress is not None:
            progress(min(1.0, max(0.0, fraction)), stage)
    return step


def preview_plan(source: str | Path | bytes, *, name: str | None = None, plan_id: str = "preview",
                 title: str | None = None, issuer: str | None = None, issued: str | None = None,
                 period: tuple[int, int] | None = None, region: Region | None = None,
                 features: list | None = None, progress=None, cancel=None) -> PlanPreview:
    """Read and analyse a plan file; nothing is written.  Given values override the guesses.

    ``progress(fraction, stage)`` is called as the work goes on (stages: ``read``, ``parse``,
    ``region``, ``segmenter``, ``places``, ``locate``); ``cancel()`` returning True stops it with
    :class:`~planatlas.layers.errors.Cancelled`."""
    step = _stepper(progress, cancel)
    step(0.0, "read")
    src = read_source(source, name)
    step(0.05, "parse")
    lines = split_lines(src.text)
    guessed_title = title or guess_title(lines)
    g_issuer, g_issued = guess_issuer(lines)
    issued = issued if issued is not None else g_issued
    pg = infer_period(src.text, guessed_title, int(issued[:4]) if issued[:4].isdigit() else None)
    if period is not None:
        pg = PeriodGuess(period[0], period[1], None, "given")
    step(0.1, "region")
    regions = _region_guesses(guessed_title, src.text)
    use_region = region or _best_region(regions)
    step(0.15, "parse")
    plan = parse_plan_text(src.text, plan_id, encoding=src.encoding, path=src.name, title=guessed_title,
                           issuer=issuer if issuer is not None else g_issuer, issued=issued,
                           period=pg.as_tuple() if pg else (0, 0), region=use_region, origin="user")
    preview = PlanPreview(source=src.name, kind=src.kind, encoding=src.encoding, title=plan.title,
                          issuer=plan.issuer, issued=plan.issued, period=pg, period_required=pg is None,
                          regions=regions, region=use_region, plan=plan, text=src.text)
    preview.places = found_places(plan, features, progress=lambda f, st: step(0.2 + 0.8 * f, st),
                                  cancel=cancel)
    return preview


def _region_guesses(title: str, text: str) -> list[dict]:
    from .admin import guess_region
    return guess_region(title, text)


def found_places(plan: Plan, features: list | None = None, *, progress=None,
                 cancel=None) -> list[FoundPlace]:
    """The recognised places of ``plan`` with how each would be located (see :mod:`locate`);
    ``progress(fraction, stage)`` and ``cancel()`` as in :func:`preview_plan`."""
    step = _stepper(progress, cancel)
    if features is None:
        from .gazetteer import load_features
        features = load_features()
    step(0.0, "segmenter")
    warm_up()
    step(0.1, "places")
    mentions = recognise_plan(plan, progress=lambda f: step(0.1 + 0.8 * f, "places"), cancel=cancel)
    step(0.9, "locate")
    texts: dict[tuple[str, int | None], str] = {}
    for c in plan.clauses:
        texts[(c.id, None)] = c.text
        for i, n in enumerate(c.notes):
            texts[(c.id, i)] = n
    r = plan.region
    unit = region_unit(r.province, r.city, r.district, r.adcode)
    locations = locate_all(mentions, texts, features, unit)
    step(1.0, "locate")
    return [FoundPlace(m, loc) for m, loc in zip(mentions, locations)]
