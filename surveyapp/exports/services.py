"""A study's answers as files: ratings, open answers and a codebook in CSV, XLSX and SPSS.

Anonymity comes first. An expert appears only as a pseudonym (E001, E002, ...); no email,
member id or link token is ever written. A panel group is named only when enough experts
share it. Open answers carry no expert at all: free text can identify its author once it
is linked to the same person's ratings.

Exports are built in the request: the largest realistic study (a few hundred experts,
a hundred statements, three rounds) is a few MB at most and takes well under a second,
so there is no reason to send this to the worker.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import os
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd
import pyreadstat
from flask_babel import force_locale
from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font
from sqlalchemy import select

from surveyapp.extensions import db
from surveyapp.models import (
    Answer,
    Item,
    ItemKind,
    Quote,
    Response,
    ResponseState,
    Round,
    Study,
)
from surveyapp.questionnaire.services import item_labels
from surveyapp.stats import shown_groups
from surveyapp.stats.frames import lineage_roots, rating_frame, study_settings

RATINGS_COLUMNS = ("expert", "item", "round", "value")  # the input of `surveyapp stats`
OPEN_ANSWER_COLUMNS = ("item", "round", "section", "text")
CODEBOOK_COLUMNS = (
    "code",
    "kind",
    "rounds",
    "text",
    "section",
    "scale_points",
    "scale_labels",
    "agree_band",
    "disagree_band",
)
# SPSS keeps "no opinion" apart from "not asked / not answered" (system missing) as a
# user-missing code, declared missing so that no statistic ever counts it as a rating.
SPSS_NO_OPINION = 99
# Spreadsheets run a cell that starts with one of these as a formula (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Control characters that XML 1.0, and so XLSX, cannot hold.
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


# Codes: who and what, without identifying anyone ---------------------------------------------


def pseudonym_key(secret_key: str | bytes) -> bytes:
    """The key pseudonyms are drawn with: the app's secret key, so web and CLI agree."""
    return secret_key.encode() if isinstance(secret_key, str) else bytes(secret_key)


def pseudonyms(study: Study, key: bytes) -> dict[int, str]:
    """Map each panel member's id to a pseudonym E001, E002, ... in a keyed-hash order.

    The order is stable from one export to the next (same key, same panel) but says nothing
    about the member: not the order of import (often alphabetical by name), nor the email.
    Every member of the panel is numbered, answered or not, so a pseudonym does not shift
    when someone answers late.
    """

    def rank(member_id: int) -> bytes:
        message = f"surveyapp-export:{study.id}:{member_id}".encode()
        return hmac.new(key, message, hashlib.sha256).digest()

    ordered = sorted((member.id for member in study.members), key=rank)
    width = max(3, len(str(len(ordered))))
    return {member_id: f"E{n:0{width}d}" for n, member_id in enumerate(ordered, start=1)}


def _asked_items(study: Study) -> list[Item]:
    return [item for round_ in study.rounds for item in round_.items]  # rounds in order


def item_codes(study: Study) -> dict[int, str]:
    """Map each item id to its code: S01... for statements, Q01... for open questions.

    An item carried into a later round keeps the code of its first appearance, so one code
    follows a statement through every round that asked it.
    """
    codes: dict[int, str] = {}
    for kind, prefix in ((ItemKind.LIKERT, "S"), (ItemKind.OPEN, "Q")):
        items = {item.id: item for item in _asked_items(study) if item.kind is kind}
        roots = lineage_roots(items)
        numbers: dict[int, int] = {}
        for item_id in items:  # in asking order, so a root is numbered before its followers
            numbers.setdefault(roots[item_id], len(numbers) + 1)
        width = max(2, len(str(len(numbers))))
        codes |= {item_id: f"{prefix}{numbers[roots[item_id]]:0{width}d}" for item_id in items}
    return codes


# Tables ---------------------------------------------------------------------------------------


