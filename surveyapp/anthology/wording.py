"""The fixed words the anthology prints around the study's own text, in Dutch and English."""

from __future__ import annotations

import datetime

WORDS: dict[str, dict[str, str]] = {
    "nl": {
        "contents": "Inhoud",
        "introduction": "Inleiding",
        "results": "Resultaten",
        "methods": "Verantwoording",
        "panel": "Panel",
        "group": "Groep",
        "size": "Aantal",
        "total": "Totaal",
        "rounds": "Respons per ronde",
        "round": "Ronde",
        "invited": "Uitgenodigd",
        "responded": "Gereageerd",
        "response_rate": "Respons",
        "attrition": "Uitval",
        "retired": "Afgerond",
        "consensus_rule": "Consensusregel",
        "rule_fixed_at": "Vastgelegd op",
        "stop_rules": "Stopregels",
        "quantile_method": "Kwantielmethode",
        "median": "mediaan",
        "iqr": "IQR",
        "agreement": "overeenstemming",
        "n": "n",
        "no_opinion": "geen mening",
        "consensus_in": "consensus (eens)",
        "consensus_out": "consensus (oneens)",
        "consensus_none": "geen consensus",
        "movement": "Verloop",
        "distribution": "Verdeling",
        "page": "pagina",
        "logo": "Logo",
        "chapter": "Hoofdstuk",
        "section": "Paragraaf",
    },
    "en": {
        "contents": "Contents",
        "introduction": "Introduction",
        "results": "Results",
        "methods": "Methods",
        "panel": "Panel",
        "group": "Group",
        "size": "Size",
        "total": "Total",
        "rounds": "Response per round",
        "round": "Round",
        "invited": "Invited",
        "responded": "Responded",
        "response_rate": "Response",
        "attrition": "Attrition",
        "retired": "Retired",
        "consensus_rule": "Consensus rule",
        "rule_fixed_at": "Fixed on",
        "stop_rules": "Stop rules",
        "quantile_method": "Quantile method",
        "median": "median",
        "iqr": "IQR",
        "agreement": "agreement",
        "n": "n",
        "no_opinion": "no opinion",
        "consensus_in": "consensus (agree)",
        "consensus_out": "consensus (disagree)",
        "consensus_none": "no consensus",
        "movement": "Movement",
        "distribution": "Distribution",
        "page": "page",
        "logo": "Logo",
        "chapter": "Chapter",
        "section": "Section",
    },
}

PDF_LANGUAGE = {"nl": "nl-NL", "en": "en-GB"}

_MONTHS = {
    "nl": (
        *("januari", "februari", "maart", "april", "mei", "juni"),
        *("juli", "augustus", "september", "oktober", "november", "december"),
    ),
    "en": (
        *("January", "February", "March", "April", "May", "June"),
        *("July", "August", "September", "October", "November", "December"),
    ),
}


class Wording:
    """The words and number formats of one language."""

    def __init__(self, language: str) -> None:
        self.language = language
        self.words = WORDS[language]

    def __getitem__(self, key: str) -> str:
        return self.words[key]

    def number(self, value: float) -> str:
        """Return value with at most two decimals, a decimal comma in Dutch."""
        text = f"{value:.2f}".rstrip("0").rstrip(".")
        return text.replace(".", ",") if self.language == "nl" else text

    def percent(self, value: float) -> str:
        """Return a percentage rounded to a whole number."""
        return f"{round(value):d}%"

    def date(self, value: datetime.date) -> str:
        """Return a date written out, e.g. 29 november 2025."""
        month = _MONTHS[self.language][value.month - 1]
        return f"{value.day} {month} {value.year}"

    def consensus(self, value: str) -> str:
        """Return the printed name of a consensus class."""
        return self.words[f"consensus_{value}"]
