"""Text helpers of the survey ingest: normalisation, personal data, numbers, dates.

Everything here is vectorised over the *unique* values of a column, so that a
100,000-row export costs a few thousand Python calls, not millions.
"""

from __future__ import annotations

import re
import unicodedata

import numpy as np
import pandas as pd

__all__ = [
    "EMAIL_RE",
    "PHONE_RE",
    "is_personal_header",
    "key",
    "keys",
    "looks_personal",
    "map_keys",
    "map_unique",
    "mask",
    "parse_dates",
    "parse_percentages",
]

_TRANSLATE = str.maketrans(
    {
        "\u2019": "'",
        "\u2018": "'",
        "\u02bc": "'",
        "\u00b4": "'",
        "`": "'",
        "\u00ab": '"',
        "\u00bb": '"',
        "\u201c": '"',
        "\u201d": '"',
        "\u2013": "-",
        "\u2014": "-",
        "\u0153": "oe",
        "\u0152": "oe",
        "\u00e6": "ae",
        "\u00c6": "ae",
    }
)
_NON_ALNUM = re.compile(r"[^0-9a-z]+")


def key(text) -> str:
    """Return the matching key of a header or an answer.

    Case, accents, ligatures, typographic apostrophes, non-breaking spaces and
    punctuation are ignored: only letters and digits separated by one space remain.

    Examples
    --------
    >>> key("  Non, mais c’est prévu\u00a0dans les 12 PROCHAINS mois ")
    'non mais c est prevu dans les 12 prochains mois'
    >>> key("Disposez-vous d'un RSSI ?") == key("disposez vous d’un rssi?")
    True
    """
    if text is None or (isinstance(text, float) and np.isnan(text)):
        return ""
    s = unicodedata.normalize("NFKD", str(text).translate(_TRANSLATE))
    s = "".join(c for c in s if not unicodedata.combining(c)).casefold()
    return _NON_ALNUM.sub(" ", s).strip()


def map_unique(values: pd.Series, fn, *, dtype=object, missing=None) -> np.ndarray:
    """Apply ``fn`` once per distinct value; return an array aligned on ``values``.

    ``fn`` may also be a dict (missing keys give None). Missing values give
    ``missing``; ``dtype`` is that of the result.

    Examples
    --------
    >>> map_unique(pd.Series(["Oui", "non", "Oui"]), key).tolist()
    ['oui', 'non', 'oui']
    """
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    get = fn.get if isinstance(fn, dict) else fn
    table = np.empty(len(uniques) + 1, dtype=dtype)
    for i, u in enumerate(uniques.tolist()):
        table[i] = get(u)
    table[-1] = missing
    return table[codes]


def map_keys(values: pd.Series, fn) -> np.ndarray:
    """Apply ``fn`` to the :func:`key` of each distinct value (keys computed vectorised).

    Examples
    --------
    >>> map_keys(pd.Series(["Sans réponse", "SANS REPONSE"]), len).tolist()
    [12, 12]
    """
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    table = np.empty(len(uniques) + 1, dtype=object)
    for i, k in enumerate(keys(pd.Series(uniques, dtype=object)).tolist()):
        table[i] = fn(k)
    table[-1] = None
    return table[codes]


def keys(values: pd.Series) -> pd.Series:
    """Vectorised :func:`key` over a Series (same result, a few times faster).

    Examples
    --------
    >>> keys(pd.Series(["Sans réponse", "Œuvre d’art"])).tolist()
    ['sans reponse', 'oeuvre d art']
    """
    s = values.astype("str").fillna("").str.translate(_TRANSLATE).str.normalize("NFKD")
    s = s.str.replace(r"[\u0300-\u036f]", "", regex=True).str.casefold()
    return s.str.replace(r"[^0-9a-z]+", " ", regex=True).str.strip()


# ------------------------------------------------------------------ personal data

EMAIL_RE = re.compile(r"[\w.%+-]+@[\w-]+(?:\.[\w-]+)+")
PHONE_RE = re.compile(
    r"(?<![\w])(?:(?:\+|00)\s?\d{2,3}\s?(?:\(0\)\s?)?|0)[1-9](?:[\s.\-]?\d{2}){4}(?!\d)"
)
_PERSONAL_HEADER = re.compile(
    r"\b(?:e ?mail|courriel|mel|adresse electronique|telephone|tel|portable|mobile|fax|"
    r"prenom|nom du repondant|nom de la repondante|nom et prenom|nom prenom|nom de famille|"
    r"votre nom|nom du contact|nom de la personne|identite du repondant|repondant nom|"
    r"ip|ipaddr|adresse ip|signature)\b"
)