def ratings_table(study: Study, *, key: bytes) -> pd.DataFrame:
    """Return every submitted rating in the input format of ``surveyapp stats``.

    Columns expert, item, round, value and, when at least one panel group is large enough
    to name, group. `value` is empty (NA) for "no opinion", never 0; `group` is empty for
    an expert whose group is too small to name.
    """
    frame, _items = rating_frame(db.session, study.id)
    names, codes = pseudonyms(study, key), item_codes(study)
    position = {item_id: n for n, item_id in enumerate(codes)}
    table = pd.DataFrame(
        {
            "expert": frame["expert"].map(names),
            "item": frame["item_id"].map(codes),
            "round": frame["round"].astype("int64"),
            "value": frame["value"].round().astype("Int64"),
            "group": frame["group"].astype("object").where(frame["group"].notna(), None),
        }
    )
    order = frame["item_id"].map(position)
    table = table.assign(_order=order).sort_values(["expert", "round", "_order"])
    table = table.drop(columns="_order").reset_index(drop=True)
    groups = dict(zip(table["expert"], table["group"], strict=True))
    shown = shown_groups(groups, study.min_group_size)
    if not shown:
        return table.drop(columns="group")
    table["group"] = table["group"].where(table["group"].isin(shown), None)
    return table


def open_answers_table(study: Study, *, quotes_only: bool = False) -> pd.DataFrame:
    """Return the open answers of submitted responses: item, round, section, text.

    No expert column at all. Rows are sorted by item and text, not by author, so that the
    answers of one person cannot be lined up across questions by their position. With
    quotes_only, the coded quotes instead: their anonymised text and their section.
    """
    codes = item_codes(study)
    submitted = (
        select(Answer, Item, Round)
        .join(Response, Answer.response_id == Response.id)
        .join(Item, Answer.item_id == Item.id)
        .join(Round, Item.round_id == Round.id)
        .where(
            Round.study_id == study.id,
            Response.state == ResponseState.SUBMITTED,
            Item.kind == ItemKind.OPEN,
        )
    )
    rows: list[tuple[str, int, str, str]] = []
    if quotes_only:
        query = (
            submitted.add_columns(Quote)
            .join(Quote, Quote.answer_id == Answer.id)
            .where(Quote.included)  # a quote left out may be left out because it identifies
        )
        for _answer, item, round_, quote in db.session.execute(query):
            rows.append((codes[item.id], round_.number, quote.section.label, quote.text))
    else:
        for answer, item, round_ in db.session.execute(submitted):
            if answer.text and answer.text.strip():
                section = item.section.label if item.section else ""
                rows.append((codes[item.id], round_.number, section, answer.text))
    position = {code: n for n, code in enumerate(dict.fromkeys(codes.values()))}
    rows.sort(key=lambda row: (row[1], position[row[0]], row[2], row[3]))
    return pd.DataFrame(rows, columns=list(OPEN_ANSWER_COLUMNS))


@dataclass(frozen=True)
class CodebookRow:
    """One item code: what it asked, in which rounds, on which scale."""

    code: str
    kind: str  # "statement" or "open"
    rounds: tuple[int, ...]
    text: str  # as asked in the latest round
    section: str
    scale_points: int | None
    scale_labels: tuple[str, ...]
    agree_band: tuple[int, int] | None
    disagree_band: tuple[int, int] | None


@dataclass(frozen=True)
class Codebook:
    rows: tuple[CodebookRow, ...]
    settings: tuple[tuple[str, str], ...]  # (name, value)


