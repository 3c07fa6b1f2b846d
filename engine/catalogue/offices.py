"""Local offices, and routing a licence case to the office of the place where the business is.

Licences of local government (agency ``LAO``) and of the Bangkok Metropolitan Administration (``BMA``) are
handled by one local office, chosen by the business's location: in Bangkok the district office
(สำนักงานเขต) of its district, elsewhere the municipality, the SAO or Pattaya City. The directory is data,
``bpmn/offices.yaml``; coverage is listed by district (เขต/อำเภอ), which is exact in Bangkok and an
approximation of municipal boundaries elsewhere (see the note at the top of that file).

Names are matched the way people type them: Thai or English, any case, with or without ``เขต``/``อำเภอ``/
``อ.``/``District``, spaces and hyphens ignored (``Thonburi`` = ``Thon Buri``), the usual short forms of
Bangkok, and the typed form of sara am (nikhahit + sara aa) that many Thai keyboards produce.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from pathlib import Path
from typing import Literal, NoReturn

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bizportal.engine.catalogue.yaml_files import load_yaml
from bizportal.engine.errors import DefinitionError, InvalidInput, NotFound

OfficeKind = Literal["bma_district", "city_municipality", "town_municipality", "subdistrict_municipality", "sao",
                     "pattaya"]

BANGKOK_TH = "กรุงเทพมหานคร"
# How people write Bangkok besides its full Thai and English names.
_BANGKOK_ALIASES = ("กรุงเทพ", "กรุงเทพฯ", "กทม.", "Bangkok", "BKK", "Bangkok Metropolis", "Krung Thep",
                    "Krung Thep Maha Nakhon")

# English prefixes only count as a word of their own ("Khet Bang Rak", not "Khetbangrak").
_DISTRICT_PREFIXES = ("เขต", "อำเภอ", "อ.", "khet ", "amphoe ", "amphur ", "district of ", "district ")
_DISTRICT_SUFFIXES = (" district", " khet", " amphoe")
_PROVINCE_PREFIXES = ("จังหวัด", "จ.", "changwat ", "province of ")
_PROVINCE_SUFFIXES = (" province",)
_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015.,'\u2019()_/]+")
# Romanisations of เมือง (the district of a province's capital) that all mean the same word.
_MUEANG_SPELLINGS = re.compile(r"^(muang|meuang|mueng|muaeng)")

# A district named inside a free-text address: after เขต/อำเภอ/อ./Khet/Amphoe, or before "District".
_DISTRICT_IN_TEXT = re.compile(r"(?:เขต|อำเภอ|อ\.|\bkhet\b|\bamphoe\b)\s*([^,;\n]+)|([^,;\n\d]+?)\s+district\b")

_FIELD_PROVINCE = "business.province"
_FIELD_DISTRICT = "business.district"


class District(BaseModel):
    """A district (Bangkok เขต or provincial อำเภอ) an office covers."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name_th: str = Field(min_length=1, max_length=100)
    name_en: str = Field(min_length=1, max_length=100)
    geocode: str | None = Field(default=None, pattern=r"^\d{4}$",
                                description="DOPA district code: 2-digit province + 2-digit district")
    aliases: tuple[str, ...] = Field(default=(), description="other spellings people type, Thai or English")