def is_personal_header(header: str) -> bool:
    """Tell whether a column header names personal data (e-mail, phone, person).

    Examples
    --------
    >>> [is_personal_header(h) for h in ["Courriel", "Tél.", "Nom du répondant", "Nom"]]
    [True, True, True, False]
    """
    return bool(_PERSONAL_HEADER.search(key(header)))


def looks_personal(values) -> bool:
    """Tell whether any of the values contains an e-mail address or a phone number.

    Examples
    --------
    >>> looks_personal(["Oui", "jeanne.martin@mairie-exemple.fr"])
    True
    >>> looks_personal(["06 12 34 56 78"]), looks_personal(["21640102700017", "Oui"])
    (True, False)
    """
    return any(EMAIL_RE.search(str(v)) or PHONE_RE.search(str(v)) for v in values)


def mask(text: str) -> str:
    """Replace e-mail addresses and phone numbers in a text by a placeholder.

    Used on every raw value that reaches a report or an error message.

    Examples
    --------
    >>> mask("voir avec jeanne@mairie.fr ou au 05 59 00 00 00")
    'voir avec [courriel masqué] ou au [téléphone masqué]'
    """
    text = EMAIL_RE.sub("[courriel masqué]", str(text))
    return PHONE_RE.sub("[téléphone masqué]", text)


# ------------------------------------------------------------------ numbers

_PCT_CLEAN = re.compile(r"[\s\u00a0\u202f%]")