def codebook(study: Study) -> Codebook:
    """Describe every item code and the study's rules, in the study's language."""
    codes = item_codes(study)
    latest: dict[str, Item] = {}
    rounds: dict[str, list[int]] = {}
    for item in _asked_items(study):  # in asking order, so the last one wins
        latest[codes[item.id]] = item
        rounds.setdefault(codes[item.id], []).append(item.round.number)
    with force_locale(study.language):
        rows = tuple(
            _codebook_row(code, latest[code], tuple(rounds[code]), study)
            for code in dict.fromkeys(codes.values())  # statements first, in asking order
        )
    settings = (
        ("study", study.title),
        ("consensus_rule", study.consensus_rule),
        ("agree_points", str(study.agree_points)),
        # SPSS computes percentiles as type 6 (weibull); the figures in the app use this.
        ("quantile_method", study.quantile_method),
        ("stability_threshold_pct", f"{study.stability_threshold:g}"),
        ("retire_stable", "true" if study.retire_stable else "false"),
        ("round_cap", str(study.round_cap)),
        ("min_group_size", str(study.min_group_size)),
        ("rules_fixed_at", study.rule_fixed_at.isoformat() if study.rule_fixed_at else ""),
        ("no_opinion", "empty value (SPSS: 99, user-missing)"),
    )
    return Codebook(rows, settings)


def _codebook_row(code: str, item: Item, rounds: tuple[int, ...], study: Study) -> CodebookRow:
    k = item.scale_points if item.is_rating else None
    settings = study_settings(study, k) if k else None  # the bands the figures were made with
    return CodebookRow(
        code=code,
        kind="statement" if item.is_rating else "open",
        rounds=rounds,
        text=item.text,
        section=item.section.label if item.section else "",
        scale_points=k,
        scale_labels=item_labels(item),
        agree_band=settings.agree if settings else None,
        disagree_band=settings.disagree if settings else None,
    )


def _band(band: tuple[int, int] | None) -> str:
    return f"{band[0]}-{band[1]}" if band else ""


def codebook_table(book: Codebook) -> pd.DataFrame:
    """The codebook's items as a table, one row per code."""
    return pd.DataFrame(
        [
            (
                row.code,
                row.kind,
                ";".join(str(n) for n in row.rounds),
                row.text,
                row.section,
                row.scale_points,
                "; ".join(f"{n}={label}" for n, label in enumerate(row.scale_labels, start=1)),
                _band(row.agree_band),
                _band(row.disagree_band),
            )
            for row in book.rows
        ],
        columns=list(CODEBOOK_COLUMNS),
    ).astype({"scale_points": "Int64"})


def settings_table(book: Codebook) -> pd.DataFrame:
    return pd.DataFrame(list(book.settings), columns=["setting", "value"])


# Writers --------------------------------------------------------------------------------------