class Office(BaseModel):
    """A local office that receives the cases of the agencies it serves, for the districts it covers."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # Stored on cases and carried in officers' tokens, so it must never change once used; 40 fits the
    # width of the agency columns it sits beside.
    code: str = Field(pattern=r"^[A-Z][A-Z0-9]*(-[A-Z0-9]+)*$", max_length=40)
    name_th: str = Field(min_length=1, max_length=200)
    name_en: str = Field(min_length=1, max_length=200)
    kind: OfficeKind
    province: str = Field(min_length=1, max_length=100, description="the province's Thai name")
    province_en: str = Field(min_length=1, max_length=100)
    districts: tuple[District, ...] = Field(min_length=1)
    agencies: tuple[str, ...] = Field(min_length=1, description="agency codes from agencies.yaml")
    sample: bool = Field(default=False, description="illustrative data, not an office that really is connected")

    def serves(self, agency: str) -> bool:
        """Whether the office handles licences of ``agency``."""
        return agency in self.agencies


class _OfficesFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    offices: list[Office] = Field(min_length=1)


def _clean(text: str) -> str:
    text = unicodedata.normalize("NFC", text).replace("\u0e4d\u0e32", "\u0e33").replace("\u200b", "")
    return " ".join(text.split()).casefold()


def _strip_affixes(text: str, prefixes: Sequence[str], suffixes: Sequence[str]) -> str:
    changed = True
    while changed and text:
        changed = False
        for prefix in prefixes:
            if text.startswith(prefix):
                text = text[len(prefix):].lstrip(" .")
                changed = True
        for suffix in suffixes:
            if text.endswith(suffix):
                text = text[:-len(suffix)].rstrip()
                changed = True
    return text


def _province_key(text: str) -> str:
    return _SEPARATORS.sub("", _strip_affixes(_clean(text), _PROVINCE_PREFIXES, _PROVINCE_SUFFIXES))


def _district_key(text: str) -> str:
    key = _SEPARATORS.sub("", _strip_affixes(_clean(text), _DISTRICT_PREFIXES, _DISTRICT_SUFFIXES))
    return _MUEANG_SPELLINGS.sub("mueang", key)


def _format_loc(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc) or "(top level)"


class OfficeDirectory:
    """The local offices and the index that routes a (agency, province, district) to one of them.

    Args:
        offices: the offices, in the order they are listed.
        agency_codes: every agency code that exists (from ``agencies.yaml``).
        source: the file the offices came from, named in every error.

    Raises:
        DefinitionError: a duplicate office code, an unknown or repeated agency, two offices covering the
            same (province, district, agency), or two places that the same name would match; the message
            names the source and the field, e.g. ``bpmn/offices.yaml: offices.3.agencies.0: ...``.
    """

    def __init__(self, offices: Sequence[Office], agency_codes: AbstractSet[str], source: str = "offices") -> None:
        self._source = source
        self._offices: dict[str, Office] = {}
        self._province_ids: dict[str, str] = {}  # name key -> province id (key of the Thai name)
        self._province_names: dict[str, tuple[str, str]] = {}  # province id -> (Thai, English)
        self._district_ids: dict[tuple[str, str], str] = {}  # (province id, name key) -> district id
        self._district_names: dict[tuple[str, str], tuple[str, str]] = {}  # (province, district) -> names
        self._coverage: dict[tuple[str, str, str], str] = {}  # (agency, province, district) -> office code
        where: dict[str, int] = {}
        for index, office in enumerate(offices):
            at = f"offices.{index}"
            if office.code in where:
                self._fail(f"{at}.code",
                           f"office code {office.code!r} is used twice (also offices.{where[office.code]})")
            where[office.code] = index
            self._check_agencies(at, office, agency_codes)
            province = self._add_province(at, office)
            seen: set[str] = set()
            for number, district in enumerate(office.districts):
                district_id = self._add_district(f"{at}.districts.{number}", province, office, district)
                if district_id in seen:
                    self._fail(f"{at}.districts.{number}", f"district {district.name_th!r} is listed twice in office "
                               f"{office.code}")
                seen.add(district_id)
                for agency in office.agencies:
                    other = self._coverage.setdefault((agency, province, district_id), office.code)
                    if other != office.code:
                        self._fail(f"{at}.districts.{number}",
                                   f"district {district.name_th} ({district.name_en}) of {office.province} is already "
                                   f"covered for agency {agency} by office {other} (offices.{where[other]}); a place "
                                   "and an agency must route to one office")
            self._offices[office.code] = office
        if BANGKOK_TH in self._province_names:
            for alias in _BANGKOK_ALIASES:
                self._province_ids.setdefault(_province_key(alias), _province_key(BANGKOK_TH))

    def _fail(self, field: str, message: str) -> NoReturn:
        raise DefinitionError(f"{self._source}: {field}: {message}", hint="fix the office directory and start again",
                              details={"file": self._source, "field": field})

    def _check_agencies(self, at: str, office: Office, agency_codes: AbstractSet[str]) -> None:
        for number, agency in enumerate(office.agencies):
            if agency not in agency_codes:
                self._fail(f"{at}.agencies.{number}", f"unknown agency {agency!r}: use a code from agencies.yaml")
            if agency in office.agencies[:number]:
                self._fail(f"{at}.agencies.{number}", f"agency {agency!r} is listed twice in office {office.code}")

    def _add_province(self, at: str, office: Office) -> str:
        province = _province_key(office.province)
        if not province:
            self._fail(f"{at}.province", f"{office.province!r} is not a province name")
        known = self._province_names.setdefault(province, (office.province, office.province_en))
        if _province_key(known[1]) != _province_key(office.province_en):
            self._fail(f"{at}.province_en", f"province {office.province} is called {known[1]!r} elsewhere in the "
                       f"file, not {office.province_en!r}")
        for field, name in (("province", office.province), ("province_en", office.province_en)):
            key = _province_key(name)
            other = self._province_ids.setdefault(key, province)
            if other != province:
                self._fail(f"{at}.{field}", f"{name!r} already names province {self._province_names[other][0]}")
        return province

    def _add_district(self, at: str, province: str, office: Office, district: District) -> str:
        district_id = _district_key(district.name_th)
        if not district_id:
            self._fail(f"{at}.name_th", f"{district.name_th!r} is not a district name")
        names = [("name_th", district.name_th), ("name_en", district.name_en)]
        names += [(f"aliases.{n}", alias) for n, alias in enumerate(district.aliases)]
        # "อ.เมือง" / "Mueang" alone means the capital district of the province the applicant named.
        if _clean(district.name_th) == "เมือง" + _clean(office.province):
            names += [("name_th", "เมือง"), ("name_en", "Mueang")]
        for field, name in names:
            key = _district_key(name)
            if not key:
                self._fail(f"{at}.{field}", f"{name!r} is not a district name")
            other = self._district_ids.setdefault((province, key), district_id)
            if other != district_id:
                other_th = self._district_names[(province, other)][0]
                self._fail(f"{at}.{field}", f"{name!r} already names district {other_th} of {office.province}")
        self._district_names.setdefault((province, district_id), (district.name_th, district.name_en))
        return district_id

    def get(self, code: str) -> Office:
        """The office with this code.

        Raises:
            NotFound: no office has that code.
        """
        try:
            return self._offices[code]
        except KeyError as err:
            raise NotFound(f"office {code!r} is not in the directory",
                           hint="office codes are listed in bpmn/offices.yaml", details={"field": "office"}) from err

    def offices(self) -> list[Office]:
        """Every office, in the order of the file."""
        return list(self._offices.values())

    def agencies(self) -> frozenset[str]:
        """The agency codes at least one office serves."""
        return frozenset(agency for office in self._offices.values() for agency in office.agencies)

    def route(self, agency: str, province: str, district: str | None) -> Office:
        """The office that handles ``agency``'s licences for a business in this province and district.

        Args:
            agency: the licence's agency code, e.g. ``LAO`` or ``BMA``.
            province: Thai or English name, any case, with or without ``จังหวัด``; Bangkok also as
                ``กทม.``, ``กรุงเทพฯ``, ``Bangkok``.
            district: Thai or English name, with or without ``เขต``/``อำเภอ``/``อ.``/``District``; ``None``
                or blank when the applicant did not give one.

        Returns:
            The one office covering that place for that agency.

        Raises:
            InvalidInput: the province is missing or no office there serves ``agency``
                (``details.field == "business.province"``); the district is missing, or no office serves
                ``agency`` in it (``details.field == "business.district"``). The district is required even
                where one office is connected in the province: the directory is partial outside Bangkok,
                so one connected office does not mean it is the one for every district.
        """
        agency = agency.strip().upper()
        shown_province = " ".join(province.split())
        if not shown_province:
            raise InvalidInput("the business's province is missing; local licences go to the office where the "
                               "business is", hint="send business.province in Thai or English, e.g. เชียงใหม่",
                               details={"field": _FIELD_PROVINCE})
        province_id = self._province_ids.get(_province_key(province))
        if province_id is None or not self._connected_districts(agency, province_id):
            place = self._province_label(province_id) if province_id else repr(shown_province)
            connected = list(dict.fromkeys(self._province_names[p][0] for a, p, _ in self._coverage if a == agency))
            raise InvalidInput(
                f"no local office for agency {agency} in province {place} is connected to Biz Portal yet; "
                "file at the local office's counter",
                hint="check the province's spelling (Thai or English); details.connected_provinces lists the "
                     f"provinces with a connected office for {agency}",
                details={"field": _FIELD_PROVINCE, "agency": agency, "connected_provinces": connected})
        connected_districts = self._connected_districts(agency, province_id)
        shown_district = " ".join((district or "").split())
        district_key = _district_key(shown_district)
        if not district_key:
            raise InvalidInput(
                f"the business's district (เขต/อำเภอ) in {self._province_label(province_id)} is missing; "
                f"licences of agency {agency} go to the local office of the business's district",
                hint="send business.district in Thai or English, e.g. "
                     f"{connected_districts[0]}; details.connected_districts lists the connected ones",
                details={"field": _FIELD_DISTRICT, "agency": agency, "connected_districts": connected_districts})
        district_id = self._district_ids.get((province_id, district_key))
        code = self._coverage.get((agency, province_id, district_id)) if district_id else None
        if code is None:
            place = self._district_label(province_id, district_id) if district_id else repr(shown_district)
            raise InvalidInput(
                f"no local office for agency {agency} in province {self._province_label(province_id)} district "
                f"{place} is connected to Biz Portal yet; file at the local office's counter",
                hint="check the district's spelling (Thai or English, with or without เขต/อำเภอ) and that it is in "
                     "this province; details.connected_districts lists the districts with a connected office",
                details={"field": _FIELD_DISTRICT, "agency": agency, "connected_districts": connected_districts})
        return self._offices[code]

    def same_district(self, province: str, district: str, other: str) -> bool:
        """Whether `other` names the same district of `province` as `district` (any spelling the directory
        knows; unknown names are compared as written)."""
        province_id = self._province_ids.get(_province_key(province))
        keys = [_district_key(name) for name in (district, other)]
        ids = [self._district_ids.get((province_id, key), key) if province_id else key for key in keys]
        return ids[0] == ids[1]

    def districts_named_in(self, province: str, text: str) -> list[str]:
        """The districts of `province` that an address text names with a district word (เขต, อำเภอ, อ.,
        Khet, Amphoe, "... District"), in Thai, in the order found. Names not in the directory are ignored."""
        province_id = self._province_ids.get(_province_key(province))
        if province_id is None:
            return []
        keys = sorted(((key, district_id) for (p, key), district_id in self._district_ids.items()
                       if p == province_id), key=lambda item: -len(item[0]))
        found: list[str] = []
        for after, before in _DISTRICT_IN_TEXT.findall(_clean(text)):
            words = _SEPARATORS.sub("", after or before)
            for key, district_id in keys:
                # Thai: the name follows the district word; English: it ends right before "District".
                if (words.startswith(key) if after else words.endswith(key)) and len(key) >= 3:
                    name = self._district_names[(province_id, district_id)][0]
                    if name not in found:
                        found.append(name)
                    break
        return found

    def _connected_districts(self, agency: str, province_id: str) -> list[str]:
        # In the order of the file, which for Bangkok is the DOPA order of its districts.
        return [self._district_names[(p, d)][0] for a, p, d in self._coverage if a == agency and p == province_id]

    def _province_label(self, province_id: str) -> str:
        name_th, name_en = self._province_names[province_id]
        return f"{name_th} ({name_en})"

    def _district_label(self, province_id: str, district_id: str) -> str:
        name_th, name_en = self._district_names[(province_id, district_id)]
        return f"{name_th} ({name_en})"


def load_offices(path: Path, agency_codes: AbstractSet[str]) -> OfficeDirectory:
    """Read and validate the office directory (``bpmn/offices.yaml``).

    Args:
        path: the YAML file, a mapping with an ``offices`` list.
        agency_codes: every agency code that exists (the keys of the catalogue's agencies).

    Returns:
        The directory, indexed for routing.

    Raises:
        DefinitionError: the file cannot be read, is not YAML, breaks the schema, or its data conflicts
            (duplicate codes, unknown agencies, overlapping coverage); the message names the file and every
            bad field, e.g. ``bpmn/offices.yaml: offices.3.kind: Input should be ...``.
    """
    try:
        data = load_yaml(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as err:
        raise DefinitionError(f"{path}: cannot read the office directory: {err}", details={"file": str(path)}) from err
    except yaml.YAMLError as err:
        raise DefinitionError(f"{path}: not valid YAML: {err}", details={"file": str(path)}) from err
    try:
        parsed = _OfficesFile.model_validate(data)
    except ValidationError as err:
        fields = [_format_loc(error["loc"]) for error in err.errors()]
        lines = [f"{path}: {field}: {error['msg']}" for field, error in zip(fields, err.errors(), strict=True)]
        raise DefinitionError("\n".join(lines), hint="fix the office directory and start again",
                              details={"file": str(path), "fields": fields}) from err
    return OfficeDirectory(parsed.offices, agency_codes, source=str(path))