def parse_percentages(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Parse percentages written ``8,2 %``, ``8.2%``, ``8,2`` or ``8``.

    Returns
    -------
    numbers : pandas.Series
        float64, NaN where empty or not a number.
    issue : pandas.Series
        Empty string where fine, else why the value was rejected
        (not a number, outside 0–100).

    Examples
    --------
    >>> n, issue = parse_percentages(pd.Series(["8,2 %", "8.2%", "", "140", "env. 10"]))
    >>> n.tolist()[:3], issue.tolist()[3:]
    ([8.2, 8.2, nan], ['pourcentage hors de 0–100', 'pas un nombre'])
    """
    s = values.astype(str).str.strip()
    cleaned = s.str.replace(_PCT_CLEAN, "", regex=True).str.replace(",", ".", regex=False)
    num = pd.to_numeric(cleaned, errors="coerce").astype("float64")
    issue = pd.Series("", index=values.index, dtype=object)
    issue[(s != "") & num.isna()] = "pas un nombre"
    out = num.notna() & ((num < 0) | (num > 100))
    issue[out] = "pourcentage hors de 0–100"
    num[out] = np.nan
    return num, issue


# ------------------------------------------------------------------ dates

_WEEKDAY = re.compile(r"^[^\W\d]{2,9}\.?,?\s+(?=\d)")
_HOUR = re.compile(r"(\d{1,2})\s*h\s*(\d{2})")
_ISO = re.compile(r"^\d{4}-\d{1,2}-\d{1,2}(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$")
_ISO_TZ = re.compile(
    r"^\d{4}-\d{1,2}-\d{1,2}[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:Z|[+-]\d{2}:?\d{2})$"
)
_DMY = re.compile(
    r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2}|\d{4})"
    r"(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?(?:\s*([AaPp][Mm]))?)?$"
)
_SERIAL = re.compile(r"^\d{5}(?:[.,]\d+)?$")
_FAST_DMY = re.compile(r"^\d{1,2}/\d{1,2}/\d{4}(?: \d{1,2}:\d{2}(?::\d{2})?)?$")


def parse_dates(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Parse submission dates in the formats survey platforms and Excel write.

    ISO 8601 (with or without time zone: aware values are converted to Paris
    time), ``28/02/2025 14:03`` (day first; month first only when a column
    shows a month over 12 and no day over 12, or carries AM/PM),
    ``28-02-2025``, ``28.02.25``, Framaforms' ``ven, 28/02/2025 - 14:03``,
    ``28/02/2025 à 14h03`` and Excel serial dates (``45351.58``).

    Returns
    -------
    dates : pandas.Series
        datetime64, NaT where empty or unreadable.
    issue : pandas.Series
        Empty string where fine, else ``"date illisible"``.

    Examples
    --------
    >>> d, issue = parse_dates(pd.Series(["2025-02-28 14:03:00", "28/02/2025 14:03", "45351.5"]))
    >>> [str(x) for x in d]
    ['2025-02-28 14:03:00', '2025-02-28 14:03:00', '2024-02-29 12:00:00']
    """
    raw = values.astype("str").str.strip()
    codes, uniq = pd.factorize(raw)
    clean = pd.Series(uniq, dtype="str")
    out = pd.Series(pd.NaT, index=clean.index, dtype="datetime64[us]")
    # fast path in C for the usual day-first and ISO forms
    fast = clean.str.match(_FAST_DMY)
    for fmt in ("%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M:%S", "%d/%m/%Y"):
        todo = fast & out.isna()
        if todo.any():
            out[todo] = pd.to_datetime(clean[todo], format=fmt, errors="coerce")
    rest = out.isna() & (clean != "")
    if rest.any():
        general, month_first = _general(clean[rest])
        if month_first and fast.any():  # the column is month first: redo the fast ones too
            general, _ = _general(clean[rest | fast])
            out[rest | fast] = general
        else:
            out[rest] = general
    dates = pd.Series(out.to_numpy()[codes], index=values.index).astype("datetime64[us]")
    issue = pd.Series("", index=values.index, dtype=object)
    issue[(raw != "") & dates.isna()] = "date illisible"
    return dates, issue


def _general(clean: pd.Series) -> tuple[pd.Series, bool]:
    clean = clean.str.replace(_WEEKDAY, "", regex=True).str.replace(" - ", " ", regex=False)
    clean = clean.str.replace(" à ", " ", regex=False).str.replace(_HOUR, r"\1:\2", regex=True)
    clean = clean.str.strip()
    out = pd.Series(pd.NaT, index=clean.index, dtype="datetime64[us]")
    iso = clean.str.match(_ISO)
    if iso.any():
        out[iso] = pd.to_datetime(clean[iso], format="ISO8601", errors="coerce")
    tz = clean.str.match(_ISO_TZ)
    if tz.any():
        aware = pd.to_datetime(clean[tz], format="ISO8601", errors="coerce", utc=True)
        out[tz] = aware.dt.tz_convert("Europe/Paris").dt.tz_localize(None)
    parts = clean.str.extract(_DMY)
    dmy = parts[0].notna()
    month_first = False
    if dmy.any():
        out[dmy], month_first = _parse_dmy(parts[dmy])
    serial = clean.str.match(_SERIAL)
    if serial.any():
        days = pd.to_numeric(clean[serial].str.replace(",", "."), errors="coerce")
        ok = days.between(20000, 80000)
        out[serial & ok.reindex(clean.index, fill_value=False)] = pd.Timestamp(
            "1899-12-30"
        ) + pd.to_timedelta(days[ok], unit="D").dt.round("s")
    return out, month_first


def _parse_dmy(parts: pd.DataFrame) -> tuple[pd.Series, bool]:
    a, b = parts[0].astype(int), parts[1].astype(int)
    ampm = parts[6].notna()
    plain_a, plain_b = a[~ampm], b[~ampm]
    column_month_first = bool((plain_b > 12).any() and not (plain_a > 12).any())
    month_first = ampm | column_month_first
    day, month = b.where(month_first, a), a.where(month_first, b)
    year = parts[2].astype(int)
    year = year.where(year >= 100, year + 2000)
    hour = parts[3].fillna("0").astype(int)
    pm = parts[6].fillna("").str.lower() == "pm"
    am = parts[6].fillna("").str.lower() == "am"
    hour = hour.where(~(pm & (hour < 12)), hour + 12).where(~(am & (hour == 12)), 0)
    frame = pd.DataFrame(
        {
            "year": year,
            "month": month,
            "day": day,
            "hour": hour,
            "minute": parts[4].fillna("0").astype(int),
            "second": parts[5].fillna("0").astype(int),
        }
    )
    return pd.to_datetime(frame, errors="coerce"), column_month_first