def _defuse(value: object) -> object:
    """Keep spreadsheet programs from running a text cell as a formula (CSV injection)."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def to_csv(table: pd.DataFrame) -> bytes:
    """Write a table as comma-separated UTF-8 with a byte-order mark.

    Without the BOM, Excel on Windows reads a CSV in the local ANSI code page and turns
    "één" into "Ã©Ã©n"; with it, Excel picks UTF-8. Python's utf-8-sig, R's readr and
    ``surveyapp stats`` skip the mark. Missing values are written as empty fields.
    """
    text_columns = [c for c in table.columns if not pd.api.types.is_numeric_dtype(table[c])]
    safe = table.assign(**{c: table[c].map(_defuse) for c in text_columns})
    return safe.to_csv(index=False, lineterminator="\r\n", na_rep="").encode("utf-8-sig")


def _cell_value(value: object) -> object:
    if value is None or value is pd.NA or (isinstance(value, float) and pd.isna(value)):
        return None
    if isinstance(value, str):
        return _ILLEGAL_XML.sub("", value)
    return value.item() if hasattr(value, "item") else value  # numpy scalars to Python


def to_xlsx(sheets: Mapping[str, pd.DataFrame]) -> bytes:
    """Write one sheet per table; the header row bold and frozen, text never a formula."""
    workbook = Workbook()
    workbook.remove(workbook.active)
    bold = Font(bold=True)
    for title, table in sheets.items():
        sheet = workbook.create_sheet(title)
        sheet.append(list(table.columns))
        for cell in sheet[1]:
            cell.font = bold
        sheet.freeze_panes = "A2"
        for values in table.itertuples(index=False):
            sheet.append([_cell_value(value) for value in values])
        for row in sheet.iter_rows(min_row=2):
            for cell in row:
                if cell.data_type == "f":  # openpyxl reads "=..." text as a formula
                    cell.data_type = "s"
        for column in sheet.columns:
            width = max(
                (len(str(cell.value)) for cell in column if cell.value is not None), default=8
            )
            sheet.column_dimensions[column[0].column_letter].width = min(max(width + 2, 8), 60)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def study_workbook(study: Study, *, key: bytes) -> bytes:
    """The whole export in one workbook: ratings, open answers, codebook and settings."""
    book = codebook(study)
    return to_xlsx(
        {
            "ratings": ratings_table(study, key=key),
            "open answers": open_answers_table(study),
            "codebook": codebook_table(book),
            "settings": settings_table(book),
        }
    )


def _spss_label(text: str, limit: int = 256) -> str:
    """SPSS cuts labels at 256 bytes; cut at a character boundary ourselves."""
    return text.encode()[:limit].decode(errors="ignore")


def to_sav(study: Study, *, key: bytes) -> bytes:
    """Write the ratings as an SPSS file, one row per expert, one variable per item and round.

    Variables are named like S01_R2 and labelled with the statement; their value labels are
    the scale's labels. "No opinion" is 99, declared user-missing; an item the expert was
    not asked or did not answer is system-missing.
    """
    ratings = ratings_table(study, key=key)
    book = codebook(study)
    rows = {row.code: row for row in book.rows}
    ratings["value"] = ratings["value"].fillna(SPSS_NO_OPINION).astype("float64")
    ratings["variable"] = ratings["item"] + "_R" + ratings["round"].astype(str)
    wide = ratings.pivot(index="expert", columns="variable", values="value")
    variables = [
        f"{row.code}_R{number}" for row in book.rows for number in row.rounds if row.scale_points
    ]
    wide = wide.reindex(columns=variables).astype("float64").reset_index()
    if "group" in ratings.columns:
        groups = ratings.drop_duplicates("expert").set_index("expert")["group"]
        wide.insert(1, "group", wide["expert"].map(groups).fillna("").astype(str))
    with force_locale(study.language):
        no_opinion = _("no opinion")
        labels = {"expert": _("Expert (pseudonym)"), "group": _("Panel group")}
    value_labels, missing, measure = {}, {}, {"expert": "nominal", "group": "nominal"}
    for variable in variables:
        row = rows[variable.split("_R")[0]]
        number = variable.split("_R")[1]
        labels[variable] = _spss_label(f"{row.code} R{number}: {row.text}")
        value_labels[variable] = {
            **{float(n): label for n, label in enumerate(row.scale_labels, start=1)},
            float(SPSS_NO_OPINION): no_opinion,
        }
        missing[variable] = [float(SPSS_NO_OPINION)]
        measure[variable] = "ordinal"
    # SPSS keeps notes ("documents") as lines of 80 bytes: one setting a line.
    notes = [_spss_label(f"{name}={value}", 80) for name, value in book.settings]
    # pyreadstat writes to a path only; the file (mode 0600) lives for this call alone.
    handle, path = tempfile.mkstemp(suffix=".sav")
    os.close(handle)
    try:
        pyreadstat.write_sav(
            wide,
            path,
            file_label=_spss_label(study.title, 64),
            column_labels={name: labels[name] for name in wide.columns},
            variable_value_labels=value_labels,
            missing_ranges=missing,
            variable_measure={name: measure[name] for name in wide.columns},
            note=notes,
        )
        with open(path, "rb") as f:
            return f.read()
    finally:
        os.unlink(path)
